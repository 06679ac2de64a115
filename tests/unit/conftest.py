"""Fixtures of the unit tests: a patient's record (registered, its care team assigned,
nothing pending), and for the FHIR export the story every FHIR module reads (told once per
module: the tests only read it) and the bundle it exports."""

from __future__ import annotations

from typing import Any

import pytest

from domain.patient_record import PatientRecord
from services.interop.fhir import build_bundle
from tests.fhir_support import Story, tell_story
from tests.unit.test_patient_record import new_record


@pytest.fixture
def record() -> PatientRecord:
    return new_record()


@pytest.fixture(scope="module")
def story() -> Story:
    return tell_story()


@pytest.fixture(scope="module")
def bundle(story: Story) -> dict[str, Any]:
    return build_bundle(story.history(), story.patient_id)
