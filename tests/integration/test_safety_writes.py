"""The safety rules through the write path: alerts in the log, blocks, overrides and
automatic closing, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import InvalidInputError, NotPermittedError, SafetyBlockError
from domain.plan_entities import Alert
from services.bootstrap import CareLog
from services.writing.application import WriteResult
from tests.conftest import Team
from tests.patient_writes import dose_change, prescription, register


def setup(carelog: CareLog, team: Team, birth: str = "1985-05-05") -> str:
    pid = carelog.commands.register_patient(
        CommandContext(team.psychiatrist),
        c.RegisterPatient(external_id="MRN-S", name="S", birth_date=birth),
    ).patient_id
    for member in (team.pharmacist, team.therapist, team.prescribing_pharmacist):
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.AssignCareTeamMember(clinician_id=member.id, role=str(member.role)),
        )
    return pid


def prescribe(
    carelog: CareLog,
    team: Team,
    pid: str,
    drug: str,
    amount: float,
    frequency: str = "once daily",
    override_reason: str | None = None,
    **extra: Any,
) -> WriteResult:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist),
        pid,
        prescription(drug, amount, frequency, "x", **extra),
        override_reason=override_reason,
    )


def with_order(
    carelog: CareLog, team: Team, drug: str, amount: float, birth: str = "1985-05-05", **extra: Any
) -> tuple[str, str]:
    """A patient (``setup``) with one prescription (``prescribe``): their id and the
    order's."""
    pid = setup(carelog, team, birth)
    return pid, prescribe(carelog, team, pid, drug, amount, **extra).ids["order_id"]


def open_alerts(carelog: CareLog, pid: str) -> list[Alert]:
    return [a for a in carelog.app.get_record(pid).plan.alerts.values() if a.status == "open"]


class TestAlertsThroughWrites:
    def test_max_dose_alert_is_returned_and_kept_in_the_log(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team, birth="1950-01-01")
        result = prescribe(carelog, team, pid, "citalopram", 40)
        kinds = {a["kind"] for a in result.alerts}
        assert "max_dose" in kinds
        assert any(a.kind == "max_dose" for a in open_alerts(carelog, pid))

    def test_contraindicated_combination_is_refused_without_override(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "sertraline", 50)
        version = carelog.app.get_record(pid).version
        with pytest.raises(SafetyBlockError) as caught:
            prescribe(carelog, team, pid, "phenelzine", 15)
        assert caught.value.alerts
        assert caught.value.alerts[0]["severity"] == "contraindicated"
        assert carelog.app.get_record(pid).version == version

    def test_prescriber_override_is_recorded_on_the_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "sertraline", 50)
        prescribe(
            carelog,
            team,
            pid,
            "phenelzine",
            15,
            override_reason="specialist-supervised switch, monitored inpatient",
        )
        alert = next(a for a in open_alerts(carelog, pid) if a.severity == "contraindicated")
        assert alert.override_reason.startswith("specialist-supervised")

    def test_unknown_drug_is_reported_not_silently_safe(self, carelog: CareLog, team: Team) -> None:
        pid = setup(carelog, team)
        result = prescribe(carelog, team, pid, "zzz-not-a-drug", 5)
        assert [a["kind"] for a in result.alerts] == ["unknown_drug"]

    def test_interaction_alert_closes_when_a_drug_is_stopped(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "lithium", 300, "twice daily")
        ibuprofen = prescribe(carelog, team, pid, "ibuprofen", 400, "three times daily")
        assert any(a.kind == "interaction" for a in open_alerts(carelog, pid))
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.Discontinue(order_id=ibuprofen.ids["order_id"], reason="pain settled"),
        )
        assert not any(a.kind == "interaction" for a in open_alerts(carelog, pid))

    def test_suicide_risk_item_raises_an_urgent_alert(self, carelog: CareLog, team: Team) -> None:
        pid = setup(carelog, team)
        result = carelog.commands.execute(
            CommandContext(team.therapist),
            pid,
            c.RecordAssessment(instrument="PHQ-9", item_scores=[1, 1, 1, 1, 1, 1, 1, 1, 2]),
        )
        urgent = [a for a in result.alerts if a["kind"] == "suicide_risk"]
        assert urgent
        assert urgent[0]["severity"] == "urgent"

    def test_abrupt_stop_of_an_ssri_raises_an_alert_and_a_taper_satisfies_it(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        first = prescribe(carelog, team, pid, "paroxetine", 20).ids["order_id"]
        second = prescribe(carelog, team, pid, "sertraline", 50, override_reason="x")
        stop = carelog.commands.execute(
            CommandContext(team.psychiatrist), pid, c.Discontinue(order_id=first, reason="switch")
        )
        assert "abrupt_stop" in {a["kind"] for a in stop.alerts}
        tapered = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.Discontinue(
                order_id=second.ids["order_id"],
                reason="switch",
                taper="50 mg -> 25 mg for 1 week, then stop",
            ),
        )
        assert "abrupt_stop" not in {a["kind"] for a in tapered.alerts}

    def test_a_therapist_cannot_resolve_and_a_pharmacist_can(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        alert_id = prescribe(carelog, team, pid, "zzz-unknown", 1).alerts[0]["id"]
        with pytest.raises(NotPermittedError):
            carelog.commands.execute(
                CommandContext(team.therapist),
                pid,
                c.ResolveAlert(alert_id=alert_id, resolution="acknowledged"),
            )
        carelog.commands.execute(
            CommandContext(team.pharmacist),
            pid,
            c.ResolveAlert(alert_id=alert_id, resolution="acknowledged", reason="seen"),
        )
        assert open_alerts(carelog, pid) == []

    def test_lithium_level_due_after_a_dose_change_closes_with_a_result(
        self, carelog: CareLog, team: Team
    ) -> None:
        t0 = datetime.now(UTC) - timedelta(days=30)
        pid = register(carelog, CommandContext(team.psychiatrist, now=t0), "MRN-L", "L")
        order = carelog.commands.execute(
            CommandContext(team.psychiatrist, now=t0),
            pid,
            prescription("lithium", 300, "twice daily", "bipolar"),
        ).ids["order_id"]
        carelog.commands.execute(
            CommandContext(team.psychiatrist, now=t0 + timedelta(days=10)),
            pid,
            dose_change(order, 400, "level low"),
        )
        # One monitoring alert for the lithium order lists its checks, the level first.
        level = "Serum lithium level (12-hour trough) due by "
        [before] = [a for a in open_alerts(carelog, pid) if a.kind == "monitoring_due"]
        assert (t0 + timedelta(days=17)).date().isoformat() in before.message
        assert level in before.message
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.RecordLabResult(test="lithium_level", value=0.8, unit="mmol/L"),
        )
        [after] = [a for a in open_alerts(carelog, pid) if a.kind == "monitoring_due"]
        assert after.alert_id != before.alert_id  # superseded with the next level's date
        next_level = after.message.split(level)[1][:10]
        assert next_level > datetime.now(UTC).date().isoformat()  # no level is due any more


