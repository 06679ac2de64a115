"""OpenAPI links: which answer's ids feed which operation, so that a client generator or a
stateful fuzzer can chain calls (a new patient's id into every patient operation, a new
order's id into its dose changes and discontinuation, an alert's id into its resolution).

Declared once here and added to the document after every blueprint is registered; each
link names its target by ``operationRef``, so no operation needs an ``operationId``."""

from __future__ import annotations

import re
from typing import Any

PATIENTS = "/api/v1/patients"
P = PATIENTS + "/{pid}"
PATIENT_ID = "$response.body#/patient_id"
FIRST_ALERT = "$response.body#/alerts/0/id"


def _ref(path: str, method: str) -> str:
    """A JSON pointer to an operation (``~1`` for ``/``, RFC 6901)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _path_params(path: str) -> set[str]:
    return set(re.findall(r"\{([^}]+)\}", path))


ENTITY_LINKS: tuple[tuple[str, str, str, dict[str, str], dict[str, str]], ...] = (
    # (source path, link name, target path, path parameters, request body fields)
    (f"{P}/medications", "ChangeDose", f"{P}/medications/{{order_id}}/dose-changes",
     {"order_id": "$response.body#/order_id"}, {}),
    (f"{P}/medications", "Discontinue", f"{P}/medications/{{order_id}}/discontinuation",
     {"order_id": "$response.body#/order_id"}, {}),
    (f"{P}/medications", "ReportAdherence", f"{P}/adherence",
     {}, {"order_id": "$response.body#/order_id"}),
    (f"{P}/medications", "ReportSideEffect", f"{P}/side-effects",
     {}, {"order_id": "$response.body#/order_id"}),
    (f"{P}/medications", "RecordEducation", f"{P}/education",
     {}, {"order_id": "$response.body#/order_id"}),
    (f"{P}/medications", "ResolveAlert", f"{P}/alerts/{{alert_id}}/resolution",
     {"alert_id": FIRST_ALERT}, {}),
    (f"{P}/medications/{{order_id}}/dose-changes", "ResolveAlert",
     f"{P}/alerts/{{alert_id}}/resolution", {"alert_id": FIRST_ALERT}, {}),
    (f"{P}/assessments", "ResolveAlert", f"{P}/alerts/{{alert_id}}/resolution",
     {"alert_id": FIRST_ALERT}, {}),
    (f"{P}/labs", "ResolveAlert", f"{P}/alerts/{{alert_id}}/resolution",
     {"alert_id": FIRST_ALERT}, {}),
    (f"{P}/follow-ups", "Complete", f"{P}/follow-ups/{{follow_up_id}}/completion",
     {"follow_up_id": "$response.body#/follow_up_id"}, {}),
    (f"{P}/goals", "ChangeStatus", f"{P}/goals/{{goal_id}}/status",
     {"goal_id": "$response.body#/goal_id"}, {}),
    (f"{P}/conditions", "Resolve", f"{P}/conditions/{{condition_id}}/resolution",
     {"condition_id": "$response.body#/condition_id"}, {}),
    (f"{P}/care-team", "Remove", f"{P}/care-team/{{cid}}/removal",
     {"cid": "$request.body#/clinician_id"}, {}),
    (f"{P}/notes", "Correct", f"{P}/corrections", {}, {"event_id": "$response.body#/event_id"}),
    (PATIENTS, "Correct", f"{P}/corrections", {}, {"event_id": "$response.body#/event_id"}),
)  # fmt: skip
"""Links from a write's answer to the operations on the entity it created."""

