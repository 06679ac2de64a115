"""Alert review: pharmacists and prescribers acknowledge or override open safety alerts
from the page, through the same policy and command as the API."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import Select

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

SUICIDE_ITEM = [2, 2, 2, 1, 1, 1, 1, 1, 1]  # item 9 scored 1: a suicide-risk alert


def patient_with_alert(live: LiveServer, mrn: str = "MRN-E2E-AL") -> tuple[str, str]:
    pid = live.register_patient(mrn, "Alex Alertson")
    written = live.phq9(pid, SUICIDE_ITEM)
    assert written["alerts"], written
    return pid, written["alerts"][0]["id"]


def open_alert_ids(live: LiveServer, pid: str) -> list[str]:
    """The open alerts but the PHQ-9 reminder an antidepressant brings (measurement care)."""
    alerts = live.get(f"/api/v1/patients/{pid}/plan")["alerts"]
    return [a["id"] for a in alerts if a["kind"] != "reassessment_due"]


def resolve(b: Browser, alert_id: str, button: str, reason: str = "") -> None:
    card = f"#alert-{alert_id}"
    if reason:
        b.find(f"{card} textarea").send_keys(reason)
    b.submit(f"{card} button.{button}")
    b.wait_for(lambda d: b.find_all(".flashes"))


def patient_with_dose_alert(live: LiveServer, mrn: str = "MRN-E2E-DA") -> tuple[str, str]:
    pid = live.register_patient(mrn, "Dana Doseley")
    live.prescribe(pid, "sertraline", 300)  # above the 200 mg/day maximum
    [alert] = [
        a for a in live.get(f"/api/v1/patients/{pid}/plan")["alerts"] if a["kind"] == "max_dose"
    ]
    return pid, alert["id"]


def choose(b: Browser, css: str, value: str) -> None:
    Select(b.find(css)).select_by_value(value)


class TestAlertReview:
    def test_a_pharmacist_acknowledges_an_alert_from_the_page_and_it_disappears(
        self, browser, live: LiveServer
    ):
        pid, alert_id = patient_with_dose_alert(live)
        b = browser("pharmacist").open("/alerts")
        assert "Dana Doseley" in b.text(f"#alert-{alert_id}")
        assert "today" in b.text(f"#alert-{alert_id} .age")
        b.shot("open")

        resolve(b, alert_id, "acknowledge", "Discussed with the psychiatrist; dose to be cut.")

        assert b.text(".flashes") == "Alert acknowledged."
        assert b.find_all(f"#alert-{alert_id}") == []
        assert open_alert_ids(live, pid) == []
        resolved = live.get(f"/api/v1/patients/{pid}/history?type=SafetyAlertResolved")
        event = resolved["events"][0]
        assert event["actor"] == {"id": live.team.pharmacist.id, "role": "pharmacist"}
        assert event["data"]["resolution"] == "acknowledged"
        b.shot("acknowledged")

    def test_an_override_needs_a_reason_and_is_recorded_with_it(self, browser, live: LiveServer):
        pid, alert_id = patient_with_dose_alert(live)
        b = browser("psychiatrist").open("/alerts")

        resolve(b, alert_id, "override")
        assert "needs a reason" in b.text(".flashes")
        assert open_alert_ids(live, pid) == [alert_id]

        resolve(b, alert_id, "override", "Specialist advice: 300 mg for OCD, reviewed.")
        assert b.text(".flashes") == "Alert overridden."
        assert open_alert_ids(live, pid) == []
        event = live.get(f"/api/v1/patients/{pid}/history?type=SafetyAlertResolved")["events"][0]
        assert event["data"]["reason"] == "Specialist advice: 300 mg for OCD, reviewed."

    def test_a_pharmacist_sees_a_suicide_risk_alert_without_the_means_to_resolve_it(
        self, browser, live: LiveServer
    ):
        pid, alert_id = patient_with_alert(live)
        b = browser("pharmacist").open("/alerts")
        assert "suicide" in b.text(f"#alert-{alert_id}").lower()
        assert b.find_all(f"#alert-{alert_id} form.resolve") == []
        assert open_alert_ids(live, pid) == [alert_id]

    def test_a_therapist_resolves_a_suicide_risk_alert_with_the_risk_assessment(
        self, browser, live: LiveServer
    ):
        pid, alert_id = patient_with_alert(live)
        b = browser("therapist").open("/alerts")
        card = f"#alert-{alert_id}"

        resolve(b, alert_id, "acknowledge", "Seen today.")
        assert "action" in b.text(".flashes")
        assert open_alert_ids(live, pid) == [alert_id]

        b.find(f"{card} textarea").clear()
        choose(b, f"{card} select.action", "risk_assessment_done")
        choose(b, f"{card} select.result", "low")
        resolve(b, alert_id, "acknowledge", "C-SSRS: passive ideation, no plan or intent.")

        assert b.text(".flashes") == "Alert acknowledged."
        assert open_alert_ids(live, pid) == []
        event = live.get(f"/api/v1/patients/{pid}/history?type=SafetyAlertResolved")["events"][0]
        assert event["actor"]["role"] == "therapist"
        assert (event["data"]["action"], event["data"]["result"]) == ("risk_assessment_done", "low")

    def test_a_therapist_reads_a_medication_alert_without_the_means_to_resolve_it(
        self, browser, live: LiveServer
    ):
        patient_with_dose_alert(live)
        b = browser("therapist").open("/alerts")
        assert len(b.find_all(".alert-card[data-kind='max_dose']")) == 1
        assert b.find_all("form.resolve") == []