def correct(carelog: CareLog, team: Team, pid: str, event_id: str, **fields: object) -> WriteResult:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist),
        pid,
        c.CorrectEntry(event_id=event_id, fields=fields, reason="entered wrongly"),
    )


def kinds(result: object) -> set[str]:
    return {a["kind"] for a in result.alerts}  # type: ignore[attr-defined]


class TestCorrectionsRerunTheRules:
    def test_correcting_phq9_item_9_upward_raises_the_suicide_risk_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        recorded = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.RecordAssessment(instrument="PHQ-9", item_scores=[1, 1, 1, 1, 1, 1, 1, 1, 0]),
        )
        assert "suicide_risk" not in kinds(recorded)

        corrected = correct(
            carelog, team, pid, recorded.event_id, item_scores=[1, 1, 1, 1, 1, 1, 1, 1, 2]
        )

        urgent = [a for a in corrected.alerts if a["kind"] == "suicide_risk"]
        assert [a["severity"] for a in urgent] == ["urgent"]
        assert any(a.kind == "suicide_risk" for a in open_alerts(carelog, pid))

    def test_correcting_an_assessments_summary_does_not_repeat_a_resolved_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        recorded = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.RecordAssessment(instrument="PHQ-9", item_scores=[1, 1, 1, 1, 1, 1, 1, 1, 2]),
        )
        [alert] = [a for a in recorded.alerts if a["kind"] == "suicide_risk"]
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.ResolveAlert(
                alert_id=alert["id"],
                resolution="acknowledged",
                reason="C-SSRS done the same day",
                action="risk_assessment_done",
                result="low",
            ),
        )

        corrected = correct(carelog, team, pid, recorded.event_id, summary="typo fixed")

        assert "suicide_risk" not in kinds(corrected)

    def test_correcting_a_dose_change_into_a_large_cut_raises_the_taper_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        order = prescribe(carelog, team, pid, "paroxetine", 40).ids["order_id"]
        changed = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.ChangeDose(order_id=order, dose=Dose(30, "mg"), reason="taper step"),
        )
        assert "abrupt_stop" not in kinds(changed)

        corrected = correct(carelog, team, pid, changed.event_id, dose={"amount": 10, "unit": "mg"})

        assert "abrupt_stop" in kinds(corrected)

    def test_correcting_a_start_dose_above_the_schedule_raises_the_titration_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        started = prescribe(carelog, team, pid, "lamotrigine", 25)
        assert "titration" not in kinds(started)

        corrected = correct(
            carelog,
            team,
            pid,
            started.event_id,
            dose={"amount": 100, "unit": "mg"},
        )

        assert "titration" in kinds(corrected)

    def test_correcting_a_dose_above_the_maximum_raises_the_max_dose_alert_again(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        started = prescribe(carelog, team, pid, "sertraline", 250)
        [alert] = [a for a in started.alerts if a["kind"] == "max_dose"]
        correct(carelog, team, pid, started.event_id, dose={"amount": 150, "unit": "mg"})
        assert not any(a.kind == "max_dose" for a in open_alerts(carelog, pid))
        assert carelog.app.get_record(pid).plan.alerts[alert["id"]].status == "resolved"

        corrected = correct(
            carelog,
            team,
            pid,
            started.event_id,
            dose={"amount": 300, "unit": "mg"},
        )

        assert "max_dose" in kinds(corrected)

    def test_correcting_a_start_into_an_maoi_washout_is_alerted_not_refused(
        self, carelog: CareLog, team: Team
    ) -> None:
        t0 = datetime.now(UTC) - timedelta(days=40)
        pid = setup(carelog, team)
        ctx = CommandContext(team.psychiatrist)
        maoi = prescribe(carelog, team, pid, "phenelzine", 15, effective_at=t0).ids["order_id"]
        carelog.commands.execute(
            ctx,
            pid,
            c.Discontinue(
                order_id=maoi,
                reason="switch",
                taper="15 mg every other day for 1 week",
                effective_at=t0 + timedelta(days=5),
            ),
        )
        started = prescribe(carelog, team, pid, "sertraline", 50)
        assert "washout" not in kinds(started)

        corrected = correct(
            carelog,
            team,
            pid,
            started.event_id,
            effective_at=(t0 + timedelta(days=10)).isoformat(),
        )

        washout = [a for a in corrected.alerts if a["kind"] == "washout"]
        assert [a["severity"] for a in washout] == ["contraindicated"]

    def test_correcting_a_note_runs_only_the_plan_rules(self, carelog: CareLog, team: Team) -> None:
        pid = setup(carelog, team)
        note = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.AddNote(kind="progress", modality="supportive", text="seen"),
        )

        corrected = correct(carelog, team, pid, note.event_id, text="seen today")

        assert corrected.alerts == []


