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

from services.interop.fhir import vocabulary as v
from services.interop.fhir.assessments import assessment_entries
from services.interop.fhir.care_plan import care_plan_entries, goal_entries
from services.interop.fhir.communications import education_entries, note_entries
from services.interop.fhir.conditions import (
    condition_entries,
    pregnancy_entries,
    sex_at_birth_entries,
)
from services.interop.fhir.consent import consent_entries
from services.interop.fhir.genomics import genomics_entries
from services.interop.fhir.medications import medication_entries
from services.interop.fhir.observations import adherence_entries, fact_entries, lab_entries
from services.interop.fhir.patient import (
    care_team_entries,
    organization_entries,
    patient_entries,
    practitioner_entries,
)
from services.interop.fhir.provenance import propagate_corrections, provenance_resources
from services.interop.fhir.references import Entry, full_url, instant
from services.interop.fhir.safety import alert_entries, link_evidence, side_effect_entries
from services.interop.fhir.selection import Selection, select
from services.interop.fhir.trials import trial_entries
from services.interop.fhir.versions import as_transaction, check_transaction, stamp, view_meta
from services.reading.history import History

BUILDERS: tuple[Callable[[Selection], list[Entry]], ...] = (
    patient_entries,
    practitioner_entries,
    organization_entries,
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
    condition_entries,
    sex_at_birth_entries,
    pregnancy_entries,
    genomics_entries,
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
    transaction: bool = False,
) -> dict[str, Any]:
    """The patient's record as a FHIR R4 collection Bundle (a JSON-ready dict).

    Psychotherapy notes never appear, not even as existence; progress notes (as
    DocumentReference) only with ``include_progress_notes`` — the caller decides who may
    read them. Raises ``NotFoundError`` for an unknown patient, or one not yet registered
    at ``as_of``. ``transaction``: a transaction Bundle of conditional PUTs instead (the
    current record only: ``InvalidInputError`` with ``as_of`` or ``effective_at``).
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
    check_transaction(transaction, as_of, effective_at)
    bundle = bundle_of(selection, now or datetime.now(UTC))
    return as_transaction(selection, bundle) if transaction else bundle


def bundle_of(selection: Selection, now: datetime) -> dict[str, Any]:
    """The Bundle for an already-made selection."""
    entries = [entry for build in BUILDERS for entry in build(selection)]
    propagate_corrections(selection, entries)
    link_evidence(selection, entries)
    provenance = provenance_resources(selection, entries)
    stamp(selection, entries, provenance)
    resources = [entry.resource for entry in entries] + provenance
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
        bundle["meta"] = {"extension": meta_extensions, "tag": view_meta(selection)["tag"]}
    return bundle
