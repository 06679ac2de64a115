"""Whole courses of treatment, step by step, with exactly the alerts a clinician would see."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from safety_cases import PACK, T0, born_aged, context, course, days, step
from safety_cases import run as run_engine

from domain.safety import Change, Finding, LabResult, MedicationCourse, PatientContext
from domain.safety.measurement_care import KINDS as CARE_KINDS
from domain.safety.monitoring import check_monitoring
from domain.safety.plan_view import PlanView
from domain.safety.wording import SEVERITY_RANK

Summary = tuple[str, str, tuple[str, ...], date | None]


def run(
    ctx: PatientContext,
    kind: str = "lab",
    when: datetime | None = None,
    order_id: str | None = None,
    **extra: str,
) -> list[Finding]:
    """The engine's findings with monitoring shown check by check (``check_monitoring``),
    not as the one alert per prescription the engine lists them in (tested apart), and
    without the measurement-based-care prompts (PHQ-9 due, consider a change: tested
    apart in test_safety_measurement_care.py)."""
    engine = run_engine(ctx, kind, when, order_id, **extra)
    found = [f for f in engine if f.kind not in ("monitoring_due", *CARE_KINDS)]
    change = Change(kind, when or ctx.now, order_id, **extra)  # type: ignore[arg-type]
    view = PlanView(ctx, change, PACK.index, PACK.test_names)
    labels = {name: test.label for name, test in PACK.lab_tests.items()}
    found += check_monitoring(PACK.monitoring, view, labels)
    return sorted(found, key=lambda f: (SEVERITY_RANK.get(f.severity, 99), f.key))


def at(day: float) -> datetime:
    return T0 + days(day)


def summary(findings: Iterable[Finding]) -> list[Summary]:
    return [
        (f.rule_id, f.severity, f.order_ids, f.due_at.date() if f.due_at else None)
        for f in findings
    ]


def on(day: float) -> date:
    return at(day).date()


def plan(*courses: MedicationCourse, day: float, **kw: object) -> PatientContext:
    return context(*courses, now=at(day), birth_date=born_aged(35), **kw)  # type: ignore[arg-type]


class TestSertralineToVenlafaxine:
    """Start, titrate, a side effect, a cross-taper switch, a tapered stop."""

    sert_start = step(at(0), 50)
    sert_up = step(at(14), 100)
    sert_down = step(at(56), 50)
    sert_tapered = course(  # stopped on day 70 after two weeks at 50 mg
        "sert",
        "Zoloft",
        steps=[sert_start, sert_up, sert_down],
        stopped_at=at(70),
        taper="50 mg daily for 14 days, then stop",
    )
    venlafaxine = course("ven", "Effexor XR", 37.5, "twice daily", start=at(56))

    def test_the_start_raises_nothing(self) -> None:
        ctx = plan(course("sert", "Zoloft", steps=[self.sert_start]), day=0)
        assert run(ctx, "prescribed", at(0), "sert") == []

    def test_titrating_within_the_label_raises_nothing(self) -> None:
        ctx = plan(course("sert", "Zoloft", steps=[self.sert_start, self.sert_up]), day=14)
        assert run(ctx, "dose_changed", at(14), "sert") == []

    def test_a_side_effect_report_raises_nothing_new(self) -> None:
        ctx = plan(course("sert", "Zoloft", steps=[self.sert_start, self.sert_up]), day=42)
        assert run(ctx, "side_effect", at(42), "sert") == []

    def test_halving_the_dose_for_the_switch_is_not_an_abrupt_cut(self) -> None:
        steps = [self.sert_start, self.sert_up, self.sert_down]
        ctx = plan(course("sert", "Zoloft", steps=steps), day=56)
        assert run(ctx, "dose_changed", at(56), "sert") == []

    def test_starting_venlafaxine_during_the_cross_taper_is_duplicate_therapy(self) -> None:
        sert = course("sert", "Zoloft", steps=[self.sert_start, self.sert_up, self.sert_down])
        ven = self.venlafaxine
        found = run(plan(sert, ven, day=56), "prescribed", at(56), "ven")
        assert summary(found) == [("DDI-31A", "moderate", ("sert", "ven"), None)]
        assert "Effexor XR (venlafaxine)" in found[0].message

    def test_the_duplicate_says_the_switch_is_expected_while_sertraline_winds_down(self) -> None:
        sert, ven = self.sert_tapered, self.venlafaxine
        found = run(plan(sert, ven, day=63), "side_effect", at(63), "ven")
        assert summary(found) == [("DDI-31A", "moderate", ("sert", "ven"), None)]
        assert "cross-taper" in found[0].message

    def test_stopping_sertraline_with_its_taper_clears_everything(self) -> None:
        sert, ven = self.sert_tapered, self.venlafaxine
        assert run(plan(sert, ven, day=70), "discontinued", at(70), "sert") == []

    def test_stopping_sertraline_without_a_taper_would_be_flagged(self) -> None:
        sert = course("sert", "Zoloft", steps=[self.sert_start, self.sert_up], stopped_at=at(70))
        found = run(plan(sert, day=70), "discontinued", at(70), "sert")
        assert summary(found) == [("TAPER-SSRI-SNRI", "moderate", ("sert",), None)]


class TestLithiumAndIbuprofen:
    lithium = course("li", "lithium carbonate", 400, "twice daily", start=at(-90))
    labs = (
        LabResult("lithium_level", at(-84), 0.8),
        LabResult("eGFR", at(-91), 85),
        LabResult("TSH", at(-91), 2.1),
        LabResult("calcium", at(-91), 2.3),
    )

    def test_stable_lithium_has_only_its_routine_checks_ahead(self) -> None:
        found = run(plan(self.lithium, day=0, labs=self.labs), "lab", at(0))
        assert summary(found) == [
            ("MON-LITHIUM-CALCIUM", "moderate", ("li",), on(91)),
            ("MON-LITHIUM-LEVEL-6M", "moderate", ("li",), on(98)),
            ("MON-LITHIUM-RENAL", "moderate", ("li",), on(91)),
            ("MON-LITHIUM-TSH", "moderate", ("li",), on(91)),
        ]

    def test_a_new_nsaid_is_an_interaction_and_brings_a_lithium_level_forward(self) -> None:
        ibu = course("ibu", "Advil", 400, "three times daily", start=at(0))
        found = run(plan(self.lithium, ibu, day=0, labs=self.labs), "prescribed", at(0), "ibu")
        assert summary(found) == [
            ("DDI-07", "major", ("ibu", "li"), None),
            ("MON-LITHIUM-CALCIUM", "moderate", ("li",), on(91)),
            ("MON-LITHIUM-LEVEL", "moderate", ("ibu", "li"), on(7)),
            ("MON-LITHIUM-RENAL", "moderate", ("li",), on(91)),
            ("MON-LITHIUM-TSH", "moderate", ("li",), on(91)),
        ]
        assert "Advil (ibuprofen) was started" in found[2].message

    def test_the_level_after_the_start_satisfies_the_check(self) -> None:
        ibu = course("ibu", "Advil", 400, "three times daily", start=at(0))
        labs = [*self.labs, LabResult("lithium level", at(6), 1.1)]
        found = run(plan(self.lithium, ibu, day=6, labs=labs), "lab", at(6))
        assert ("MON-LITHIUM-LEVEL-6M", "moderate", ("li",), on(188)) in summary(found)
        assert [f.rule_id for f in found if f.rule_id == "MON-LITHIUM-LEVEL"] == []


class TestClozapineStart:
    def _plan(self, *steps: object, day: float, labs: list[LabResult]) -> PatientContext:
        clz = course("clz", "Clozaril", steps=steps)  # type: ignore[arg-type]
        metabolic = [
            LabResult(t, at(-3), 1.0)
            for t in ("weight", "waist", "blood pressure", "fasting glucose", "lipids")
        ]
        return plan(clz, day=day, labs=[*labs, *metabolic])

    def test_the_start_schedules_the_first_weekly_anc(self) -> None:
        ctx = self._plan(
            step(at(0), 12.5, "twice daily"), day=0, labs=[LabResult("ANC", at(-3), 2100, "/µL")]
        )
        found = run(ctx, "prescribed", at(0), "clz")
        assert summary(found) == [
            ("MON-CLOZAPINE-ANC", "major", ("clz",), on(4)),
            ("MON-SGA-BP", "moderate", ("clz",), on(84)),
            ("MON-SGA-GLUCOSE", "moderate", ("clz",), on(84)),
            ("MON-SGA-LIPIDS", "moderate", ("clz",), on(84)),
            ("MON-SGA-WAIST", "moderate", ("clz",), on(365)),
            ("MON-SGA-WEIGHT", "moderate", ("clz",), on(28)),
        ]

    def test_without_a_baseline_anc_it_is_due_before_the_first_dose(self) -> None:
        ctx = self._plan(step(at(0), 12.5, "twice daily"), day=0, labs=[])
        assert ("MON-CLOZAPINE-ANC", "major", ("clz",), on(0)) in summary(
            run(ctx, "prescribed", at(0), "clz")
        )

    def test_a_fast_first_step_is_flagged(self) -> None:
        ctx = self._plan(
            step(at(0), 12.5, "twice daily"),
            step(at(1), 50, "twice daily"),
            day=1,
            labs=[LabResult("ANC", at(-3), 2100, "/µL")],
        )
        found = run(ctx, "dose_changed", at(1), "clz")
        assert ("TITR-CLOZAPINE", "major", ("clz",), None) in summary(found)

    def test_the_anc_goes_every_two_weeks_after_six_months_then_monthly(self) -> None:
        anc = [LabResult("anc", at(d), 2000, "/µL") for d in range(-3, 190, 7)]
        ctx = self._plan(
            step(at(0), 12.5, "twice daily"), step(at(14), 300, "once daily"), day=190, labs=anc
        )
        due = [f.due_at for f in run(ctx) if f.test == "anc"]
        assert due == [anc[-1].effective_at + days(14)]
        yearly = [LabResult("anc", at(400), 2000, "/µL")]
        ctx = self._plan(step(at(0), 12.5, "twice daily"), day=401, labs=yearly)
        assert [f.due_at for f in run(ctx) if f.test == "anc"] == [at(430)]


class TestLamotrigineWithValproate:
    valproate = course("vpa", "Depakote", 500, "twice daily", start=at(-200))
    labs = (
        LabResult("lft", at(-10)),
        LabResult("cbc", at(-10)),
        LabResult("valproate level", at(-190)),
    )
    schedule = (
        step(at(0), 25, "every other day"),
        step(at(14), 25),
        step(at(28), 50),
        step(at(35), 100),
    )

    def _run(self, steps: list, kind: str, day: float, rash: float | None = None) -> list:
        labs = list(self.labs)
        if rash is not None:
            labs.append(LabResult("skin check", at(rash)))
        lam = course("lam", "Lamictal", steps=steps)
        ctx = plan(self.valproate, lam, day=day, labs=labs, facts={"weight_kg": "70"})
        return summary(run(ctx, kind, at(day), "lam"))

    def test_the_start_at_25_mg_every_other_day_is_on_schedule(self) -> None:
        assert self._run(self.schedule[:1], "prescribed", 0) == [
            ("DDI-23", "major", ("lam", "vpa"), None),
            ("MON-LAMOTRIGINE-RASH", "moderate", ("lam",), on(14)),
            ("MON-VALPROATE-CBC", "moderate", ("vpa",), on(172)),
            ("MON-VALPROATE-LFT", "moderate", ("vpa",), on(172)),
        ]

    def test_each_step_of_the_valproate_schedule_is_quiet(self) -> None:
        for n, day in ((2, 14), (3, 28), (4, 35)):
            found = self._run(self.schedule[:n], "dose_changed", day, rash=day)
            assert [s for s in found if s[0].startswith("TITR")] == [], day

    def test_the_standard_schedule_is_too_fast_with_valproate(self) -> None:
        steps = [step(at(0), 25), step(at(14), 50)]
        found = self._run(steps, "dose_changed", 14)
        assert ("TITR-LAMOTRIGINE-VALPROATE", "major", ("lam",), None) in found

    def test_going_past_100_mg_breaks_the_valproate_maximum(self) -> None:
        steps = [*self.schedule, step(at(49), 150)]
        found = self._run(steps, "dose_changed", 49, rash=49)
        assert ("MAX-LAMOTRIGINE", "major", ("lam",), None) in found
        assert ("TITR-LAMOTRIGINE-VALPROATE", "major", ("lam",), None) in found


class TestSingleChecks:
    def test_phenelzine_three_weeks_after_fluoxetine_is_blocked(self) -> None:
        fluoxetine = course(
            "flx",
            "Prozac",
            20,
            start=at(-200),
            stopped_at=at(-21),
            taper="none needed: long half-life",
        )
        phenelzine = course("phz", "Nardil", 15, "three times daily", start=at(0))
        found = run(plan(fluoxetine, phenelzine, day=0), "prescribed", at(0), "phz")
        assert summary(found) == [("WASH-MAOI-START", "contraindicated", ("flx", "phz"), None)]
        assert found[0].blocking
        assert "21 days" in found[0].message
        assert "35 days" in found[0].message

    def test_citalopram_40_mg_at_65_exceeds_the_maximum(self) -> None:
        ctx = context(course("cit", "citalopram", 40), now=at(0), birth_date=born_aged(65))
        found = run(ctx, "prescribed", at(0), "cit")
        assert summary(found) == [("MAX-CITALOPRAM", "major", ("cit",), None)]
        assert found[0].message == (
            "Citalopram 40 mg/day exceeds the 20 mg/day maximum for patients over 60."
        )

    def test_a_drug_not_in_the_pack_is_reported_not_passed(self) -> None:
        found = run(context(course("x", "Zyloprim-Q"), now=at(0)), "prescribed", at(0), "x")
        assert summary(found) == [("PACK-UNKNOWN-DRUG", "info", ("x",), None)]
        assert found[0].message == (
            "Zyloprim-Q is not in the rule pack: no interaction or dose checks were made"
        )

    def test_a_phq9_with_item_9_answered_is_urgent_and_first(self) -> None:
        from domain.safety import AssessmentPoint

        ctx = context(
            course("sert", "sertraline", 250),
            now=at(0),
            assessments=[AssessmentPoint("PHQ-9", 12, (1, 1, 2, 2, 1, 2, 1, 1, 1), at(0))],
        )
        found = run(ctx, "assessment", at(0))
        assert [(f.kind, f.severity) for f in found] == [
            ("suicide_risk", "urgent"),
            ("max_dose", "major"),
        ]

    def test_quitting_smoking_on_clozapine_is_flagged(self) -> None:
        ctx = context(
            course("clz", "clozapine", 300),
            now=at(0),
            facts={"smoking": "non-smoker"},
            labs=[LabResult("anc", at(-1))]
            + [LabResult(t, at(-1)) for t in ("weight", "waist", "bp", "glucose", "lipids")],
        )
        found = run(ctx, "fact", at(0), fact="smoking", previous_value="smoker")
        smoking = [f for f in found if f.rule_id == "DDI-13"]
        assert summary(smoking) == [("DDI-13", "major", ("clz",), None)]
        assert "levels will rise" in smoking[0].message


class TestChangeDrivenFindings:
    def test_a_smoking_alert_is_about_the_change_and_is_not_returned_again(self) -> None:
        from domain.safety import is_change_driven

        ctx = context(course("clz", "clozapine", 300), now=at(0), facts={"smoking": "smoker"})
        raised = run(ctx, "fact", at(0), fact="smoking", previous_value="non-smoker")
        smoking = [f for f in raised if f.rule_id == "DDI-13"]
        assert [is_change_driven(f) for f in smoking] == [True]
        later = run(ctx, "lab", at(1))
        assert [f for f in later if f.rule_id == "DDI-13"] == []
        assert not any(is_change_driven(f) for f in later)
