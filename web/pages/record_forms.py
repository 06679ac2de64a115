"""Reading the timeline's recording forms into the API's request bodies.

A form field is named as the API's body field (``item_3`` for the third answer of
``item_scores``), so the API's own marshmallow schema checks the body and the domain's
command checks its meaning. Before the command runs, its checks that need no record run
on every field (``domain.field_checks``), so a form shows all its problems at once, not
one per round. Every message comes back keyed by the form's field names, to be shown
beside the field it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import session
from marshmallow import Schema, ValidationError

from domain.actor import Actor
from domain.command_context import CommandContext
from domain.field_checks import field_errors
from domain.patient_commands import MODALITIES, NOTE_KINDS, SEVERITIES
from domain.permissions import WRITE_ROLES
from domain.scoring import ANSWER_TEXTS, INSTRUMENTS, Instrument
from web.schemas.entry_in import AssessmentIn, CompletionIn, FollowUpIn, NoteIn
from web.schemas.medication_in import SideEffectIn

FORM_ERROR = "_form"
"""The key of a message about the form as a whole (no one field to put it beside)."""

RECORDED_KEY = "recorded"
"""Session key of the last write's outcome, shown once by the timeline (ids, no text)."""

UNANSWERED = "Choose an answer for this item."


@dataclass
class FormState:
    """A form sent back to the clinician: what they entered and what was wrong with it."""

    name: str  # "PHQ-9", "GAD-7", "note", "side_effect", "follow_up", "completion"
    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    target: str | None = None  # the follow-up a completion is for

    def label_of(self, key: str) -> str | None:
        """The name the page shows for a field, where it is not the field's own name."""
        return FIELD_LABELS.get(key)


FIELD_LABELS = {
    "effective_at": "When it happened (UTC)",
    "due_at": "Due (UTC)",
    "text": "Note",
    "effect": "Side effect",
    "order_id": "Medication suspected",
}
"""The recording forms' visible labels of fields named otherwise in the API: the error
summary links a message to the field by the words on the page."""


def page_message(api_field: str, message: str) -> str:
    """A domain message that opens with the API's field name (``effective_at is in the
    future: ...``), reworded for the page, where that name appears nowhere."""
    if not message.startswith(api_field + " "):
        return message
    rest = message[len(api_field) + 1 :]
    subject = "This time" if api_field.endswith("_at") else "This"
    return f"{subject} {rest}"


