"""Audit review: auditors see every write and read, emergency accesses first, and filter
by patient, actor, action and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.support.ui import Select

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser


def broken_glass(live: LiveServer) -> str:
    """A patient whose record the outsider opened under emergency access."""
    pid = live.register_patient("MRN-E2E-AU", "Morgan Auditley")
    live.prescribe(pid, "sertraline", 50)
    live.get(f"/api/v1/patients/{pid}/plan")  # an ordinary read by the care team
    live.post(
        f"/api/v1/patients/{pid}/emergency-access",
        {"reason": "Seen in the emergency department, unresponsive"},
        as_="outsider",
    )
    live.get(f"/api/v1/patients/{pid}/plan", as_="outsider")
    return pid


def audit_rows(b: Browser) -> list[dict[str, str]]:
    return [
        {
            "action": r.get_attribute("data-action"),
            "class": r.get_attribute("class"),
            "text": r.text,
        }
        for r in b.find_all("#audit-entries tr.audit-entry")
    ]


class TestAuditReview:
    def test_flagged_emergency_accesses_come_first(self, browser, live: LiveServer):
        broken_glass(live)
        b = browser("auditor")
        rows = audit_rows(b)
        flags = ["flagged" in r["class"] for r in rows]
        assert flags[0]
        assert flags == sorted(flags, reverse=True)  # every flagged entry before the rest
        flagged = [r["action"] for r in rows if "flagged" in r["class"]]
        assert "EmergencyAccessGranted" in flagged
        assert "read:plan" in flagged  # the outsider's read under emergency access
        b.shot("audit-review")

    def test_each_emergency_entry_shows_the_grants_reason(self, browser, live: LiveServer):
        broken_glass(live)
        b = browser("auditor")
        flagged = [r for r in audit_rows(b) if "flagged" in r["class"]]
        assert {r["action"] for r in flagged} >= {"EmergencyAccessGranted", "read:plan"}
        for row in flagged:
            assert "Reason: Seen in the emergency department, unresponsive" in row["text"]
            assert "grant until" in row["text"]

    def test_filters_by_actor_action_patient_and_time(self, browser, live: LiveServer):
        pid = broken_glass(live)
        b = browser("auditor")
        Select(b.find("#f-actor")).select_by_value(live.team.outsider.id)
        b.submit("#audit-filters button[type='submit']")
        b.wait_for(lambda d: "actor=" in d.current_url)
        rows = audit_rows(b)
        assert rows
        assert all("Test outsider" in r["text"] for r in rows)

        b.open(f"/audit-review?patient_id={pid}&action=DoseChanged")
        assert audit_rows(b) == []
        b.open(f"/audit-review?patient_id={pid}&action=MedicationPrescribed")
        assert [r["action"] for r in audit_rows(b)] == ["MedicationPrescribed"]

        hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        b.open(f"/audit-review?until={hour_ago}")
        assert audit_rows(b) == []
        assert "No entries match" in b.text("#audit-entries")

    def test_the_review_itself_is_recorded(self, browser, live: LiveServer):
        pid = broken_glass(live)
        b = browser("auditor").open(f"/audit-review?patient_id={pid}")
        b.open(f"/audit-review?actor={live.team.auditor.id}&action=read:audit")
        assert any(r["action"] == "read:audit" for r in audit_rows(b))

    def test_entries_name_the_patient_newest_first_and_actions_come_from_a_list(
        self, browser, live: LiveServer
    ):
        pid = broken_glass(live)
        b = browser("auditor")
        rows = audit_rows(b)
        unflagged = [r for r in b.find_all("#audit-entries tr.audit-entry:not(.flagged)")]
        times = [
            r.find_element("css selector", "time").get_attribute("datetime") for r in unflagged
        ]
        assert times == sorted(times, reverse=True)  # newest first after the flagged ones
        assert any("Morgan Auditley" in r["text"] and "MRN MRN-E2E-AU" in r["text"] for r in rows)
        assert pid[:8] not in " ".join(r["text"] for r in rows)  # no truncated ids
        action = Select(b.find("#f-action"))
        values = [o.get_attribute("value") for o in action.options]
        assert {"MedicationPrescribed", "read:*", "denied:*", "read:plan"} <= set(values)
        action.select_by_value("MedicationPrescribed")
        patient = Select(b.find("#f-patient"))
        patient.select_by_visible_text("Morgan Auditley (MRN MRN-E2E-AU)")
        b.submit("#audit-filters button[type='submit']")
        assert [r["action"] for r in audit_rows(b)] == ["MedicationPrescribed"]
