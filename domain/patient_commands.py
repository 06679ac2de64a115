"""The clinical commands of a patient record, one mixin per clinical area; each checks its
input and its invariants, then records one event. Nothing is recorded when a check fails.

The vocabularies the commands accept are re-exported here (``domain/clinical_vocabulary.py``)
for the modules that document or offer them (HTTP schemas, forms).
"""

from __future__ import annotations

from domain.alert_commands import AlertCommands
from domain.assessment_commands import AssessmentCommands
from domain.care_entry_commands import CareEntryCommands
from domain.care_team_commands import CareTeamCommands
from domain.clinical_vocabulary import (
    CONSENT_DECISIONS,
    CONSENT_SCOPES,
    GOAL_STATUSES,
    ICD10,
    MODALITIES,
    NOTE_KINDS,
    RESOLUTIONS,
    SEVERITIES,
)
from domain.correction_commands import CorrectionCommands
from domain.medication_commands import MedicationCommands

__all__ = [
    "CONSENT_DECISIONS",
    "CONSENT_SCOPES",
    "GOAL_STATUSES",
    "ICD10",
    "MODALITIES",
    "NOTE_KINDS",
    "RESOLUTIONS",
    "SEVERITIES",
    "ClinicalCommands",
]


class ClinicalCommands(
    CareTeamCommands,
    AssessmentCommands,
    MedicationCommands,
    AlertCommands,
    CareEntryCommands,
    CorrectionCommands,
):
    """Commands that append clinical facts to a patient's log."""