class FormRefusedError(Exception):
    """The form cannot be sent on as it is; ``errors`` are keyed by the form's fields.
    ``body`` is what could be read of it, for the other fields' checks."""

    def __init__(self, errors: dict[str, list[str]], body: dict[str, Any] | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.body = body or {}


def utc_time(text: str) -> str:
    """A ``datetime-local`` value has no zone: the pages show every time in UTC, so it is
    read as UTC (a value carrying its own zone is left as it is, for the schema)."""
    text = text.strip()
    if not text or text.endswith("Z") or "+" in text[10:] or text[10:].count("-"):
        return text
    return text + "+00:00"


def load(schema: type[Schema], body: dict[str, Any]) -> dict[str, Any]:
    """The API's schema over the body; its messages keyed by form field."""
    try:
        loaded: dict[str, Any] = schema().load(body)
    except ValidationError as exc:
        raise FormRefusedError(_flatten(exc.messages), _valid(exc)) from None
    return loaded


def _valid(exc: ValidationError) -> dict[str, Any]:
    valid = exc.valid_data
    return dict(valid) if isinstance(valid, dict) else {}


def checked(form: str, build: Callable[[], dict[str, Any]], ctx: CommandContext) -> dict[str, Any]:
    """The form read into the command's fields, or every problem with it at once: the
    form's own (an unanswered item), the API schema's (all its fields), and the command's
    checks that need no record (``domain.field_checks``) of the fields not refused yet."""
    errors: dict[str, list[str]] = {}

    def refused(exc: FormRefusedError) -> dict[str, Any]:
        for where, said in exc.errors.items():
            errors.setdefault(where, []).extend(said)
        return exc.body

    try:
        body = build()
    except FormRefusedError as exc:
        body = refused(exc)
    try:
        fields = load(SCHEMAS[form], body)
    except FormRefusedError as exc:
        fields = refused(exc)
    skip = frozenset("item_scores" if k.startswith("item_") else k for k in errors)
    for problem in field_errors(COMMANDS[form], ctx, fields, skip):
        where = form_field(problem.field)
        errors.setdefault(where, []).append(page_message(problem.field or "", problem.message))
    if errors:
        raise FormRefusedError(errors)
    return fields


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {form_field(prefix or FORM_ERROR): [str(m) for m in messages]}
    if not isinstance(messages, dict):
        return {form_field(prefix or FORM_ERROR): [str(messages)]}
    found: dict[str, list[str]] = {}
    for key, inner in messages.items():
        name = str(key) if not prefix else f"{prefix}.{key}"
        if name == "_schema":
            name = FORM_ERROR
        for where, said in _flatten(inner, name).items():
            found.setdefault(where, []).extend(said)
    return found


def form_field(api_field: str | None) -> str:
    """The form field an API field's message belongs beside (``item_scores.2`` is
    ``item_3``; a message about the whole of ``item_scores`` goes above the items)."""
    if not api_field:
        return FORM_ERROR
    parts = api_field.split(".")
    if parts[0] == "item_scores" and len(parts) > 1 and parts[1].isdigit():
        return f"item_{int(parts[1]) + 1}"
    return parts[0]


def assessment_body(instrument: Instrument, form: Any) -> dict[str, Any]:
    """``item_1`` ... ``item_n`` as the API's ``item_scores``; an unanswered item is
    refused here (the form would otherwise send too few scores, one message for all)."""
    scores: list[Any] = []
    missing: dict[str, list[str]] = {}
    for n in range(1, instrument.item_count + 1):
        given = form.get(f"item_{n}", "").strip()
        if not given:
            missing[f"item_{n}"] = [UNANSWERED]
        scores.append(int(given) if given.isdigit() else given)
    body: dict[str, Any] = {"instrument": instrument.name, "item_scores": scores}
    body = {**body, **_optional(form, "effective_at", time=True)}
    if missing:
        del body["item_scores"]
        raise FormRefusedError(missing, body)
    return body


def note_body(form: Any) -> dict[str, Any]:
    body = {
        "kind": form.get("kind", ""),
        "modality": form.get("modality", ""),
        "text": form.get("text", ""),
    }
    return {**body, **_optional(form, "effective_at", time=True)}


def side_effect_body(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"effect": form.get("effect", ""), "severity": form.get("severity", "")}
    for name in ("order_id", "onset", "action_taken"):
        body.update(_optional(form, name))
    return {**body, **_optional(form, "effective_at", time=True)}


def follow_up_body(form: Any) -> dict[str, Any]:
    return {"due_at": utc_time(form.get("due_at", "")), "purpose": form.get("purpose", "")}


def completion_body(form: Any) -> dict[str, Any]:
    return {"outcome": form.get("outcome", "")}


def _optional(form: Any, name: str, time: bool = False) -> dict[str, Any]:
    value = form.get(name, "").strip()
    if not value:
        return {}
    return {name: utc_time(value) if time else value}


SCHEMAS: dict[str, type[Schema]] = {
    "assessment": AssessmentIn,
    "note": NoteIn,
    "side_effect": SideEffectIn,
    "follow_up": FollowUpIn,
    "completion": CompletionIn,
}
COMMANDS = {
    "assessment": "record_assessment",
    "note": "add_note",
    "side_effect": "report_side_effect",
    "follow_up": "schedule_follow_up",
    "completion": "complete_follow_up",
}
"""The command each form runs, for its record-free checks."""


def recording_options(who: Actor) -> dict[str, Any] | None:
    """Which forms the timeline offers this clinician: the role table the commands
    enforce (showing a form is a courtesy; the command decides again when it is sent).
    A pharmacist is offered no note at all, and only a therapist a psychotherapy note;
    None for a reader who may record nothing (an auditor)."""
    role = who.role
    if not who.is_clinician:
        return None

    def may(what: str) -> bool:
        return role in WRITE_ROLES.get(what, frozenset())

    note_kinds = [
        k
        for k in NOTE_KINDS
        if may("psychotherapy_note" if k == "psychotherapy" else "progress_note")
    ]
    return {
        "instruments": [
            {
                "name": i.name,
                "slug": i.name.lower().replace("-", ""),
                "items": i.item_texts,
                "bands": ",".join(f"{lo}-{hi}:{band}" for lo, hi, band in i.bands),
                "max_total": i.max_total,
            }
            for i in INSTRUMENTS.values()
        ]
        if may("assessment")
        else [],
        "answers": ANSWER_TEXTS,
        "note_kinds": note_kinds,
        "modalities": MODALITIES,
        "severities": SEVERITIES,
        "side_effect": may("side_effect"),
        "follow_up": may("follow_up"),
    }


def recorded_outcome(patient_id: str) -> dict[str, Any] | None:
    """The last write's outcome for this patient, once (post/redirect/get)."""
    found = session.get(RECORDED_KEY)
    if not isinstance(found, dict) or found.get("patient_id") != patient_id:
        return None
    session.pop(RECORDED_KEY, None)
    return found
