"""Care-team changes that a clinic would not let stand (red-team F13): a team left without
its only psychiatrist, and a refused change under emergency access that the audit did not
flag."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient
from tests.api.test_break_glass import (
    REASON,
    add_to_team,
    break_glass,
    care_team_ids,
    path,
    remove_from_team,
)

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


class TestTheOnlyPsychiatristStays:
    def test_a_therapist_removing_the_only_psychiatrist_is_422_naming_clinician_id(
        self, api: ApiClient, patient: str
    ) -> None:
        psychiatrist = api.team.psychiatrist
        removal = remove_from_team(api, patient, psychiatrist, "not needed", as_="therapist")
        assert removal.status_code == 422, removal.get_json()
        assert "only psychiatrist" in removal.get_json()["errors"]["clinician_id"][0]
        assert psychiatrist.id in care_team_ids(api, patient)

    def test_with_a_successor_assigned_first_the_psychiatrist_may_leave(
        self, api: ApiClient, patient: str
    ) -> None:
        successor = api.team.outsider
        added = add_to_team(api, patient, successor, "psychiatrist")
        assert added.status_code == 201, added.get_json()
        psychiatrist = api.team.psychiatrist
        removal = remove_from_team(api, patient, psychiatrist, "handover", as_="outsider")
        assert removal.status_code == 201, removal.get_json()
        plan = api.get(path(patient, "plan"), as_="outsider").get_json()
        active = {m["clinician_id"] for m in plan["care_team"] if m.get("active", True)}
        assert active & {psychiatrist.id, successor.id} == {successor.id}


class TestARefusedChangeUnderEmergencyAccessIsFlagged:
    def test_the_denied_care_team_write_carries_the_grant(
        self, api: ApiClient, patient: str
    ) -> None:
        break_glass(api, patient, "outsider")
        added = add_to_team(api, patient, api.team.outsider, "psychiatrist", as_="outsider")
        assert added.status_code == 403
        api.catch_up()
        entries: list[dict[str, Any]] = api.get(
            "/api/v1/audit?limit=1000", as_="auditor"
        ).get_json()["entries"]
        denied = [
            e for e in entries if e["actor"]["id"] == api.team.outsider.id and e["allowed"] is False
        ]
        assert denied, entries
        for entry in denied:
            assert entry["flagged"] is True
            assert entry["details"]["emergency_access"]["reason"] == REASON
