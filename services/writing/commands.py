"""The use cases behind every write: one method per command, each returning a WriteResult.

The generic ``execute`` maps a command name to the aggregate method that decides it, the
id the caller gets back, and how the safety rules should see the change; the few commands
that need more (drug lookup, care-team staff checks, the check-in after a dose change)
wrap it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.command_context import CommandContext, checked_command, new_id
from domain.errors import InvalidInputError, NotFoundError
from domain.patient_record import PatientRecord
from services.access.staff import StaffRegistry
from services.writing.application import CareLogApplication, WriteResult
from services.writing.dose_plausibility import refuse_implausible


@dataclass(frozen=True)
class CommandSpec:
    """How a command name maps onto the aggregate and the safety rules."""

    method: str
    returns: str | None = None  # the id field the caller gets back (e.g. "note_id")
    id_attr: str | None = None  # the event attribute holding that id
    safety: str | None = None  # the safety Change kind, or None: rules not run


RXCUI = re.compile(r"[0-9]{1,10}")


def refuse_code_of_another_drug(drug: dict[str, Any], rxnorm: str) -> None:
    """A given RxNorm code that CareLog knows as another drug's ingredient contradicts the
    name prescribed (the export would code one drug and name another): refused. A product
    code (a strength, a form, a brand) is not in the ingredient table and is taken as given;
    so is any code for a name the rule pack does not know."""
    from services.interop.fhir.rxnorm import rxnorm_ingredients

    owner = {code: name for name, code in rxnorm_ingredients().items()}.get(rxnorm)
    if owner is None:
        return
    parts = [p for p in drug.get("ingredients") or [] if p]
    if len(parts) > 1:
        raise InvalidInputError(
            f"RxNorm {rxnorm} is {owner} alone; {drug['name']} combines "
            f"{' and '.join(parts)}: give the product's code, or none.",
            "rxnorm",
        )
    generic = drug.get("generic")
    if generic and generic != owner:
        raise InvalidInputError(
            f"RxNorm {rxnorm} is {owner}, not {drug['name']} ({generic}): give the code of "
            "the drug prescribed, or none.",
            "rxnorm",
        )


"""An RxNorm concept id as a prescriber may give it (digits; RxNav checks the rest)."""


COMMANDS: dict[str, CommandSpec] = {
    "remove_care_team_member": CommandSpec("remove_care_team_member"),
    "grant_emergency_access": CommandSpec("grant_emergency_access"),
    "record_consent": CommandSpec("record_consent", "consent_id", "consent_id"),
    "record_assessment": CommandSpec(
        "record_assessment", "assessment_id", "assessment_id", "assessment"
    ),
    "set_goal": CommandSpec("set_goal", "goal_id", "goal_id"),
    "change_goal_status": CommandSpec("change_goal_status"),
    "discontinue": CommandSpec("discontinue", safety="discontinued"),
    "report_side_effect": CommandSpec(
        "report_side_effect", "side_effect_id", "side_effect_id", "side_effect"
    ),
    "record_adherence": CommandSpec("record_adherence", "adherence_id", "adherence_id"),
    "resolve_alert": CommandSpec("resolve_alert"),
    "add_note": CommandSpec("add_note", "note_id", "note_id"),
    "record_education": CommandSpec("record_education", "education_id", "education_id"),
    "schedule_follow_up": CommandSpec("schedule_follow_up", "follow_up_id", "follow_up_id"),
    "complete_follow_up": CommandSpec("complete_follow_up"),
    "review_plan": CommandSpec("review_plan", "review_id", "review_id"),
    "record_lab_result": CommandSpec("record_lab_result", "lab_id", "lab_id", "lab"),
    "record_fact": CommandSpec("record_fact", safety="fact"),
    "correct_entry": CommandSpec("correct_entry", safety="correction"),
    "record_condition": CommandSpec(
        "record_condition", "condition_id", "condition_id", "condition"
    ),
    "resolve_condition": CommandSpec("resolve_condition", safety="condition"),
    "record_sex_at_birth": CommandSpec("record_sex_at_birth", safety="condition"),
    "record_pregnancy_status": CommandSpec("record_pregnancy_status", safety="condition"),
    "record_pharmacogenomic_result": CommandSpec(
        "record_pharmacogenomic_result", "result_id", "result_id", "pharmacogenomic"
    ),
}


def describe_change(kind: str, record: PatientRecord, previous_facts: dict[str, Any]) -> Any:
    """The safety rules' view of the write just decided on ``record``."""
    from domain.safety import Change

    event = record.pending_events[-1]
    order_id = getattr(event, "order_id", None)
    fact = getattr(event, "fact", None)
    previous = previous_facts.get(fact) if fact else None
    return Change(
        kind=kind,
        effective_at=event.effective_at,  # type: ignore[attr-defined]
        order_id=order_id,
        fact=fact,
        previous_value=previous["value"] if previous else None,
    )


