"""The care team, emergency access and consent: who may see and write the record, and
what the patient agreed to.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from domain.clinical_vocabulary import CARE_TEAM_ROLES, CONSENT_DECISIONS, CONSENT_SCOPES
from domain.command_context import (
    EMERGENCY_ACCESS_PERIOD,
    CommandContext,
    choice,
    effective_time,
    new_id,
    optional_text,
    require_id,
    require_text,
)
from domain.commands import (
    AssignCareTeamMember,
    GrantEmergencyAccess,
    RecordConsent,
    RemoveCareTeamMember,
)
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.record_checks import RecordCommandsBase, late_entry, not_before, role_may


class CareTeamCommands(RecordCommandsBase):
    """Commands that change who cares for the patient, and record consent."""

    def _care_team_change(self, ctx: CommandContext) -> None:
        """Break-glass opens the record, never the team: only a member changes the team, so
        emergency access cannot make itself permanent or undo a removal."""
        self._allowed(ctx, "care_team")
        if not self.is_member(ctx.actor.id):
            raise NotPermittedError(
                "Only a member of the care team may change it; emergency access does not "
                "let you add or remove members."
            )

    def assign_care_team_member(
        self, ctx: CommandContext, cmd: AssignCareTeamMember, clinician_name: str
    ) -> str:
        """A care-team member adds a clinician, who may then see and write the record."""
        clinician_id = cmd.clinician_id
        role = cmd.role
        self._care_team_change(ctx)
        clinician_id = require_id(clinician_id, "clinician_id", "A clinician id")
        clinician_name = require_text(clinician_name, "clinician_name", "The clinician's name")
        role = choice(role, "role", CARE_TEAM_ROLES)
        if self.is_member(clinician_id):
            raise InvalidInputError("That clinician is on the care team already.", "clinician_id")
        return self._trigger(
            self.CareTeamMemberAssigned,
            ctx,
            effective_time(ctx, cmd.effective_at),
            clinician_id=clinician_id,
            clinician_name=clinician_name,
            role=role,
        )

    def remove_care_team_member(self, ctx: CommandContext, cmd: RemoveCareTeamMember) -> str:
        """A clinician leaves the care team, with the reason."""
        clinician_id = cmd.clinician_id
        reason = cmd.reason
        self._care_team_change(ctx)
        clinician_id = require_id(clinician_id, "clinician_id", "A clinician id")
        reason = require_text(reason, "reason", "A reason for the removal")
        if not self.is_member(clinician_id):
            raise NotFoundError("That clinician is not on the care team.", "clinician_id")
        member = self.plan.care_team[clinician_id]
        if member.role == "psychiatrist" and not any(
            m.active and m.role == "psychiatrist" and cid != clinician_id
            for cid, m in self.plan.care_team.items()
        ):
            # A team is never left without the clinician who prescribes and answers for
            # the medication plan: the successor is assigned first (README, care team).
            raise InvalidInputError(
                f"{member.name} is the care team's only psychiatrist: assign another "
                "psychiatrist first, so the patient is never left without a prescriber.",
                "clinician_id",
            )
        when = late_entry(ctx, cmd.effective_at)
        not_before(when, member.since, f"{member.name} joined the care team")
        return self._trigger(
            self.CareTeamMemberRemoved, ctx, when, clinician_id=clinician_id, reason=reason
        )

    def grant_emergency_access(self, ctx: CommandContext, cmd: GrantEmergencyAccess) -> str:
        """Break the glass: any clinician, with a stated reason, for four hours."""
        reason = cmd.reason
        role_may(ctx, "emergency_access")  # no care-team access needed: that is the point
        reason = require_text(reason, "reason", "A reason for emergency access")
        return self._trigger(
            self.EmergencyAccessGranted,
            ctx,
            reason=reason,
            expires_at=ctx.now + EMERGENCY_ACCESS_PERIOD,
        )

    def record_consent(self, ctx: CommandContext, cmd: RecordConsent) -> str:
        """The patient's decision about a scope of care."""
        self._allowed(ctx, "consent")
        return self._trigger(
            self.ConsentRecorded,
            ctx,
            cmd.effective_at,
            consent_id=new_id(),
            scope=choice(cmd.scope, "scope", CONSENT_SCOPES),
            decision=choice(cmd.decision, "decision", CONSENT_DECISIONS),
            note=optional_text(cmd.note, "note"),
        )
