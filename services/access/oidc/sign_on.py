"""Single sign-on through an OpenID Connect provider, for the pages and the API.

Pages: the authorization-code flow with PKCE (S256), ``state`` and ``nonce``
(``authorization_url`` then ``complete``); the session it starts is re-confirmed with the
provider every ``CARELOG_OIDC_REVALIDATE_SECONDS`` (``still_valid``), so a user removed
at the provider loses the pages at the next check. API: bearer access tokens that are
JWTs from the provider (``bearer``), checked on every request (services/access/oidc/tokens.py);
they are short-lived at the provider, so a removed user's API access ends when the last
token expires.

Either way the user becomes a CareLog staff member by (issuer, subject), with the role
their groups map to (services/access/oidc/identities.py), and CareLog's own deactivation of that
record ends their access at once.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from services.access.oidc.identities import AccessDenied, Identities, NotSignedIn, RoleMap
from services.access.oidc.provider import Provider, ProviderError, ProviderRefusal, fetch
from services.access.oidc.sessions import OidcSessions, unseal
from services.access.oidc.tokens import TokenError, check_client, verify
from services.access.staff import StaffMember, StaffRegistry
from services.config import Config

log = logging.getLogger(__name__)

UNREACHABLE_GRACE = 2.0
"""A session whose provider cannot be reached ends after this many check intervals."""


@dataclass(frozen=True)
class Authorization:
    """One sign-in attempt: where to send the browser and what to keep until it returns."""

    url: str
    state: str
    nonce: str
    verifier: str


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in (message for the sign-in page)."""