FIRST_ORDER = "$response.body#/medications/0/order_id"
PLAN_LINKS: tuple[tuple[str, str, dict[str, str], dict[str, str]], ...] = (
    # (link name, target path, path parameters, request body fields): the plan's first
    # entry of each kind
    ("ChangeDose", f"{P}/medications/{{order_id}}/dose-changes",
     {"order_id": FIRST_ORDER}, {}),
    ("Discontinue", f"{P}/medications/{{order_id}}/discontinuation",
     {"order_id": FIRST_ORDER}, {}),
    ("ResolveAlert", f"{P}/alerts/{{alert_id}}/resolution",
     {"alert_id": "$response.body#/alerts/0/id"}, {}),
    ("CompleteFollowUp", f"{P}/follow-ups/{{follow_up_id}}/completion",
     {"follow_up_id": "$response.body#/follow_ups/0/follow_up_id"}, {}),
    ("ChangeGoalStatus", f"{P}/goals/{{goal_id}}/status",
     {"goal_id": "$response.body#/goals/0/goal_id"}, {}),
    ("ResolveCondition", f"{P}/conditions/{{condition_id}}/resolution",
     {"condition_id": "$response.body#/conditions/0/condition_id"}, {}),
    ("RemoveFromCareTeam", f"{P}/care-team/{{cid}}/removal",
     {"cid": "$response.body#/care_team/1/clinician_id"}, {}),
    ("ReportAdherence", f"{P}/adherence", {}, {"order_id": FIRST_ORDER}),
    ("ReportSideEffect", f"{P}/side-effects", {}, {"order_id": FIRST_ORDER}),
)  # fmt: skip
"""Links from the plan to the operations on its entries (``pid`` is the plan's patient)."""

LIST_LINKS: tuple[tuple[str, str, str], ...] = (
    # (list read, the patient read it leads to, where the list names a patient)
    ("/api/v1/patients", "plan", "$response.body#/patients/0/patient_id"),
    ("/api/v1/dashboard", "plan", "$response.body#/patients/0/patient_id"),
    ("/api/v1/feed", "history", "$response.body#/items/0/subject"),
    ("/api/v1/audit", "audit", "$response.body#/entries/0/patient_id"),
)
"""Reads that list patients: their first patient's id into that patient's record."""


def add_links(paths: dict[str, dict[str, Any]]) -> None:
    """Add the links to the 201 answers in ``paths`` (the document's, as apispec holds it).

    A new patient's id goes into every operation that needs only a patient id; an entity's
    id (and its patient's) into the operations on that entity (``ENTITY_LINKS``)."""
    patient_ops = [
        (path, method)
        for path, operations in paths.items()
        for method in operations
        if method in {"get", "post"} and _path_params(path) == {"pid"}
    ]
    registered = _links_of(paths, PATIENTS, "post")
    for target, method in patient_ops:
        registered[_name(target, method)] = {
            "operationRef": _ref(target, method),
            "parameters": {"pid": PATIENT_ID},
        }
    for source, read, patient in LIST_LINKS:
        _links_of(paths, source, "get", "200")[_name(f"{P}/{read}", "get")] = {
            "operationRef": _ref(f"{P}/{read}", "get"),
            "parameters": {"pid": patient},
        }
    answered = _links_of(paths, "/api/v1/dashboard", "get", "200")
    answered["ResolveAlert"] = {
        "operationRef": _ref(f"{P}/alerts/{{alert_id}}/resolution", "post"),
        "parameters": {
            "pid": "$response.body#/patients/0/patient_id",
            "alert_id": "$response.body#/patients/0/reasons/0/alert_id",
        },
    }
    plan = _links_of(paths, f"{P}/plan", "get", "200")
    for name, target, parameters, body in PLAN_LINKS:
        plan[name] = _post_link(target, parameters, body)
    for source, name, target, parameters, body in ENTITY_LINKS:
        _links_of(paths, source, "post")[name] = _post_link(target, parameters, body)


def _post_link(target: str, parameters: dict[str, str], body: dict[str, str]) -> dict[str, Any]:
    """A link to a write on the same patient (both answers carry ``patient_id``)."""
    link: dict[str, Any] = {
        "operationRef": _ref(target, "post"),
        "parameters": {"pid": PATIENT_ID, **parameters},
    }
    if body:
        link["requestBody"] = body
    return link


def _links_of(
    paths: dict[str, dict[str, Any]], path: str, method: str, status: str = "201"
) -> dict[str, Any]:
    answer: dict[str, Any] = paths[path][method]["responses"][status]
    links: dict[str, Any] = answer.setdefault("links", {})
    return links


def _name(path: str, method: str) -> str:
    """``GetPlan``, ``PostMedications``, ``PostEmergencyAccess`` ... from the path's last
    segment (each patient operation's last segment is its own)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return method.capitalize() + "".join(w.capitalize() for w in re.split(r"[-_]", last))
