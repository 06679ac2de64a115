"""The current-plan view shows the patient's pharmacogenomics exactly as the plan built
from the record does (the two builders of the plan document agree), and a metaboliser fact
recorded later changes the view's phenotypes too (the fact is a source of them)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.reading.plan_document import plan_document
from tests.conftest import Team
from tests.integration.views_support import runner, team_patient


class TestPharmacogenomicsInTheView:
    def test_the_view_and_the_record_show_the_same_phenotypes_and_results(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = team_patient(carelog, team, "MRN-PGX-1")
        psy = CommandContext(team.psychiatrist)
        run = runner(carelog)

        fields = {"lab": "GeneLab", "report_date": "2026-01-05"}
        written = run(psy, pid, "record_pharmacogenomic_result", gene="CYP2D6",
                      diplotype="*1/*4", **fields)  # fmt: skip
        run(psy, pid, "record_pharmacogenomic_result", gene="CYP2C19", diplotype="*1/*99", **fields)
        run(psy, pid, "correct_entry", event_id=written.event_id,
            fields={"diplotype": "*4/*4"}, reason="lab amended")  # fmt: skip
        run(CommandContext(team.pharmacist), pid, "record_fact", fact="cyp2c19_metaboliser",
            value="Poor metabolizer")  # fmt: skip
        carelog.views.catch_up()

        viewed = carelog.views.current_plan.get(pid)
        assert viewed is not None
        record = carelog.app.get_record(pid)
        built = plan_document(record.plan, pid, record.version, datetime.now(UTC))
        assert viewed["pharmacogenomics"] == built["pharmacogenomics"]
        phenotypes = {g["gene"]: (g["phenotype"], g["source"]) for g in
                      viewed["pharmacogenomics"]["phenotypes"]}  # fmt: skip
        # the CYP2C19 result cannot be read, so the fact is (and the plan says why)
        assert phenotypes == {"CYP2D6": ("poor", "result"), "CYP2C19": ("poor", "fact")}
        results = viewed["pharmacogenomics"]["results"]
        assert sorted((r["gene"], r["interpretation"], r["corrected"]) for r in results) == [
            ("CYP2C19", "not interpretable", False),
            ("CYP2D6", "diplotype *4/*4 (activity score 0)", True),
        ]
