"""The API with access tokens from a real OpenID Connect provider (tests/oidc_support.py):
a provider's JWT is accepted with the role its groups map to, and refused (401) for every
way a token can be wrong; a user in no mapped group gets 403; deprovisioning at the
provider or deactivation in CareLog ends access; CareLog's own tokens keep working."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.config import Config
from tests.api.conftest import ApiClient, register_patient
from tests.oidc_support import (
    OTHER_AUDIENCE,
    PRESCRIBER_GROUP,
    Account,
    Client,
    ProviderUnderTest,
    requires_node,
)

pytestmark = [requires_node, pytest.mark.store_independent]  # one store: tests/conftest.py


@pytest.fixture
def client(oidc_provider: ProviderUnderTest) -> Client:
    # An API client never visits its redirect URI here: the test reads the code from it.
    return oidc_provider.register_client("http://api-client.test")


@pytest.fixture
def config(config: Config, oidc_provider: ProviderUnderTest) -> Config:
    return config.with_(**oidc_provider.settings())


def bearer(api: ApiClient, method: str, path: str, token: str, body: Any = None) -> Any:
    return api.client.open(
        path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def plan(api: ApiClient, pid: str, token: str) -> Any:
    return bearer(api, "GET", f"/api/v1/patients/{pid}/plan", token)


def on_team(api: ApiClient, pid: str, sub: str, role: str = "psychiatrist") -> str:
    """Put the provider's user (already signed in once) on the patient's care team."""
    sso = api.carelog.sso
    assert sso is not None
    staff_id = sso.identities.staff_id_for(sub)
    assert staff_id is not None
    r = api.post(f"/api/v1/patients/{pid}/care-team", {"clinician_id": staff_id, "role": role})
    assert r.status_code == 201, r.get_json()
    return staff_id


@dataclass
class OnTheTeam:
    """A patient and a provider user whose access token reads the patient's plan."""

    pid: str
    account: Account
    answer: dict[str, Any]  # the provider's token response
    staff_id: str

    @property
    def token(self) -> str:
        token: str = self.answer["access_token"]
        return token


def psychiatrist_on_the_team(
    api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
) -> OnTheTeam:
    """A psychiatrist at the provider signs in; their first token provisions them, they
    join a new patient's care team, and the token then reads the plan."""
    pid = register_patient(api)
    account = oidc_provider.add_account(["carelog-psychiatrists"])
    answer = oidc_provider.sign_in(client, account)
    plan(api, pid, answer["access_token"])
    staff_id = on_team(api, pid, account.login)
    assert plan(api, pid, answer["access_token"]).status_code == 200
    return OnTheTeam(pid, account, answer, staff_id)


