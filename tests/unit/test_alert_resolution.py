"""Who may close an alert and what a resolution must say (``domain.alert_resolution``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.actor import Actor, Role
from domain.alert_resolution import (
    ACTIONS,
    reason_with_content,
    require_resolver,
    structured_action,
)
from domain.errors import InvalidInputError, NotPermittedError
from domain.plan_entities import Alert
from domain.plan_entity import Author


def an_alert(kind: str) -> Alert:
    """An open alert of the plan: only its kind matters here."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return Alert(
        alert_id="a1",
        key=f"{kind}:o1",
        rule_id=kind,
        rule_pack_version="1",
        kind=kind,
        severity="high",
        message="",
        action="",
        source="rules",
        order_ids=(),
        due_at=None,
        test=None,
        override_reason=None,
        event_id="e1",
        actor=Author("system", "system"),
        effective_at=at,
        recorded_at=at,
    )


SUICIDE = an_alert("suicide_risk")
DOSE = an_alert("max_dose")
PSY = Actor("p", Role.PSYCHIATRIST)
THER = Actor("t", Role.THERAPIST)
PHARM = Actor("ph", Role.PHARMACIST)
PRESCRIBING_PHARM = Actor("pp", Role.PHARMACIST, prescriber=True)


class TestTheReason:
    @given(st.text())
    def test_a_reason_is_kept_stripped_exactly_when_it_has_two_letters_or_digits(
        self, text: str
    ) -> None:
        if sum(ch.isalnum() for ch in text) >= 2:
            assert reason_with_content(text) == text.strip()
        else:
            with pytest.raises(InvalidInputError) as refused:
                reason_with_content(text)
            assert refused.value.field == "reason"

    def test_a_missing_reason_is_refused(self) -> None:
        with pytest.raises(InvalidInputError):
            reason_with_content(None)


class TestWhoResolves:
    @pytest.mark.parametrize("actor", [PSY, THER])
    def test_a_psychiatrist_or_therapist_on_the_team_resolves_a_suicide_risk_alert(
        self, actor: Actor
    ) -> None:
        require_resolver(actor, SUICIDE, on_care_team=True)

    @pytest.mark.parametrize("actor", [PHARM, PRESCRIBING_PHARM])
    def test_no_pharmacist_resolves_a_suicide_risk_alert(self, actor: Actor) -> None:
        with pytest.raises(NotPermittedError):
            require_resolver(actor, SUICIDE, on_care_team=True)

    def test_off_the_care_team_no_one_resolves_a_suicide_risk_alert(self) -> None:
        with pytest.raises(NotPermittedError):
            require_resolver(PSY, SUICIDE, on_care_team=False)

    def test_a_therapist_does_not_resolve_a_medication_alert(self) -> None:
        with pytest.raises(NotPermittedError):
            require_resolver(THER, DOSE, on_care_team=True)
        require_resolver(PHARM, DOSE, on_care_team=True)


class TestTheAction:
    @given(action=st.sampled_from(ACTIONS), result=st.sampled_from(["low", "moderate", "high"]))
    def test_a_risk_assessment_needs_its_result_and_nothing_else_takes_one(
        self, action: str, result: str
    ) -> None:
        if action == "risk_assessment_done":
            assert structured_action(SUICIDE, action, result) == (action, result)
            with pytest.raises(InvalidInputError):
                structured_action(SUICIDE, action, None)
        else:
            assert structured_action(SUICIDE, action, None) == (action, None)
            with pytest.raises(InvalidInputError):
                structured_action(SUICIDE, action, result)

    def test_a_suicide_risk_alert_needs_an_action_and_other_alerts_do_not(self) -> None:
        with pytest.raises(InvalidInputError) as refused:
            structured_action(SUICIDE, None, None)
        assert refused.value.field == "action"
        assert structured_action(DOSE, None, None) == (None, None)
