"""``carelog projections run|rebuild|status|skip`` as an operator uses them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from projections.current_plan import CurrentPlanView
from services.bootstrap import CareLog
from services.cli.main import main
from tests.cli_process import view_worker
from tests.conftest import Team
from tests.integration.test_views_quarantine import history_with_poison, poisoned_project
from tests.integration.views_support import dumps, note, register

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(carelog: CareLog, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"CARELOG_DATABASE_URL": carelog.config.database_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def status(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, object]]]:
    code = main(["projections", "status", "--json"])
    rows = json.loads(capsys.readouterr().out)["views"]
    return code, {row["name"]: row for row in rows}


class TestStatusAndSkip:
    @pytest.mark.usefixtures("cli_env")
    def test_status_reports_positions_and_a_quarantined_event_until_it_is_skipped(
        self,
        carelog: CareLog,
        team: Team,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(CurrentPlanView, "project", poisoned_project)
        _, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        head = carelog.app.recorder.max_notification_id()

        code, rows = status(capsys)
        assert code == 3
        assert rows["audit_trail"]["position"] == head
        assert [q["position"] for q in rows["current_plan"]["quarantined"]] == [poison]

        assert main(["projections", "status"]) == 3
        assert f"carelog projections skip current_plan {poison}" in capsys.readouterr().out

        assert (
            main(
                [
                    "projections",
                    "skip",
                    "current_plan",
                    str(poison),
                    "--reason",
                    "bad import, ticket 7",
                    "--actor",
                    "ops-on-call",
                ]
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out)["position"] == poison
        carelog.views.catch_up()
        code, rows = status(capsys)
        assert code == 0
        assert (rows["current_plan"]["position"], rows["current_plan"]["quarantined"]) == (head, [])
        [entry], _ = carelog.views.audit_trail.entries(action="projections.skip")
        assert entry["actor"] == {"id": "ops-on-call", "role": "operator"}
        assert entry["source"] == "cli"

    @pytest.mark.usefixtures("cli_env")
    def test_skipping_without_a_quarantined_event_is_refused(
        self,
        carelog: CareLog,
        team: Team,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        register(carelog, team, "MRN-1")
        assert main(["projections", "skip", "current_plan", "1", "--reason", "x"]) == 2
        assert "no quarantined item" in capsys.readouterr().err


def caught_up_history(carelog: CareLog, team: Team) -> None:
    """A patient with a few notes, every view caught up."""
    pid = register(carelog, team, "MRN-1")
    for _ in range(5):
        note(carelog, team, pid)
    carelog.views.catch_up()


class TestRebuild:
    @pytest.mark.usefixtures("cli_env")
    def test_rebuild_shows_progress_and_prints_what_it_did(
        self,
        carelog: CareLog,
        team: Team,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        caught_up_history(carelog, team)
        before = carelog.views.audit_trail.dump()

        assert main(["projections", "rebuild", "audit_trail"]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out)["events"] == carelog.app.recorder.max_notification_id()
        assert "events" in err
        assert "/s" in err
        assert "ETA" in err
        assert carelog.views.audit_trail.dump() == before

    @pytest.mark.usefixtures("cli_env")
    def test_several_views_rebuild_side_by_side_in_processes_of_their_own(
        self,
        carelog: CareLog,
        team: Team,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        caught_up_history(carelog, team)
        before = dumps(carelog.views)
        names = ["current_plan", "audit_trail", "team_dashboard"]

        assert main(["projections", "rebuild", *names, "--jobs", "2"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        head = carelog.app.recorder.max_notification_id()
        assert [line["view"] for line in lines] == names
        assert all(line["events"] >= head for line in lines)
        assert dumps(carelog.views) == before

    @pytest.mark.usefixtures("cli_env")
    def test_an_unknown_view_or_no_jobs_is_refused_before_any_work(
        self, carelog: CareLog, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["projections", "rebuild", "current_plan", "no_such_view"]) == 2
        assert "no view 'no_such_view'" in capsys.readouterr().err
        assert main(["projections", "rebuild", "current_plan", "audit_trail", "--jobs", "0"]) == 2
        assert "--jobs must be 1 or more" in capsys.readouterr().err


@pytest.mark.served
class TestRun:
    def test_a_worker_follows_the_log_until_terminated(
        self, carelog: CareLog, team: Team, cli_env: dict[str, str]
    ) -> None:
        with view_worker({**os.environ, **cli_env, "PYTHONPATH": str(ROOT)}) as logged:
            assert "following the log" in logged
            pid = register(carelog, team, "MRN-RUN")
            note(carelog, team, pid)
            assert carelog.views.wait_for(carelog.app.recorder.max_notification_id(), timeout=30)
            assert carelog.views.current_plan.get(pid) is not None
