"""The write conventions of API.md, endpoint by endpoint: 401, 404, 412 (stale If-Match,
nothing written) and Idempotency-Key replay (same key and body: the first response; same
key, other body: 422), for the care team, consents, follow-ups and alert resolutions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

UNKNOWN = "7d9f0c7e-0000-4000-8000-000000000000"


@dataclass
class Chart:
    """A patient with a full care team, an open safety alert and a scheduled follow-up."""

    pid: str
    alert_id: str
    follow_up_id: str
    api: ApiClient

    def version(self) -> int:
        return int(self.api.carelog.app.get_record(self.pid).version)

    def head(self) -> int:
        return int(self.api.carelog.app.recorder.max_notification_id() or 0)


@pytest.fixture
def chart(api: ApiClient, patient: str) -> Chart:
    ordered = prescribe(api, patient, drug="zz-unlisted-drug").get_json()  # raises an alert
    follow_up = api.post(
        f"/api/v1/patients/{patient}/follow-ups",
        {"due_at": "2099-01-01T10:00:00Z", "purpose": "review"},
    ).get_json()
    return Chart(patient, ordered["alerts"][0]["id"], follow_up["follow_up_id"], api)


Body = Callable[[Chart], dict[str, Any]]


@dataclass(frozen=True)
class WriteCase:
    name: str
    rest: Callable[[Chart], str]  # the path after /api/v1/patients/{pid}/
    body: Body
    other_body: Body
    unknown: str | None = None  # the path with its entity id unknown: 404
    as_: str = "psychiatrist"


CASES = [
    WriteCase(
        "assign_care_team_member",
        lambda c: "care-team",
        lambda c: {"clinician_id": c.api.team.outsider.id, "role": "psychiatrist"},
        lambda c: {"clinician_id": c.api.team.outsider.id, "role": "therapist"},
    ),
    WriteCase(
        "remove_care_team_member",
        lambda c: f"care-team/{c.api.team.pharmacist.id}/removal",
        lambda c: {"reason": "moved to another clinic"},
        lambda c: {"reason": "left the service"},
        unknown=f"care-team/{UNKNOWN}/removal",
    ),
    WriteCase(
        "record_consent",
        lambda c: "consents",
        lambda c: {"scope": "medication", "decision": "granted"},
        lambda c: {"scope": "medication", "decision": "refused"},
    ),
    WriteCase(
        "schedule_follow_up",
        lambda c: "follow-ups",
        lambda c: {"due_at": "2099-02-01T10:00:00Z", "purpose": "sleep"},
        lambda c: {"due_at": "2099-02-01T10:00:00Z", "purpose": "mood"},
    ),
    WriteCase(
        "complete_follow_up",
        lambda c: f"follow-ups/{c.follow_up_id}/completion",
        lambda c: {"outcome": "well"},
        lambda c: {"outcome": "unwell"},
        unknown="follow-ups/no-such-follow-up/completion",
    ),
    WriteCase(
        "acknowledge_alert",
        lambda c: f"alerts/{c.alert_id}/resolution",
        lambda c: {"resolution": "acknowledged", "reason": "checked by hand"},
        lambda c: {"resolution": "acknowledged", "reason": "pharmacist review"},
        unknown="alerts/no-such-alert/resolution",
        as_="pharmacist",
    ),
    WriteCase(
        "override_alert",
        lambda c: f"alerts/{c.alert_id}/resolution",
        lambda c: {"resolution": "overridden", "reason": "specialist advice"},
        lambda c: {"resolution": "acknowledged", "reason": "specialist advice"},
        unknown="alerts/no-such-alert/resolution",
    ),
]
WITH_ENTITY = [c for c in CASES if c.unknown]


def url(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
class TestWriteConventions:
    def test_it_succeeds_with_an_etag_of_the_new_version(
        self, api: ApiClient, chart: Chart, case: WriteCase
    ) -> None:
        response = api.post(url(chart.pid, case.rest(chart)), case.body(chart), as_=case.as_)
        body = response.get_json()
        assert response.status_code == 201, body
        assert body["version"] == chart.version()
        assert response.headers["ETag"] == f'"{body["version"]}"'

    @pytest.mark.store_independent
    def test_no_token_is_401_and_writes_nothing(
        self, api: ApiClient, chart: Chart, case: WriteCase
    ) -> None:
        head = chart.head()
        response = api.post(url(chart.pid, case.rest(chart)), case.body(chart), as_=None)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert chart.head() == head

    def test_an_unknown_patient_is_404(self, api: ApiClient, chart: Chart, case: WriteCase) -> None:
        head = chart.head()
        response = api.post(url(UNKNOWN, case.rest(chart)), case.body(chart), as_=case.as_)
        assert response.status_code == 404, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert chart.head() == head

    def test_a_stale_if_match_is_412_and_writes_nothing(
        self, api: ApiClient, chart: Chart, case: WriteCase
    ) -> None:
        version, head = chart.version(), chart.head()
        response = api.post(
            url(chart.pid, case.rest(chart)),
            case.body(chart),
            as_=case.as_,
            headers={"If-Match": f'"{version - 1}"'},
        )
        assert response.status_code == 412, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert (chart.version(), chart.head()) == (version, head)

    def test_a_current_if_match_writes(self, api: ApiClient, chart: Chart, case: WriteCase) -> None:
        version = chart.version()
        response = api.post(
            url(chart.pid, case.rest(chart)),
            case.body(chart),
            as_=case.as_,
            headers={"If-Match": f'"{version}"'},
        )
        assert response.status_code == 201, response.get_json()
        assert chart.version() > version

    def test_a_replay_returns_the_first_response_and_writes_once(
        self, api: ApiClient, chart: Chart, case: WriteCase
    ) -> None:
        key = {"Idempotency-Key": f"replay-{case.name}"}
        path, body = url(chart.pid, case.rest(chart)), case.body(chart)
        first = api.post(path, body, as_=case.as_, headers=key)
        assert first.status_code == 201, first.get_json()
        version, head = chart.version(), chart.head()
        again = api.post(path, body, as_=case.as_, headers=key)
        assert again.status_code == 201, again.get_json()
        assert again.get_json() == first.get_json()
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert (chart.version(), chart.head()) == (version, head)

    def test_the_same_key_with_another_body_is_422(
        self, api: ApiClient, chart: Chart, case: WriteCase
    ) -> None:
        key = {"Idempotency-Key": f"other-{case.name}"}
        path = url(chart.pid, case.rest(chart))
        assert api.post(path, case.body(chart), as_=case.as_, headers=key).status_code == 201
        version, head = chart.version(), chart.head()
        other = api.post(path, case.other_body(chart), as_=case.as_, headers=key)
        problem_naming(other, 422, "Idempotency-Key")
        assert (chart.version(), chart.head()) == (version, head)


@pytest.mark.parametrize("case", WITH_ENTITY, ids=lambda c: c.name)
def test_an_unknown_entity_is_404_and_writes_nothing(
    api: ApiClient, chart: Chart, case: WriteCase
) -> None:
    assert case.unknown is not None
    head = chart.head()
    response = api.post(url(chart.pid, case.unknown), case.body(chart), as_=case.as_)
    assert response.status_code == 404, response.get_json()
    assert chart.head() == head


@pytest.mark.store_independent
class TestAlertResolutionNeedsAReason:
    """API.md lists ``reason`` as required for a resolution, not only for an override."""

    @pytest.mark.parametrize("reason", [None, "", "   "], ids=["missing", "empty", "blank"])
    @pytest.mark.parametrize("resolution", ["acknowledged", "overridden", "changed"])
    def test_a_resolution_without_a_reason_is_422_naming_reason(
        self, api: ApiClient, chart: Chart, resolution: str, reason: str | None
    ) -> None:
        body: dict[str, Any] = {"resolution": resolution}
        if reason is not None:
            body["reason"] = reason
        head = chart.head()
        response = api.post(url(chart.pid, f"alerts/{chart.alert_id}/resolution"), body)
        problem = response.get_json()
        assert response.status_code == 422, problem
        assert response.mimetype == "application/problem+json"
        assert set(problem["errors"]) == {"reason"}
        assert chart.head() == head

    def test_malformed_input_beside_a_missing_reason_is_still_400(
        self, api: ApiClient, chart: Chart
    ) -> None:
        response = api.post(
            url(chart.pid, f"alerts/{chart.alert_id}/resolution"), {"resolution": "shrugged"}
        )
        assert response.status_code == 400
        assert {"resolution", "reason"} <= set(response.get_json()["errors"])

    def test_a_reason_of_the_wrong_type_is_400(self, api: ApiClient, chart: Chart) -> None:
        response = api.post(
            url(chart.pid, f"alerts/{chart.alert_id}/resolution"),
            {"resolution": "acknowledged", "reason": 7},
        )
        problem_naming(response, 400, "reason")


def test_a_nul_character_in_a_body_is_400_naming_the_field(api: ApiClient, chart: Chart) -> None:
    head = chart.head()
    response = api.post(
        url(chart.pid, "care-team"), {"clinician_id": "abc\x00def", "role": "psychiatrist"}
    )
    problem_naming(response, 400, "clinician_id")
    assert chart.head() == head
