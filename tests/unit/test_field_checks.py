"""A command's record-free field checks, all at once: a form hears every problem in one
round, with the command's own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.field_checks import field_errors

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CTX = CommandContext(actor=Actor("t1", Role.THERAPIST), now=NOW)


def problems(command: str, fields: dict[str, object], **kw: frozenset[str]) -> dict[str, str]:
    return {e.field or "": e.message for e in field_errors(command, CTX, fields, **kw)}


class TestEveryFieldAtOnce:
    def test_a_follow_up_in_the_past_with_no_purpose_is_refused_for_both(self) -> None:
        found = problems("schedule_follow_up", {"due_at": NOW - timedelta(days=1), "purpose": ""})
        assert found == {
            "due_at": "A follow-up must be due in the future.",
            "purpose": "A purpose is required.",
        }

    def test_a_phq9_with_too_few_items_and_a_future_time_is_refused_for_both(self) -> None:
        found = problems(
            "record_assessment",
            {
                "instrument": "PHQ-9",
                "item_scores": [1, 1],
                "effective_at": NOW + timedelta(days=2),
            },
        )
        assert set(found) == {"item_scores", "effective_at"}

    def test_a_field_already_refused_is_not_checked_again(self) -> None:
        found = problems("schedule_follow_up", {"purpose": ""}, skip=frozenset({"due_at"}))
        assert set(found) == {"purpose"}

    def test_good_fields_pass(self) -> None:
        fields = {"due_at": NOW + timedelta(days=7), "purpose": "Review sleep"}
        assert problems("schedule_follow_up", fields) == {}
