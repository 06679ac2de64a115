"""The pages' session is no way around the API's protections: the cookie never authorises
an API write, forms need the session's CSRF token, and a revoked token ends the session."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.test_pages_alerts import open_alert_ids, patient_with_alert

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

FETCH = """
const [method, path, body, done] = arguments;
fetch(path, {method, credentials: "same-origin", headers: {"Content-Type": "application/json"},
             body: body === null ? undefined : JSON.stringify(body)})
  .then(r => done(r.status), e => done(String(e)));
"""


def fetch_status(b: Browser, method: str, path: str, body: object = None) -> object:
    return b.driver.execute_async_script(FETCH, method, path, body)


class TestCookieScope:
    def test_the_session_cookie_never_authorises_an_api_write(self, browser, live: LiveServer):
        pid, alert_id = patient_with_alert(live)
        b = browser("pharmacist").open("/alerts")
        path = f"/api/v1/patients/{pid}/alerts/{alert_id}/resolution"
        b.expect_error_status(path, 401)
        assert fetch_status(b, "POST", path, {"resolution": "acknowledged"}) == 401
        assert open_alert_ids(live, pid) == [alert_id]

    def test_the_session_cookie_reads_only_the_live_feed_of_the_api(
        self, browser, live: LiveServer
    ):
        pid, _ = patient_with_alert(live)
        b = browser("psychiatrist").open("/dashboard")
        for path in ("/api/v1/dashboard", f"/api/v1/patients/{pid}/plan", "/api/v1/patients"):
            b.expect_error_status(path, 401)
            assert fetch_status(b, "GET", path) == 401, path
        assert b.driver.execute_async_script("""
            const done = arguments[0];
            fetch("/api/v1/feed/stream?after=0", {credentials: "same-origin"}).then(r => {
              const ok = r.status === 200 && r.headers.get("content-type").startsWith(
                "text/event-stream");
              r.body.cancel(); done(ok);
            });""")


class TestForms:
    def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(
        self, browser, live: LiveServer
    ):
        pid, alert_id = patient_with_alert(live)
        b = browser("pharmacist").open("/alerts")
        path = f"/patients/{pid}/alerts/{alert_id}/resolution"
        b.expect_error_status(path, 400)
        b.driver.execute_script(
            """
            const form = document.createElement("form");
            form.method = "post"; form.action = arguments[0];
            for (const [k, v] of [["resolution", "acknowledged"], ["reason", "forged"]]) {
              const input = document.createElement("input");
              input.name = k; input.value = v; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();""",
            path,
        )
        b.arrive(path)
        assert b.text("h1") == "The form could not be accepted"
        assert open_alert_ids(live, pid) == [alert_id]

    def test_a_rotated_token_ends_the_page_session_at_the_next_click(
        self, browser, live: LiveServer
    ):
        b = browser("therapist")
        b.wait_for(lambda d: b.find("#board").get_attribute("data-live") == "true")
        live.carelog.staff.rotate_token(live.team.therapist.id)
        b.open("/dashboard")
        assert b.path == "/login"
