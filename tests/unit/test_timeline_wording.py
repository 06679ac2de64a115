"""The timeline's words for what happened: no raw vocabulary values on the page."""

from __future__ import annotations

from web.pages.timeline_rows import summarise


def resolved(resolution: str, reason: str) -> str:
    event = {
        "id": "e1",
        "type": "SafetyAlertResolved",
        "data": {"alert_id": "a1", "resolution": resolution, "reason": reason},
    }
    return summarise(event, {}, {})


class TestAlertResolutionWording:
    def test_an_alert_closed_by_carelog_says_so_in_words(self) -> None:
        text = resolved("no_longer_applies", "The order was stopped.")
        assert text == "Alert closed by CareLog (no longer applies): The order was stopped."
        assert "_" not in text

    def test_a_clinicians_resolution_keeps_its_plain_wording(self) -> None:
        assert resolved("acknowledged", "Discussed") == "Alert acknowledged: Discussed"

    def test_a_resolution_the_page_does_not_know_is_still_worded(self) -> None:
        assert resolved("handed_over", "x") == "Alert handed over: x"
