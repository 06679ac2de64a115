"""Medication trials as FHIR ``MedicationStatement``s: one per trial, with its period and outcome.

Beside the one statement per order (``medications.py``), a trial statement says what the
trial came to (``domain.trials``: one drug from start to stop, dose changes and re-orders
without a gap inside it). It carries the category "medication trial", the trial's
effective period (a continuing therapy from its true start), ``derivedFrom`` the orders'
statements, and the outcome, adequacy and baseline as a note and as extensions a
receiving system can read. A trial is judged at the latest effective time of the entries
it rests on (its orders' steps and stop, the scores from 30 days before its start to its
stop), and those entries are its Provenance: an export changes a trial statement exactly
when one of them changes, never because the export was made later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from domain.trial_outcomes import judge
from domain.trial_shapes import JudgedTrial
from domain.trials import Trial, trials, window_start
from services.interop.fhir import vocabulary as v
from services.interop.fhir.medications import medication_field, statement_id
from services.interop.fhir.patient import patient_ref
from services.interop.fhir.references import Entry, instant, ref, resource_id
from services.interop.fhir.selection import Selection

EXT_TRIAL_OUTCOME = f"{v.BASE}/StructureDefinition/trial-outcome"
EXT_TRIAL_ADEQUATE = f"{v.BASE}/StructureDefinition/trial-adequate"
EXT_TRIAL_CHANGE = f"{v.BASE}/StructureDefinition/trial-percent-change"
TRIAL_CATEGORY = f"{v.BASE}/CodeSystem/medication-statement-category"


def trial_statement_id(trial_id: str) -> str:
    return resource_id("MedicationStatement", "trial", trial_id)


class _Source(NamedTuple):
    """An entry a trial rests on (a dose step, a stop, a score)."""

    event_id: str
    effective_at: datetime
    recorded_at: datetime
    score: bool = False


def _sources(sel: Selection, trial: Trial) -> list[_Source]:
    """The entries a trial rests on, each with its event id and effective and recorded
    times: its orders' steps and stops, and its instrument's scores from 30 days before
    the start to the stop."""
    found: list[_Source] = []
    for order_id in trial.order_ids:
        found.extend(
            _Source(s.event_id, s.effective_at, s.recorded_at)
            for s in sel.state.orders[order_id].steps
        )
        for stop in sel.about("order_id", order_id, "MedicationDiscontinued"):
            found.append(_Source(str(stop.event_id), stop.effective_at, stop.timestamp))
    since = window_start(trial.started_at)
    until = trial.stopped_at
    found.extend(
        _Source(a.event_id, a.effective_at, a.recorded_at, score=True)
        for a in sel.state.assessments
        if a.instrument == trial.instrument
        and since <= a.effective_at
        and (until is None or a.effective_at <= until)
    )
    return found


def _note(row: JudgedTrial) -> str:
    parts = [f"Outcome: {row['outcome']}"]
    if row["instrument"]:
        base = row["baseline"]["total"] if row["baseline"] else "no baseline"
        latest = row["latest"]["total"] if row["latest"] else "none"
        parts.append(f"{row['instrument']} baseline {base}, latest {latest}")
    if row["percent_change"] is not None:
        parts.append(f"{row['percent_change']:g} % fall")
    if row["highest_mg_per_day"] is not None and row.get("as_needed"):
        parts.append(f"as needed, up to {row['highest_mg_per_day']:g} mg/day")
    elif row["highest_mg_per_day"] is not None:
        parts.append(f"highest {row['highest_mg_per_day']:g} mg/day")
    adequate = {True: "adequate", False: "not adequate", None: "adequacy unknown"}
    parts.append(adequate[row["adequate"]])
    if row["stop_reason"]:
        parts.append(f"stopped: {row['stop_reason']}")
    return "; ".join(parts) + "."


def trial_entries(sel: Selection) -> list[Entry]:
    entries = []
    for trial in trials(sel.state):
        sources = _sources(sel, trial)
        row = judge(trial, max(e.effective_at for e in sources))
        orders = [sel.state.orders[o] for o in trial.order_ids]
        # its Provenance: every entry it rests on but a score told before the trial was
        # (that score's own Provenance must not change when a trial begins after it)
        opened = min(s.recorded_at for o in orders for s in o.steps)
        made_by = [e.event_id for e in sources if not e.score or e.recorded_at >= opened]
        period = {"start": instant(trial.started_at)}
        if trial.stopped_at is not None:
            period["end"] = instant(trial.stopped_at)
        extensions: list[dict[str, Any]] = [
            {"url": EXT_TRIAL_OUTCOME, "valueString": row["outcome"]}
        ]
        if row["adequate"] is not None:
            extensions.append({"url": EXT_TRIAL_ADEQUATE, "valueBoolean": row["adequate"]})
        if row["percent_change"] is not None:
            extensions.append({"url": EXT_TRIAL_CHANGE, "valueDecimal": row["percent_change"]})
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": trial_statement_id(trial.trial_id),
            "extension": extensions,
            "identifier": [v.identifier("trial-id", trial.trial_id)],
            "status": "active" if trial.stopped_at is None else "completed",
            "category": v.concept(
                "Medication trial", v.coding(TRIAL_CATEGORY, "trial", "Medication trial")
            ),
            **medication_field(orders[0]),
            "subject": patient_ref(sel),
            "effectivePeriod": period,
            "dateAsserted": instant(max(e.recorded_at for e in sources)),
            "derivedFrom": [ref("MedicationStatement", statement_id(o)) for o in trial.order_ids],
            "note": [{"text": _note(row)}],
        }
        if trial.indication:
            resource["reasonCode"] = [{"text": trial.indication}]
        if trial.stop_reason:
            resource["statusReason"] = [{"text": trial.stop_reason}]
        entries.append(Entry(resource, made_by))
    return entries
