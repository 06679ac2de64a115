"""Maxima by formulation and care setting, single-dose maxima and advisory thresholds."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from safety_cases import PACK, T0, by_rule, context, course, run

from domain.safety import Finding, MedicationCourse, RulePackError, load_rule_pack
from domain.safety.dose_forms import SETTING_FACT
from domain.safety.dose_limits import DoseLimit
from domain.safety.formulations import formulation_in
from domain.safety.wording import mg

LIMITS = {limit.rule.id: limit for limit in PACK.dose_limits}
WITH_FORMS = [limit for limit in PACK.dose_limits if limit.forms.figures]
WITH_INPATIENT = [
    (limit, form)
    for limit in PACK.dose_limits
    for form, figures in (dict(limit.forms.figures) or {None: limit.own}).items()
    if figures.inpatient_per_day is not None
]
WITH_PER_DOSE = [
    (limit, form)
    for limit in PACK.dose_limits
    for form, figures in limit.forms.figures.items()
    if figures.per_dose is not None
]
WITH_ADVISORY = [limit for limit in PACK.dose_limits if limit.advisory]
INPATIENT = {SETTING_FACT: "inpatient"}


def of_form(order: MedicationCourse, form: str | None) -> MedicationCourse:
    return replace(order, formulation=form)


def findings_of(rule_id: str, *orders: MedicationCourse, **facts: str) -> list[Finding]:
    return by_rule(run(context(*orders, facts=facts), "prescribed", T0, "o1"), rule_id)


def summary(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.key.split("|", 2)[-1] if f.key.count("|") == 2 else "", f.severity) for f in found]


class TestFormulationFromTheTypedName:
    @pytest.mark.parametrize(
        ("typed", "form"),
        [("Effexor XR", "XR"), ("venlafaxine XR 75 mg", "XR"), ("bupropion SR", "SR"),
         ("Wellbutrin XL", "XL"), ("bupropion hydrochloride sustained-release", "SR"),
         ("bupropion HCl extended-release (XL)", "XL"), ("venlafaxine extended release", "ER"),
         ("Paxil CR", "CR"), ("bupropion IR", "IR"), ("mirtazapine ODT", "ODT"),
         ("haloperidol decanoate depot", "depot"), ("Wellbutrin", None), ("sertraline", None),
         ("bupropion SR XL", None), ("bupropion IR ER", None)],
    )  # fmt: skip
    def test_the_form_the_name_states_is_read_and_nothing_is_guessed(
        self, typed: str, form: str | None
    ) -> None:
        assert formulation_in(typed) == form

    def test_a_sustained_release_name_still_reaches_the_drug(self) -> None:
        found = PACK.drug("bupropion sustained release")
        assert found is not None
        assert found.name == "bupropion"

    def test_an_order_recorded_without_a_formulation_is_of_unknown_form(self) -> None:
        old = MedicationCourse("o1", "bupropion", "oral", course("o1", "x").steps)
        found = findings_of("MAX-BUPROPION", replace(old, steps=course("o1", "x", 300).steps))
        assert summary(found) == [("formulation_unknown", "moderate")]


class TestTheExamplesOfTheReference:
    def test_effexor_xr_300_mg_a_day_exceeds_the_xr_maximum(self) -> None:
        found = findings_of("MAX-VENLAFAXINE", course("o1", "Effexor XR", 150, "twice daily"))
        assert [f.message for f in found] == [
            "Effexor XR (venlafaxine) 300 mg/day exceeds the 225 mg/day maximum for the XR form."
        ]

    def test_wellbutrin_sr_450_mg_a_day_exceeds_the_sr_maximum(self) -> None:
        found = findings_of(
            "MAX-BUPROPION", course("o1", "Wellbutrin SR", 150, "three times daily")
        )
        assert summary(found) == [("", "major")]
        assert "450 mg/day exceeds the 400 mg/day maximum for the SR form" in found[0].message

    def test_a_300_mg_immediate_release_bupropion_dose_exceeds_the_single_dose_maximum(
        self,
    ) -> None:
        found = findings_of("MAX-BUPROPION", course("o1", "bupropion IR", 300))
        assert summary(found) == [("per_dose", "major")]
        assert found[0].message == (
            "Bupropion 300 mg a dose exceeds the 150 mg single-dose maximum for the IR form."
        )
        assert "seizure" in found[0].action

    def test_trazodone_500_mg_a_day_exceeds_the_outpatient_maximum_and_says_so(self) -> None:
        found = findings_of("MAX-TRAZODONE", course("o1", "trazodone", 250, "twice daily"))
        assert summary(found) == [("", "major")]
        assert "500 mg/day exceeds the 400 mg/day maximum for outpatients" in found[0].message
        assert "No inpatient care setting is recorded" in found[0].message
        assert "outpatient maximum applies" in found[0].message

    def test_trazodone_500_mg_a_day_is_within_the_inpatient_maximum(self) -> None:
        order = course("o1", "trazodone", 250, "twice daily")
        assert findings_of("MAX-TRAZODONE", order, **INPATIENT) == []

    def test_risperidone_10_mg_a_day_raises_the_advisory_not_the_maximum(self) -> None:
        found = findings_of("MAX-RISPERIDONE", course("o1", "risperidone", 5, "twice daily"))
        assert summary(found) == [("advisory", "moderate")]
        assert "10 mg/day is above 6 mg/day" in found[0].message
        assert "not more effective" in found[0].message

    def test_wellbutrin_xl_450_mg_once_daily_is_no_false_alarm(self) -> None:
        assert findings_of("MAX-BUPROPION", course("o1", "Wellbutrin XL", 450)) == []

    def test_venlafaxine_ir_375_mg_a_day_is_within_the_inpatient_maximum(self) -> None:
        order = course("o1", "venlafaxine IR", 125, "three times daily")
        assert findings_of("MAX-VENLAFAXINE", order, **INPATIENT) == []

    def test_a_formulation_on_the_order_wins_over_the_name(self) -> None:
        order = of_form(course("o1", "bupropion", 150, "three times daily"), "SR")
        assert summary(findings_of("MAX-BUPROPION", order)) == [("", "major")]


class TestUnknownFormulation:
    def test_venlafaxine_300_mg_a_day_without_a_form_fires_and_says_it_was_not_given(
        self,
    ) -> None:
        found = findings_of("MAX-VENLAFAXINE", course("o1", "venlafaxine", 150, "twice daily"))
        assert summary(found) == [("", "major")]
        assert "225 mg/day maximum for outpatients" in found[0].message
        assert "The formulation was not given" in found[0].message
        assert "highest maximum of its forms (IR and XR)" in found[0].message

    def test_bupropion_300_mg_once_daily_without_a_form_needs_the_form(self) -> None:
        found = findings_of("MAX-BUPROPION", course("o1", "bupropion", 300))
        assert summary(found) == [("formulation_unknown", "moderate")]
        assert found[0].message == (
            "The formulation was not given: bupropion 300 mg/day (300 mg a dose) is within the "
            "highest maximum of its forms but above the maximum for IR (150 mg a dose) and SR "
            "(200 mg a dose)."
        )
        assert "Record the formulation" in found[0].action

    def test_a_form_the_rule_does_not_distinguish_is_named_in_the_message(self) -> None:
        found = findings_of("MAX-BUPROPION", course("o1", "bupropion ER", 425))
        assert "The formulation ER does not say which of IR, SR and XL" in found[0].message

    def test_er_means_the_form_the_rule_says_it_means(self) -> None:
        order = course("o1", "venlafaxine extended release", 150, "twice daily")
        found = findings_of("MAX-VENLAFAXINE", order, **INPATIENT)
        assert "for the XR form" in found[0].message

    @pytest.mark.parametrize("limit", WITH_FORMS, ids=lambda r: r.rule.id)
    def test_above_the_highest_maximum_fires_at_the_rules_severity(self, limit: DoseLimit) -> None:
        order = course("o1", limit.drug, (limit.max_per_day + 4) / 4, "four times daily")
        found = findings_of(limit.rule.id, order)
        assert summary(found) == [("", limit.rule.severity)]
        assert f"{mg(limit.max_per_day)} mg/day maximum" in found[0].message
        assert "formulation was not given" in found[0].message

    @pytest.mark.parametrize("limit", WITH_FORMS, ids=lambda r: r.rule.id)
    def test_within_every_forms_maximum_it_is_quiet(self, limit: DoseLimit) -> None:
        lowest = min(f.per_day for f in limit.forms.figures.values())
        order = course("o1", limit.drug, lowest / 4, "four times daily")
        assert findings_of(limit.rule.id, order) == []

    @pytest.mark.parametrize(
        "limit",
        [lim for lim in WITH_FORMS if len({f.per_day for f in lim.forms.figures.values()}) > 1],
        ids=lambda r: r.rule.id,
    )
    def test_above_a_lower_forms_maximum_is_moderate_and_names_that_form(
        self, limit: DoseLimit
    ) -> None:
        form, lowest = min(limit.forms.figures.items(), key=lambda item: item[1].per_day)
        order = course("o1", limit.drug, (lowest.per_day + 0.5) / 4, "four times daily")
        found = findings_of(limit.rule.id, order)
        assert summary(found) == [("formulation_unknown", "moderate")]
        assert f"{form} ({mg(lowest.per_day)} mg/day" in found[0].message


@pytest.mark.parametrize(
    ("limit", "form"), WITH_INPATIENT, ids=[f"{lim.rule.id}:{f}" for lim, f in WITH_INPATIENT]
)
class TestCareSetting:
    def _order(self, limit: DoseLimit, form: str | None, daily: float) -> MedicationCourse:
        return of_form(course("o1", limit.drug, daily / 4, "four times daily"), form)

    def _figures(self, limit: DoseLimit, form: str | None) -> tuple[float, float]:
        figures = limit.forms.figures[form] if form else limit.own
        assert figures.inpatient_per_day is not None
        return figures.per_day, figures.inpatient_per_day

    def test_without_a_setting_the_outpatient_maximum_applies_and_is_named(
        self, limit: DoseLimit, form: str | None
    ) -> None:
        outpatient, inpatient = self._figures(limit, form)
        found = findings_of(limit.rule.id, self._order(limit, form, inpatient))
        assert summary(found) == [("", "major")]
        assert f"{mg(outpatient)} mg/day maximum" in found[0].message
        assert "for outpatients" in found[0].message
        assert "No inpatient care setting is recorded" in found[0].message

    def test_an_inpatient_may_have_the_inpatient_maximum(
        self, limit: DoseLimit, form: str | None
    ) -> None:
        _, inpatient = self._figures(limit, form)
        order = self._order(limit, form, inpatient)
        assert findings_of(limit.rule.id, order, **INPATIENT) == []

    def test_above_the_inpatient_maximum_an_inpatient_is_alerted(
        self, limit: DoseLimit, form: str | None
    ) -> None:
        _, inpatient = self._figures(limit, form)
        found = findings_of(limit.rule.id, self._order(limit, form, inpatient + 4), **INPATIENT)
        assert summary(found) == [("", "major")]
        assert f"{mg(inpatient)} mg/day maximum" in found[0].message
        assert "for inpatients" in found[0].message


@pytest.mark.parametrize(
    ("limit", "form"), WITH_PER_DOSE, ids=[f"{lim.rule.id}:{f}" for lim, f in WITH_PER_DOSE]
)
class TestSingleDoseMaximum:
    def _per_dose(self, limit: DoseLimit, form: str) -> float:
        per_dose = limit.forms.figures[form].per_dose
        assert per_dose is not None
        return per_dose

    def test_a_single_dose_at_the_maximum_is_quiet(self, limit: DoseLimit, form: str) -> None:
        order = of_form(course("o1", limit.drug, self._per_dose(limit, form)), form)
        assert findings_of(limit.rule.id, order) == []

    def test_a_single_dose_above_it_fires_even_within_the_daily_maximum(
        self, limit: DoseLimit, form: str
    ) -> None:
        order = of_form(course("o1", limit.drug, self._per_dose(limit, form) + 25), form)
        found = findings_of(limit.rule.id, order)
        assert summary(found) == [("per_dose", limit.rule.severity)]
        assert f"{mg(self._per_dose(limit, form))} mg single-dose maximum" in found[0].message


@pytest.mark.parametrize("limit", WITH_ADVISORY, ids=lambda r: r.rule.id)
class TestAdvisoryThreshold:
    def _order(self, limit: DoseLimit, daily: float) -> MedicationCourse:
        return course("o1", limit.drug, daily / 2, "twice daily")

    def test_at_the_threshold_it_is_quiet(self, limit: DoseLimit) -> None:
        assert limit.advisory is not None
        assert findings_of(limit.rule.id, self._order(limit, limit.advisory.above_per_day)) == []

    def test_above_it_fires_at_the_advisory_severity(self, limit: DoseLimit) -> None:
        assert limit.advisory is not None
        found = findings_of(limit.rule.id, self._order(limit, limit.advisory.above_per_day + 1))
        assert summary(found) == [("advisory", limit.advisory.severity)]
        assert found[0].source == limit.rule.source

    def test_above_the_maximum_only_the_maximum_fires(self, limit: DoseLimit) -> None:
        found = findings_of(limit.rule.id, self._order(limit, limit.max_per_day + 2))
        assert summary(found) == [("", limit.rule.severity)]


class TestSources:
    @pytest.mark.parametrize(
        "rule_id",
        ["MAX-VENLAFAXINE", "MAX-BUPROPION", "MAX-TRAZODONE", "MAX-PAROXETINE", "MAX-RISPERIDONE"],
    )
    def test_every_figure_of_the_rule_is_cited_in_its_source(self, rule_id: str) -> None:
        limit = LIMITS[rule_id]
        figures = (
            [limit.own, *limit.forms.figures.values()]
            if not limit.forms.figures
            else [*limit.forms.figures.values()]
        )
        numbers = {f.per_day for f in figures} | {
            n for f in figures for n in (f.inpatient_per_day, f.per_dose) if n is not None
        }
        if limit.advisory:
            numbers.add(limit.advisory.above_per_day)
        for number in numbers:
            assert f"{mg(number)} mg" in limit.rule.source, number
        assert limit.rule.evidence in ("V", "K")


RAW: dict[str, Any] = json.loads(
    resources.files("domain.safety").joinpath("rulepack.json").read_text("utf-8")
)
BUP = next(i for i, r in enumerate(RAW["dose_limits"]) if r["id"] == "MAX-BUPROPION")
TRZ = next(i for i, r in enumerate(RAW["dose_limits"]) if r["id"] == "MAX-TRAZODONE")
RIS = next(i for i, r in enumerate(RAW["dose_limits"]) if r["id"] == "MAX-RISPERIDONE")


class TestMalformedFormFigures:
    @pytest.mark.parametrize(
        ("index", "field", "value", "named"),
        [
            (BUP, "formulations", {"XXL": {"max_mg_per_day": 1}}, "XXL"),
            (BUP, "formulations", {}, "formulations"),
            (BUP, "max_mg_per_day", 450, "max_mg_per_day"),
            (BUP, "formulations", {"IR": {"max_mg_per_day": 450, "also": ["SR"]},
                                   "SR": {"max_mg_per_day": 400}}, "also"),
            (BUP, "formulations", {"IR": {"max_mg_per_day": 100, "max_mg_per_dose": 150}},
             "max_mg_per_dose"),
            (TRZ, "inpatient_max_mg_per_day", 300, "inpatient_max_mg_per_day"),
            (RIS, "advisory", {"above_mg_per_day": 6, "severity": "major", "message": "x",
                               "action": "y"}, "severity"),
            (RIS, "advisory", {"above_mg_per_day": 6, "severity": "moderate",
                               "message": "{drug} {limit}", "action": "y"}, "message"),
        ],
    )  # fmt: skip
    def test_a_malformed_figure_is_refused_naming_the_rule_and_field(
        self, tmp_path: Path, index: int, field: str, value: Any, named: str
    ) -> None:
        raw = copy.deepcopy(RAW)
        raw["dose_limits"][index][field] = value
        path = tmp_path / "pack.json"
        path.write_text(json.dumps(raw), encoding="utf-8")
        with pytest.raises(RulePackError) as raised:
            load_rule_pack(path)
        assert raw["dose_limits"][index]["id"] in str(raised.value)
        assert named in str(raised.value)
