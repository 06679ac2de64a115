"""Which clinical role may make which kind of entry: DESIGN.md's role table, in one place.

The aggregate enforces it as an invariant; the web layer's authorization policy reads the
same table, so the API's 403s and the domain's refusals never drift apart.
"""

from __future__ import annotations

from domain.actor import Role

P, T, PH = Role.PSYCHIATRIST, Role.THERAPIST, Role.PHARMACIST
ALL_CLINICAL = frozenset({P, T, PH})

WRITE_ROLES: dict[str, frozenset[Role]] = {
    "register_patient": ALL_CLINICAL,
    "care_team": ALL_CLINICAL,
    "consent": ALL_CLINICAL,
    "assessment": frozenset({P, T}),
    "goal": frozenset({P, T}),
    "medication": frozenset({P, PH}),  # pharmacists only with the prescriber privilege
    "side_effect": ALL_CLINICAL,
    "adherence": ALL_CLINICAL,
    "progress_note": frozenset({P, T}),
    "psychotherapy_note": frozenset({T}),
    "follow_up": ALL_CLINICAL,
    "alert_resolution": ALL_CLINICAL,  # by kind: domain.alert_resolution
    "education": ALL_CLINICAL,
    "plan_review": frozenset({P, PH}),
    "lab_result": ALL_CLINICAL,
    "clinical_fact": ALL_CLINICAL,
    "correction": ALL_CLINICAL,  # and only by the author of the corrected entry
    "emergency_access": ALL_CLINICAL,
    # The problem list: any clinician on the team records a condition (a pharmacist
    # reconciling records finds the epilepsy the rules must see); only a clinician who
    # diagnoses (psychiatrist, therapist) takes one off, since that silences its rules.
    "condition": ALL_CLINICAL,
    "condition_resolution": frozenset({P, T}),
    "sex_at_birth": ALL_CLINICAL,
    "pregnancy_status": ALL_CLINICAL,
    # A pharmacogenomic result, like any lab result: any clinician on the team records it.
    "pharmacogenomic_result": ALL_CLINICAL,
}

WHAT = {
    "register_patient": "register patients",
    "care_team": "change the care team",
    "consent": "record consent",
    "assessment": "record assessments",
    "goal": "set treatment goals",
    "medication": "prescribe or change medication",
    "side_effect": "report side effects",
    "adherence": "report adherence",
    "progress_note": "write progress notes",
    "psychotherapy_note": "write psychotherapy notes",
    "follow_up": "schedule or complete follow-ups",
    "alert_resolution": "resolve safety alerts",
    "education": "record education",
    "plan_review": "review the plan",
    "lab_result": "record lab results",
    "clinical_fact": "record clinical facts",
    "correction": "correct entries",
    "emergency_access": "break the glass",
    "condition": "record conditions",
    "condition_resolution": "resolve conditions",
    "sex_at_birth": "record sex at birth",
    "pregnancy_status": "record pregnancy status",
    "pharmacogenomic_result": "record pharmacogenomic results",
}
