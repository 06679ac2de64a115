"""Single sign-on pieces that need no provider: telling a JWT from a CareLog token, the
group-to-role map, and how often an unknown key id may make CareLog fetch the key set."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from domain.actor import Role
from services.access.oidc import looks_like_jwt
from services.access.oidc.identities import AccessDenied, RoleMap
from services.access.oidc.provider import Provider
from services.access.oidc.tokens import TokenError, verify

ISSUER = "https://idp.hospital.test/realms/staff"


class TestTellingTokensApart:
    def test_a_carelog_staff_token_is_not_a_jwt(self) -> None:
        assert not looks_like_jwt("3f1c9a2e-8d7b-4c55-9e0f-1a2b3c4d5e6f.s3cr3t-Part_xyz")

    def test_a_compact_jws_is_a_jwt(self) -> None:
        token = jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")
        assert looks_like_jwt(token)

    def test_three_dotted_parts_without_a_json_header_are_not_a_jwt(self) -> None:
        assert not looks_like_jwt("abc.def.ghi")


class TestRoleMap:
    roles = RoleMap.parse(
        "groups",
        "carelog-auditors=auditor, carelog-psychiatrists=psychiatrist,carelog-pharm=pharmacist",
        "carelog-prescribers",
    )

    def test_the_first_mapped_group_in_the_setting_decides_the_role(self) -> None:
        claims = {"groups": ["carelog-psychiatrists", "carelog-auditors"]}
        assert self.roles.role(claims) == (Role.AUDITOR, False)

    def test_the_prescriber_group_gives_a_pharmacist_the_privilege(self) -> None:
        claims = {"groups": ["carelog-pharm", "carelog-prescribers"]}
        assert self.roles.role(claims) == (Role.PHARMACIST, True)

    def test_the_prescriber_group_gives_an_auditor_nothing(self) -> None:
        claims = {"groups": ["carelog-auditors", "carelog-prescribers"]}
        assert self.roles.role(claims) == (Role.AUDITOR, False)

    def test_no_mapped_group_is_refused_with_a_message(self) -> None:
        with pytest.raises(AccessDenied, match="none of the groups"):
            self.roles.role({"groups": ["everyone"]})
        with pytest.raises(AccessDenied):
            self.roles.role({})

    def test_a_dotted_claim_reaches_into_an_object_and_a_string_is_split(self) -> None:
        keycloak = RoleMap.parse("realm_access.roles", "cl-admin=admin", None)
        assert keycloak.role({"realm_access": {"roles": ["x", "cl-admin"]}})[0] is Role.ADMIN
        scoped = RoleMap.parse("roles", "a=therapist", None)
        assert scoped.role({"roles": "b a"})[0] is Role.THERAPIST

    @pytest.mark.parametrize("setting", ["group=surgeon", "no-equals-sign", "=psychiatrist"])
    def test_a_bad_mapping_stops_start_up_naming_the_item(self, setting: str) -> None:
        with pytest.raises(SystemExit, match="CARELOG_OIDC_ROLE_MAP"):
            RoleMap.parse("groups", setting, None)


class FakeProvider:
    """Answers discovery and JWKS from memory, counting JWKS fetches."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.jwks_fetches = 0

    def __call__(self, request: urllib.request.Request) -> tuple[int, bytes]:
        url = request.full_url
        if url.endswith("/.well-known/openid-configuration"):
            return 200, json.dumps({"issuer": ISSUER, "jwks_uri": ISSUER + "/certs"}).encode()
        self.jwks_fetches += 1
        return 200, json.dumps({"keys": self.keys}).encode()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "use": "sig"}


class TestProviderKeys:
    def test_an_unknown_key_id_refreshes_the_key_set_at_most_once_per_interval(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fake = FakeProvider([public_jwk(key, "k1")])
        provider = Provider(ISSUER, fake)
        assert provider.key("k1", "RS256") is not None
        assert fake.jwks_fetches == 1
        for _ in range(20):  # a stream of made-up key ids
            assert provider.key("made-up", "RS256") is None
        assert fake.jwks_fetches == 1
        assert provider.key("k1", "RS256") is not None  # still served from the cache

    def test_a_rotated_key_is_found_by_refreshing_the_set(self, monkeypatch: Any) -> None:
        old, new = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
        fake = FakeProvider([public_jwk(old, "k1")])
        provider = Provider(ISSUER, fake)
        assert provider.key("k1", "RS256") is not None
        fake.keys = [public_jwk(old, "k1"), public_jwk(new, "k2")]
        monkeypatch.setattr("services.access.oidc.provider.REFRESH_INTERVAL", 0.0)
        assert provider.key("k2", "RS256") is not None
        assert fake.jwks_fetches == 2

    def test_a_discovery_document_naming_another_issuer_is_refused(self) -> None:
        provider = Provider("https://elsewhere.test", FakeProvider([]))
        with pytest.raises(Exception, match="names issuer"):
            provider.metadata()

    def test_an_rsa_key_is_not_used_for_an_ec_algorithm(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        provider = Provider(ISSUER, FakeProvider([public_jwk(key, "k1")]))
        assert provider.key("k1", "ES256") is None

    def test_a_token_signed_with_an_ec_key_under_an_rsa_key_id_is_refused(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        provider = Provider(ISSUER, FakeProvider([public_jwk(key, "k1")]))
        other = ec.generate_private_key(ec.SECP256R1())
        claims = {"iss": ISSUER, "aud": "api", "sub": "s", "exp": 4_000_000_000}
        token = jwt.encode(claims, other, algorithm="ES256", headers={"kid": "k1"})
        with pytest.raises(TokenError):
            verify(provider, token, "api", 0, True)
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        assert verify(provider, good, "api", 0, True)["sub"] == "s"

    def test_where_the_api_audience_is_the_client_id_an_id_token_without_nonce_is_refused(
        self,
    ) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        provider = Provider(ISSUER, FakeProvider([public_jwk(key, "k1")]))
        claims = {"iss": ISSUER, "aud": "carelog", "sub": "s", "exp": 4_000_000_000}
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        with pytest.raises(TokenError, match="access-token claims"):
            verify(provider, id_token, "carelog", 0, True, client_id="carelog")
        access = jwt.encode({**claims, "scp": "carelog.api"}, key, "RS256", {"kid": "k1"})
        assert verify(provider, access, "carelog", 0, True, client_id="carelog")["sub"] == "s"
