"""The patient timeline's rows: each event in words, with both clocks, its actor, and the
marks a reader needs (late entry, corrected, a correction, restricted note).

Events arrive already redacted for the reader (``services.access.privacy.redact_event``): a
psychotherapy note another clinician wrote is a marker here, never its text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from web.pages.formatting import amount, dose, label, when

LATE_AFTER = timedelta(hours=1)
"""An entry recorded more than this after it happened is marked late (the API's rule)."""

if TYPE_CHECKING:
    from domain.plan_entities import Order


@dataclass
class Row:
    """One event as the timeline shows it."""

    id: str
    version: int
    type: str
    title: str
    summary: str
    recorded_at: datetime
    effective_at: datetime
    actor_id: str
    actor_role: str
    actor_name: str
    late: bool
    restricted: bool = False
    corrects: int | None = None  # the version of the entry this correction corrects
    corrected_by: list[int] = field(default_factory=list)


def _drug(orders: dict[str, Order], order_id: str | None) -> str:
    order = orders.get(order_id or "")
    return str(order.drug["name"]) if order else "medication"


def _dose_before(orders: dict[str, Order], order_id: Any, event_id: str) -> str | None:
    """The dose the order stood at (in clinical order) before the step ``event_id`` made."""
    order = orders.get(order_id or "")
    steps = order.steps if order else ()
    for before, step in pairwise(steps):
        if step.event_id == event_id:
            return f"{dose(dict(before.dose))} {before.frequency}"
    return None


def summarise(event: dict[str, Any], orders: dict[str, Order], versions: dict[str, int]) -> str:
    """One line saying what the event recorded."""
    kind, d = event["type"], event["data"]
    if d.get("restricted"):
        if kind == "NoteAdded":
            return "Psychotherapy note: only its author can read it."
        return "Correction of a psychotherapy note: only its author can read it."
    if kind == "DoseChanged":
        previous = _dose_before(orders, d.get("order_id"), event["id"])
        if previous is not None:  # "from X to Y": the change, not just where it landed
            d = {**d, "dose_before": previous}
    text = _SUMMARIES.get(kind)
    if text is not None:
        try:
            return text(d, orders, versions)
        except (KeyError, TypeError):  # an older event without a field: list what it has
            pass
    return ", ".join(f"{label(k)}: {v}" for k, v in d.items() if not k.endswith("_id"))


def _correction(d: dict[str, Any], orders: dict[str, Any], versions: dict[str, int]) -> str:
    target = versions.get(d.get("corrected_event_id", ""))
    changes = "; ".join(f"{label(k)} → {_value(v)}" for k, v in (d.get("fields") or {}).items())
    where = f"entry #{target}" if target else "an earlier entry"
    return f"Corrects {where}: {changes}. Reason: {d.get('reason', '')}"


def _value(v: Any) -> str:
    if isinstance(v, dict) and "amount" in v:
        return dose(v)
    if isinstance(v, datetime):
        return when(v)
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


Summary = Callable[[dict[str, Any], dict[str, Any], dict[str, int]], str]
RESOLUTION_WORDS = {
    "acknowledged": "Alert acknowledged",
    "overridden": "Alert overridden",
    "changed": "Alert resolved by a change to the plan",
    "superseded": "Alert closed by CareLog (replaced by a newer one)",
    "no_longer_applies": "Alert closed by CareLog (no longer applies)",
}
"""How the timeline words an alert's resolution (``domain.alert_resolution``)."""

_SUMMARIES: dict[str, Summary] = {
    "PatientRegistered": lambda d, o, v: (
        f"Registered {d['name']} (MRN {d['external_id']}), born {d['birth_date']}"
        + (f"; allergies: {', '.join(d['allergies'])}" if d.get("allergies") else "")
    ),
    "CareTeamMemberAssigned": lambda d, o, v: (
        f"{d['clinician_name']} joined the care team as {d['role']}"
    ),
    "CareTeamMemberRemoved": lambda d, o, v: f"Left the care team: {d.get('reason', '')}",
    "EmergencyAccessGranted": lambda d, o, v: (
        f"Emergency access until {when(d['expires_at'])}: {d['reason']}"
    ),
    "ConsentRecorded": lambda d, o, v: (
        f"Consent to {d['scope']}: {d['decision']}" + (f" ({d['note']})" if d.get("note") else "")
    ),
    "AssessmentRecorded": lambda d, o, v: (
        ("Clinical assessment" if d["instrument"] == "clinical" else d["instrument"])
        + (f" total {d['total']} ({d['severity']})" if d.get("total") is not None else "")
        + (f"; diagnoses {', '.join(d['diagnoses'])}" if d.get("diagnoses") else "")
        + (f". {d['summary']}" if d.get("summary") else "")
    ),
    "GoalSet": lambda d, o, v: f"Goal: {d['description']} (target: {d['target']})",
    "GoalStatusChanged": lambda d, o, v: (
        f"Goal {d['status']}" + (f": {d['note']}" if d.get("note") else "")
    ),
    "MedicationPrescribed": lambda d, o, v: (
        f"Prescribed {d['drug']['name']} {dose(d['dose'])} {d['frequency']} {d['route']}"
        f" for {d['indication']}"
    ),
    "DoseChanged": lambda d, o, v: (
        f"{_drug(o, d['order_id'])}: dose changed"
        + (f" from {d['dose_before']}" if d.get("dose_before") else "")
        + f" to {dose(d['dose'])} {d['frequency']}. Reason: {d['reason']}"
    ),
    "MedicationDiscontinued": lambda d, o, v: (
        f"{_drug(o, d['order_id'])} stopped. Reason: {d['reason']}"
        + (f"; taper: {d['taper']}" if d.get("taper") else "")
    ),
    "SideEffectReported": lambda d, o, v: (
        f"Side effect: {d['effect']} ({d['severity']})"
        + (f" on {_drug(o, d['order_id'])}" if d.get("order_id") else "")
        + (f"; action: {d['action_taken']}" if d.get("action_taken") else "")
    ),
    "AdherenceReported": lambda d, o, v: (
        f"{_drug(o, d['order_id'])}: {d['doses_taken']} doses taken, {d['doses_missed']}"
        f" missed ({d['period_start']} to {d['period_end']})"
    ),
    "SafetyAlertRaised": lambda d, o, v: (
        f"{label(d['severity'])} {label(d['kind']).lower()} alert: {d['message']}"
    ),
    "SafetyAlertResolved": lambda d, o, v: (
        RESOLUTION_WORDS.get(d["resolution"], f"Alert {label(d['resolution']).lower()}")
        + (f": {d['reason']}" if d.get("reason") else "")
    ),
    "NoteAdded": lambda d, o, v: f"{label(d['kind'])} note ({d['modality']}): {d['text']}",
    "EducationProvided": lambda d, o, v: (
        f"Education: {d['topic']}" + (f" ({d['materials']})" if d.get("materials") else "")
    ),
    "FollowUpScheduled": lambda d, o, v: f"Follow-up due {when(d['due_at'])}: {d['purpose']}",
    "FollowUpCompleted": lambda d, o, v: f"Follow-up completed: {d['outcome']}",
    "PlanReviewed": lambda d, o, v: (
        f"Plan review: {d['outcome']}" + (f". {d['summary']}" if d.get("summary") else "")
    ),
    "LabResultRecorded": lambda d, o, v: (
        f"Lab: {d['test']} {amount(d['value'])} {d.get('unit', '')}".rstrip()
    ),
    "ClinicalFactRecorded": lambda d, o, v: f"{label(d['fact'])}: {d['value']}",
    "EntryCorrected": _correction,
    "ConditionRecorded": lambda d, o, v: (
        f"Condition: {d['display']} ({d['code']}, {d['verification_status']})"
    ),
    "ConditionResolved": lambda d, o, v: f"Condition resolved ({d['resolved_date']})",
    "SexAtBirthRecorded": lambda d, o, v: f"Sex at birth: {d['sex_at_birth']}",
    "PregnancyStatusRecorded": lambda d, o, v: (
        f"Pregnancy status: {d['status'].replace('_', ' ')} as of {d['as_of']}"
    ),
    "PharmacogenomicResultRecorded": lambda d, o, v: _pharmacogenomic(d, o, v),
}


def _pharmacogenomic(d: dict[str, Any], orders: dict[str, Any], versions: dict[str, int]) -> str:
    """The result as reported, then CareLog's reading: the phenotype, or not interpretable."""
    from domain.safety.genotypes import interpret
    from domain.safety.pgx_rules import phenotype_label

    reported = ", ".join(
        part
        for part in (d.get("diplotype"), d.get("phenotype") and f"reported {d['phenotype']}")
        if part
    )
    reading = interpret(d["gene"], d.get("diplotype"), d.get("phenotype"))
    read = (
        f"read as {phenotype_label(reading.gene, reading.phenotype)}"
        if reading.phenotype is not None
        else f"not interpretable: {reading.problem}"
    )
    return (
        f"Pharmacogenomic result: {d['gene']} {reported} ({d['lab']}, {d['report_date']}); " + read
    )


def build_rows(
    events: list[dict[str, Any]], orders: dict[str, Any], names: Callable[[str], str]
) -> list[Row]:
    """Rows for ``events`` (already redacted), corrections linked both ways."""
    versions = {e["id"]: e["version"] for e in events}
    corrected_by: dict[str, list[int]] = {}
    for e in events:
        if e["type"] == "EntryCorrected":
            corrected_by.setdefault(e["data"].get("corrected_event_id", ""), []).append(
                e["version"]
            )
    rows = []
    for e in events:
        restricted = bool(e["data"].get("restricted"))
        rows.append(
            Row(
                id=e["id"],
                version=e["version"],
                type=e["type"],
                title=(
                    "Psychotherapy note"
                    if restricted and e["type"] == "NoteAdded"
                    else label(e["type"])
                ),
                summary=summarise(e, orders, versions),
                recorded_at=e["recorded_at"],
                effective_at=e["effective_at"],
                actor_id=e["actor"]["id"],
                actor_role=e["actor"]["role"],
                actor_name=names(e["actor"]["id"]),
                late=e["recorded_at"] - e["effective_at"] > LATE_AFTER,
                restricted=restricted,
                corrects=(
                    versions.get(e["data"].get("corrected_event_id", ""))
                    if e["type"] == "EntryCorrected"
                    else None
                ),
                corrected_by=corrected_by.get(e["id"], []),
            )
        )
    return rows
