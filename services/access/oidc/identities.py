"""Who a provider's user is in CareLog: the role their groups map to, and their staff record.

A staff member signed in through the provider is known by (issuer, subject), never by
name or e-mail (both can change or be reused). The first sign-in creates a CareLog staff
record with the mapped role and links it ("just-in-time provisioning", as hospitals
expect of an application behind their identity provider: joining the right group is what
grants access, and leaving it is what takes it away). Care-team membership still uses
CareLog staff ids, so a new member is on no patient's team until a colleague adds them.

The provider stays the source of truth for the role: every sign-in, token and session
check maps the groups again and brings the staff record's role, prescriber privilege and
name up to date. A CareLog admin's deactivation of the linked record wins over the
provider: that identity is refused even with a valid token, and never re-provisioned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.actor import Role
from projections.sql.table_migrations import Component, Migration, migrate
from services.access.staff import StaffMember, StaffRegistry

IDENTITY_TABLE = Component(
    "staff_identity",
    (
        Migration(
            1,
            "which staff record a provider's (issuer, subject) is",
            (
                """CREATE TABLE IF NOT EXISTS staff_identity (
                    issuer TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    staff_id TEXT NOT NULL,
                    linked_at TEXT NOT NULL,
                    PRIMARY KEY (issuer, subject))""",
            ),
        ),
    ),
)


class AccessDenied(Exception):
    """The provider vouches for the user, but CareLog gives them no access (403).
    ``staff_id``: their linked staff record, if they have one (for the access log)."""

    staff_id: str | None = None


class NotSignedIn(Exception):
    """The user cannot be signed in (401): deactivated in CareLog, or a race to retry."""

    staff_id: str | None = None


@dataclass(frozen=True)
class RoleMap:
    """Groups (or app roles) in one claim, each mapped to a CareLog role, in priority order:
    a member of several mapped groups gets the first one's role."""

    claim: str
    groups: tuple[tuple[str, Role], ...]
    prescriber_group: str | None
    name_claim: str = "name"

    @classmethod
    def parse(
        cls, claim: str, mapping: str, prescriber_group: str | None, name_claim: str = "name"
    ) -> RoleMap:
        pairs: list[tuple[str, Role]] = []
        for item in (part.strip() for part in mapping.split(",")):
            if not item:
                continue
            group, sep, role = item.rpartition("=")
            try:
                pairs.append((group.strip(), Role(role.strip())))
            except ValueError:
                sep = ""
            if not sep or not group.strip():
                raise SystemExit(
                    f"CARELOG_OIDC_ROLE_MAP: {item!r} is not GROUP=ROLE with a role of "
                    f"{', '.join(r.value for r in Role)}"
                )
        return cls(claim, tuple(pairs), prescriber_group, name_claim)

    def values(self, claims: Mapping[str, Any]) -> set[str]:
        """The claim's values: a list of strings or one space-separated string; a dotted
        name reaches into an object (Keycloak's ``realm_access.roles``)."""
        value: Any = claims
        for part in self.claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            return set(value.split())
        if isinstance(value, list):
            return {v for v in value if isinstance(v, str)}
        return set()

    def role(self, claims: Mapping[str, Any]) -> tuple[Role, bool]:
        """The role and prescriber privilege; ``AccessDenied`` when no group maps."""
        held = self.values(claims)
        for group, role in self.groups:
            if group in held:
                prescriber = (
                    self.prescriber_group is not None
                    and self.prescriber_group in held
                    and role in (Role.PHARMACIST, Role.PSYCHIATRIST)
                )
                return role, prescriber
        raise AccessDenied(
            "Your account at the sign-in provider is in none of the groups that give access"
            " to CareLog. Ask your administrator to add you to the group for your role."
        )

    def name(self, claims: Mapping[str, Any]) -> str:
        for key in (self.name_claim, "name", "preferred_username", "email", "sub"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:200]
        return "Staff member"


class Identities:
    """The (issuer, subject) -> staff id links, and provisioning on first sign-in."""

    def __init__(self, staff: StaffRegistry, issuer: str, roles: RoleMap) -> None:
        self.staff = staff
        self.issuer = issuer
        self.roles = roles
        migrate(staff.db, IDENTITY_TABLE)

    def member(self, claims: Mapping[str, Any]) -> StaffMember:
        """The active staff member these (verified) claims belong to, provisioned or
        brought up to date; ``AccessDenied`` (no mapped group) or ``NotSignedIn``."""
        subject = str(claims["sub"])
        staff_id = self.staff_id_for(subject)
        try:
            role, prescriber = self.roles.role(claims)
        except AccessDenied as denied:
            denied.staff_id = staff_id
            raise
        name = self.roles.name(claims)
        if staff_id is None:
            staff_id = self._provision(subject, name, role, prescriber)
        member = self.staff.get(staff_id)
        if member is None:
            raise NotSignedIn("Your CareLog account is being set up; try again.")
        if not member.active:
            refused = NotSignedIn("Your CareLog account has been deactivated.")
            refused.staff_id = staff_id
            raise refused
        if (member.role, member.prescriber, member.name) != (role, prescriber, name):
            self.staff.db.execute(
                "UPDATE staff SET role = ?, prescriber = ?, name = ? WHERE id = ?",
                (role.value, int(prescriber), name, staff_id),
            )
            member = StaffMember(
                member.id, name, role, prescriber, member.active, member.created_at
            )
        return member

    def staff_id_for(self, subject: str) -> str | None:
        """The staff id linked to this subject at the configured issuer, if any."""
        row = self.staff.db.query_one(
            "SELECT staff_id FROM staff_identity WHERE issuer = ? AND subject = ?",
            (self.issuer, subject),
        )
        return str(row["staff_id"]) if row else None

    def _provision(self, subject: str, name: str, role: Role, prescriber: bool) -> str:
        """Link first, then create: two first sign-ins at once agree on one record."""
        from uuid import uuid4

        staff_id = str(uuid4())
        self.staff.db.execute(
            "INSERT INTO staff_identity (issuer, subject, staff_id, linked_at) VALUES"
            " (?, ?, ?, ?) ON CONFLICT (issuer, subject) DO NOTHING",
            (self.issuer, subject, staff_id, datetime.now(UTC).isoformat()),
        )
        linked = self.staff_id_for(subject)
        if linked == staff_id:
            # The token it gets is never shown: this member signs in through the provider.
            self.staff.add(name, role.value, prescriber, staff_id=staff_id)
        return linked or staff_id
