"""Properties of ``evaluate``: deterministic, and blind to the order of the medication list."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from safety_cases import T0

from domain.safety import (
    AssessmentPoint,
    Change,
    DoseStep,
    LabResult,
    MedicationCourse,
    PatientContext,
    evaluate,
)

DRUGS = [
    "sertraline", "Zoloft", "fluoxetine", "venlafaxine", "phenelzine", "linezolid", "lithium",
    "ibuprofen", "lisinopril", "hydrochlorothiazide", "clozapine", "fluvoxamine",
    "carbamazepine", "lamotrigine", "valproate", "quetiapine", "clarithromycin", "aripiprazole",
    "bupropion", "citalopram", "omeprazole", "ziprasidone", "methadone", "clonazepam",
    "alprazolam", "oxycodone", "tramadol", "sumatriptan", "thioridazine", "Depakote",
    "methylene blue", "Unknownazine", "Symbyax 6/25", "olanzapine/fluoxetine",
    "Zoloft (sertraline)", "Nuedexta", "pimozide",
]  # fmt: skip
FREQUENCIES = [
    "once daily",
    "twice daily",
    "every 8 hours",
    "at night",
    "weekly",
    "BID",
    "as needed",
]
ROUTES = ["oral", "oral", "oral", "intravenous", "topical"]
KINDS = ["prescribed", "dose_changed", "discontinued", "assessment", "side_effect", "lab", "fact"]
TESTS = ["lithium_level", "anc", "weight", "ecg", "renal_function", "lipids", "rash_check"]

offsets = st.integers(min_value=-400, max_value=60).map(lambda d: T0 + timedelta(days=d))


@st.composite
def courses(draw: st.DrawFn, index: int) -> MedicationCourse:
    start = draw(st.integers(min_value=-300, max_value=0))
    times = sorted(
        draw(st.lists(st.integers(min_value=0, max_value=120), min_size=0, max_size=3, unique=True))
    )
    steps = tuple(
        DoseStep(
            T0 + timedelta(days=start + t),
            draw(st.sampled_from([0.5, 12.5, 25, 50, 400])),
            draw(st.sampled_from(["mg", "mg", "mcg", "mL"])),
            draw(st.sampled_from(FREQUENCIES)),
        )
        for t in [0, *[t for t in times if t > 0]]
    )
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        steps = ()  # an order with no dose yet must not break any rule
    stop = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=200)))
    return MedicationCourse(
        order_id=f"o{index}",
        drug=draw(st.sampled_from(DRUGS)),
        route=draw(st.sampled_from(ROUTES)),
        steps=steps,
        stopped_at=None if stop is None else T0 + timedelta(days=start + stop),
        taper=draw(st.sampled_from([None, None, "taper over 4 weeks"])),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[PatientContext, Change]:
    count = draw(st.integers(min_value=0, max_value=6))
    medications = tuple(draw(courses(i)) for i in range(count))
    labs = tuple(
        LabResult(draw(st.sampled_from(TESTS)), draw(offsets), 1.0)
        for _ in range(draw(st.integers(min_value=0, max_value=5)))
    )
    assessments = tuple(
        sorted(
            (
                AssessmentPoint(
                    "PHQ-9",
                    None,
                    tuple(draw(st.lists(st.integers(0, 3), min_size=9, max_size=9))),
                    draw(offsets),
                )
                for _ in range(draw(st.integers(min_value=0, max_value=3)))
            ),
            key=lambda a: a.effective_at,
        )
    )
    context = PatientContext(
        now=T0 + timedelta(days=1),
        birth_date=draw(st.one_of(st.none(), st.just(date(1950, 5, 1)), st.just(date(1990, 1, 1)))),
        facts=draw(
            st.sampled_from(
                [
                    {},
                    {"smoking": "non-smoker"},
                    {"weight_kg": "70"},
                    {"cyp2d6_metaboliser": "poor", "hepatic_impairment": "yes"},
                    {"alcohol_use": "heavy"},
                    {"alcohol_use": "stopped_abruptly"},
                ]
            )
        ),
        medications=medications,
        assessments=assessments,
        labs=labs,
    )
    order = draw(st.sampled_from([m.order_id for m in medications] or [None]))
    when = draw(
        st.sampled_from(
            [a.effective_at for a in assessments]
            + [T0]
            + [s.effective_at for m in medications for s in m.steps]
        )
    )
    change = Change(
        draw(st.sampled_from(KINDS)),
        when,
        order,
        fact="smoking",
        previous_value=draw(st.sampled_from([None, "smoker"])),
    )
    return context, change


@settings(max_examples=100, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_findings_do_not_depend_on_the_order_of_the_medication_list(case, rng) -> None:  # type: ignore[no-untyped-def]
    context, change = case
    shuffled = list(context.medications)
    rng.shuffle(shuffled)
    labs = list(context.labs)
    rng.shuffle(labs)
    reordered = PatientContext(
        context.now,
        context.birth_date,
        context.facts,
        tuple(shuffled),
        context.assessments,
        tuple(labs),
    )
    assert evaluate(reordered, change) == evaluate(context, change)


@settings(max_examples=50, deadline=None)
@given(cases())
def test_evaluate_is_deterministic_and_sorted(case) -> None:  # type: ignore[no-untyped-def]
    context, change = case
    first = evaluate(context, change)
    assert first == evaluate(context, change)
    ranks = ["urgent", "contraindicated", "major", "moderate", "minor", "info"]
    assert [(ranks.index(f.severity), f.key) for f in first] == sorted(
        (ranks.index(f.severity), f.key) for f in first
    )
    assert len({f.key for f in first}) == len(first)
    assert all(f.order_ids == tuple(sorted(f.order_ids)) for f in first)
    # contraindicated blocks, except a fact rule's finding raised by recording that fact: it
    # says the fact was recorded, not refused, and asks for a review. (The write path never
    # refuses a fact write at all: services.writing.safety_check ignores blocking for it.)
    # A condition rule blocks only the prescription or dose change that would start the
    # harm: recording the condition (or any other write) alerts, never refuses. A
    # pharmacogenomic rule likewise: a phenotype on record refuses only the prescription or
    # dose change of its drug (pgx_rules marks it non-blocking, with a note, on other writes).
    fact_write = change.kind == "fact"
    prescribing = change.kind in ("prescribed", "dose_changed")
    assert all(f.severity == "contraindicated" for f in first if f.blocking)
    assert all(
        f.blocking
        for f in first
        if f.severity == "contraindicated"
        and not (fact_write and f.fact)
        and (prescribing or not f.rule_id.startswith(("COND-", "PGX-")))
    )
