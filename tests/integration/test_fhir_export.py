"""The FHIR export of demo patients on both stores, and ``carelog export fhir``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from domain.plan import event_type
from domain.scoring import ANSWER_CODES, INSTRUMENTS
from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.cli.main import main
from services.interop.fhir import build_bundle
from tests.fhir_support import assert_differ_by_events, check_bundle, of_type


@pytest.fixture
def demo(carelog: CareLog) -> list[str]:
    return [str(p) for p in seed(carelog, patients=3, show_progress=False)["patients"]]


def shown_ids(events: list[Any], *, notes: bool) -> set[str]:
    """The events an export shows: never psychotherapy notes (nor their corrections);
    progress notes only with ``notes``."""
    hidden = {
        e.event_id
        for e in events
        if event_type(e) == "NoteAdded" and (e.kind == "psychotherapy" or not notes)
    }
    hidden |= {
        e.event_id
        for e in events
        if event_type(e) == "EntryCorrected" and e.corrected_event_id in hidden
    }
    return {e.event_id for e in events} - hidden


class TestDemoSafety:
    def test_the_suicide_risk_alert_points_at_the_phq9_that_raised_it(
        self, carelog: CareLog, demo: list[str]
    ) -> None:
        bundle = build_bundle(carelog.history, demo[2])  # demo patient 3 answers item 9
        resources = check_bundle(bundle)
        (issue,) = [
            d
            for d in of_type(bundle, "DetectedIssue")
            if d["code"]["coding"][-1]["code"] == "suicide_risk"
        ]
        evidence = [resources[r["reference"]] for e in issue["evidence"] for r in e["detail"]]
        (response,) = [r for r in evidence if r["resourceType"] == "QuestionnaireResponse"]
        assert response["questionnaire"] == "http://loinc.org/q/44249-1"
        assert response["item"][8]["answer"][0]["valueCoding"]["code"] != "LA6568-5"
        assert issue["status"] == "preliminary"


@pytest.mark.store_independent
class TestDemoPatients:
    @pytest.mark.parametrize("notes", [False, True])
    def test_every_demo_patient_exports_as_valid_self_contained_r4(
        self, carelog: CareLog, demo: list[str], notes: bool
    ) -> None:
        for patient_id in demo:
            bundle = build_bundle(carelog.history, patient_id, include_progress_notes=notes)
            check_bundle(bundle)
            events = carelog.history.events(patient_id)
            provenance = {p["extension"][0]["valueString"] for p in of_type(bundle, "Provenance")}
            assert provenance == shown_ids(events, notes=notes)
            text = json.dumps(bundle)
            for event in events:
                if event_type(event) == "NoteAdded" and event.kind == "psychotherapy":
                    assert event.text not in text
                    assert event.note_id not in text
                    assert event.event_id not in text

    def test_every_demo_patient_conforms_to_us_core_under_both_clocks(
        self, carelog: CareLog, demo: list[str]
    ) -> None:
        for patient_id in demo:
            events = carelog.history.events(patient_id)
            middle = events[len(events) // 2]
            for clock in (
                {"as_of": middle.timestamp},
                {"effective_at": middle.effective_at},
                {"as_of": middle.timestamp, "effective_at": events[3].effective_at},
            ):
                # check_bundle holds every resource to US Core 6.1.0 and the base invariants
                check_bundle(
                    build_bundle(carelog.history, patient_id, include_progress_notes=True, **clock)
                )

    def test_scored_assessments_carry_the_right_loinc_and_answer_codes(
        self, carelog: CareLog, demo: list[str]
    ) -> None:
        patient_id = demo[0]
        bundle = build_bundle(carelog.history, patient_id)
        responses = {r["identifier"]["value"]: r for r in of_type(bundle, "QuestionnaireResponse")}
        scored = [
            e
            for e in carelog.history.events(patient_id)
            if event_type(e) == "AssessmentRecorded" and e.instrument in INSTRUMENTS
        ]
        assert len(responses) == len(scored) > 2
        for event in scored:
            spec = INSTRUMENTS[event.instrument]
            response = responses[event.assessment_id]
            assert response["questionnaire"] == f"http://loinc.org/q/{spec.panel_loinc}"
            items = response["item"]
            assert [i["linkId"] for i in items] == [*spec.item_loincs, spec.total_loinc]
            assert [i["answer"][0]["valueCoding"]["code"] for i in items[:-1]] == [
                ANSWER_CODES[s] for s in event.item_scores
            ]
            assert items[-1]["answer"][0]["valueInteger"] == event.total


class TestTwoClocks:
    def test_exports_as_of_two_times_differ_by_exactly_the_events_recorded_between(
        self, carelog: CareLog, demo: list[str]
    ) -> None:
        patient_id = demo[1]
        events = carelog.history.events(patient_id)
        shown = shown_ids(events, notes=False)
        times = sorted({e.timestamp for e in events})
        for t1, t2 in ((times[2], times[6]), (times[6], times[-1]), (times[0], times[-1])):
            older = build_bundle(carelog.history, patient_id, as_of=t1)
            newer = build_bundle(carelog.history, patient_id, as_of=t2)
            between = {e.event_id for e in events if t1 < e.timestamp <= t2} & shown
            assert between
            assert_differ_by_events(older, newer, between)

    def test_an_in_effect_export_reflects_a_late_entry(
        self, carelog: CareLog, demo: list[str]
    ) -> None:
        patient_id = demo[0]  # demo patient 1 has a side effect told six days late
        (late,) = [
            e
            for e in carelog.history.events(patient_id)
            if event_type(e) == "SideEffectReported"
            and e.timestamp - e.effective_at > timedelta(days=1)
        ]
        between = late.effective_at + (late.timestamp - late.effective_at) / 2
        known_then = build_bundle(carelog.history, patient_id, as_of=between)
        in_effect = build_bundle(carelog.history, patient_id, effective_at=between)
        effects = {a["event"]["text"] for a in of_type(in_effect, "AdverseEvent")}
        assert late.effect in effects
        assert late.effect not in {a["event"]["text"] for a in of_type(known_then, "AdverseEvent")}
        check_bundle(in_effect)


class TestCommand:
    @pytest.mark.usefixtures("cli_store")
    def test_export_fhir_prints_the_bundle_and_records_the_read(
        self,
        carelog: CareLog,
        demo: list[str],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        events = carelog.history.events(demo[2])
        as_of = events[12].timestamp
        assert (
            main(
                [
                    "export",
                    "fhir",
                    demo[2],
                    "--as-of",
                    as_of.isoformat(),
                    "--actor",
                    "cli:records-office",
                    "--reason",
                    "transfer of care",
                ]
            )
            == 0
        )
        bundle = json.loads(capsys.readouterr().out)
        check_bundle(bundle)
        assert bundle == {
            **build_bundle(carelog.history, demo[2], as_of=as_of),
            "id": bundle["id"],
            "timestamp": bundle["timestamp"],
        }
        (entry,) = [r for r in carelog.access_log.for_patient(demo[2]) if r["what"] == "fhir"]
        assert (entry["actor_id"], entry["actor_role"], entry["source"]) == (
            "cli:records-office",
            "operator",
            "cli",
        )
        assert entry["reason"] == "transfer of care"

    @pytest.mark.usefixtures("cli_store")
    def test_export_fhir_transaction_is_conditional_puts_and_refuses_a_past_view(
        self,
        carelog: CareLog,
        demo: list[str],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        assert main(["export", "fhir", demo[0], "--transaction"]) == 0
        bundle = json.loads(capsys.readouterr().out)
        assert bundle["type"] == "transaction"
        assert {e["request"]["method"] for e in bundle["entry"]} == {"PUT"}
        before = len(carelog.access_log.for_patient(demo[0]))
        refused = main(
            ["export", "fhir", demo[0], "--transaction", "--as-of", "2026-01-01T00:00:00Z"]
        )
        assert refused != 0
        assert "current record only" in capsys.readouterr().err
        assert len(carelog.access_log.for_patient(demo[0])) == before  # nothing was read

    @pytest.mark.usefixtures("cli_store")
    def test_a_time_without_a_zone_is_refused(
        self,
        demo: list[str],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        assert main(["export", "fhir", demo[0], "--as-of", "2026-03-01T09:30:00"]) == 2
        assert "zone" in capsys.readouterr().err
