"""Audit review for auditors: every audit entry, flagged emergency accesses first, then
newest first; patients by name and MRN; filtered by patient, actor, action (from a list)
and time. The review itself is recorded, as the API's
``GET /api/v1/audit`` is. Entries name what was touched, never clinical text
(``projections.audit_details``)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from domain.errors import InvalidInputError
from services.access.policy import AUDITOR_READS, CLINICIAN_READS
from services.bootstrap import CareLog
from services.feeds.feed_contract import CONTRACT
from web.context import carelog, log_read, reader_of, views_wait
from web.errors import is_cursor
from web.pages.blueprint import bp
from web.pages.timeline import parse_moment

PAGE_SIZE = 50
AUDIT_VIEW = "audit_trail"


def known_actions() -> list[str]:
    """Suggestions for the action filter: event types, then reads and denied attempts."""
    events = sorted(
        {f.event for f in CONTRACT} | {"NoteAdded", "PatientRegistered", "EmergencyAccessGranted"}
    )
    kinds = sorted(AUDITOR_READS | CLINICIAN_READS)
    return [
        *events,
        "read:*",
        *(f"read:{k}" for k in kinds),
        "denied:*",
        *(f"denied:{k}" for k in kinds),
        "export.log",
        "import.log",
        "projections.skip",
    ]


@bp.get("/audit-review")
def audit_review() -> Any:
    who, info = reader_of("audit_all")
    args = request.args
    filters = {
        name: (args.get(name) or "").strip() or None
        for name in ("patient_id", "actor", "action", "since", "until")
    }
    cursor = args.get("cursor") or None
    if cursor is not None and not is_cursor(cursor):
        raise InvalidInputError("Unknown page: start again from the first page.", "cursor")
    instance = carelog()
    caught_up = _catch_up(instance)
    entries, next_cursor = instance.views.audit_trail.entries(
        patient_id=filters["patient_id"],
        actor_id=filters["actor"],
        action=filters["action"],
        since=parse_moment(filters["since"]),
        until=parse_moment(filters["until"]),
        after=int(cursor) if cursor else None,
        limit=PAGE_SIZE,
        order="flagged_first_newest",
    )
    log_read(who, info, filters["patient_id"], "audit")
    staff = {m.id: m for m in instance.staff.list()}
    patients = {p["patient_id"]: p for p in instance.views.current_plan.all_patients()}
    query = {k: v for k, v in filters.items() if v}
    return render_template(
        "pages/audit_review.html",
        who=who,
        entries=entries,
        next_cursor=next_cursor,
        filters=filters,
        query=query,
        staff=staff,
        patients=patients,
        actions=known_actions(),
        caught_up=caught_up,
    )


def _catch_up(instance: CareLog) -> bool:
    """Wait (bounded) until the audit trail holds every write and read made before this
    page was asked for, so a review never misses the last few moments."""
    views = instance.views
    events = int(instance.app.recorder.max_notification_id() or 0)
    reads = int(instance.access_log.head())
    return views.wait_for(events, timeout=views_wait(), names=[AUDIT_VIEW]) and views.wait_for(
        reads, timeout=views_wait(), names=[AUDIT_VIEW], stream="access"
    )
