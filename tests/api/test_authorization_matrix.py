"""Every endpoint by every role, on or off the care team, against the expected status.

The table is the role table of DESIGN.md; each case starts from a fresh patient with the
psychiatrist, therapist and both pharmacists on the team. Off the team: ``outsider`` (a
psychiatrist), ``outsider_therapist`` and ``outsider_pharmacist`` (on no care team), and
``former``, a psychiatrist who was on this patient's team and has been removed from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, register_patient

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

ROLES = (
    "psychiatrist",
    "therapist",
    "pharmacist",
    "prescribing_pharmacist",
    "auditor",
    "admin",
    "outsider",
    "outsider_therapist",
    "outsider_pharmacist",
    "former",
)
CLINICAL = {"psychiatrist", "therapist", "pharmacist", "prescribing_pharmacist"}
PRESCRIBERS = {"psychiatrist", "prescribing_pharmacist"}
OFF_TEAM = {"outsider", "outsider_therapist", "outsider_pharmacist", "former"}
"""Clinicians who may act where no care team is involved (register, break the glass, their
own dashboard, patient list and feed) but see nothing of this patient."""
EXTRA_STAFF = (
    ("outsider_therapist", "therapist"),
    ("outsider_pharmacist", "pharmacist"),
    ("former", "psychiatrist"),
)


@dataclass
class Setup:
    pid: str
    order_id: str
    follow_up_id: str
    alert_id: str
    psychiatrist_event: str
    goal_id: str


def add_staff(api: ApiClient) -> dict[str, str]:
    """The staff beyond the shared test team; their tokens join the team's."""
    ids = {}
    for key, role in EXTRA_STAFF:
        member, token = api.carelog.staff.add(f"Test {key}", role)
        api.team.tokens[key] = token
        ids[key] = member.id
    return ids


def setup_patient(api: ApiClient, mrn: str = "MRN-API-1") -> Setup:
    former = add_staff(api)["former"]
    pid = register_patient(api, mrn)
    for step, body in (
        ("care-team", {"clinician_id": former, "role": "psychiatrist"}),
        (f"care-team/{former}/removal", {"reason": "moved to another clinic"}),
    ):
        done = api.post(f"/api/v1/patients/{pid}/{step}", body)
        assert done.status_code == 201, done.get_json()
    ordered = prescribe(api, pid, drug="zz-unlisted-drug").get_json()
    follow_up = api.post(
        f"/api/v1/patients/{pid}/follow-ups", {"due_at": "2099-01-01T00:00:00Z", "purpose": "check"}
    ).get_json()
    goal = api.post(f"/api/v1/patients/{pid}/goals", {"description": "sleep"}).get_json()
    return Setup(
        pid,
        ordered["order_id"],
        follow_up["follow_up_id"],
        ordered["alerts"][0]["id"],
        ordered["event_id"],
        goal["goal_id"],
    )


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[Setup, ApiClient], str]
    body: Callable[[Setup, ApiClient], Any] | None
    allowed: frozenset[str]
    ok: int = 201
    views: bool = False


def p(rest: str) -> Callable[[Setup, ApiClient], str]:
    return lambda s, _api: f"/api/v1/patients/{s.pid}/{rest.format(s=s)}"


def const(body: Any) -> Callable[[Setup, ApiClient], Any]:
    return lambda _s, _api: body


def new_condition(s: Setup, api: ApiClient) -> str:
    """A condition on the patient's problem list (recorded by the psychiatrist)."""
    body = {"code": "G40.909", "display": "Epilepsy"}
    done = api.post(f"/api/v1/patients/{s.pid}/conditions", body)
    assert done.status_code == 201, done.get_json()
    condition_id: str = done.get_json()["condition_id"]
    return condition_id