class TestProviderAccessTokens:
    def test_a_provider_access_token_reads_a_plan_once_its_user_is_on_the_care_team(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        pid = register_patient(api)
        account = oidc_provider.add_account(["carelog-psychiatrists"], name="Dr Ada Okafor")
        token = oidc_provider.sign_in(client, account)["access_token"]
        assert token.count(".") == 2  # a JWT, as the provider issues for this resource

        first = plan(api, pid, token)
        assert first.status_code == 403  # known now, but on no patient's care team
        staff_id = on_team(api, pid, account.login)

        r = plan(api, pid, token)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["patient_id"] == pid
        member = api.carelog.staff.get(staff_id)
        assert member is not None
        assert (member.name, str(member.role)) == ("Dr Ada Okafor", "psychiatrist")

    def test_the_same_subject_is_the_same_staff_member_on_every_token(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        pid = register_patient(api)
        account = oidc_provider.add_account(["carelog-psychiatrists"])
        plan(api, pid, oidc_provider.sign_in(client, account)["access_token"])
        on_team(api, pid, account.login)
        again = oidc_provider.sign_in(client, account)["access_token"]
        assert plan(api, pid, again).status_code == 200

    def test_the_prescriber_group_makes_a_pharmacist_a_prescriber(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        pid = register_patient(api)
        account = oidc_provider.add_account(["carelog-pharmacists", PRESCRIBER_GROUP])
        token = oidc_provider.sign_in(client, account)["access_token"]
        plan(api, pid, token)
        staff_id = on_team(api, pid, account.login, role="pharmacist")
        member = api.carelog.staff.get(staff_id)
        assert member is not None
        assert (str(member.role), member.prescriber) == ("pharmacist", True)

    def test_a_user_in_no_mapped_group_gets_403_saying_why(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        pid = register_patient(api)
        account = oidc_provider.add_account(["hospital-visitors"])
        r = plan(api, pid, oidc_provider.sign_in(client, account)["access_token"])
        assert r.status_code == 403
        assert "none of the groups" in r.get_json()["detail"]

    def test_carelogs_own_tokens_still_work_beside_the_provider(
        self, api: ApiClient, patient: str
    ) -> None:
        assert api.get(f"/api/v1/patients/{patient}/plan").status_code == 200

    def test_a_change_of_group_at_the_provider_changes_the_role_at_the_next_token(
        self, api: ApiClient, oidc_provider: ProviderUnderTest
    ) -> None:
        pid = register_patient(api)
        as_psychiatrist = oidc_provider.claims("moving", ["carelog-psychiatrists"])
        plan(api, pid, oidc_provider.forge(as_psychiatrist))
        staff_id = on_team(api, pid, "moving")
        as_auditor = oidc_provider.claims("moving", ["carelog-auditors"])
        assert plan(api, pid, oidc_provider.forge(as_auditor)).status_code == 200
        member = api.carelog.staff.get(staff_id)
        assert member is not None
        assert str(member.role) == "auditor"


class TestRefusedTokens:
    """Each token is wrong in exactly one way; the rest is what the provider would sign."""

    def test_a_token_for_another_api_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        member = psychiatrist_on_the_team(api, oidc_provider, client)
        pid, account = member.pid, member.account
        other = oidc_provider.sign_in(client, account, resource=OTHER_AUDIENCE)["access_token"]
        assert jwt.decode(other, options={"verify_signature": False})["aud"] == OTHER_AUDIENCE
        r = plan(api, pid, other)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "change",
        [
            {"iss": "https://evil.test"},
            {"aud": "https://other.test/api"},
            {"exp": int(time.time()) - 120},
            {"nbf": int(time.time()) + 600},
            {"iat": int(time.time()) + 600},
            {"sub": ""},
            {"nonce": "an-id-token"},
        ],
        ids=[
            "issuer",
            "audience",
            "expired",
            "not-yet-valid",
            "issued-later",
            "no-subject",
            "id-token",
        ],
    )
    def test_a_token_signed_by_the_provider_key_but_wrong_in_one_claim_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, change: dict[str, Any]
    ) -> None:
        pid = register_patient(api)
        good = oidc_provider.forge(oidc_provider.claims("forged-ok", ["carelog-psychiatrists"]))
        assert plan(api, pid, good).status_code == 403  # the control: accepted, not on team
        claims = oidc_provider.claims("forged-ok", ["carelog-psychiatrists"], **change)
        headers = {"typ": "JWT"} if "nonce" in change else None
        assert plan(api, pid, oidc_provider.forge(claims, headers=headers)).status_code == 401

    def test_a_tampered_token_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        pid = register_patient(api)
        account = oidc_provider.add_account(["carelog-psychiatrists"])
        token = oidc_provider.sign_in(client, account)["access_token"]
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["groups"] = ["carelog-admins"]
        altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        assert plan(api, pid, f"{header}.{altered}.{signature}").status_code == 401
        flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
        assert plan(api, pid, f"{header}.{payload}.{flipped}").status_code == 401

    def test_the_providers_id_token_is_not_an_access_token(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        member = psychiatrist_on_the_team(api, oidc_provider, client)
        assert plan(api, member.pid, member.answer["id_token"]).status_code == 401

    def test_an_unsigned_token_alg_none_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest
    ) -> None:
        pid = register_patient(api)
        claims = oidc_provider.claims("unsigned", ["carelog-psychiatrists"])
        token = jwt.encode(claims, None, algorithm="none", headers={"kid": "carelog-test-key-1"})
        assert plan(api, pid, token).status_code == 401

    def test_a_token_hmac_signed_with_the_providers_public_key_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest
    ) -> None:
        pid = register_patient(api)
        public_pem = oidc_provider.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

        def part(value: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        signing_input = (
            part({"alg": "HS256", "typ": "at+jwt", "kid": "carelog-test-key-1"})
            + "."
            + part(oidc_provider.claims("hmac", ["carelog-psychiatrists"]))
        )
        mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        assert plan(api, pid, token).status_code == 401

    def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest
    ) -> None:
        pid = register_patient(api)
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = oidc_provider.claims("stranger", ["carelog-psychiatrists"])
        for kid in ("carelog-test-key-1", "someone-elses-key"):
            token = oidc_provider.forge(claims, key=stranger, headers={"kid": kid})
            assert plan(api, pid, token).status_code == 401


class TestEndingAccess:
    def test_a_user_removed_at_the_provider_loses_api_access_when_the_token_expires(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        member = psychiatrist_on_the_team(api, oidc_provider, client)
        pid, account, token = member.pid, member.account, member.token

        oidc_provider.disable(account)
        with pytest.raises(AssertionError, match="never redirected back"):
            oidc_provider.sign_in(client, account)  # no new tokens for them
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        time.sleep(max(0.0, expires - time.time() + 1.1))  # the provider's TTL: 4 s
        r = plan(api, pid, token)
        assert r.status_code == 401

    def test_deactivating_the_linked_staff_record_refuses_a_valid_token_at_once(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        member = psychiatrist_on_the_team(api, oidc_provider, client)
        pid, account, token, staff_id = member.pid, member.account, member.token, member.staff_id
        api.carelog.staff.deactivate(staff_id)
        r = api.client.get(
            f"/api/v1/patients/{pid}/plan",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-deactivated"},
        )
        assert r.status_code == 401
        assert "deactivated" in r.get_json()["detail"]
        denied = [  # the client's X-Request-ID is kept beside CareLog's own request id
            row
            for row in api.carelog.access_log.read_after(0, 1000)
            if '"client_request_id": "req-deactivated"' in (row["details"] or "")
        ]
        assert [(row["actor_id"], bool(row["allowed"])) for row in denied] == [(staff_id, False)]
        fresh = oidc_provider.sign_in(client, account)["access_token"]
        assert plan(api, pid, fresh).status_code == 401  # and never provisioned anew


class TestWithoutSingleSignOn:
    @pytest.fixture
    def config(self, config: Config) -> Config:
        return config.with_(oidc_issuer=None, oidc_audience=None)

    def test_a_jwt_is_refused_when_no_provider_is_configured(
        self, api: ApiClient, patient: str, oidc_provider: ProviderUnderTest
    ) -> None:
        token = oidc_provider.forge(oidc_provider.claims("x", ["carelog-psychiatrists"]))
        r = plan(api, patient, token)
        assert r.status_code == 401
        assert api.get(f"/api/v1/patients/{patient}/plan").status_code == 200


class TestOnlyCarelogsOwnClients:
    """A token the provider issued to another app (one staff also sign in to) for CareLog's
    audience is refused once CareLog names its client(s): that app cannot act as them."""

    @pytest.fixture
    def config(self, config: Config, client: Client) -> Config:
        return config.with_(oidc_allowed_clients=f"another-app, {client.client_id}")

    def test_a_token_minted_for_another_client_is_refused(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, client: Client
    ) -> None:
        member = psychiatrist_on_the_team(api, oidc_provider, client)
        pid, account, good = member.pid, member.account, member.token
        rogue = oidc_provider.register_client("http://rogue-app.test")
        theirs = oidc_provider.sign_in(rogue, account)["access_token"]
        audience = jwt.decode(good, options={"verify_signature": False})["aud"]
        assert jwt.decode(theirs, options={"verify_signature": False})["aud"] == audience
        r = plan(api, pid, theirs)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        ("claim", "status"),
        [
            ({"client_id": "another-app"}, 403),
            ({"client_id": None, "azp": "another-app"}, 403),
            ({"client_id": "stranger"}, 401),
            ({"client_id": None}, 401),
        ],
        ids=["listed-client-id", "listed-azp", "unlisted", "no-client"],
    )
    def test_the_allow_list_is_checked_on_azp_or_client_id(
        self, api: ApiClient, oidc_provider: ProviderUnderTest, claim: Any, status: int
    ) -> None:
        pid = register_patient(api)
        claims = oidc_provider.claims("forged-client", ["carelog-psychiatrists"], **claim)
        claims = {k: v for k, v in claims.items() if v is not None}
        # 403: accepted as a psychiatrist who is not on the care team; 401: refused
        assert plan(api, pid, oidc_provider.forge(claims)).status_code == status
