"""The closed sets the clinical commands accept: a value outside one is refused naming the
field (the HTTP schemas document the same sets as enums)."""

from __future__ import annotations

import re

CARE_TEAM_ROLES = ("psychiatrist", "therapist", "pharmacist")
CONSENT_SCOPES = ("treatment", "medication", "information sharing")
CONSENT_DECISIONS = ("granted", "refused", "withdrawn")
SEVERITIES = ("mild", "moderate", "severe")
NOTE_KINDS = ("progress", "psychotherapy")
MODALITIES = ("CBT", "DBT", "psychodynamic", "family", "supportive", "other")
RESOLUTIONS = ("acknowledged", "overridden", "changed")
GOAL_STATUSES = ("active", "met", "revised", "abandoned")
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