CORRECTED_KINDS = {
    "order": "prescribed",
    "step": "dose_changed",
    "stop": "discontinued",
    "assessment": "assessment",
    "side_effect": "side_effect",
    "lab": "lab",
    "fact": "fact",
    "pharmacogenomic": "pharmacogenomic",
}
"""The safety Change kind of the entry a correction patches (its ``sources`` kind)."""


def describe_correction(record: PatientRecord, previous_facts: dict[str, Any]) -> Any:
    """A correction as the rules see it: the corrected entry's own kind of change, at its
    (corrected) effective time, so that the rules that entry ran (suicide-risk item,
    titration, taper, washout ...) run again over the corrected plan. A correction of an
    entry no rule reads (a note, a goal) is checked against the plan's state only."""
    from domain.safety import Change

    event = record.pending_events[-1]
    plan = record.plan
    corrected = getattr(event, "corrected_event_id", None)
    source = plan.sources.get(corrected) if isinstance(corrected, str) else None
    kind = CORRECTED_KINDS.get(source["kind"]) if source else None
    effective_at, order_id, fact, previous = None, None, None, None
    if source is not None and kind is not None:
        key = source["key"]
        if kind in ("prescribed", "dose_changed", "discontinued"):
            order = plan.orders.get(key)
            order_id = key
            if order is not None and kind == "discontinued":
                effective_at = order["stopped_at"]
            elif order is not None:
                step = next((s for s in order["steps"] if s["event_id"] == corrected), None)
                effective_at = step["effective_at"] if step else None
        elif kind == "fact":
            fact = key
            effective_at = plan.facts[key]["effective_at"] if key in plan.facts else None
            before = previous_facts.get(key)
            previous = before["value"] if before else None
        elif kind == "pharmacogenomic":
            result = getattr(plan, "pharmacogenomics", {}).get(key)
            effective_at = result["effective_at"] if result else None
        else:
            entries: dict[str, list[Any]] = {
                "assessment": plan.assessments,
                "side_effect": plan.side_effects,
                "lab": plan.labs,
            }
            entry = next((e for e in entries[kind] if e["event_id"] == corrected), None)
            effective_at = entry["effective_at"] if entry else None
            order_id = entry.get("order_id") if entry else None
    if kind is None or effective_at is None:
        return Change(kind="correction", effective_at=event.effective_at, correction=True)  # type: ignore[attr-defined]
    return Change(
        kind=kind,
        effective_at=effective_at,
        order_id=order_id,
        fact=fact,
        previous_value=previous,
        correction=True,
    )


