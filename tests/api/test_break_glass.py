"""Break-glass stays bounded: emergency access opens a record for four hours but never
changes who is on the care team, and everything done under it is flagged in the audit
with the grant's stated reason and expiry, for the reviewer."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actor import Actor
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

REASON = "Brought in overnight, team unreachable"


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def break_glass(api: ApiClient, pid: str, as_: str) -> None:
    granted = api.post(path(pid, "emergency-access"), {"reason": REASON}, as_=as_)
    assert granted.status_code == 201, granted.get_json()


def add_to_team(
    api: ApiClient, pid: str, member: Actor, role: str, as_: str = "psychiatrist"
) -> Any:
    return api.post(path(pid, "care-team"), {"clinician_id": member.id, "role": role}, as_=as_)


def remove_from_team(
    api: ApiClient, pid: str, member: Actor, reason: str, as_: str = "psychiatrist"
) -> Any:
    return api.post(path(pid, f"care-team/{member.id}/removal"), {"reason": reason}, as_=as_)


def care_team_ids(api: ApiClient, pid: str) -> set[str]:
    plan = api.get(path(pid, "plan")).get_json()
    return {m["clinician_id"] for m in plan["care_team"] if m.get("active", True)}


class TestBreakGlassNeverChangesTheCareTeam:
    def test_a_clinician_under_emergency_access_cannot_add_themself(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        outsider = api.team.outsider
        added = add_to_team(api, patient, outsider, "psychiatrist", as_="outsider")
        assert added.status_code == 403
        assert "emergency access" in added.get_json()["detail"]
        assert outsider.id not in care_team_ids(api, patient)

    def test_a_removed_therapist_cannot_undo_their_removal_by_breaking_the_glass(
        self, api: ApiClient, patient: str
    ) -> None:
        therapist = api.team.therapist
        removed = remove_from_team(api, patient, therapist, "left the service")
        assert removed.status_code == 201, removed.get_json()
        break_glass(api, patient, "therapist")
        readded = add_to_team(api, patient, therapist, "therapist", as_="therapist")
        assert readded.status_code == 403
        assert therapist.id not in care_team_ids(api, patient)

    def test_a_clinician_under_emergency_access_cannot_remove_a_member(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        psychiatrist = api.team.psychiatrist
        removal = remove_from_team(api, patient, psychiatrist, "taking over", as_="outsider")
        assert removal.status_code == 403
        assert psychiatrist.id in care_team_ids(api, patient)

    def test_a_member_still_adds_the_clinician_who_broke_the_glass(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        outsider = api.team.outsider
        added = add_to_team(api, patient, outsider, "psychiatrist")
        assert added.status_code == 201, added.get_json()
        assert outsider.id in care_team_ids(api, patient)


def flagged_entries(api: ApiClient, url: str, as_: str) -> list[dict[str, Any]]:
    api.catch_up()
    response = api.get(url, as_=as_)
    assert response.status_code == 200, response.get_json()
    return [e for e in response.get_json()["entries"] if e["flagged"]]


class TestEmergencyAccessInTheAudit:
    def test_every_read_and_write_under_it_names_the_grants_reason_and_expiry(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        assert api.get(path(patient, "plan"), as_="outsider").status_code == 200
        assert api.get(path(patient, "history"), as_="outsider").status_code == 200
        wrote = api.post(
            path(patient, "follow-ups"),
            {"due_at": "2031-01-01T09:00:00+00:00", "purpose": "check after crisis"},
            as_="outsider",
        )
        assert wrote.status_code == 201, wrote.get_json()

        for url, as_ in (
            ("/api/v1/audit?order=flagged_first&limit=1000", "auditor"),
            (path(patient, "audit") + "?limit=1000", "psychiatrist"),
        ):
            flagged = flagged_entries(api, url, as_)
            actions = {e["action"] for e in flagged}
            assert {
                "EmergencyAccessGranted",
                "read:plan",
                "read:history",
                "FollowUpScheduled",
            } <= actions, actions
            for entry in flagged:
                grant = entry["details"]["emergency_access"]
                assert grant["reason"] == REASON
                assert grant["expires_at"] > entry["at"]

    def test_a_team_members_reads_carry_no_emergency_details(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        assert api.get(path(patient, "plan")).status_code == 200
        api.catch_up()
        entries = api.get("/api/v1/audit?limit=1000", as_="auditor").get_json()["entries"]
        mine = [e for e in entries if e["actor"]["id"] == api.team.psychiatrist.id]
        assert mine
        assert not any("emergency_access" in (e["details"] or {}) for e in mine)
