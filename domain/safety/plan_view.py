"""The patient context as the rules read it: drugs resolved, courses in a canonical order.

Courses are sorted by start and order id before any rule runs, so that no finding can
depend on the order in which the caller listed the medications. A course is active for a
change if it has not stopped by the change's effective time (a cross-taper's later stop
keeps it active). A combination product ("Symbyax 6/25") becomes one course per
ingredient, all of the same order, each with its share of the dose when the strengths
are known (``identity``), so that every rule meets every ingredient.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from domain.safety.context import Change, DoseStep, LabResult, MedicationCourse, PatientContext
from domain.safety.drugs import (
    DrugIndex,
    DrugInfo,
    normalise_name,
    strip_salt_and_form,
    test_key,
)
from domain.safety.formulations import formulation_in
from domain.safety.identity import Identity, Part, identify
from domain.safety.implied_facts import implied_facts
from domain.safety.phenotypes import gene_phenotypes, overlay, result_labs

COUNT_UNIT = "units"
"""The unit of a combination's dose given as tablets or capsules (dose units)."""
SHARE_UNKNOWN = "share of a combination"
"""The unit of an ingredient's dose when its share could not be worked out: no rule
converts it to mg, so no rule can mistake the product's dose for the ingredient's."""

_ROUTE_ALIASES = {
    "po": "oral", "by mouth": "oral", "iv": "intravenous", "im": "intramuscular",
    "sc": "subcutaneous", "subcut": "subcutaneous", "sl": "sublingual", "td": "transdermal",
}  # fmt: skip


@dataclass(frozen=True)
class Course:
    """A medication course with the pack's knowledge of its drug."""

    source: MedicationCourse
    info: DrugInfo | None
    label: str  # how messages name it: "sertraline", or "Zoloft (sertraline)"
    route: str
    ingredient_steps: tuple[DoseStep, ...] | None = None  # a combination's share, per step
    share_problem: str | None = None  # why a combination's share is unknown (None: known)
    product: str | None = None  # the marketed combination product it is an ingredient of

    @property
    def order_id(self) -> str:
        return self.source.order_id

    @property
    def drug(self) -> str:
        """The generic name, or the typed name normalised when the pack does not know it."""
        return self.info.name if self.info else normalise_name(self.source.drug)

    @property
    def classes(self) -> frozenset[str]:
        return self.info.classes if self.info else frozenset()

    @property
    def formulation(self) -> str | None:
        """The order's formulation, else the one its typed name states; None if not given."""
        stated = self.source.formulation
        return formulation_in(stated) if stated else formulation_in(self.source.drug)

    @property
    def steps(self) -> tuple[DoseStep, ...]:
        if self.ingredient_steps is not None:
            return self.ingredient_steps
        return self.source.steps

    @property
    def start(self) -> datetime | None:
        return self.source.steps[0].effective_at if self.source.steps else None

    @property
    def stopped_at(self) -> datetime | None:
        return self.source.stopped_at

    @property
    def continuing_since(self) -> datetime | None:
        """The true start of established therapy this order continues (None: a new start)."""
        return self.source.continuing_since

    @property
    def true_start(self) -> datetime | None:
        """When the patient began this therapy: the continuing date, else the first step."""
        return self.source.continuing_since or self.start

    def active_at(self, at: datetime) -> bool:
        return self.source.stopped_at is None or self.source.stopped_at > at


def _label(typed: str, info: DrugInfo | None) -> str:
    shown = " ".join(typed.split())
    if info is None:
        return shown
    if strip_salt_and_form(normalise_name(shown)) in (info.name, normalise_name(info.display)):
        return info.display  # "sertraline hydrochloride" is just sertraline
    return f"{shown} ({info.display})"


def _share(step: DoseStep, part: Part) -> DoseStep | None:
    """One ingredient's part of a combination's dose step, in mg; None if unknown."""
    if part.strength_mg is None or step.unit != COUNT_UNIT:
        return None
    return DoseStep(step.effective_at, step.amount * part.strength_mg, "mg", step.frequency)


def _in_mg(steps: tuple[DoseStep, ...], mg_per_ml: float | None) -> tuple[DoseStep, ...] | None:
    """A liquid's steps dosed in mL, in mg by its concentration; None if none is in mL."""
    if mg_per_ml is None or not any(s.unit.lower() == "ml" for s in steps):
        return None
    return tuple(
        DoseStep(s.effective_at, s.amount * mg_per_ml, "mg", s.frequency)
        if s.unit.lower() == "ml"
        else s
        for s in steps
    )


