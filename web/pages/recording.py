"""Recording from the timeline: a PHQ-9 or GAD-7 item by item, a progress or psychotherapy
note, a side effect, a follow-up and its completion.

Each form is the API's write by another door: the same role check
(``Policy.require_write``), the same request schema (``web/schemas/*_in.py``), the same
command with its safety rules, the same denied-write record. The CSRF token is checked
before any view runs (``web.pages``). A refused form comes back (422) with what was
entered and each message beside its field; an accepted one redirects to the timeline
(post/redirect/get), which then shows the entry recorded and the alerts it raised. Each
form's one-time key (``web.pages.form_keys``) makes a second post of it record nothing and
show the first outcome again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from flask import redirect, request, session

from domain import commands as c
from domain.commands import RecordCommand
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.scoring import INSTRUMENTS
from services.writing.application import WriteResult
from services.writing.idempotency import StoredResponse
from web.clinical import note_kind
from web.context import actor, carelog, command_context, policy, request_info
from web.pages import form_keys
from web.pages import record_forms as rf
from web.pages.blueprint import bp
from web.pages.timeline import render_timeline
from web.write_routes import typed_command

Run = Callable[[dict[str, Any]], WriteResult]


def _record(
    pid: UUID, state: rf.FormState, what: str, body: Callable[[], dict[str, Any]], run: Run
) -> Any:
    who, info = actor(), request_info()
    patient_id = str(pid)
    policy().require_write(who, what, info, patient_id)
    try:
        key = form_keys.store_key(request.form.get(form_keys.FORM_KEY_FIELD))
    except form_keys.ForeignFormKeyError:
        state.errors = {rf.FORM_ERROR: [FOREIGN_KEY]}
        return render_timeline(pid, form=state, status=422)
    store = carelog().idempotency
    if key is not None:
        sent = store.fingerprint("POST", request.path, form_keys.body_of(state.values))
        try:
            first = store.claim(who.id, key, sent)
        except InvalidInputError as exc:  # sent again with other entries, or still saving
            state.errors = {
                rf.FORM_ERROR: [STILL_SAVING if "running" in exc.message else SENT_BEFORE]
            }
            return render_timeline(pid, form=state, status=422)
        if first is not None:
            session[rf.RECORDED_KEY] = {**first.body, "replayed": True}
            return redirect(first.headers["Location"], code=303)
    try:
        fields = rf.checked(_schema_of(state.name), body, command_context())
        result = run(fields)
    except rf.FormRefusedError as exc:
        _release(who.id, key)
        state.errors = exc.errors
        return render_timeline(pid, form=state, status=422)
    except NotPermittedError as exc:
        _release(who.id, key)
        policy().record_denied_write(who, patient_id, what, info, exc.message)
        raise
    except (InvalidInputError, NotFoundError) as exc:
        _release(who.id, key)
        if exc.field in (None, "patient_id"):
            raise  # about the record, not the form: the error page says it
        state.errors = {rf.form_field(exc.field): [rf.page_message(exc.field, exc.message)]}
        return render_timeline(pid, form=state, status=422)
    except BaseException:
        _release(who.id, key)
        raise
    outcome = {
        "patient_id": patient_id,
        "event_id": result.event_id,
        "alert_ids": [str(a.get("id", "")) for a in result.alerts],
        "warnings": list(result.warnings),
    }
    location = f"/patients/{patient_id}#recorded"
    if key is not None:
        store.store(who.id, key, StoredResponse(303, outcome, {"Location": location}))
    session[rf.RECORDED_KEY] = outcome
    return redirect(location, code=303)


FOREIGN_KEY = (
    "This form was opened in another sign-in, so nothing was recorded: check the timeline "
    "for the entry, and save again here if it is not there."
)
SENT_BEFORE = (
    "This form was already saved, with other entries: nothing new was recorded. Check the "
    "timeline, and save again here to record these entries as well."
)

STILL_SAVING = (
    "This form is still being saved: nothing more was recorded. Check the timeline in a "
    "moment before saving again."
)


def _release(actor_id: str, key: str | None) -> None:
    """Forget the claim of a form that recorded nothing, so it can be sent again."""
    if key is not None:
        carelog().idempotency.release(actor_id, key)


def _schema_of(name: str) -> str:
    return "assessment" if name in INSTRUMENTS else name


def _values() -> dict[str, Any]:
    sent = request.form.items()
    return {k: v for k, v in sent if k not in ("csrf_token", form_keys.FORM_KEY_FIELD)}


def _execute(pid: UUID, command: type[RecordCommand], **extra: Any) -> Run:
    def run(fields: dict[str, Any]) -> WriteResult:
        built = typed_command(command, {**fields, **extra})
        return carelog().commands.execute(command_context(), str(pid), built)

    return run


@bp.post("/patients/<uuid:pid>/assessments")
def record_assessment_page(pid: UUID) -> Any:
    instrument = INSTRUMENTS.get(request.form.get("instrument", ""))
    if instrument is None:
        state = rf.FormState("PHQ-9", _values(), {rf.FORM_ERROR: ["Choose PHQ-9 or GAD-7."]})
        return render_timeline(pid, form=state, status=422)
    state = rf.FormState(instrument.name, _values())
    return _record(
        pid,
        state,
        "assessment",
        lambda: rf.assessment_body(instrument, request.form),
        _execute(pid, c.RecordAssessment),
    )


@dataclass(frozen=True)
class RecordForm:
    """A recording form with nothing more to it: ``POST /patients/<uuid:pid>{path}``
    checks ``body`` (read from the form) with the API's schema for ``name`` and runs
    ``command``, authorized as ``what`` (or what the form says it is: a note's kind)."""

    endpoint: str
    path: str
    name: str
    what: str | Callable[[Any], str]
    body: Callable[[Any], dict[str, Any]]
    command: type[RecordCommand]

    def view(self, pid: UUID, **path: str) -> Any:
        """The form's post; a path id (a completion's follow-up) is the form's target and
        goes into the command."""
        state = rf.FormState(self.name, _values(), target=next(iter(path.values()), None))
        what = self.what(request.form) if callable(self.what) else self.what
        body = self.body
        return _record(
            pid, state, what, lambda: body(request.form), _execute(pid, self.command, **path)
        )


FORMS = (
    RecordForm("add_note_page", "/notes", "note", note_kind, rf.note_body, c.AddNote),
    RecordForm(
        "report_side_effect_page",
        "/side-effects",
        "side_effect",
        "side_effect",
        rf.side_effect_body,
        c.ReportSideEffect,
    ),
    RecordForm(
        "schedule_follow_up_page",
        "/follow-ups",
        "follow_up",
        "follow_up",
        rf.follow_up_body,
        c.ScheduleFollowUp,
    ),
    RecordForm(
        "complete_follow_up_page",
        "/follow-ups/<string:follow_up_id>/completion",
        "completion",
        "follow_up",
        rf.completion_body,
        c.CompleteFollowUp,
    ),
)
for form in FORMS:
    bp.add_url_rule(f"/patients/<uuid:pid>{form.path}", form.endpoint, form.view, methods=["POST"])
