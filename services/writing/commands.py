"""The use cases behind every write: ``Commands.execute`` takes a typed command
(``domain.commands``) and dispatches on its class, to the record's method that decides it
(``services/writing/dispatch.py``) or, for the few that need more (drug lookup, care-team
staff checks, the check-in after a dose change, the score in the answer, warnings), to a
handler here. Each returns a WriteResult.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import commands as c
from domain.command_context import CommandContext, new_id
from domain.errors import InvalidInputError, NotFoundError
from domain.patient_record import PatientRecord
from domain.plan_records import Fact
from services.access.staff import StaffRegistry
from services.writing.application import CareLogApplication, WriteResult
from services.writing.dispatch import ROUTES
from services.writing.dose_plausibility import refuse_implausible
from services.writing.drugs import refuse_code_of_another_drug, resolve_drug
from services.writing.genomics import with_reading
from services.writing.safety_changes import describe_change, describe_correction

if TYPE_CHECKING:
    from domain.safety.pack import RulePack

Action = Any  # (record) -> event id, or (event id, ids for the answer)


class Commands:
    """Every write CareLog accepts, as the API and the CLI call them."""

    def __init__(
        self,
        app: CareLogApplication,
        staff: StaffRegistry,
        follow_up_days: int = 14,
        pack: RulePack | None = None,
    ) -> None:
        self.app = app
        self.staff = staff
        self.follow_up_days = follow_up_days
        self.pack = pack

    def execute(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.RecordCommand,
        *,
        expected_version: int | None = None,
        override_reason: str | None = None,
    ) -> WriteResult:
        """Decide ``command`` on the patient's record, run the safety rules, save."""
        match command:
            case c.Prescribe():
                return self._prescribe(ctx, patient_id, command, expected_version, override_reason)
            case c.ChangeDose():
                return self._change_dose(
                    ctx, patient_id, command, expected_version, override_reason
                )
            case c.AssignCareTeamMember():
                return self._assign(ctx, patient_id, command, expected_version)
            case c.RecordAssessment():
                return self._record_assessment(ctx, patient_id, command, expected_version)
            case c.RecordFact():
                return self._record_fact(ctx, patient_id, command, expected_version)
            case c.RecordLabResult():
                return self._record_lab_result(ctx, patient_id, command, expected_version)
            case c.RecordPharmacogenomicResult():
                recorded = self._routed(ctx, patient_id, command, expected_version, None)
                return with_reading(recorded, command)
        return self._routed(ctx, patient_id, command, expected_version, override_reason)

    def register_patient(self, ctx: CommandContext, command: c.RegisterPatient) -> WriteResult:
        """Register a patient; the caller joins the care team."""
        return self.app.register_patient(ctx, command)

    def resolve_drug(self, drug: str) -> dict[str, Any]:
        """The drug as the rule pack knows it (``services/writing/drugs.py``)."""
        return resolve_drug(self.pack, drug)

    # -- the commands that need nothing but the record -------------------------------------
    def _routed(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.RecordCommand,
        expected_version: int | None,
        override_reason: str | None,
    ) -> WriteResult:
        route = ROUTES.get(type(command))
        if route is None:  # a command class with no route fails test_command_dispatch.py
            raise InvalidInputError(f"CareLog has no command {command!r}.", "command")

        def action(record: PatientRecord) -> tuple[str, dict[str, str]]:
            event_id = route.decide(record, ctx, command)
            ids: dict[str, str] = {}
            if route.returns and route.id_attr:
                ids[route.returns] = getattr(record.pending_events[-1], route.id_attr)
            return event_id, ids

        return self._write(ctx, patient_id, action, route.safety, expected_version, override_reason)

    def _write(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        action: Action,
        safety: str | None,
        expected_version: int | None,
        override_reason: str | None,
        after: Any = None,
    ) -> WriteResult:
        facts: dict[str, Fact] = {}

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
    def _assign(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.AssignCareTeamMember,
        expected_version: int | None,
    ) -> WriteResult:
        """The clinician must be active staff, in the role the caller names."""
        clinician_id, role = command.clinician_id, command.role
        if not isinstance(clinician_id, str):
            raise InvalidInputError("A clinician id is required.", "clinician_id")
        member = self.staff.get(clinician_id)
        if member is None or not member.active:
            raise NotFoundError(f"There is no active staff member {clinician_id}.", "clinician_id")
        if str(member.role) != role:
            raise InvalidInputError(f"{member.name} is a {member.role}, not a {role}.", "role")
        staffed = replace(command, clinician_id=member.id)

        def action(record: PatientRecord) -> str:
            return record.assign_care_team_member(ctx, staffed, member.name)

        return self._write(ctx, patient_id, action, None, expected_version, None)

    def _record_assessment(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.RecordAssessment,
        expected_version: int | None,
    ) -> WriteResult:
        def action(record: PatientRecord) -> tuple[str, dict[str, Any]]:
            # The score and band are read from the record the command just changed, not
            # from a second load of it: one read of the log per command.
            event_id = record.record_assessment(ctx, command)
            recorded: Any = record.pending_events[-1]
            ids: dict[str, Any] = {
                "assessment_id": recorded.assessment_id,
                "total": recorded.total,
                "severity": recorded.severity,
            }
            return event_id, ids

        return self._write(ctx, patient_id, action, "assessment", expected_version, None)

    def _prescribe(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.Prescribe,
        expected_version: int | None,
        override_reason: str | None,
    ) -> WriteResult:
        order_id = new_id()
        drug_record = self.resolve_drug(command.drug)
        rxnorm = command.rxnorm
        if rxnorm is not None:  # the prescriber's code for the product: it names what was given
            refuse_code_of_another_drug(drug_record, rxnorm)
            drug_record["rxnorm"] = rxnorm

        def action(record: PatientRecord) -> tuple[str, dict[str, str]]:
            event_id = record.prescribe(ctx, command, order_id=order_id, drug=drug_record)
            return event_id, {"order_id": order_id}

        return self._write(ctx, patient_id, action, "prescribed", expected_version, override_reason)

    def _change_dose(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.ChangeDose,
        expected_version: int | None,
        override_reason: str | None,
    ) -> WriteResult:
        """A dose change also schedules a check-in, unless one is due sooner already."""

        def action(record: PatientRecord) -> str:
            return record.change_dose(ctx, command)

        def after(record: PatientRecord, _event_id: str) -> None:
            # The check-in falls due a set time after the change took effect (a late entry's
            # is sooner; one whose time has passed is due within a day), unless an open one
            # is already due by then, overdue ones included.
            changed_at = getattr(record.pending_events[-1], "effective_at", None) or ctx.now
            due = max(changed_at + timedelta(days=self.follow_up_days), ctx.now + timedelta(days=1))
            pending = [
                f
                for f in record.plan.follow_ups.values()
                if f.status == "scheduled" and f.due_at <= due
            ]
            if not pending:
                drug = record.plan.orders[command.order_id].drug["name"]
                record.schedule_follow_up(
                    ctx,
                    c.ScheduleFollowUp(
                        due_at=due, purpose=f"Check-in after the dose change of {drug}"
                    ),
                )

        return self._write(
            ctx, patient_id, action, "dose_changed", expected_version, override_reason, after
        )

    def _record_fact(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.RecordFact,
        expected_version: int | None,
    ) -> WriteResult:
        """A clinical fact; the answer warns when no rule reads it (a free fact is kept,
        but the writer should know that no safety check will use it)."""
        from domain.safety.fact_vocabulary import FACTS, fact_spec

        result = self._routed(ctx, patient_id, command, expected_version, None)
        name = command.fact
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

    def _record_lab_result(
        self,
        ctx: CommandContext,
        patient_id: str | UUID,
        command: c.RecordLabResult,
        expected_version: int | None,
    ) -> WriteResult:
        """A lab result; the answer warns when no rule reads its test (it is kept as typed,
        but a creatinine clearance under a name no rule knows would otherwise be judged by
        nothing without anyone being told)."""
        result = self._routed(ctx, patient_id, command, expected_version, None)
        name = command.test
        if self.pack is not None and isinstance(name, str) and self.pack.lab_test(name) is None:
            known = sorted(test.label for test in self.pack.lab_tests.values())
            warning = (
                f"No safety rule reads the lab test {name.strip()!r}: it is recorded for the "
                f"team, but no check or monitoring item uses it. The tests the rules read: "
                f"{'; '.join(known)}."
            )
            return replace(result, warnings=[*result.warnings, warning])
        return result
