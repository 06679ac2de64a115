"""The patient timeline: the plan, a chart of doses and scores, and every event in order.

The "as of" control replays the record as CareLog knew it at a chosen moment
(``History.known_at``): the plan, the chart and the event list all come from that one
fold. Reads go through the policy (care team, emergency access, auditors) and are
recorded as a history, a plan and a trials read, as the API's three calls would be. The
medication trials (``domain.trials``) come from the same fold, judged at the as-of moment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from flask import render_template, request

from domain.errors import InvalidInputError
from domain.plan import PlanState
from domain.trial_outcomes import treatment_history
from domain.trial_shapes import JudgedTrial
from services.access.privacy import redact_event, restricted_note_ids
from services.reading.plan_document import plan_document
from web.context import actor, carelog, policy, request_info
from web.pages.blueprint import bp
from web.pages.chart import chart_data
from web.pages.chart_svg import Span, layout
from web.pages.record_forms import FormState, recorded_outcome, recording_options
from web.pages.timeline_links import link_to
from web.pages.timeline_rows import Row, build_rows

ALL_EVENTS = 1_000_000
CHART_RANGES: dict[str, timedelta | None] = {
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
    "all": None,
}
"""The chart's time ranges, ending now (or at the as-of moment)."""


def parse_moment(text: str | None) -> datetime | None:
    """An ISO time; one without a zone (a ``datetime-local`` input) is read as UTC,
    which is how every time on the pages is shown."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC
        raise InvalidInputError(f"{text!r} is not a date and time.", "as_of") from None
    return moment


def _staff_names() -> Any:
    staff, cache = carelog().staff, {}

    def name(staff_id: str) -> str:
        if staff_id not in cache:
            member = staff.get(staff_id)
            cache[staff_id] = member.name if member else staff_id[:8]
        return cache[staff_id]

    return name


@bp.get("/patients/<uuid:pid>")
def timeline(pid: UUID) -> Any:
    return render_timeline(pid)


def render_timeline(pid: UUID, form: FormState | None = None, status: int = 200) -> Any:
    """The timeline page; with ``form``, a recording form sent back with its messages
    (a refused write: the page as it is, the form as the clinician left it)."""
    who, info = actor(), request_info()
    patient_id = str(pid)
    access = policy().read_patient(who, patient_id, "history", info)
    policy().read_patient(who, patient_id, "plan", info)
    policy().read_patient(who, patient_id, "trials", info)
    as_of = parse_moment(request.args.get("as_of"))
    now = datetime.now(UTC)
    history = carelog().history
    if as_of is not None:
        rebuilt = history.known_at(patient_id, as_of)
        state, version = rebuilt.state, rebuilt.version
    else:
        state, version = access.record.plan, access.record.version
    every, _ = history.timeline(patient_id, limit=ALL_EVENTS)
    restricted = restricted_note_ids(access.record.plan, who)
    every = [redact_event(e, restricted) for e in every]
    known = [e for e in every if as_of is None or e["recorded_at"] <= as_of]
    kinds = sorted({e["type"] for e in known})
    chosen = [k for k in request.args.getlist("kind") if k in kinds]
    clock = request.args.get("clock", "recorded")
    shown = [e for e in known if not chosen or e["type"] in chosen]
    if clock == "effective":
        shown.sort(key=lambda e: (e["effective_at"], e["version"]))
    rows = build_rows(shown, access.record.plan.orders, _staff_names())
    order = "oldest" if request.args.get("order") == "oldest" else "newest"
    if order == "newest":  # a clinician reads the latest first
        rows = list(reversed(rows))
    registered = bool(state.patient)
    viewed = as_of or now  # overdue follow-ups and alert ages as of the moment shown
    trials = treatment_history(state, viewed) if registered else None
    chart_range = request.args.get("range", "all")
    if chart_range not in CHART_RANGES:
        chart_range = "all"
    recorded = recorded_outcome(patient_id) if form is None else None
    page = render_template(
        "pages/timeline.html",
        who=who,
        patient_id=patient_id,
        flagged=access.flagged,
        plan=plan_document(state, patient_id, version, viewed) if registered else None,
        patient=access.record.plan.patient,
        age=age_on(access.record.plan.patient.birth_date, viewed),
        order=order,
        chart=_chart(
            state, as_of or now, trials["trials"] if trials else [], CHART_RANGES[chart_range]
        ),
        chart_range=chart_range,
        chart_ranges=CHART_RANGES,
        link=link_to(
            patient_id,
            {"as_of": as_of, "kind": chosen, "clock": clock, "order": order, "range": chart_range},
        ),
        recording=None if as_of else recording_options(who),
        form=form,
        recorded=_recorded_panel(recorded, state, rows),
        trials=trials,
        rows=rows,
        kinds=kinds,
        chosen=chosen,
        clock=clock,
        as_of=as_of,
        moments=[(e["version"], e["type"], e["recorded_at"]) for e in every],
        total=len(known),
    )
    return page, status


def age_on(birth_date: Any, moment: datetime) -> int | None:
    """Whole years of age on ``moment`` (None for a birth date that cannot be read)."""
    try:
        born = date.fromisoformat(str(birth_date)[:10])
    except ValueError:
        return None
    day = moment.date()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _recorded_panel(
    recorded: dict[str, Any] | None, state: PlanState, rows: list[Row]
) -> dict[str, Any] | None:
    """What the last write recorded (its timeline row) and the alerts it raised, read
    from the record: the session carries only their ids."""
    if recorded is None:
        return None
    entry = next((r for r in rows if r.id == recorded.get("event_id")), None)
    alerts = [state.alerts[a] for a in recorded.get("alert_ids", []) if a in state.alerts]
    return {
        "entry": entry,
        "alerts": alerts,
        "warnings": recorded.get("warnings", []),
        "replayed": bool(recorded.get("replayed")),
    }


def _chart(
    state: PlanState,
    end: datetime,
    trials: list[JudgedTrial],
    window: timedelta | None = None,
) -> Any:
    data = chart_data(state)
    spans = tuple(
        Span(
            f"{t['drug']} trial: {t['outcome']}",
            t["started_at"],
            t["stopped_at"],
            t["outcome"],
        )
        for t in reversed(trials)  # oldest first, at the top
    )
    start = end - window if window is not None else None
    return {
        "data": data,
        "layout": None if data.empty else layout(data, end, spans, start),
        "start": start,
    }
