"""The safety rules over HTTP: refusals of contraindicated combinations (422 problem+json,
nothing written), prescriber overrides, dose, interaction and taper alerts, their place in
the plan, and their resolution by a pharmacist or prescriber (API.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def open_alerts(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    alerts: list[dict[str, Any]] = response.get_json()["alerts"]
    return alerts


def history_types(api: ApiClient, pid: str) -> list[str]:
    response = api.get(path(pid, "history"), query_string={"limit": 500})
    assert response.status_code == 200, response.get_json()
    return [event["type"] for event in response.get_json()["events"]]


def resolve(
    api: ApiClient,
    pid: str,
    alert_id: str,
    resolution: str,
    reason: str | None = None,
    as_: str = "psychiatrist",
) -> Any:
    """Posts an alert's resolution (with its reason, when given)."""
    body = {"resolution": resolution} | ({} if reason is None else {"reason": reason})
    return api.post(path(pid, f"alerts/{alert_id}/resolution"), body, as_=as_)


def of_kind(alerts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["kind"] == kind]


class TestContraindicatedCombinations:
    def test_an_maoi_with_an_ssri_is_refused_with_422_naming_the_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "sertraline", 50).status_code == 201

        response = prescribe(api, patient, "phenelzine", 15)

        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["status"] == 422
        assert {"type", "title", "detail"} <= set(body)
        assert "override_reason" in body["detail"]
        assert "override_reason" in body["errors"]
        [alert] = body["alerts"]
        assert alert["severity"] == "contraindicated"
        assert alert["kind"] == "interaction"
        assert alert["rule_id"] == "DDI-01A"
        assert "phenelzine" in alert["message"].lower()
        assert "sertraline" in alert["message"].lower()

    def test_a_refused_prescription_writes_nothing(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient, "sertraline", 50)
        before = api.get(path(patient, "plan")).get_json()
        events_before = history_types(api, patient)

        assert prescribe(api, patient, "phenelzine", 15).status_code == 422

        after = api.get(path(patient, "plan")).get_json()
        assert after["version"] == before["version"]
        assert [m["drug"] for m in after["medications"]] == ["sertraline"]
        assert after["alerts"] == before["alerts"]
        assert history_types(api, patient) == events_before

    def test_a_prescribers_override_reason_is_accepted_and_recorded_on_the_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "sertraline", 50)
        reason = "Specialist-supervised switch, inpatient monitoring"

        response = prescribe(api, patient, "phenelzine", 15, override_reason=reason)

        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        raised = [a for a in body["alerts"] if a["severity"] == "contraindicated"]
        assert [a["rule_id"] for a in raised] == ["DDI-01A"]
        [kept] = [a for a in open_alerts(api, patient) if a["id"] == raised[0]["id"]]
        assert kept["override_reason"] == reason
        assert body["order_id"] in kept["order_ids"]
        assert "SafetyAlertRaised" in history_types(api, patient)

    def test_an_override_from_a_pharmacist_without_prescribing_rights_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "sertraline", 50)
        version = api.get(path(patient, "plan")).get_json()["version"]

        response = prescribe(api, patient, "phenelzine", 15, as_="pharmacist", override_reason="x")

        assert response.status_code == 403
        assert api.get(path(patient, "plan")).get_json()["version"] == version

    def test_a_prescribing_pharmacist_may_override(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient, "sertraline", 50)

        response = prescribe(
            api,
            patient,
            "phenelzine",
            15,
            as_="prescribing_pharmacist",
            override_reason="Collaborative-practice switch agreed with the psychiatrist",
        )

        assert response.status_code == 201, response.get_json()


