"""A patient's record as a FHIR R4 ``Bundle`` of type ``collection``, as of any time.

``as_of`` picks what was recorded up to then, ``effective_at`` what was in effect then (both:
what was known at ``as_of`` about ``effective_at``); see ``selection.py``. The bundle is a
plain JSON dict: CareLog validates it against the ``fhir.resources`` R4B models in its
tests only, so the runtime carries no FHIR library.

Resource ids are stable across exports (``references.py``), so two exports differ exactly
in what the events between them made or changed, and in one Provenance per such event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from services.fhir import vocabulary as v
from services.fhir.assessments import assessment_entries
from services.fhir.care_plan import care_plan_entries, goal_entries
from services.fhir.communications import education_entries, note_entries
from services.fhir.consent import consent_entries
from services.fhir.medications import medication_entries
from services.fhir.observations import adherence_entries, fact_entries, lab_entries
from services.fhir.patient import care_team_entries, patient_entries, practitioner_entries
from services.fhir.provenance import propagate_corrections, provenance_resources
from services.fhir.references import Entry, full_url, instant
from services.fhir.safety import alert_entries, side_effect_entries
from services.fhir.selection import Selection, select
from services.fhir.trials import trial_entries
from services.history import History

BUILDERS: tuple[Callable[[Selection], list[Entry]], ...] = (
    patient_entries,
    practitioner_entries,
    care_team_entries,
    consent_entries,
    medication_entries,
    trial_entries,
    assessment_entries,
    side_effect_entries,
    alert_entries,
    education_entries,
    note_entries,
    goal_entries,
    care_plan_entries,
    lab_entries,
    fact_entries,
    adherence_entries,
)
"""Every builder, in the order their resources appear in the bundle."""


def build_bundle(
    history: History,
    patient_id: str,
    *,
    as_of: datetime | None = None,
    effective_at: datetime | None = None,
    include_progress_notes: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The patient's record as a FHIR R4 collection Bundle (a JSON-ready dict).

    Psychotherapy notes never appear, not even as existence; progress notes (as
    DocumentReference) only with ``include_progress_notes`` — the caller decides who may
    read them. Raises ``NotFoundError`` for an unknown patient, or one not yet registered
    at ``as_of``.
    """
    events = history.events(patient_id)
    canonical = str(UUID(str(events[0].originator_id)))
    selection = select(
        events,
        canonical,
        as_of=as_of,
        effective_at=effective_at,
        include_progress_notes=include_progress_notes,
    )
    return bundle_of(selection, now or datetime.now(UTC))


def bundle_of(selection: Selection, now: datetime) -> dict[str, Any]:
    """The Bundle for an already-made selection."""
    entries = [entry for build in BUILDERS for entry in build(selection)]
    propagate_corrections(selection, entries)
    resources = [entry.resource for entry in entries]
    resources += provenance_resources(selection, entries)
    meta_extensions = []
    if selection.as_of is not None:
        meta_extensions.append({"url": v.EXT_AS_OF, "valueDateTime": instant(selection.as_of)})
    if selection.effective_at is not None:
        meta_extensions.append(
            {"url": v.EXT_EFFECTIVE_AT, "valueDateTime": instant(selection.effective_at)}
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid4()),
        "type": "collection",
        "timestamp": instant(now),
        "entry": [{"fullUrl": full_url(r["id"]), "resource": r} for r in resources],
    }
    if meta_extensions:
        bundle["meta"] = {"extension": meta_extensions}
    return bundle
