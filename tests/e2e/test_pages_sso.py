"""Signing in to the pages through a real OpenID Connect provider (tests/oidc_support.py),
in Chromium: the sign-in page's button, the provider's login form, back to CareLog's
dashboard; refused without a mapped group; signed out when the provider removes the user
(at the next check) or CareLog deactivates the record (at once); a forged answer refused."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e.browser_support import Browser, LiveServer
from tests.oidc_support import Account, ProviderUnderTest, requires_node

pytestmark = [pytest.mark.browser, requires_node, pytest.mark.store_independent]

REVALIDATE_SECONDS = 1.0
"""How often the test CareLog re-asks the provider about a session (production: minutes)."""


@pytest.fixture
def sso_live(live: LiveServer, oidc_provider: ProviderUnderTest) -> LiveServer:
    """The live server set up for the provider, with a client registered for its URL (only
    known once it listens; nothing has read the single sign-on settings yet)."""
    client = oidc_provider.register_client(live.url)
    live.carelog.config = live.carelog.config.with_(
        **oidc_provider.settings(client), oidc_revalidate_seconds=REVALIDATE_SECONDS
    )
    live.carelog.__dict__.pop("sso", None)
    return live


def sign_in_with_provider(b: Browser, account: Account, start: str = "/login") -> None:
    """Opens ``start`` signed out (it shows the sign-in page) and signs in at the provider."""
    b.allowed_errors.add(("/favicon.ico", 404))  # the provider's pages have no icon
    b.open(start)
    assert b.path == "/login"
    b.submit("#sign-in-sso")
    b.find("#login").send_keys(account.login)
    b.find("#password").send_keys(account.password)
    b.submit("#submit")


def on_the_dashboard(
    browser: Callable[..., Browser], oidc_provider: ProviderUnderTest, group: str
) -> tuple[Account, Browser]:
    """A new account at the provider, in one group, signed in with it: on the dashboard."""
    account = oidc_provider.add_account([group])
    b = browser(None)
    sign_in_with_provider(b, account)
    b.arrive("/dashboard")
    return account, b


def staff_id(live: LiveServer, account: Account) -> str:
    sso = live.carelog.sso
    assert sso is not None
    found = sso.identities.staff_id_for(account.login)
    assert found is not None
    return found


class TestSignInWithTheProvider:
    def test_the_provider_button_signs_a_psychiatrist_in_to_the_dashboard(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        account = oidc_provider.add_account(["carelog-psychiatrists"], name="Dr Ines Varga")
        b = browser(None)
        b.open("/login")
        assert b.text("#sign-in-sso") == "Sign in with Test Hospital"
        b.shot("form")
        sign_in_with_provider(b, account)
        b.arrive("/dashboard")
        assert b.text("h1") == "Team dashboard"
        assert "Dr Ines Varga" in b.text("#signed-in-as")
        assert "psychiatrist" in b.text("#signed-in-as")
        b.shot("dashboard")

    def test_a_page_opened_before_signing_in_with_the_provider_is_shown_after_it(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        account = oidc_provider.add_account(["carelog-pharmacists", "carelog-prescribers"])
        b = browser(None)
        sign_in_with_provider(b, account, start="/alerts")
        b.arrive("/alerts")
        assert b.text("h1") == "Alert review"

    def test_a_user_in_no_mapped_group_is_refused_with_a_clear_message(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        account = oidc_provider.add_account(["hospital-visitors"])
        b = browser(None)
        b.expect_error_status("/login/oidc/callback", 403)
        sign_in_with_provider(b, account)
        assert "none of the groups" in b.text("#sign-in-error")
        b.shot("refused")
        b.open("/dashboard")
        assert b.path == "/login"

    def test_an_answer_this_browser_did_not_ask_for_is_refused(
        self, browser: Callable[..., Browser], sso_live: LiveServer
    ) -> None:
        b = browser(None)
        b.expect_error_status("/login/oidc/callback", 400)
        b.open("/login/oidc/callback?code=stolen-code&state=made-up")
        assert "started elsewhere" in b.text("#sign-in-error")
        b.open("/dashboard")
        assert b.path == "/login"


class TestEndingTheSession:
    def test_a_user_removed_at_the_provider_is_signed_out_at_the_next_check(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        account, b = on_the_dashboard(browser, oidc_provider, "carelog-pharmacists")
        time.sleep(REVALIDATE_SECONDS + 0.2)
        b.open("/dashboard")  # checked with the provider (refresh token): still there
        assert b.path == "/dashboard"

        oidc_provider.disable(account)
        time.sleep(REVALIDATE_SECONDS + 0.2)
        b.open("/dashboard")
        assert b.path == "/login"

    def test_deactivating_the_staff_record_in_carelog_ends_the_session_at_once(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        account, b = on_the_dashboard(browser, oidc_provider, "carelog-therapists")
        sso_live.carelog.staff.deactivate(staff_id(sso_live, account))
        b.open("/dashboard")
        assert b.path == "/login"

    def test_signing_out_ends_the_carelog_session_and_goes_on_to_the_provider(
        self,
        browser: Callable[..., Browser],
        sso_live: LiveServer,
        oidc_provider: ProviderUnderTest,
    ) -> None:
        _, b = on_the_dashboard(browser, oidc_provider, "carelog-psychiatrists")
        b.submit(".sign-out button")
        assert b.driver.current_url.startswith(oidc_provider.issuer + "/session/end")
        b.shot("provider-sign-out")
        b.submit("#logout")  # the provider asks; yes: and back to CareLog's sign-in page
        b.arrive("/login")
        b.open("/dashboard")
        assert b.path == "/login"
