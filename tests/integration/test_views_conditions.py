"""The current-plan view shows the problem list, sex at birth and pregnancy status exactly
as the plan built from the record does (the two builders of the plan document agree)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.reading.plan_document import plan_document
from tests.conftest import Team
from tests.integration.views_support import runner, team_patient


class TestProblemListInTheView:
    def test_the_view_and_the_record_show_the_same_conditions_and_pregnancy(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = team_patient(carelog, team, "MRN-COND-1")
        psy = CommandContext(team.psychiatrist)
        run = runner(carelog)

        epilepsy = run(psy, pid, "record_condition", code="G40.909", display="Epilepsy")
        run(psy, pid, "record_condition", code="I45.81", display="Long QT syndrome")
        carelog.commands.execute(
            CommandContext(team.therapist),
            pid,
            c.RecordAssessment(instrument="clinical", diagnoses=["F50.2"]),
        )
        run(
            psy,
            pid,
            "resolve_condition",
            condition_id=epilepsy.ids["condition_id"],
            reason="entered in error",
        )
        run(psy, pid, "record_sex_at_birth", sex_at_birth="female")
        run(CommandContext(team.pharmacist), pid, "record_pregnancy_status", status="lactating")
        carelog.views.catch_up()

        viewed = carelog.views.current_plan.get(pid)
        assert viewed is not None
        record = carelog.app.get_record(pid)
        built = plan_document(record.plan, pid, record.version, datetime.now(UTC))
        assert [(c["code"], c["source"]) for c in viewed["conditions"]] == [
            ("I45.81", "recorded"),
            ("F50.2", "assessment"),
        ]
        assert viewed["conditions"] == built["conditions"]
        assert viewed["pregnancy"] == built["pregnancy"]
        assert viewed["pregnancy"]["status"] == "lactating"
        assert viewed["patient"]["sex_at_birth"] == built["patient"]["sex_at_birth"] == "female"
