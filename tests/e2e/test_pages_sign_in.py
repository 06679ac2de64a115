"""Signing in to the pages as each role, and what each role may open."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

LANDING = {
    "psychiatrist": ("/dashboard", "Team dashboard"),
    "therapist": ("/dashboard", "Team dashboard"),
    "pharmacist": ("/dashboard", "Team dashboard"),
    "prescribing_pharmacist": ("/dashboard", "Team dashboard"),
    "auditor": ("/audit-review", "Audit review"),
    "admin": ("/account", "Your account"),
}


class TestSignIn:
    def test_each_role_signs_in_with_its_token_and_lands_on_its_own_page(self, browser, live):
        for who, (path, heading) in LANDING.items():
            b = browser(who)
            assert b.path == path, who
            assert b.text("h1") == heading
            assert live.team.__dict__[who].name in b.text("#signed-in-as")
            b.shot("landing")

    def test_a_name_that_already_says_the_role_is_shown_once_in_the_header_and_team(
        self, browser, live
    ):
        pid = live.register_patient("MRN-E2E-NAMED", "Nia Namedonce")
        member, token = live.carelog.staff.add("Pia Marsh (demo pharmacist)", "pharmacist")
        live.team.tokens["demo_pharmacist"] = token
        live.post(
            f"/api/v1/patients/{pid}/care-team",
            {"clinician_id": member.actor.id, "role": "pharmacist"},
        )
        b = browser("demo_pharmacist").open(f"/patients/{pid}")
        assert b.text("#signed-in-as") == "Pia Marsh (demo pharmacist)"
        team = b.text("#patient-care-team")
        assert "Pia Marsh (demo pharmacist)" in team
        assert "(demo pharmacist) (pharmacist)" not in team
        assert "Test therapist (therapist)" in team  # a plain name still says its role

    def test_a_wrong_token_is_refused_with_a_message_and_no_session(self, browser, live):
        b = browser(None)
        b.expect_error_status("/login", 401)
        b.open("/login")
        b.shot("form")
        b.find("#token").send_keys(live.team.tokens["psychiatrist"] + "x")
        b.submit("#sign-in")
        assert "not valid" in b.text("#sign-in-error")
        b.open("/dashboard")
        assert b.path == "/login"

    def test_a_page_opened_before_sign_in_is_shown_after_it(self, browser, live):
        b = browser(None)
        b.open("/alerts")
        assert b.path == "/login"
        b.find("#token").send_keys(live.team.tokens["pharmacist"])
        b.submit("#sign-in")
        b.arrive("/alerts")
        assert b.text("h1") == "Alert review"

    def test_signing_out_ends_the_session(self, browser):
        b = browser("psychiatrist")
        b.sign_out()
        assert "signed out" in b.text(".flashes")
        b.open("/dashboard")
        assert b.path == "/login"

    def test_the_session_cookie_is_secure_http_only_and_hidden_from_scripts(self, browser):
        b = browser("therapist")
        cookies = {c["name"]: c for c in b.driver.get_cookies()}
        session = cookies["__Host-carelog"]
        assert session["secure"]
        assert session["httpOnly"]
        assert session["sameSite"] == "Lax"
        assert "__Host-carelog" not in b.driver.execute_script("return document.cookie")


class TestRoles:
    @pytest.mark.parametrize(
        ("who", "path"),
        [
            ("admin", "/dashboard"),
            ("admin", "/alerts"),
            ("therapist", "/audit-review"),
            ("auditor", "/dashboard"),
        ],
    )
    def test_a_role_that_may_not_open_a_page_is_refused_in_words(self, browser, who, path):
        b = browser(who)
        b.expect_error_status(path, 403)
        b.open(path)
        assert b.text("h1") == "You may not see or do this"
        b.shot(path.strip("/"))

    def test_a_clinician_off_the_care_team_cannot_open_the_patients_timeline(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-OFF", "Offteam Testperson")
        b = browser("outsider")
        b.expect_error_status(f"/patients/{pid}", 403)
        b.open(f"/patients/{pid}")
        assert "not on this patient's care team" in b.text("main")
        assert "Offteam Testperson" not in b.driver.page_source
