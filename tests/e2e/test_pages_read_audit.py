"""Reads from the pages are audited as the API's are: opening the dashboard, a patient's
timeline and the alert review each records who read which patient's what, and the audit
trail shows it (``services.access.policy``, ``services.access.access_log``)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.test_pages_alerts import patient_with_alert

pytestmark = pytest.mark.browser


def trail(live: LiveServer, pid: str, actor_id: str) -> list[dict[str, object]]:
    """The patient's audit trail (the API's, as the auditor reads it): one actor's reads
    and refused reads."""
    entries = live.get(f"/api/v1/patients/{pid}/audit?limit=1000", as_="auditor")["entries"]
    return [
        e
        for e in entries
        if e["actor"]["id"] == actor_id and str(e["action"]).startswith(("read:", "denied:"))
    ]


def reads(live: LiveServer, pid: str, actor_id: str) -> Counter[str]:
    return Counter(str(e["action"]) for e in trail(live, pid, actor_id))


def expect_reads(
    b: Browser, pid: str, actor_id: str, before: Counter[str], *actions: str
) -> Counter[str]:
    """Wait until the trail shows one more read of each of ``actions`` than ``before``
    (the audit trail follows the access log a moment behind)."""

    def recorded(_: object) -> Counter[str] | None:
        now = reads(b.live, pid, actor_id)
        return now if all(now[a] > before[a] for a in actions) else None

    now: Counter[str] = b.wait_for(recorded, timeout=5)
    return now


class TestReadAuditing:
    def test_the_dashboard_timeline_and_alert_review_record_their_reads(
        self, browser, live: LiveServer
    ):
        pid, _ = patient_with_alert(live)
        other = live.register_patient("MRN-E2E-RA", "Robin Readwell")
        me = live.team.pharmacist
        assert reads(live, pid, me.id) == Counter()

        b = browser("pharmacist")  # lands on the dashboard
        after_dashboard = expect_reads(b, pid, me.id, Counter(), "read:dashboard")
        expect_reads(b, other, me.id, Counter(), "read:dashboard")  # each patient shown
        assert set(after_dashboard) == {"read:dashboard"}

        b.open(f"/patients/{pid}")
        after_timeline = expect_reads(b, pid, me.id, after_dashboard, "read:history", "read:plan")

        b.open("/alerts")
        expect_reads(b, pid, me.id, after_timeline, "read:plan")

        for entry in trail(live, pid, me.id):
            assert entry["actor"] == {"id": me.id, "role": "pharmacist"}
            assert entry["patient_id"] == pid
            assert entry["allowed"] is True
            assert entry["flagged"] is False
            assert entry["source"] == "127.0.0.1"  # the browser's address, as for the API
        # The alert review reads every patient's plan for their alerts; only one timeline
        # was opened.
        assert "read:history" not in reads(live, other, me.id)

    def test_a_refused_timeline_is_recorded_as_a_denied_read(self, browser, live: LiveServer):
        pid = live.register_patient("MRN-E2E-RD", "Dale Deniedson")
        b = browser("outsider")
        b.expect_error_status(f"/patients/{pid}", 403)
        b.open(f"/patients/{pid}")

        def denied(_: object) -> list[dict[str, object]]:
            return [e for e in trail(live, pid, live.team.outsider.id) if not e["allowed"]]

        entry = b.wait_for(denied, timeout=5)[0]
        assert entry["action"] == "denied:history"
        assert entry["details"]["reason"] == "You are not on this patient's care team."
        assert entry["actor"] == {"id": live.team.outsider.id, "role": "psychiatrist"}
