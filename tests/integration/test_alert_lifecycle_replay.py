"""CareLog's own resolutions in the log, on both stores: an older log's one-test monitoring
alerts give way to the prescription's one alert (superseded, not "no longer applies"), and
the record replayed from the store shows every resolution as it was recorded."""

from __future__ import annotations

from types import SimpleNamespace

from domain import commands as c
from domain.command_context import CommandContext
from domain.plan_entity import Author
from services.bootstrap import CareLog
from tests.conftest import Team
from tests.integration.test_safety_writes import open_alerts, with_order
from tests.patient_writes import dose_change


def legacy_weight_alert(carelog: CareLog, team: Team, pid: str, order: str) -> str:
    """A monitoring alert as CareLog raised them before monitoring was listed per
    prescription: one test, keyed by rule, order, test and due date."""
    finding = SimpleNamespace(
        key=f"MON-SGA-WEIGHT|{order}|weight|2026-01-05",
        rule_id="MON-SGA-WEIGHT",
        kind="monitoring_due",
        severity="moderate",
        message="Weight (BMI) for olanzapine due by 2026-01-05: a baseline.",
        action="Measure weight.",
        source="ADA/APA consensus",
        order_ids=(order,),
        due_at=None,
        test="weight",
    )
    ids: list[str] = []

    def action(record: object) -> str:
        ids.append(
            record.raise_alert(
                CommandContext(team.psychiatrist), finding=finding, rule_pack_version="old"
            )
        )  # type: ignore[attr-defined]
        return record.last_event_id()  # type: ignore[attr-defined]

    carelog.app.write(pid, CommandContext(team.psychiatrist), action)
    return ids[0]


class TestAnOlderLogsMonitoringAlerts:
    def test_a_one_test_alert_is_superseded_by_the_prescriptions_monitoring_alert(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, order = with_order(carelog, team, "olanzapine", 10)
        old = legacy_weight_alert(carelog, team, pid, order)
        [grouped] = [a for a in open_alerts(carelog, pid) if str(a.key).startswith("MONITORING|")]

        carelog.commands.execute(
            CommandContext(team.psychiatrist), pid, c.RecordFact(fact="diet", value="vegan")
        )

        alerts = carelog.app.get_record(pid).plan.alerts
        assert alerts[old].status == "resolved"
        resolution = alerts[old].resolution
        assert resolution is not None
        assert resolution.resolution == "superseded"
        assert resolution.superseded_by == grouped.alert_id
        assert resolution.actor == Author("carelog", "system")
        assert alerts[grouped.alert_id].status == "open"


class TestReplayingCareLogsResolutions:
    def test_the_record_rebuilt_from_the_store_has_the_same_alerts(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, order = with_order(carelog, team, "escitalopram", 15, "1958-06-01")
        for amount in (20, 10):
            carelog.commands.execute(
                CommandContext(team.psychiatrist),
                pid,
                dose_change(order, amount, "response"),
            )
        current = carelog.app.get_record(pid)
        live = current.plan.alerts
        # a past version is rebuilt from the stored events, not taken from the cache
        replayed = carelog.app.get_record(pid, version=current.version).plan.alerts

        assert replayed == live
        # (escitalopram's PHQ-9 reminder, measurement-based care, stays open)
        dosing = [a for a in replayed.values() if a.kind != "reassessment_due"]
        assert sorted(a.resolution.resolution for a in dosing) == [
            "no_longer_applies",
            "superseded",
        ]