class TestLithiumLevelsThroughWrites:
    def test_a_high_lithium_level_raises_an_alert_that_a_level_in_range_closes(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "lithium", 400, "twice daily")
        ctx = CommandContext(team.psychiatrist)

        high = carelog.commands.execute(
            ctx, pid, c.RecordLabResult(test="lithium level", value=1.7, unit="mmol/L")
        )

        [alert] = [a for a in high.alerts if a["kind"] == "lab_out_of_range"]
        assert alert["severity"] == "major"
        assert alert["rule_id"] == "LAB-LITHIUM-LEVEL-HIGH"
        assert "1.7 mmol/L" in alert["message"]
        carelog.commands.execute(
            ctx, pid, c.RecordLabResult(test="lithium level", value=0.9, unit="mmol/L")
        )
        assert not any(a.kind == "lab_out_of_range" for a in open_alerts(carelog, pid))


class TestDoseLimitsByFormulationThroughWrites:
    def test_the_formulation_typed_with_the_name_is_kept_on_the_order(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        result = prescribe(carelog, team, pid, "Wellbutrin SR", 150, "twice daily")
        order = carelog.app.get_record(pid).plan.orders[result.ids["order_id"]]
        assert order.drug["generic"] == "bupropion"
        assert order.drug["formulation"] == "SR"

    @pytest.mark.parametrize(
        ("drug", "amount", "frequency", "rule_id", "severity", "said"),
        [
            pytest.param(
                "trazodone",
                250,
                "twice daily",
                "MAX-TRAZODONE",
                "major",
                ("400 mg/day maximum for outpatients", "No inpatient care setting is recorded"),
                id="trazodone-500-mg-a-day-at-the-outpatient-maximum",
            ),
            pytest.param(
                "risperidone",
                5,
                "twice daily",
                "MAX-RISPERIDONE",
                "moderate",
                (),
                id="risperidone-10-mg-a-day-a-moderate-advisory",
            ),
            pytest.param(
                "Wellbutrin SR",
                150,
                "three times daily",
                "MAX-BUPROPION",
                "major",
                ("400 mg/day maximum for the SR form",),
                id="wellbutrin-sr-450-mg-a-day-at-the-sr-maximum",
            ),
        ],
    )
    def test_a_daily_dose_over_the_formulations_maximum_is_alerted_and_stays_open(
        self,
        carelog: CareLog,
        team: Team,
        drug: str,
        amount: float,
        frequency: str,
        rule_id: str,
        severity: str,
        said: tuple[str, ...],
    ) -> None:
        pid = setup(carelog, team)
        result = prescribe(carelog, team, pid, drug, amount, frequency)
        found = [a for a in result.alerts if a["rule_id"] == rule_id]
        assert [(a["severity"], a["kind"]) for a in found] == [(severity, "max_dose")]
        for words in said:
            assert words in found[0]["message"]
        assert any(a.rule_id == rule_id for a in open_alerts(carelog, pid))


def record_alcohol(carelog: CareLog, team: Team, pid: str, value: str) -> object:
    """A therapist (who may not prescribe, so could never override) records alcohol use."""
    return carelog.commands.execute(
        CommandContext(team.therapist), pid, c.RecordFact(fact="alcohol_use", value=value)
    )


def alerts_of(carelog: CareLog, pid: str, rule_id: str) -> list[Alert]:
    return [a for a in carelog.app.get_record(pid).plan.alerts.values() if a.rule_id == rule_id]


def raised(result: object, rule_id: str) -> list[dict[str, object]]:
    return [a for a in result.alerts if a["rule_id"] == rule_id]  # type: ignore[attr-defined]


class TestAlcoholUseThroughWrites:
    def test_heavy_drinking_then_a_benzodiazepine_raises_a_major_alert_closed_by_none(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        record_alcohol(carelog, team, pid, "heavy")
        result = prescribe(carelog, team, pid, "lorazepam", 1, "twice daily")
        (alert,) = raised(result, "DDI-28C")
        assert (alert["severity"], alert["blocking"]) == ("major", False)
        record_alcohol(carelog, team, pid, "none")
        (closed,) = alerts_of(carelog, pid, "DDI-28C")
        assert closed.status == "resolved"
        assert closed.resolution.resolution == "no_longer_applies"

    def test_a_z_drug_then_regular_drinking_raises_it_and_stopping_the_drug_closes_it(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        zolpidem = prescribe(carelog, team, pid, "zolpidem", 5, "at night")
        assert raised(record_alcohol(carelog, team, pid, "regular"), "DDI-28C")
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.Discontinue(order_id=zolpidem.ids["order_id"], reason="sleep settled"),
        )
        assert [a.status for a in alerts_of(carelog, pid, "DDI-28C")] == ["resolved"]

    def test_drinking_again_after_the_alert_closed_raises_it_again(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "diazepam", 5)
        record_alcohol(carelog, team, pid, "heavy")
        record_alcohol(carelog, team, pid, "none")
        again = record_alcohol(carelog, team, pid, "regular")
        assert len(raised(again, "DDI-28C")) == 1
        assert [a.status for a in alerts_of(carelog, pid, "DDI-28C")] == ["resolved", "open"]

    def test_alcohol_stopped_abruptly_on_bupropion_is_alerted_never_refused(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "bupropion XL", 150)
        record_alcohol(carelog, team, pid, "heavy")
        result = record_alcohol(carelog, team, pid, "stopped_abruptly")
        (alert,) = raised(result, "DDI-30D")
        assert (alert["severity"], alert["blocking"]) == ("contraindicated", False)
        assert "recorded, not refused" in str(alert["message"])
        plan = carelog.app.get_record(pid).plan
        assert plan.facts["alcohol_use"].value == "stopped_abruptly"
        record_alcohol(carelog, team, pid, "none")
        assert [a.status for a in alerts_of(carelog, pid, "DDI-30D")] == ["resolved"]

    def test_bupropion_after_alcohol_stopped_abruptly_is_refused_unless_overridden(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        record_alcohol(carelog, team, pid, "stopped_abruptly")
        version = carelog.app.get_record(pid).version
        with pytest.raises(SafetyBlockError) as caught:
            prescribe(carelog, team, pid, "bupropion SR", 150)
        assert [a["rule_id"] for a in caught.value.alerts] == ["DDI-30D"]
        assert carelog.app.get_record(pid).version == version
        prescribe(
            carelog, team, pid, "bupropion SR", 150, override_reason="withdrawal over, on ward"
        )
        (alert,) = alerts_of(carelog, pid, "DDI-30D")
        assert alert.override_reason == "withdrawal over, on ward"

    def test_a_value_outside_the_closed_set_is_refused_naming_the_allowed_ones(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = setup(carelog, team)
        with pytest.raises(InvalidInputError) as caught:
            record_alcohol(carelog, team, pid, "sometimes")
        assert caught.value.field == "value"
        assert "none, occasional, regular, heavy, stopped_abruptly" in caught.value.message
