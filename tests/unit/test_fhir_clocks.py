"""The FHIR export under CareLog's two clocks: as known at T, and in effect at T."""

from __future__ import annotations

import pytest

from domain.plan import event_type
from services.interop.fhir import build_bundle
from tests.fhir_support import (
    Story,
    assert_differ_by_events,
    check_bundle,
    day,
    of_type,
    provenance_event_ids,
)


def shown(story: Story, *, until: object = None, after: object = None) -> set[str]:
    """Ids of the story's events an export without notes shows, recorded in (after, until]."""
    hidden = {story.ids["psychotherapy"], story.ids["correct_psychotherapy"], story.ids["progress"]}
    return {
        e.event_id
        for e in story.events
        if e.event_id not in hidden
        and (until is None or e.timestamp <= until)
        and (after is None or e.timestamp > after)
    }


def effects(bundle: dict[str, object]) -> list[str]:
    return sorted(a["event"]["text"] for a in of_type(bundle, "AdverseEvent"))  # type: ignore[arg-type]


class TestAsKnownAt:
    @pytest.mark.parametrize(("t1", "t2"), [(0, 5), (5, 12), (12, 26), (26, 61), (0, 61)])
    def test_two_exports_differ_by_exactly_the_events_recorded_between_them(
        self, story: Story, t1: float, t2: float
    ) -> None:
        older = build_bundle(story.history(), story.patient_id, as_of=day(t1))
        newer = build_bundle(story.history(), story.patient_id, as_of=day(t2))
        assert_differ_by_events(older, newer, shown(story, after=day(t1), until=day(t2)))

    def test_an_export_as_of_t_covers_the_events_recorded_up_to_t(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(12))
        assert provenance_event_ids(bundle) == shown(story, until=day(12))

    def test_the_late_entry_is_absent_from_what_was_known_before_it_was_told(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(20))
        assert effects(bundle) == ["nausea"]


class TestInEffectAt:
    def test_an_in_effect_export_reflects_a_late_entry(self, story: Story) -> None:
        now_known = build_bundle(story.history(), story.patient_id, effective_at=day(16))
        assert effects(now_known) == ["headache", "nausea"]
        check_bundle(now_known)
        (late,) = [
            a for a in of_type(now_known, "AdverseEvent") if a["event"]["text"] == "headache"
        ]
        assert late["date"] == "2026-01-20T09:00:00Z"
        assert late["recordedDate"] == "2026-01-30T09:00:00Z"

    def test_what_was_known_then_about_what_was_in_effect(self, story: Story) -> None:
        before_told = build_bundle(
            story.history(), story.patient_id, as_of=day(20), effective_at=day(16)
        )
        after_told = build_bundle(
            story.history(), story.patient_id, as_of=day(30), effective_at=day(16)
        )
        assert effects(before_told) == ["nausea"]
        assert effects(after_told) == ["headache", "nausea"]

    def test_later_changes_are_not_in_effect_yet(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, effective_at=day(5))
        (request,) = of_type(bundle, "MedicationRequest")
        assert request["status"] == "active"
        types = {event_type(e) for e in story.events if e.event_id in provenance_event_ids(bundle)}
        assert "DoseChanged" not in types
        assert "MedicationDiscontinued" not in types
        assert {c["status"] for c in of_type(bundle, "Consent")} == {"active"}