class SingleSignOn:
    """The configured provider, its users' staff records and their page sessions."""

    def __init__(self, config: Config, staff: StaffRegistry, http: Any = fetch) -> None:
        if not config.oidc_issuer:
            raise ValueError("CARELOG_OIDC_ISSUER is not set")
        self.config = config
        self.provider = Provider(config.oidc_issuer, http)
        roles = RoleMap.parse(
            config.oidc_role_claim,
            config.oidc_role_map,
            config.oidc_prescriber_group,
            config.oidc_name_claim,
        )
        self.identities = Identities(staff, config.oidc_issuer, roles)
        self.sessions = OidcSessions(staff.db)
        self.staff = staff

    @property
    def pages_enabled(self) -> bool:
        return bool(self.config.oidc_client_id)

    @property
    def name(self) -> str:
        return self.config.oidc_provider_name

    # -- API -------------------------------------------------------------------------------
    def bearer(self, token: str) -> StaffMember:
        """The staff member a provider's access token stands for. ``TokenError`` (401),
        ``AccessDenied`` (403) or ``NotSignedIn`` (401) otherwise."""
        if not self.config.oidc_audience:
            raise TokenError("CARELOG_OIDC_AUDIENCE is not set: no access tokens accepted")
        claims = verify(
            self.provider,
            token,
            self.config.oidc_audience,
            self.config.oidc_leeway,
            access_token=True,
            client_id=self.config.oidc_client_id,
        )
        check_client(claims, self.allowed_clients)
        return self.identities.member(claims)

    @property
    def allowed_clients(self) -> frozenset[str]:
        """CareLog's own client and the configured allow-list: the clients whose access
        tokens the API accepts (empty: any client's, for the API's audience)."""
        listed = self.config.oidc_allowed_clients.replace(",", " ").split()
        return frozenset([*listed, self.config.oidc_client_id or ""]) - {""}

    # -- pages: signing in -----------------------------------------------------------------
    def authorization_url(self, redirect_uri: str) -> Authorization:
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.config.oidc_client_id or "",
                "redirect_uri": redirect_uri,
                "scope": self.config.oidc_scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        endpoint = self.provider.require_endpoint("authorization_endpoint")
        joiner = "&" if "?" in endpoint else "?"
        return Authorization(f"{endpoint}{joiner}{query}", state, nonce, verifier)

    def complete(
        self, code: str, verifier: str, nonce: str, redirect_uri: str
    ) -> tuple[StaffMember, dict[str, Any]]:
        """Exchange the code, check the ID token (and its nonce), map the user. Raises
        ``SignInFailed``, ``AccessDenied`` or ``NotSignedIn``."""
        try:
            tokens = self._token_call(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                }
            )
            claims = self._id_claims(tokens, nonce)
            claims = {**claims, **self._userinfo(tokens, claims["sub"])}
        except (ProviderError, TokenError) as error:
            log.warning("single sign-on failed: %s", error)
            raise SignInFailed(
                "The sign-in provider's answer could not be checked. Try again."
            ) from error
        member = self.identities.member(claims)
        kept = {k: tokens.get(k) for k in ("refresh_token", "access_token", "id_token")}
        return member, {**kept, "sub": claims["sub"]}

    def remember(self, secret: str, tokens: dict[str, Any]) -> None:
        """Keep a new session's provider tokens, to re-check it later."""
        self.sessions.add(secret, str(tokens["sub"]), tokens, self.config.oidc_revalidate_seconds)

    # -- pages: staying signed in ----------------------------------------------------------
    def still_valid(self, secret: str) -> bool:
        """False once the provider says the user is gone (or it has been unreachable for
        too long); True for a session not signed in through the provider."""
        row = self.sessions.get(secret)
        if row is None or row["next_check_at"] > time.time():
            return True
        if not self.sessions.claim_check(row):
            return True  # another request is asking the provider right now
        tokens = unseal(secret, row["tokens"])
        if tokens is None:
            return False
        try:
            tokens = self._refresh(tokens)
            claims = self._userinfo(tokens, str(row["subject"]), required=True)
            if claims.get("sub") != row["subject"]:
                return False
            self.identities.member(claims)  # the role is brought up to date, or refused
        except (ProviderRefusal, TokenError, AccessDenied, NotSignedIn) as error:
            log.info("single sign-on session ended by the provider's answer: %s", error)
            return False
        except ProviderError as error:
            interval = self.config.oidc_revalidate_seconds
            gone = time.time() - float(row["confirmed_at"]) > interval * UNREACHABLE_GRACE
            log.warning("sign-in provider unreachable (%s); session kept: %s", error, not gone)
            return not gone
        self.sessions.confirmed(secret, tokens, self.config.oidc_revalidate_seconds)
        return True

    def sign_out(self, secret: str, post_logout_redirect: str) -> str | None:
        """Forget the session's tokens (revoking the refresh token where the provider
        can); the provider's end-session URL to send the browser to, if it has one."""
        row = self.sessions.get(secret)
        if row is None:
            return None
        self.sessions.remove(secret)
        tokens = unseal(secret, row["tokens"]) or {}
        try:
            revocation = self.provider.endpoint("revocation_endpoint")
            if revocation and tokens.get("refresh_token"):
                self.provider.post_form(
                    revocation,
                    {
                        "token": str(tokens["refresh_token"]),
                        "token_type_hint": "refresh_token",
                        **self._client_form(),
                    },
                    self._client_headers(),
                )
        except ProviderError as error:  # CareLog's own session has ended all the same
            log.warning("revoking the refresh token at the provider failed: %s", error)
        try:
            end = self.provider.endpoint("end_session_endpoint")
        except ProviderError as error:
            log.warning("the provider's sign-out page is not known: %s", error)
            return None
        if end is None:
            return None
        query = {
            "client_id": self.config.oidc_client_id or "",
            "post_logout_redirect_uri": post_logout_redirect,
        }
        if tokens.get("id_token"):
            query["id_token_hint"] = str(tokens["id_token"])
        return f"{end}{'&' if '?' in end else '?'}{urllib.parse.urlencode(query)}"

    # -- calls to the provider -------------------------------------------------------------
    def _client_headers(self) -> dict[str, str]:
        if not self.config.oidc_client_secret:
            return {}
        pair = ":".join(
            urllib.parse.quote(v, safe="")
            for v in (self.config.oidc_client_id or "", self.config.oidc_client_secret)
        )
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def _client_form(self) -> dict[str, str]:
        """A public client (no secret) names itself in the form instead."""
        return (
            {}
            if self.config.oidc_client_secret
            else {"client_id": self.config.oidc_client_id or ""}
        )

    def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = self.provider.require_endpoint("token_endpoint")
        return self.provider.post_form(
            endpoint, {**form, **self._client_form()}, self._client_headers()
        )

    def _id_claims(self, tokens: dict[str, Any], nonce: str | None) -> dict[str, Any]:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise TokenError("the provider sent no ID token")
        claims = verify(
            self.provider,
            id_token,
            self.config.oidc_client_id or "",
            self.config.oidc_leeway,
            False,
        )
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenError("the ID token's nonce is not this sign-in's")
        azp = claims.get("azp")
        if azp is not None and azp != self.config.oidc_client_id:
            raise TokenError("the ID token was issued to another client")
        return claims

    def _userinfo(
        self, tokens: dict[str, Any], subject: str, required: bool = False
    ) -> dict[str, Any]:
        endpoint = self.provider.endpoint("userinfo_endpoint")
        access = tokens.get("access_token")
        if endpoint is None or not isinstance(access, str):
            if required:  # nothing else says the user is still there: check the ID token
                return self._id_claims(tokens, None)
            return {}
        found = self.provider.get_json(endpoint, {"Authorization": f"Bearer {access}"})
        if found.get("sub") != subject:
            raise TokenError("userinfo is about another subject")
        return found

    def _refresh(self, tokens: dict[str, Any]) -> dict[str, Any]:
        """New tokens from the refresh token (the provider refuses one whose user has
        gone); without a refresh token, the old ones (userinfo then decides)."""
        refresh = tokens.get("refresh_token")
        if not isinstance(refresh, str):
            return tokens
        fresh = self._token_call({"grant_type": "refresh_token", "refresh_token": refresh})
        return {
            "refresh_token": fresh.get("refresh_token") or refresh,
            "access_token": fresh.get("access_token"),
            "id_token": fresh.get("id_token") or tokens.get("id_token"),
            "sub": tokens.get("sub"),
        }
