"""What was told or written: education as ``Communication``, progress notes as
``DocumentReference``.

Progress notes are clinical documents (LOINC 11506-3, "Progress note"), so they go as
DocumentReference with the text as an inline attachment; Communication is kept for what
was told to the patient. Notes reach this module only when the caller may read progress
notes; psychotherapy notes never reach it (see ``selection.py``).
"""

from __future__ import annotations

import base64
from typing import Any

from services.interop.fhir import vocabulary as v
from services.interop.fhir.medications import request_ref_at
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, instant, resource_id
from services.interop.fhir.selection import Selection

PROGRESS_NOTE = "11506-3"
DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"


def education_entries(sel: Selection) -> list[Entry]:
    entries = []
    for taught in sel.state.education:
        resource: dict[str, Any] = {
            "resourceType": "Communication",
            "id": resource_id("Communication", taught.education_id),
            "identifier": [v.identifier("education-id", taught.education_id)],
            "status": "completed",
            "category": [
                v.concept(
                    "Instruction", v.coding(v.COMMUNICATION_CATEGORY, "instruction", "Instruction")
                )
            ],
            "subject": patient_ref(sel),
            "topic": {"text": taught.topic},
            "sent": instant(taught.effective_at),
            "recipient": [patient_ref(sel)],
            "sender": practitioner_ref(taught.actor.id),
            "payload": [{"contentString": taught.materials or taught.topic}],
        }
        request = request_ref_at(sel, taught.order_id, taught.effective_at)
        if request is not None:
            resource["about"] = [request]
        entries.append(Entry(resource, [taught.event_id]))
    return entries


def note_entries(sel: Selection) -> list[Entry]:
    shown = {e.event_id for e in sel.events}
    entries = []
    for note in sel.state.notes.values():
        # Belt and braces: only notes whose event survived the selection, never a
        # psychotherapy note whatever the selection did.
        if note.kind != "progress" or note.event_id not in shown:
            continue
        text = note.text.encode()
        resource = {
            "resourceType": "DocumentReference",
            "id": resource_id("DocumentReference", note.note_id),
            "meta": v.us_core("us-core-documentreference"),
            "identifier": [v.identifier("note-id", note.note_id)],
            "status": "current",
            "docStatus": "amended" if note.corrected else "final",
            "type": v.concept("Progress note", v.coding(v.LOINC, PROGRESS_NOTE, "Progress note")),
            "category": [
                v.concept(
                    "Clinical Note", v.coding(DOCUMENT_CATEGORY, "clinical-note", "Clinical Note")
                ),
                v.concept(note.modality, v.coding(v.NOTE_MODALITY, note.modality)),
            ],
            "subject": patient_ref(sel),
            "date": instant(note.recorded_at),
            "author": [practitioner_ref(note.author_id)],
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(text).decode(),
                        "creation": instant(note.effective_at),
                    }
                }
            ],
            "context": {"period": {"start": instant(note.effective_at)}},
        }
        entries.append(Entry(resource, [note.event_id]))
    return entries
