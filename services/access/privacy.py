"""Psychotherapy-note protection for everything that shows events: only the author ever
sees a psychotherapy note's text; others see a marker. Corrections of such a note are
restricted the same way (their fields and reason would repeat the text)."""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from domain.plan import PlanState


def restricted_note_ids(state: PlanState, reader: Actor) -> set[str]:
    """Event ids of NoteAdded events whose text the reader may not see."""
    return {
        event_id
        for event_id, source in state.sources.items()
        if source.type == "NoteAdded"
        and source.note_kind == "psychotherapy"
        and source.actor_id != reader.id
    }


def redact_event(event: dict[str, Any], restricted: set[str]) -> dict[str, Any]:
    """An event as the reader may see it."""
    if event["type"] == "NoteAdded" and event["id"] in restricted:
        data = event["data"]
        return {
            **event,
            "data": {"note_id": data["note_id"], "kind": data["kind"], "restricted": True},
        }
    if event["type"] == "EntryCorrected" and event["data"].get("corrected_event_id") in restricted:
        return {
            **event,
            "data": {"corrected_event_id": event["data"]["corrected_event_id"], "restricted": True},
        }
    return event
