"""The patient's plan as a fold over the log: the one place events become state.

The aggregate applies events in recorded order; the history queries apply the same events
in effective order (the "in effect at T" clock). Both go through ``PlanState.apply``, so
the two clocks can never disagree about what an event means. State is plain dicts and
lists so snapshots and views can copy it without custom types. Entities remember the
event that created them, so a correction patches exactly what that event said, wherever
it falls among later changes.

An entity (a dict inside a collection: an order, an assessment, a care-team member) is
never changed in place once stored: a change stores a changed copy in its place. That
is what lets ``PlanState.branch`` copy only the collections and share every entity, so
the history can keep a plan checkpoint every few events of a long record without
copying the record each time (``services/reading/history_index.py``).
"""

from __future__ import annotations

import copy
from bisect import insort
from datetime import datetime
from typing import Any

from domain.scoring import INSTRUMENTS

CORRECTABLE_FIELDS: dict[str, frozenset[str]] = {
    "PatientRegistered": frozenset({"name", "birth_date", "allergies"}),
    "MedicationPrescribed": frozenset(
        {"dose", "frequency", "route", "indication", "instructions", "effective_at"}
    ),
    "DoseChanged": frozenset({"dose", "frequency", "reason", "effective_at"}),
    "MedicationDiscontinued": frozenset({"reason", "taper", "effective_at"}),
    "AssessmentRecorded": frozenset({"item_scores", "diagnoses", "summary", "effective_at"}),
    "SideEffectReported": frozenset(
        {"order_id", "effect", "severity", "onset", "action_taken", "effective_at"}
    ),
    "AdherenceReported": frozenset({"doses_taken", "doses_missed", "period_start", "period_end"}),
    "NoteAdded": frozenset({"text", "modality", "effective_at"}),
    "FollowUpScheduled": frozenset({"due_at", "purpose"}),
    "FollowUpCompleted": frozenset({"outcome", "effective_at"}),
    "GoalSet": frozenset({"description", "target", "due_date"}),
    "ConsentRecorded": frozenset({"note", "effective_at"}),
    "LabResultRecorded": frozenset({"value", "unit", "effective_at"}),
    "EducationProvided": frozenset({"topic", "materials", "order_id"}),
    "PlanReviewed": frozenset({"outcome", "summary"}),
    "ClinicalFactRecorded": frozenset({"value", "effective_at"}),
    "PharmacogenomicResultRecorded": frozenset(
        {"diplotype", "phenotype", "lab", "report_date", "effective_at"}
    ),
}
"""Which fields of which event may be corrected. Identity (drug, instrument, note kind,
ids) is never corrected: a wrong drug is discontinued and the right one prescribed."""


_TYPES: dict[type, str] = {}


def event_type(event: Any) -> str:
    """The public name of an event (its class name, e.g. ``DoseChanged``), looked up once
    per class: every fold, view and feed asks it of every event."""
    cls = type(event)
    name = _TYPES.get(cls)
    if name is None:
        name = _TYPES[cls] = str(getattr(cls, "TYPE", cls.__name__))
    return name