def resolve(course: MedicationCourse, identity: Identity, route: str) -> list[Course]:
    """The course as the rules see it: one per ingredient of a combination."""
    if len(identity.parts) == 1:
        part = identity.parts[0]
        shown = " ".join(course.drug.split())
        named = part.info is not None and re.search(
            rf"\b{re.escape(normalise_name(part.info.display))}\b", normalise_name(shown)
        )
        label = shown if named and "(" in shown else _label(course.drug, part.info)
        liquid = _in_mg(course.steps, course.mg_per_ml or part.mg_per_ml)
        return [Course(course, part.info, label, route, liquid)]
    problem = identity.share_problem()
    courses = []
    for part in identity.parts:
        if part.info is None:
            label = f"{' '.join(part.typed.split())} (in {' '.join(course.drug.split())})"
            courses.append(Course(course, None, label, route))
            continue
        shares = [None if problem else _share(step, part) for step in course.steps]
        why = problem
        if why is None and any(share is None for share in shares):
            why = (
                "the dose is not given in units (tablets or capsules) of the strength in the "
                "name, so the ingredient's share of it cannot be worked out"
            )
        steps = tuple(
            share or DoseStep(step.effective_at, step.amount, SHARE_UNKNOWN, step.frequency)
            for share, step in zip(shares, course.steps, strict=True)
        )
        label = _label(course.drug, part.info)
        courses.append(Course(course, part.info, label, route, steps, why, identity.product))
    return courses


def age_on(birth_date: date | None, day: date) -> int | None:
    """Age in completed years."""
    if birth_date is None:
        return None
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


class PlanView:
    """Everything a rule reads, resolved once per evaluation."""

    def __init__(
        self,
        context: PatientContext,
        change: Change,
        drugs: DrugIndex,
        tests: Mapping[str, str],
    ) -> None:
        self.context = context
        self.change = change
        self._focus: Course | None = None
        resolved = []
        for course in context.medications:
            route = " ".join(course.route.lower().split())
            identity = identify(drugs, course.drug)
            resolved.extend(resolve(course, identity, _ROUTE_ALIASES.get(route, route)))
        self.courses = tuple(
            sorted(
                resolved,
                key=lambda c: (c.start is None, c.start or context.now, c.order_id, c.drug),
            )
        )
        self.active = tuple(c for c in self.courses if c.active_at(change.effective_at))
        self.age = age_on(context.birth_date, context.now.date())
        self.facts = {
            normalise_name(name): " ".join(value.lower().split())
            for name, value in context.facts.items()
        }
        self.facts = implied_facts(context.conditions, self.facts)  # coded conditions
        if context.sex_at_birth:  # the recorded sex at birth is what a rule on sex reads
            self.facts["sex at birth"] = context.sex_at_birth
        # pharmacogenomic results: the better source of the metaboliser and HLA facts
        self.genes = gene_phenotypes(context.pharmacogenomics, self.facts)
        self.facts = overlay(self.genes, self.facts)
        self._labs: dict[str, list[LabResult]] = {}
        labs = (*context.labs, *result_labs(context.pharmacogenomics))  # HLA-B*15:02 results
        for lab in sorted(labs, key=lambda lab: (lab.effective_at, lab.test)):
            test = test_key(lab.test, tests) or normalise_name(lab.test)
            self._labs.setdefault(test, []).append(lab)

    def course(self, order_id: str | None) -> Course | None:
        """The course a change is about, if it names one the plan holds (of a combination
        product, its first ingredient, or the one ``further_ingredients`` focuses on)."""
        if self._focus is not None and self._focus.order_id == order_id:
            return self._focus
        return next((c for c in self.courses if c.order_id == order_id), None)

    def further_ingredients(self) -> tuple[PlanView, ...]:
        """This view focused on each ingredient of the changed order after the first (a
        combination product), so that the rules about a change judge every ingredient."""
        views = []
        for course in self.courses_of(self.change.order_id)[1:]:
            focused = copy.copy(self)
            focused._focus = course
            views.append(focused)
        return tuple(views)

    def courses_of(self, order_id: str | None) -> tuple[Course, ...]:
        """Every course of an order: one, or one per ingredient of a combination."""
        return tuple(c for c in self.courses if c.order_id == order_id)

    def fact(self, name: str) -> str | None:
        return self.facts.get(normalise_name(name))

    def labs(self, test: str) -> tuple[LabResult, ...]:
        """Results of one test of the pack's vocabulary, in effective order."""
        return tuple(self._labs.get(test, ()))

    def others(self, drug: str) -> tuple[Course, ...]:
        """Active courses of drugs other than ``drug``: what a drug is combined with."""
        return tuple(c for c in self.active if c.drug != drug)
