"""One ``Provenance`` per exported event: who did it in what role, when it was recorded
(``recorded``), when it took effect (``occurredDateTime``), and the resources it made or
changed (``target``).

Targets are read back from the builders (each resource lists the events that made or
changed it), so an event's targets are exactly the resources that would differ without
it. A correction targets whatever the entry it corrects produced, and names that entry's
Provenance as the ``revision`` it amends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from domain.plan import event_type
from services.interop.fhir import vocabulary as v
from services.interop.fhir.patient import organization_ref, patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, instant, ref, resource_id
from services.interop.fhir.selection import Selection

UPDATES = frozenset(
    {
        "CareTeamMemberAssigned",
        "CareTeamMemberRemoved",
        "EmergencyAccessGranted",
        "GoalStatusChanged",
        "MedicationDiscontinued",
        "SafetyAlertResolved",
        "FollowUpScheduled",
        "FollowUpCompleted",
        "EntryCorrected",
    }
)
"""Events that change an existing resource rather than create one (v3 DataOperation)."""


def provenance_id(event_id: str) -> str:
    return resource_id("Provenance", event_id)


def propagate_corrections(sel: Selection, entries: Iterable[Entry]) -> None:
    """A correction changes whatever the corrected entry produced."""
    corrections = [e for e in sel.events if event_type(e) == "EntryCorrected"]
    if not corrections:
        return
    for entry in entries:
        for correction in corrections:
            if correction.corrected_event_id in entry.events:
                entry.events.append(correction.event_id)


def provenance_resources(sel: Selection, entries: Iterable[Entry]) -> list[dict[str, Any]]:
    targets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        for event_id in entry.events:
            targets[event_id].append(ref(*entry.key))
    shown = {e.event_id for e in sel.events}
    return [
        _provenance(sel, event, targets.get(event.event_id) or [patient_ref(sel)], shown)
        for event in sel.events
    ]


def _provenance(
    sel: Selection, event: Any, target: list[dict[str, Any]], shown: set[str]
) -> dict[str, Any]:
    kind = event_type(event)
    operation = "UPDATE" if kind in UPDATES else "CREATE"
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": provenance_id(event.event_id),
        "meta": v.us_core("us-core-provenance"),
        "extension": [{"url": v.EXT_EVENT_ID, "valueString": event.event_id}],
        "target": target,
        "occurredDateTime": instant(event.effective_at),
        "recorded": instant(event.timestamp),
        "activity": v.concept(
            kind,
            v.coding(v.EVENT_TYPE, kind, kind),
            v.coding(v.DATA_OPERATION, operation, operation.lower()),
        ),
        "agent": [
            {
                "type": v.concept("Author", v.coding(v.PARTICIPANT_TYPE, "author", "Author")),
                "role": [v.role_concept(event.actor_role)],
                "who": practitioner_ref(event.actor_id),
                "onBehalfOf": organization_ref(),
            }
        ],
    }
    reason = getattr(event, "reason", None)
    if isinstance(reason, str) and reason:
        resource["reason"] = [{"text": reason}]
    if kind == "EntryCorrected" and event.corrected_event_id in shown:
        resource["entity"] = [
            {
                "role": "revision",
                "what": ref("Provenance", provenance_id(event.corrected_event_id)),
            }
        ]
    return resource
