"""The patient's right of access: their designated record set as FHIR, and an accounting of
who read or received their record, when and why.

The record set is the FHIR export of everything CareLog knows now, progress notes
included, and psychotherapy notes excluded in every form (the text, the note's existence,
its corrections, its modality): they are not part of the designated record set (HIPAA,
45 CFR 164.524(a)(1)(i)), and ``services/interop/fhir/selection.py`` drops them before anything is
built.

The accounting comes from the audit trail: every allowed read of this patient's data
(``read:*`` entries: plans, histories, exports, reads under emergency access), with who
read it, in what role, when, from where and why. Denied attempts disclosed nothing and
writes are in the record itself, so neither is listed. The "why" is the reason given
with the read when there is one (an export's stated purpose, the reason for breaking the
glass), else the purpose the reader's role implies.

A whole-store log export (``carelog export log``, an ``export.log`` operator entry with no
patient) hands over every patient's record at once, so it is listed in the accounting of
every patient registered by then, as a bulk disclosure (``"bulk": true``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.plan import event_type
from services.interop.fhir.bundle import bundle_of
from services.interop.fhir.references import instant
from services.interop.fhir.selection import select

if TYPE_CHECKING:
    from services.bootstrap import CareLog

FORMAT = "carelog-access/1"
BULK_EXPORT = "export.log"
PURPOSE = {
    "psychiatrist": "treatment (care team)",
    "therapist": "treatment (care team)",
    "pharmacist": "treatment (care team)",
    "auditor": "audit review",
    "operator": "export by a system operator",
}


def build_access_export(
    carelog: CareLog, patient_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """The right-of-access export of one patient (a JSON-ready dict): ``record`` (a FHIR
    collection Bundle) and ``disclosures`` (oldest first)."""
    now = now or datetime.now(UTC)
    events = carelog.history.events(patient_id)
    canonical = str(UUID(str(events[0].originator_id)))
    selection = select(
        events, canonical, as_of=None, effective_at=None, include_progress_notes=True
    )
    return {
        "format": FORMAT,
        "patient_id": canonical,
        "generated_at": instant(now),
        "record": bundle_of(selection, now),
        "disclosures": disclosures(carelog, canonical, events),
    }


def disclosures(
    carelog: CareLog, patient_id: str, events: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Every allowed read of the patient's data in the audit trail, oldest first."""
    carelog.views.catch_up(["audit_trail"])  # reads recorded a moment ago are in it
    events = events or carelog.history.events(patient_id)
    grants = [e for e in events if event_type(e) == "EmergencyAccessGranted"]
    registered = events[0].timestamp
    names: dict[str, str | None] = {}
    reads = _entries(carelog, patient_id=patient_id, action="read:*")
    bulk = [
        e
        for e in _entries(carelog, patient_id=None, action=BULK_EXPORT)
        if e["patient_id"] is None and e["at"] >= registered
    ]
    found = sorted(reads + bulk, key=lambda e: e["id"])
    return [_disclosure(entry, grants, names, carelog) for entry in found]


def _entries(carelog: CareLog, *, patient_id: str | None, action: str) -> list[dict[str, Any]]:
    """The allowed accesses in the audit trail with ``action`` (of one patient, or all)."""
    found: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page, after = carelog.views.audit_trail.entries(
            patient_id=patient_id, action=action, after=after, limit=1000
        )
        found.extend(e for e in page if e["kind"] == "access" and e["allowed"])
        if after is None:
            return found


def _disclosure(
    entry: dict[str, Any], grants: list[Any], names: dict[str, str | None], carelog: CareLog
) -> dict[str, Any]:
    actor = entry["actor"]
    who: dict[str, Any] = {"id": actor["id"], "role": actor["role"]}
    name = _name(carelog, actor["id"], names)
    if name:
        who["name"] = name
    bulk = entry["action"] == BULK_EXPORT
    return {
        "at": instant(entry["at"]),
        "who": who,
        "what": "log (every patient's record)" if bulk else entry["action"].removeprefix("read:"),
        "why": _why(entry, grants),
        "source": entry["source"],
        "request_id": entry["request_id"],
        "emergency_access": entry["flagged"],
        "bulk": bulk,
    }


def _why(entry: dict[str, Any], grants: list[Any]) -> str:
    actor_id, at = entry["actor"]["id"], entry["at"]
    if entry["flagged"]:
        held = [g for g in grants if g.actor_id == actor_id and g.timestamp <= at]
        reason = held[-1].reason if held else "no grant found"
        return f"emergency access: {reason}"
    stated = (entry.get("details") or {}).get("reason")
    if stated:
        return str(stated)
    role = entry["actor"]["role"] or ""
    return PURPOSE.get(role, role or "unstated")


def _name(carelog: CareLog, actor_id: str | None, names: dict[str, str | None]) -> str | None:
    if not actor_id:
        return None
    if actor_id not in names:
        member = carelog.staff.get(actor_id)
        names[actor_id] = member.name if member is not None else None
    return names[actor_id]
