"""Which figures a dose check uses, by the orders' formulations and the care setting.

An order of a known form is held to that form's maximum; with orders of several forms the
highest of theirs applies to the total. An order of unknown form is held to the highest
maximum of all the drug's forms, so that no known form raises a false alarm; but a dose
that a lower form's maximum would forbid is then reported as needing the formulation
(moderate), or as over the maximum of every form (the rule's severity).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.dose_forms import (
    Maximum,
    form_phrase,
    highest_daily,
    highest_per_dose,
    inpatient,
    joined,
    setting_note,
)
from domain.safety.dose_limit_rules import EPSILON, DoseLimit, limit_for
from domain.safety.frequency import mg_per_unit
from domain.safety.matching import labels
from domain.safety.plan_view import Course, PlanView
from domain.safety.wording import finding, mg

UNKNOWN_FORM_ACTION = (
    "Record the formulation with the drug name (e.g. 'bupropion SR', 'venlafaxine XR'), "
    "and check the dose against that form's maximum by hand meanwhile."
)


def dose_mg(course: Course) -> float:
    """The current single dose in mg (the course's unit is known to convert)."""
    step = course.steps[-1]
    return step.amount * (mg_per_unit(step.unit) or 1.0)


@dataclass(frozen=True)
class FormPlan:
    """The figures one limit is checked with for this plan."""

    limit: DoseLimit
    view: PlanView
    at_inpatient: bool
    form_of: dict[str, str | None]  # order id -> the rule's form; empty: no forms in the rule

    @classmethod
    def of(cls, limit: DoseLimit, courses: list[Course], view: PlanView) -> FormPlan:
        forms = limit.forms
        form_of = {c.order_id: forms.of(c) for c in courses} if forms.figures else {}
        return cls(limit, view, inpatient(view), form_of)

    @property
    def unknown(self) -> bool:
        return any(form is None for form in self.form_of.values())

    def names(self) -> list[str]:
        """The forms whose figures apply: all of them when a form is unknown."""
        if self.unknown:
            return sorted(self.limit.forms.figures)
        return sorted({form for form in self.form_of.values() if form is not None})

    def used(self) -> list[Maximum]:
        if not self.form_of:
            return [self.limit.own]
        return [self.limit.forms.figures[name] for name in self.names()]

    def daily(self) -> float:
        return highest_daily(self.used(), self.at_inpatient)

    def lead(self) -> str:
        """How the maximum is qualified in the message: "for the SR form", "for outpatients"."""
        parts = [] if not self.form_of or self.unknown else [form_phrase(self.names())]
        if any(f.inpatient_per_day is not None for f in self.used()):
            parts.append("for inpatients" if self.at_inpatient else "for outpatients")
        return " ".join(parts)

    def basis(self) -> str | None:
        used = self.used()
        if self.form_of and len(used) == 1 and used[0].basis:
            return used[0].basis
        return self.limit.basis

    def notes(self, courses: list[Course]) -> str:
        """Sentences saying which figures were assumed: unknown form, outpatient setting."""
        notes = ""
        if self.unknown:
            unknown = [c for c in courses if self._unknown(c)]
            notes = (
                f" {self.limit.forms.unknown_note(unknown)}: the highest maximum of its "
                f"forms ({self.limit.forms.names()}) was used."
            )
        if not self.at_inpatient:
            notes += setting_note(self.used(), at_inpatient=False)
        return notes

    def _unknown(self, course: Course) -> bool:
        return course.order_id in self.form_of and self.form_of[course.order_id] is None

    def per_dose_findings(self, dosed: list[Course]) -> list[Finding]:
        """Each order's single dose against its form's single-dose maximum."""
        findings = []
        for course in dosed:
            form = self.form_of.get(course.order_id)
            if not self.form_of:
                most, phrase = self.limit.max_per_dose, ""
            elif form is not None:
                most = self.limit.forms.figures[form].per_dose
                phrase = f" {form_phrase([form])}"
            else:
                most = highest_per_dose(self.limit.forms.figures.values())
                phrase = " (the highest of its forms)"
            amount = dose_mg(course)
            if most is None or amount <= most + EPSILON:
                continue
            message = (
                f"{course.label} {mg(amount)} mg a dose exceeds the {mg(most)} mg "
                f"single-dose maximum{phrase}."
            )
            note = self.notes([course]) if form is None and self.form_of else ""
            findings.append(
                finding(
                    self.limit.rule,
                    "max_dose",
                    [course.order_id],
                    message + note,
                    key_parts=("per_dose",),
                )
            )
        return findings

    def unknown_form_findings(self, dosed: list[Course], total: float) -> list[Finding]:
        """Within the highest maximum, but over a lower form's: the formulation is needed."""
        unknown = [c for c in dosed if self._unknown(c)]
        if not unknown:
            return []
        known = [self.limit.forms.figures[f] for f in self.form_of.values() if f is not None]
        over = []
        for name, figures in sorted(self.limit.forms.figures.items()):
            allowed = limit_for(
                self.limit, self.view, highest_daily([figures, *known], self.at_inpatient)
            )
            if allowed is None:
                continue
            per_dose = figures.per_dose
            daily_over = total > allowed[0] + EPSILON
            dose_over = per_dose is not None and any(
                dose_mg(c) > per_dose + EPSILON for c in unknown
            )
            exceeded = [f"{mg(allowed[0])} mg/day"] if daily_over else []
            if dose_over and per_dose is not None:
                exceeded.append(f"{mg(per_dose)} mg a dose")
            if exceeded:
                over.append(f"{name} ({', '.join(exceeded)})")
        if not over:
            return []
        every = len(over) == len(self.limit.forms.figures)
        doses = ", ".join(sorted({mg(dose_mg(c)) for c in unknown}, key=float))
        within = "is above" if every else "is within the highest maximum of its forms but above"
        message = (
            f"{self.limit.forms.unknown_note(unknown)}: {labels(unknown)} {mg(total)} mg/day "
            f"({doses} mg a dose) {within} the maximum for {joined(over)}."
        )
        return [
            finding(
                self.limit.rule,
                "max_dose",
                [c.order_id for c in unknown],
                message + setting_note(self.used(), self.at_inpatient),
                severity=None if every else "moderate",
                key_parts=("formulation_unknown",),
                action=UNKNOWN_FORM_ACTION,
            )
        ]