ON_TEAM_CLINICAL = frozenset(CLINICAL)
CASES = [
    Case(
        "register",
        "POST",
        lambda s, a: "/api/v1/patients",
        lambda s, a: {
            "external_id": f"X-{uuid.uuid4().hex}",
            "name": "N",
            "birth_date": "1990-01-01",
        },
        frozenset(CLINICAL | OFF_TEAM),
    ),
    Case(
        "assign",
        "POST",
        p("care-team"),
        lambda s, a: {"clinician_id": a.team.outsider.id, "role": "psychiatrist"},
        ON_TEAM_CLINICAL,
    ),
    Case(
        "remove",
        "POST",
        lambda s, a: f"/api/v1/patients/{s.pid}/care-team/{a.team.pharmacist.id}/removal",
        const({"reason": "left"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "consent",
        "POST",
        p("consents"),
        const({"scope": "treatment", "decision": "granted"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "assessment",
        "POST",
        p("assessments"),
        const({"instrument": "GAD-7", "item_scores": [1] * 7}),
        frozenset({"psychiatrist", "therapist"}),
    ),
    Case(
        "prescribe",
        "POST",
        p("medications"),
        const(
            {
                "drug": "zz-other-drug",
                "dose": {"amount": 1, "unit": "mg"},
                "frequency": "once daily",
                "route": "oral",
                "indication": "x",
            }
        ),
        frozenset(PRESCRIBERS),
    ),
    Case(
        "dose_change",
        "POST",
        p("medications/{s.order_id}/dose-changes"),
        const({"dose": {"amount": 2, "unit": "mg"}, "reason": "r"}),
        frozenset(PRESCRIBERS),
    ),
    Case(
        "discontinue",
        "POST",
        p("medications/{s.order_id}/discontinuation"),
        const({"reason": "r"}),
        frozenset(PRESCRIBERS),
    ),
    Case(
        "side_effect",
        "POST",
        p("side-effects"),
        const({"effect": "dry mouth", "severity": "mild"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "progress_note",
        "POST",
        p("notes"),
        const({"kind": "progress", "modality": "other", "text": "t"}),
        frozenset({"psychiatrist", "therapist"}),
    ),
    Case(
        "psychotherapy_note",
        "POST",
        p("notes"),
        const({"kind": "psychotherapy", "modality": "CBT", "text": "t"}),
        frozenset({"therapist"}),
    ),
    Case(
        "follow_up",
        "POST",
        p("follow-ups"),
        const({"due_at": "2099-02-01T00:00:00Z", "purpose": "p"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "follow_up_done",
        "POST",
        p("follow-ups/{s.follow_up_id}/completion"),
        const({"outcome": "ok"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "alert_resolution",
        "POST",
        p("alerts/{s.alert_id}/resolution"),
        const({"resolution": "acknowledged", "reason": "seen"}),
        frozenset({"psychiatrist", "pharmacist", "prescribing_pharmacist"}),
    ),
    Case(
        "correction",
        "POST",
        p("corrections"),
        lambda s, a: {
            "event_id": s.psychiatrist_event,
            "fields": {"indication": "y"},
            "reason": "typo",
        },
        frozenset({"psychiatrist"}),
    ),
    Case(
        "emergency_access",
        "POST",
        p("emergency-access"),
        const({"reason": "crisis"}),
        frozenset(CLINICAL | OFF_TEAM),
    ),
    Case(
        "goal_status",
        "POST",
        p("goals/{s.goal_id}/status"),
        const({"status": "met"}),
        frozenset({"psychiatrist", "therapist"}),
    ),
    Case(
        "review",
        "POST",
        p("reviews"),
        const({"outcome": "ok"}),
        frozenset({"psychiatrist", "pharmacist", "prescribing_pharmacist"}),
    ),
    Case(
        "condition",
        "POST",
        p("conditions"),
        const({"code": "F50.2", "display": "Bulimia nervosa"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "condition_resolution",
        "POST",
        lambda s, a: f"/api/v1/patients/{s.pid}/conditions/{new_condition(s, a)}/resolution",
        const({"reason": "entered in error"}),
        frozenset({"psychiatrist", "therapist"}),
    ),
    Case(
        "sex_at_birth",
        "POST",
        p("sex-at-birth"),
        const({"sex_at_birth": "female"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "pregnancy_status",
        "POST",
        p("pregnancy-status"),
        const({"status": "not_pregnant"}),
        ON_TEAM_CLINICAL,
    ),
    Case(
        "pharmacogenomic_result",
        "POST",
        p("pharmacogenomic-results"),
        const(
            {"gene": "CYP2D6", "diplotype": "*1/*4", "lab": "GeneLab", "report_date": "2026-01-05"}
        ),
        ON_TEAM_CLINICAL,
    ),
    Case("plan", "GET", p("plan"), None, frozenset(CLINICAL | {"auditor"}), ok=200),
    Case("history", "GET", p("history"), None, frozenset(CLINICAL | {"auditor"}), ok=200),
    Case("trials", "GET", p("trials"), None, frozenset(CLINICAL | {"auditor"}), ok=200),
    Case(
        "outcomes",
        "GET",
        lambda s, a: "/api/v1/outcomes",
        None,
        frozenset(CLINICAL | OFF_TEAM),
        ok=200,
        views=True,
    ),
    Case(
        "patient_audit",
        "GET",
        p("audit"),
        None,
        frozenset(CLINICAL | {"auditor"}),
        ok=200,
        views=True,
    ),
    Case(
        "all_audit",
        "GET",
        lambda s, a: "/api/v1/audit",
        None,
        frozenset({"auditor"}),
        ok=200,
        views=True,
    ),
    Case(
        "dashboard",
        "GET",
        lambda s, a: "/api/v1/dashboard",
        None,
        frozenset(CLINICAL | OFF_TEAM),
        ok=200,
        views=True,
    ),
    Case(
        "patients",
        "GET",
        lambda s, a: "/api/v1/patients",
        None,
        frozenset(CLINICAL | OFF_TEAM | {"auditor"}),
        ok=200,
        views=True,
    ),
    Case(
        "feed",
        "GET",
        lambda s, a: "/api/v1/feed",
        None,
        frozenset(CLINICAL | OFF_TEAM),
        ok=200,
        views=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_authorization_matrix(api: ApiClient, case: Case) -> None:
    """One endpoint by every role: each role acts on a fresh patient of its own (so no
    role's write changes what the next one finds); every mismatch is reported at once."""
    mismatches = []
    for n, role in enumerate(ROLES):
        setup = setup_patient(api, f"MRN-MATRIX-{n}")
        if case.views:
            api.catch_up()
        url = case.path(setup, api)
        if case.method == "GET":
            response = api.get(url, as_=role)
        else:
            response = api.post(url, case.body(setup, api) if case.body else None, as_=role)
        expected = case.ok if role in case.allowed else 403
        if response.status_code != expected:
            mismatches.append((role, expected, response.status_code, response.get_json()))
    assert not mismatches, (case.name, mismatches)