class TestDoseInteractionAndTaperAlerts:
    def test_a_dose_above_the_maximum_raises_an_alert_seen_in_the_plan(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "sertraline", 300)

        assert response.status_code == 201
        [raised] = of_kind(response.get_json()["alerts"], "max_dose")
        assert raised["severity"] == "major"
        assert "300 mg/day" in raised["message"]
        assert "200 mg/day" in raised["message"]
        [shown] = of_kind(open_alerts(api, patient), "max_dose")
        assert shown["id"] == raised["id"]
        assert shown["order_ids"] == [response.get_json()["order_id"]]

    def test_a_dose_change_above_the_maximum_raises_an_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        order = prescribe(api, patient, "sertraline", 100).get_json()["order_id"]

        response = api.post(
            path(patient, f"medications/{order}/dose-changes"),
            {"dose": {"amount": 250, "unit": "mg"}, "reason": "partial response"},
        )

        assert response.status_code == 201, response.get_json()
        assert of_kind(response.get_json()["alerts"], "max_dose")
        assert of_kind(open_alerts(api, patient), "max_dose")

    def test_lithium_with_an_nsaid_raises_an_interaction_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "lithium", 300, frequency="twice daily")

        response = prescribe(api, patient, "ibuprofen", 400, frequency="three times daily")

        assert response.status_code == 201
        [raised] = of_kind(response.get_json()["alerts"], "interaction")
        assert raised["severity"] == "major"
        assert raised["rule_id"] == "DDI-07"
        assert of_kind(open_alerts(api, patient), "interaction")[0]["id"] == raised["id"]

    @pytest.mark.parametrize(
        ("stop", "alerted"),
        [
            pytest.param(
                {"reason": "side effects"},
                True,
                id="stopping_paroxetine_without_a_taper_raises_an_abrupt_stop_alert",
            ),
            pytest.param(
                {"reason": "remission", "taper": "10 mg daily for 2 weeks, then stop"},
                False,
                id="a_taper_schedule_with_the_discontinuation_raises_no_abrupt_stop_alert",
            ),
            pytest.param(
                {"reason": "remission", "taper": "none needed"},
                True,
                id="a_taper_that_says_none_needed_does_not_satisfy_the_rule",
            ),
        ],
    )
    def test_stopping_paroxetine_alerts_unless_a_taper_schedule_is_given(
        self, api: ApiClient, patient: str, stop: dict[str, str], alerted: bool
    ) -> None:
        order = prescribe(api, patient, "paroxetine", 20).get_json()["order_id"]

        response = api.post(path(patient, f"medications/{order}/discontinuation"), stop)

        assert response.status_code == 201, response.get_json()
        raised = of_kind(response.get_json()["alerts"], "abrupt_stop")
        if not alerted:
            assert raised == []
            return
        [alert] = raised
        assert "paroxetine" in alert["message"].lower()
        assert of_kind(open_alerts(api, patient), "abrupt_stop")


class TestResolvingAlerts:
    def _max_dose_alert(self, api: ApiClient, pid: str) -> str:
        alerts = prescribe(api, pid, "sertraline", 300).get_json()["alerts"]
        alert_id: str = of_kind(alerts, "max_dose")[0]["id"]
        return alert_id

    def test_a_pharmacist_acknowledges_an_alert_and_it_leaves_the_open_list(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = self._max_dose_alert(api, patient)

        reason = "Discussed with the psychiatrist"
        response = resolve(api, patient, alert_id, "acknowledged", reason, as_="pharmacist")

        assert response.status_code == 201, response.get_json()
        assert {"event_id", "patient_id", "version", "position"} <= set(response.get_json())
        assert alert_id not in {a["id"] for a in open_alerts(api, patient)}
        resolved = [
            e
            for e in api.get(path(patient, "history")).get_json()["events"]
            if e["type"] == "SafetyAlertResolved"
        ]
        assert [(e["data"]["alert_id"], e["data"]["resolution"]) for e in resolved] == [
            (alert_id, "acknowledged")
        ]
        assert resolved[0]["actor"]["role"] == "pharmacist"

    def test_a_prescriber_overrides_an_alert_with_a_reason(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = self._max_dose_alert(api, patient)

        reason = "Treatment-resistant OCD, specialist advice"
        response = resolve(api, patient, alert_id, "overridden", reason)

        assert response.status_code == 201, response.get_json()
        assert alert_id not in {a["id"] for a in open_alerts(api, patient)}
        [event] = [
            e
            for e in api.get(path(patient, "history")).get_json()["events"]
            if e["type"] == "SafetyAlertResolved"
        ]
        assert event["data"]["resolution"] == "overridden"
        assert event["data"]["reason"].startswith("Treatment-resistant")

    def test_an_override_without_a_reason_is_refused(self, api: ApiClient, patient: str) -> None:
        alert_id = self._max_dose_alert(api, patient)

        response = resolve(api, patient, alert_id, "overridden")

        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert "reason" in response.get_json()["errors"]
        assert alert_id in {a["id"] for a in open_alerts(api, patient)}

    def test_a_therapist_may_not_resolve_an_alert(self, api: ApiClient, patient: str) -> None:
        alert_id = self._max_dose_alert(api, patient)

        response = resolve(api, patient, alert_id, "acknowledged", "seen", as_="therapist")

        assert response.status_code == 403
        assert alert_id in {a["id"] for a in open_alerts(api, patient)}

    def test_an_alert_resolved_already_cannot_be_resolved_again(
        self, api: ApiClient, patient: str
    ) -> None:
        alert_id = self._max_dose_alert(api, patient)
        assert resolve(api, patient, alert_id, "acknowledged", "seen").status_code == 201

        again = resolve(api, patient, alert_id, "acknowledged", "seen")

        assert again.status_code == 422

    def test_an_unknown_alert_is_404(self, api: ApiClient, patient: str) -> None:
        response = resolve(api, patient, "no-such-alert", "acknowledged", "seen")

        assert response.status_code == 404
