"""Suicide-risk alerts over HTTP: only a psychiatrist or therapist on the care team closes
one, with a reason that says something and the action taken (a risk assessment with its
result, a safety plan, a referral, emergency services); a blank reason is refused for
every alert; the alert's age shows in the plan and on the dashboard, and the patient
stays on the psychiatrist's dashboard until someone who may acts on it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

ITEM9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # item 9 answered 2: a suicide-risk alert


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def suicide_alert(api: ApiClient, pid: str) -> str:
    response = api.post(
        path(pid, "assessments"), {"instrument": "PHQ-9", "item_scores": ITEM9}, as_="therapist"
    )
    assert response.status_code == 201, response.get_json()
    [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "suicide_risk"]
    return str(alert["id"])


def resolve(api: ApiClient, pid: str, alert_id: str, as_: str, **body: Any) -> Any:
    payload = {"resolution": "acknowledged", "reason": "Seen in clinic with family.", **body}
    return api.post(path(pid, f"alerts/{alert_id}/resolution"), payload, as_=as_)


def open_ids(api: ApiClient, pid: str) -> list[str]:
    return [a["id"] for a in api.get(path(pid, "plan")).get_json()["alerts"]]


class TestWhoResolvesASuicideRiskAlert:
    @pytest.mark.parametrize("who", ["pharmacist", "prescribing_pharmacist"])
    def test_a_pharmacist_even_a_prescribing_one_is_refused_with_403(
        self, api: ApiClient, patient: str, who: str
    ) -> None:
        alert_id = suicide_alert(api, patient)

        response = resolve(api, patient, alert_id, who, action="safety_plan")

        assert response.status_code == 403, response.get_json()
        assert "psychiatrist or therapist" in response.get_json()["detail"]
        assert alert_id in open_ids(api, patient)

    def test_a_therapist_with_a_risk_assessment_and_its_result_resolves_it(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = suicide_alert(api, patient)

        response = resolve(
            api,
            patient,
            alert_id,
            "therapist",
            reason="C-SSRS done: passive ideation, no plan or intent.",
            action="risk_assessment_done",
            result="low",
        )

        assert response.status_code == 201, response.get_json()
        assert alert_id not in open_ids(api, patient)
        [event] = api.get(
            path(patient, "history"), query_string={"type": "SafetyAlertResolved"}
        ).get_json()["events"]
        assert event["actor"] == {"id": api.team.therapist.id, "role": "therapist"}
        assert event["data"]["action"] == "risk_assessment_done"
        assert event["data"]["result"] == "low"

    def test_a_psychiatrist_resolves_it_with_a_safety_plan(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = suicide_alert(api, patient)
        response = resolve(api, patient, alert_id, "psychiatrist", action="safety_plan")
        assert response.status_code == 201, response.get_json()

    def test_a_psychiatrist_not_on_the_care_team_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = suicide_alert(api, patient)
        response = resolve(api, patient, alert_id, "outsider", action="safety_plan")
        assert response.status_code == 403
        assert alert_id in open_ids(api, patient)

    def test_a_therapist_may_still_not_resolve_a_medication_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        written = prescribe(api, patient, "sertraline", 300).get_json()
        [alert] = [a for a in written["alerts"] if a["kind"] == "max_dose"]
        response = resolve(api, patient, alert["id"], "therapist")
        assert response.status_code == 403


class TestTheStructuredAction:
    @pytest.mark.parametrize(
        ("body", "statuses", "field"),
        [
            pytest.param({}, (422,), "action", id="without_an_action_it_is_a_422_naming_action"),
            pytest.param(
                {"action": "risk_assessment_done"},
                (422,),
                "result",
                id="a_risk_assessment_without_its_result_is_a_422_naming_result",
            ),
            pytest.param(
                {"action": "thought_about_it"},
                (400, 422),
                "action",
                id="an_unknown_action_is_refused_naming_the_allowed_ones",
            ),
        ],
    )
    def test_an_incomplete_action_is_refused_naming_the_field(
        self,
        api: ApiClient,
        patient: str,
        body: dict[str, str],
        statuses: tuple[int, ...],
        field: str,
    ) -> None:
        alert_id = suicide_alert(api, patient)
        response = resolve(api, patient, alert_id, "therapist", **body)
        assert response.status_code in statuses
        assert field in response.get_json()["errors"]
        assert alert_id in open_ids(api, patient)


class TestAReasonWithContent:
    @pytest.mark.parametrize("reason", ["", "   ", "\n\t", ".", "x"])
    def test_an_empty_blank_or_one_character_reason_is_a_422_field_error(
        self, api: ApiClient, patient: str, reason: str
    ) -> None:
        alert_id = suicide_alert(api, patient)
        response = resolve(api, patient, alert_id, "therapist", reason=reason, action="safety_plan")
        problem_naming(response, 422, "reason")
        assert alert_id in open_ids(api, patient)

    @pytest.mark.parametrize("reason", ["", "  ", "k"])
    def test_the_same_holds_for_any_other_alert(
        self, api: ApiClient, patient: str, reason: str
    ) -> None:
        written = prescribe(api, patient, "sertraline", 300).get_json()
        [alert] = [a for a in written["alerts"] if a["kind"] == "max_dose"]
        response = resolve(api, patient, alert["id"], "pharmacist", reason=reason)
        problem_naming(response, 422, "reason")


class TestTheAlertsAge:
    def test_the_plan_shows_when_it_was_raised_and_its_age_in_days(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = suicide_alert(api, patient)
        [alert] = [a for a in api.get(path(patient, "plan")).get_json()["alerts"]
                   if a["id"] == alert_id]  # fmt: skip
        assert alert["raised_at"]
        assert alert["age_days"] == 0

    def test_the_dashboard_keeps_the_patient_with_the_alert_and_its_age_after_a_pharmacist_tried(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = suicide_alert(api, patient)
        assert (
            resolve(api, patient, alert_id, "pharmacist", action="safety_plan").status_code == 403
        )
        api.catch_up()

        board = api.get("/api/v1/dashboard").get_json()

        [row] = [p for p in board["patients"] if p["patient_id"] == patient]
        assert row["suicide_risk"] is True
        [reason] = [r for r in row["reasons"] if r["kind"] == "suicide_risk"]
        assert reason["alert_id"] == alert_id
        assert reason["age_days"] == 0
        assert reason["raised_at"]