class PlanState:
    """Everything CareLog knows about one patient's care, as of the events applied."""

    def __init__(self) -> None:
        self.patient: dict[str, Any] = {}
        self.care_team: dict[str, dict[str, Any]] = {}
        self.emergency_access: dict[str, dict[str, Any]] = {}
        self.consents: list[dict[str, Any]] = []
        self.assessments: list[dict[str, Any]] = []
        self.goals: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.side_effects: list[dict[str, Any]] = []
        self.adherence: list[dict[str, Any]] = []
        self.alerts: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.education: list[dict[str, Any]] = []
        self.follow_ups: dict[str, dict[str, Any]] = {}
        self.reviews: list[dict[str, Any]] = []
        self.labs: list[dict[str, Any]] = []
        self.facts: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.corrections: list[dict[str, Any]] = []
        self.conditions: dict[str, dict[str, Any]] = {}
        self.resolved_diagnoses: dict[str, datetime] = {}  # assessment code -> resolved at
        self.pregnancy: dict[str, Any] | None = None
        self.pharmacogenomics: dict[str, dict[str, Any]] = {}  # result id -> result
        self.earliest_entry_at: datetime | None = None  # earliest clinical time of any entry

    # -- snapshots and copies --------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanState:
        state = cls()
        state.__dict__.update(copy.deepcopy(data))
        return state

    def branch(self) -> PlanState:
        """A state that folds on independently of this one, sharing its entities.

        Costs one copy of each collection (pointers, not entities): entities are replaced,
        never changed in place, so neither state's later events can reach the other."""
        state = PlanState.__new__(PlanState)
        state.__dict__.update(
            {k: v.copy() if isinstance(v, dict | list) else v for k, v in self.__dict__.items()}
        )
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlanState) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    # -- applying events -------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        """Fold one event into the state. Unknown references are ignored, never fatal:
        a rule tightened later must not stop an old log from replaying."""
        cls = type(event)
        try:
            handler = _HANDLERS[cls]
        except KeyError:  # first event of its class: find its handler once
            handler = _HANDLERS[cls] = getattr(PlanState, f"_on_{event_type(event)}", None)
        if handler is not None:
            handler(self, event, _meta(event))
        self._note_earliest(event)

    def _note_earliest(self, event: Any) -> None:
        """Keep the earliest clinical time of any entry (a corrected one included), so a
        birth date corrected to after it can be refused."""
        if event_type(event) == "PatientRegistered":
            return
        fields = getattr(event, "fields", None)
        moved = fields.get("effective_at") if isinstance(fields, dict) else None
        for at in (getattr(event, "effective_at", None), moved):
            if isinstance(at, datetime) and (
                self.earliest_entry_at is None or at < self.earliest_entry_at
            ):
                self.earliest_entry_at = at

    def _source(self, event: Any, kind: str, key: str) -> None:
        self.sources[event.event_id] = {
            "type": event_type(event),
            "kind": kind,
            "key": key,
            "actor_id": event.actor_id,
            "note_kind": getattr(event, "kind", None) if kind == "note" else None,
        }

    def _on_PatientRegistered(self, e: Any, meta: dict[str, Any]) -> None:
        self.patient = {
            "external_id": e.external_id,
            "name": e.name,
            "birth_date": e.birth_date,
            "allergies": list(e.allergies),
            "registered_at": meta["recorded_at"],
            "corrected": False,
        }
        self._source(e, "patient", "")

    def _on_CareTeamMemberAssigned(self, e: Any, meta: dict[str, Any]) -> None:
        self.care_team[e.clinician_id] = {
            "clinician_id": e.clinician_id,
            "name": e.clinician_name,
            "role": e.role,
            "since": meta["effective_at"],
            "until": None,
            "active": True,
            "assigned_by": meta["actor"],
        }

    def _on_CareTeamMemberRemoved(self, e: Any, meta: dict[str, Any]) -> None:
        member = self.care_team.get(e.clinician_id)
        if member is not None:
            self.care_team[e.clinician_id] = {
                **member,
                "active": False,
                "until": meta["effective_at"],
                "removal_reason": e.reason,
            }

    def _on_EmergencyAccessGranted(self, e: Any, meta: dict[str, Any]) -> None:
        self.emergency_access[e.actor_id] = {
            "clinician_id": e.actor_id,
            "role": e.actor_role,
            "reason": e.reason,
            "granted_at": meta["recorded_at"],
            "expires_at": e.expires_at,
        }

    def _on_ConsentRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        self.consents.append(
            {
                "consent_id": e.consent_id,
                "scope": e.scope,
                "decision": e.decision,
                "note": e.note,
                **meta,
            }
        )
        self._source(e, "consent", e.consent_id)

    def _on_AssessmentRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        insort(
            self.assessments,
            {
                "assessment_id": e.assessment_id,
                "instrument": e.instrument,
                "item_scores": list(e.item_scores),
                "total": e.total,
                "severity": e.severity,
                "diagnoses": list(e.diagnoses),
                "summary": e.summary,
                "corrected": False,
                **meta,
            },
            key=_effective_key,
        )
        self._source(e, "assessment", e.assessment_id)

    def _on_GoalSet(self, e: Any, meta: dict[str, Any]) -> None:
        self.goals[e.goal_id] = {
            "goal_id": e.goal_id,
            "description": e.description,
            "target": e.target,
            "due_date": e.due_date,
            "status": "active",
            **meta,
        }
        self._source(e, "goal", e.goal_id)

    def _on_GoalStatusChanged(self, e: Any, meta: dict[str, Any]) -> None:
        goal = self.goals.get(e.goal_id)
        if goal is not None:
            self.goals[e.goal_id] = {
                **goal,
                "status": e.status,
                "status_note": e.note,
                "status_changed_at": meta["effective_at"],
            }

    def _on_MedicationPrescribed(self, e: Any, meta: dict[str, Any]) -> None:
        step = {
            "event_id": e.event_id,
            "kind": "start",
            "dose": dict(e.dose),
            "frequency": e.frequency,
            "effective_at": meta["effective_at"],
            "recorded_at": meta["recorded_at"],
            "actor": meta["actor"],
            "reason": None,
        }
        self.orders[e.order_id] = {
            "order_id": e.order_id,
            "drug": dict(e.drug),
            "route": e.route,
            "indication": e.indication,
            "instructions": e.instructions,
            "prescriber": meta["actor"],
            "status": "active",
            "since": meta["effective_at"],
            "steps": [step],
            "stopped_at": None,
            "stop_reason": None,
            "taper": None,
            "override_reason": getattr(e, "override_reason", None),
            "corrected": False,
            "continuing": getattr(e, "continuing", None),
        }
        self._source(e, "order", e.order_id)

    def _on_DoseChanged(self, e: Any, meta: dict[str, Any]) -> None:
        order = self.orders.get(e.order_id)
        if order is None:
            return
        steps = list(order["steps"])
        insort(
            steps,
            {
                "event_id": e.event_id,
                "kind": "change",
                "dose": dict(e.dose),
                "frequency": e.frequency,
                "effective_at": meta["effective_at"],
                "recorded_at": meta["recorded_at"],
                "actor": meta["actor"],
                "reason": e.reason,
            },
            key=_effective_key,
        )
        self.orders[e.order_id] = {**order, "steps": steps}
        self._source(e, "step", e.order_id)

    def _on_MedicationDiscontinued(self, e: Any, meta: dict[str, Any]) -> None:
        order = self.orders.get(e.order_id)
        if order is None:
            return
        self.orders[e.order_id] = {
            **order,
            "status": "discontinued",
            "stopped_at": meta["effective_at"],
            "stop_reason": e.reason,
            "taper": e.taper,
            "stopped_by": meta["actor"],
        }
        self._source(e, "stop", e.order_id)

    def _on_SideEffectReported(self, e: Any, meta: dict[str, Any]) -> None:
        self.side_effects.append(
            {
                "side_effect_id": e.side_effect_id,
                "order_id": e.order_id,
                "effect": e.effect,
                "severity": e.severity,
                "onset": e.onset,
                "action_taken": e.action_taken,
                "corrected": False,
                **meta,
            }
        )
        self._source(e, "side_effect", e.side_effect_id)

    def _on_AdherenceReported(self, e: Any, meta: dict[str, Any]) -> None:
        self.adherence.append(
            {
                "adherence_id": e.adherence_id,
                "order_id": e.order_id,
                "doses_taken": e.doses_taken,
                "doses_missed": e.doses_missed,
                "period_start": e.period_start,
                "period_end": e.period_end,
                **meta,
            }
        )
        self._source(e, "adherence", e.adherence_id)

    def _on_SafetyAlertRaised(self, e: Any, meta: dict[str, Any]) -> None:
        self.alerts[e.alert_id] = {
            "alert_id": e.alert_id,
            "key": e.key,
            "rule_id": e.rule_id,
            "rule_pack_version": e.rule_pack_version,
            "kind": e.kind,
            "severity": e.severity,
            "message": e.message,
            "action": e.action,
            "source": e.source,
            "order_ids": list(e.order_ids),
            "due_at": e.due_at,
            "test": e.test,
            "override_reason": e.override_reason,
            "status": "open",
            "resolution": None,
            **meta,
        }

    def _on_SafetyAlertResolved(self, e: Any, meta: dict[str, Any]) -> None:
        alert = self.alerts.get(e.alert_id)
        if alert is not None:
            self.alerts[e.alert_id] = {
                **alert,
                "status": "resolved",
                "resolution": {
                    "resolution": e.resolution,
                    "reason": e.reason,
                    "action": getattr(e, "action", None),
                    "result": getattr(e, "result", None),
                    "superseded_by": getattr(e, "superseded_by", None),
                    **meta,
                },
            }

    def _on_NoteAdded(self, e: Any, meta: dict[str, Any]) -> None:
        self.notes[e.note_id] = {
            "note_id": e.note_id,
            "kind": e.kind,
            "modality": e.modality,
            "text": e.text,
            "author_id": e.actor_id,
            "corrected": False,
            **meta,
        }
        self._source(e, "note", e.note_id)

    def _on_EducationProvided(self, e: Any, meta: dict[str, Any]) -> None:
        self.education.append(
            {
                "education_id": e.education_id,
                "topic": e.topic,
                "order_id": e.order_id,
                "materials": e.materials,
                **meta,
            }
        )
        self._source(e, "education", e.education_id)

    def _on_FollowUpScheduled(self, e: Any, meta: dict[str, Any]) -> None:
        self.follow_ups[e.follow_up_id] = {
            "follow_up_id": e.follow_up_id,
            "due_at": e.due_at,
            "purpose": e.purpose,
            "status": "scheduled",
            "outcome": None,
            "completed_at": None,
            **meta,
        }
        self._source(e, "follow_up", e.follow_up_id)

    def _on_FollowUpCompleted(self, e: Any, meta: dict[str, Any]) -> None:
        follow_up = self.follow_ups.get(e.follow_up_id)
        if follow_up is not None:
            self.follow_ups[e.follow_up_id] = {
                **follow_up,
                "status": "completed",
                "outcome": e.outcome,
                "completed_at": meta["effective_at"],
            }
            self._source(e, "follow_up_completion", e.follow_up_id)

    def _on_PlanReviewed(self, e: Any, meta: dict[str, Any]) -> None:
        self.reviews.append(
            {"review_id": e.review_id, "outcome": e.outcome, "summary": e.summary, **meta}
        )
        self._source(e, "review", e.review_id)

    def _on_LabResultRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        insort(
            self.labs,
            {"lab_id": e.lab_id, "test": e.test, "value": e.value, "unit": e.unit, **meta},
            key=_effective_key,
        )
        self._source(e, "lab", e.lab_id)

    def _on_ClinicalFactRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        self.facts[e.fact] = {"fact": e.fact, "value": e.value, "event_id": e.event_id, **meta}
        self._source(e, "fact", e.fact)

    def _on_ConditionRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        self.conditions[e.condition_id] = {
            "condition_id": e.condition_id,
            "code": e.code,
            "display": e.display,
            "onset_date": e.onset_date,
            "verification_status": e.verification_status,
            "status": "active",
            "resolution": None,
            **meta,
        }

    def _on_ConditionResolved(self, e: Any, meta: dict[str, Any]) -> None:
        resolution = {"resolved_date": e.resolved_date, "reason": e.reason, **meta}
        condition = self.conditions.get(e.condition_id)
        if condition is not None:
            self.conditions[e.condition_id] = {
                **condition,
                "status": "resolved",
                "resolution": resolution,
            }
        elif e.condition_id.startswith("dx:"):  # a diagnosis made in assessments
            code = e.condition_id[3:]
            before = self.resolved_diagnoses.get(code)
            at = meta["effective_at"]
            self.resolved_diagnoses[code] = at if before is None else max(before, at)

    def _on_SexAtBirthRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        self.patient = {**self.patient, "sex_at_birth": e.sex_at_birth}

    def _on_PregnancyStatusRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        current = self.pregnancy
        if current is not None and current["effective_at"] > meta["effective_at"]:
            return  # a late entry older than the status on record does not replace it
        episode = e.event_id
        if current is not None and current["status"] == e.status:
            episode = current.get("episode_id", e.event_id)
        self.pregnancy = {
            "status": e.status,
            "as_of": e.as_of,
            "expected_delivery_date": e.expected_delivery_date,
            # the entry that began this status: a repeat (a new due date) continues it
            "episode_id": episode,
            **meta,
        }

    def _on_PharmacogenomicResultRecorded(self, e: Any, meta: dict[str, Any]) -> None:
        results = self.__dict__.setdefault("pharmacogenomics", {})  # older snapshots: none
        results[e.result_id] = {
            "result_id": e.result_id,
            "gene": e.gene,
            "diplotype": e.diplotype,
            "phenotype": e.phenotype,
            "lab": e.lab,
            "report_date": e.report_date,
            "corrected": False,
            **meta,
        }
        self._source(e, "pharmacogenomic", e.result_id)

    def _on_EntryCorrected(self, e: Any, meta: dict[str, Any]) -> None:
        self.corrections.append(
            {
                "corrected_event_id": e.corrected_event_id,
                "fields": dict(e.fields),
                "reason": e.reason,
                **meta,
            }
        )
        source = self.sources.get(e.corrected_event_id)
        if source is not None:
            _patch(self, source, e.corrected_event_id, dict(e.fields))


_HANDLERS: dict[type, Any] = {}
"""Event class -> the ``PlanState`` method that folds it (None: the fold ignores it)."""


def _meta(event: Any) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "actor": {"id": event.actor_id, "role": event.actor_role},
        "effective_at": event.effective_at,
        "recorded_at": event.timestamp,
    }


def _effective_key(item: dict[str, Any]) -> tuple[datetime, datetime]:
    return (item["effective_at"], item["recorded_at"])


def _index(items: list[dict[str, Any]], event_id: str) -> int | None:
    return next((i for i, item in enumerate(items) if item.get("event_id") == event_id), None)


def _patch(state: PlanState, source: dict[str, Any], event_id: str, fields: dict[str, Any]) -> None:
    """Apply a correction to the entity an earlier event produced, and mark it corrected.

    Every entity touched is replaced by a changed copy (see the module's docstring)."""
    kind, key = source["kind"], source["key"]
    if kind == "patient":
        state.patient = {**state.patient, **fields, "corrected": True}
    elif kind in {"order", "step", "stop"}:
        _patch_order(state, kind, key, event_id, fields)
    elif kind in {"goal", "follow_up", "note", "fact", "pharmacogenomic"}:
        entities = {
            "goal": state.goals,
            "follow_up": state.follow_ups,
            "note": state.notes,
            "fact": state.facts,
            "pharmacogenomic": state.__dict__.setdefault("pharmacogenomics", {}),
        }[kind]
        if key in entities:
            entities[key] = {**entities[key], **fields, "corrected": True}
    elif kind == "follow_up_completion":
        follow_up = state.follow_ups.get(key)
        if follow_up is not None:
            renamed = {"completed_at" if k == "effective_at" else k: v for k, v in fields.items()}
            state.follow_ups[key] = {**follow_up, **renamed, "corrected": True}
    else:
        collection = {
            "consent": state.consents,
            "assessment": state.assessments,
            "side_effect": state.side_effects,
            "adherence": state.adherence,
            "education": state.education,
            "review": state.reviews,
            "lab": state.labs,
        }.get(kind)
        at = _index(collection, event_id) if collection is not None else None
        if collection is None or at is None:
            return
        target = {**collection[at], **fields, "corrected": True}
        if kind == "assessment" and "item_scores" in fields:
            spec = INSTRUMENTS.get(target["instrument"])
            if spec is not None:
                target["total"] = sum(target["item_scores"])
                target["severity"] = spec.band(target["total"])
        collection[at] = target
        if kind in {"assessment", "lab"}:
            state.assessments.sort(key=_effective_key)
            state.labs.sort(key=_effective_key)


def _patch_order(
    state: PlanState, kind: str, key: str, event_id: str, fields: dict[str, Any]
) -> None:
    """A correction of an order's start, one of its dose changes, or its stop."""
    order = state.orders.get(key)
    if order is None:
        return
    if kind == "stop":
        renamed = {"reason": "stop_reason", "effective_at": "stopped_at"}
        changed = {renamed.get(k, k): v for k, v in fields.items()}
        state.orders[key] = {**order, **changed, "corrected": True}
        return
    order = {**order, "corrected": True}
    if kind == "order":
        order.update(
            {k: v for k, v in fields.items() if k in {"route", "indication", "instructions"}}
        )
        if "effective_at" in fields:
            order["since"] = fields["effective_at"]
    steps = list(order["steps"])
    at = _index(steps, event_id)
    if at is not None:
        steps[at] = {**steps[at], **fields, "corrected": True}
        steps.sort(key=_effective_key)
    order["steps"] = steps
    state.orders[key] = order