class Commands:
    """Every write CareLog accepts, as the API and the CLI call them."""

    def __init__(
        self,
        app: CareLogApplication,
        staff: StaffRegistry,
        follow_up_days: int = 14,
        pack: Any = None,
    ) -> None:
        self.app = app
        self.staff = staff
        self.follow_up_days = follow_up_days
        self.pack = pack

    # -- generic -----------------------------------------------------------------------------
    def execute(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: str,
        *,
        expected_version: int | None = None,
        override_reason: str | None = None,
        **fields: Any,
    ) -> WriteResult:
        spec = COMMANDS.get(command)
        if spec is None:
            raise InvalidInputError(f"CareLog has no command {command!r}.", "command")

        def action(record: PatientRecord) -> tuple[str, dict[str, str]]:
            event_id = getattr(record, spec.method)(ctx, **fields)
            ids: dict[str, str] = {}
            if spec.returns and spec.id_attr:
                ids[spec.returns] = getattr(record.pending_events[-1], spec.id_attr)
            return event_id, ids

        return self._write(ctx, patient_id, action, spec.safety, expected_version, override_reason)

    def _write(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        action: Any,
        safety: str | None,
        expected_version: int | None,
        override_reason: str | None,
        after: Any = None,
    ) -> WriteResult:
        facts: dict[str, Any] = {}

        def decide(record: PatientRecord) -> Any:
            facts.clear()
            facts.update(record.plan.facts)  # entities are frozen: no copy needed
            decided = action(record)
            refuse_implausible(self.pack, record)  # before anything is stored
            return decided

        change = None
        if safety is not None:

            def change(record: PatientRecord, _event_id: str) -> Any:
                if safety == "correction":
                    return describe_correction(record, facts)
                return describe_change(safety, record, facts)

        return self.app.write(
            patient_id,
            ctx,
            decide,
            expected_version=expected_version,
            change=change,
            override_reason=override_reason,
            after=after,
        )

    # -- commands with more to them --------------------------------------------------------
    @checked_command
    def register_patient(
        self,
        ctx: CommandContext,
        *,
        external_id: Any,
        name: Any,
        birth_date: Any,
        allergies: Any = None,
        effective_at: Any = None,
        sex_at_birth: Any = None,
    ) -> WriteResult:
        return self.app.register_patient(
            ctx,
            external_id=external_id,
            name=name,
            birth_date=birth_date,
            allergies=allergies,
            effective_at=effective_at,
            sex_at_birth=sex_at_birth,
        )

    @checked_command
    def assign_care_team_member(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        clinician_id: Any,
        role: Any,
        expected_version: int | None = None,
        effective_at: Any = None,
    ) -> WriteResult:
        if not isinstance(clinician_id, str):
            raise InvalidInputError("A clinician id is required.", "clinician_id")
        member = self.staff.get(clinician_id)
        if member is None or not member.active:
            raise NotFoundError(f"There is no active staff member {clinician_id}.", "clinician_id")
        if str(member.role) != role:
            raise InvalidInputError(f"{member.name} is a {member.role}, not a {role}.", "role")

        def action(record: PatientRecord) -> str:
            return record.assign_care_team_member(
                ctx,
                clinician_id=member.id,
                clinician_name=member.name,
                role=role,
                effective_at=effective_at,
            )

        return self._write(ctx, patient_id, action, None, expected_version, None)

    @checked_command
    def record_assessment(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        expected_version: int | None = None,
        **fields: Any,
    ) -> WriteResult:
        def action(record: PatientRecord) -> tuple[str, dict[str, Any]]:
            # The score and band are read from the record the command just changed, not
            # from a second load of it: one read of the log per command.
            event_id = record.record_assessment(ctx, **fields)
            recorded: Any = record.pending_events[-1]
            ids: dict[str, Any] = {
                "assessment_id": recorded.assessment_id,
                "total": recorded.total,
                "severity": recorded.severity,
            }
            return event_id, ids

        return self._write(ctx, patient_id, action, "assessment", expected_version, None)

    @checked_command
    def prescribe(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        drug: Any,
        expected_version: int | None = None,
        override_reason: str | None = None,
        rxnorm: Any = None,
        **fields: Any,
    ) -> WriteResult:
        if "order_id" in fields:
            raise InvalidInputError("CareLog gives each new order its id.", "order_id")
        order_id = new_id()
        drug_record = self.resolve_drug(drug)
        if rxnorm is not None:  # the prescriber's code for the product: it names what was given
            if not isinstance(rxnorm, str) or not RXCUI.fullmatch(rxnorm):
                raise InvalidInputError("An RxNorm RxCUI is 1 to 10 digits.", "rxnorm")
            refuse_code_of_another_drug(drug_record, rxnorm)
            drug_record["rxnorm"] = rxnorm

        def action(record: PatientRecord) -> tuple[str, dict[str, str]]:
            event_id = record.prescribe(ctx, order_id=order_id, drug=drug_record, **fields)
            return event_id, {"order_id": order_id}

        return self._write(ctx, patient_id, action, "prescribed", expected_version, override_reason)

    @checked_command
    def change_dose(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        order_id: Any,
        expected_version: int | None = None,
        override_reason: str | None = None,
        **fields: Any,
    ) -> WriteResult:
        """A dose change also schedules a check-in, unless one is due sooner already."""

        def action(record: PatientRecord) -> str:
            return record.change_dose(ctx, order_id=order_id, **fields)

        def after(record: PatientRecord, _event_id: str) -> None:
            # The check-in falls due a set time after the change took effect (a late entry's
            # is sooner; one whose time has passed is due within a day), unless an open one
            # is already due by then, overdue ones included.
            changed_at = getattr(record.pending_events[-1], "effective_at", None) or ctx.now
            due = max(changed_at + timedelta(days=self.follow_up_days), ctx.now + timedelta(days=1))
            pending = [
                f
                for f in record.plan.follow_ups.values()
                if f["status"] == "scheduled" and f["due_at"] <= due
            ]
            if not pending:
                drug = record.plan.orders[order_id]["drug"]["name"]
                record.schedule_follow_up(
                    ctx, due_at=due, purpose=f"Check-in after the dose change of {drug}"
                )

        return self._write(
            ctx, patient_id, action, "dose_changed", expected_version, override_reason, after
        )

    @checked_command
    def record_fact(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        expected_version: int | None = None,
        **fields: Any,
    ) -> WriteResult:
        """A clinical fact; the answer warns when no rule reads it (a free fact is kept,
        but the writer should know that no safety check will use it)."""
        from domain.safety.fact_vocabulary import FACTS, fact_spec

        result = self.execute(
            ctx, patient_id, "record_fact", expected_version=expected_version, **fields
        )
        name = fields.get("fact")
        if isinstance(name, str) and fact_spec(name) is None:
            warning = (
                f"No safety rule reads the fact {name.strip()!r}: it is recorded for the team, "
                f"but no check uses it. The facts the rules read: {', '.join(FACTS)}."
            )
            return replace(result, warnings=[*result.warnings, warning])
        from services.writing.genomics import fact_behind_a_result

        # only a gene's fact (rare) costs a second read of the record
        behind = fact_behind_a_result(lambda: self.app.get_record(patient_id).plan, name)
        return replace(result, warnings=[*result.warnings, behind]) if behind else result

    @checked_command
    def record_lab_result(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        *,
        expected_version: int | None = None,
        **fields: Any,
    ) -> WriteResult:
        """A lab result; the answer warns when no rule reads its test (it is kept as typed,
        but a creatinine clearance under a name no rule knows would otherwise be judged by
        nothing without anyone being told)."""
        result = self.execute(
            ctx, patient_id, "record_lab_result", expected_version=expected_version, **fields
        )
        name = fields.get("test")
        if self.pack is not None and isinstance(name, str) and self.pack.lab_test(name) is None:
            known = sorted(test.label for test in self.pack.lab_tests.values())
            warning = (
                f"No safety rule reads the lab test {name.strip()!r}: it is recorded for the "
                f"team, but no check or monitoring item uses it. The tests the rules read: "
                f"{'; '.join(known)}."
            )
            return replace(result, warnings=[*result.warnings, warning])
        return result

    def resolve_drug(self, drug: Any) -> dict[str, Any]:
        """The drug as the rule pack knows it; an unknown name is kept as typed.

        ``formulation`` is the form the typed name states ("Effexor XR" -> "XR"), None when
        it states none; orders recorded before it existed lack the key (unknown form).
        """
        from domain.safety.formulations import formulation_in

        if not isinstance(drug, str) or not drug.strip():
            raise InvalidInputError("The drug name is required.", "drug")
        name = drug.strip()
        identity = self.pack.identify(name) if self.pack is not None else None
        info = identity.single if identity is not None else None
        if identity is not None and len(identity.parts) > 1 and identity.known:
            # a combination product: the rules read its ingredients from the typed name
            return {
                "name": name,
                "generic": None,
                "classes": sorted({c for i in identity.known for c in i.classes}),
                "rxnorm": None,
                "in_rule_pack": all(p.info is not None for p in identity.parts),
                "formulation": formulation_in(name),
                "ingredients": [p.info.name if p.info else p.typed for p in identity.parts],
            }
        if info is None:
            return {
                "name": name,
                "generic": None,
                "classes": [],
                "rxnorm": None,
                "in_rule_pack": False,
                "formulation": formulation_in(name),
            }
        resolved = {
            "name": name,
            "generic": getattr(info, "name", name),
            "classes": sorted(getattr(info, "classes", ())),
            "rxnorm": getattr(info, "rxnorm", None),
            "in_rule_pack": True,
            "formulation": formulation_in(name),
        }
        per_ml = identity.parts[0].mg_per_ml if identity is not None else None
        if per_ml is not None:  # a liquid's concentration: a dose in mL is checked as mg
            resolved["mg_per_ml"] = per_ml
        return resolved
