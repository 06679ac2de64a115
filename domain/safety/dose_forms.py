"""Maxima by formulation and care setting, single-dose maxima and advisory thresholds.

Venlafaxine IR allows 375 mg/day for inpatients but 225 mg/day for outpatients; bupropion
SR stops at 400 mg/day and 200 mg a dose. A rule may give its figures per formulation;
an order whose formulation is unknown is checked against the highest of them, and the
alert says so, since a lower figure might be a false alarm and none would be silently
safe. CareLog patients are outpatients unless the clinical fact ``care_setting`` says
``inpatient``; messages say which figure was used when the rule has both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from domain.safety.formulations import FORMULATIONS
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import Record, check_template

SETTING_FACT = "care_setting"
INPATIENT_VALUES = frozenset({"inpatient"})
ADVISORY_SEVERITIES = ("moderate", "info")


@dataclass(frozen=True)
class Maximum:
    """The figures of one formulation, or of a drug that has no per-formulation figures."""

    per_day: float  # outpatient, or any setting when there is no inpatient figure
    inpatient_per_day: float | None = None
    per_dose: float | None = None  # single-dose maximum
    basis: str | None = None

    def daily(self, inpatient: bool) -> float:
        if inpatient and self.inpatient_per_day is not None:
            return self.inpatient_per_day
        return self.per_day


@dataclass(frozen=True)
class Advisory:
    """A daily dose above ``above_per_day`` but within the maximum is worth a second look."""

    above_per_day: float
    severity: str
    message: str  # placeholders: drug, dose, threshold
    action: str


def read_maximum(record: Record, per_day_field: str = "max_mg_per_day") -> Maximum:
    per_day = record.number(per_day_field)
    inpatient = _optional(record, "inpatient_max_mg_per_day")
    per_dose = _optional(record, "max_mg_per_dose")
    if inpatient is not None and inpatient < per_day:
        raise record.fail("inpatient_max_mg_per_day", "is below the outpatient maximum")
    if per_dose is not None and per_dose > max(per_day, inpatient or 0):
        raise record.fail("max_mg_per_dose", "is above the daily maximum")
    basis = record.text("basis") if record.has("basis") else None
    return Maximum(per_day, inpatient, per_dose, basis)


def _optional(record: Record, field: str) -> float | None:
    if not record.has(field):
        return None
    value = record.number(field)
    if value <= 0:
        raise record.fail(field, "must be positive")
    return value


def read_forms(record: Record) -> tuple[dict[str, Maximum], dict[str, str]]:
    """``formulations``: form -> figures, each with ``also`` (typed forms it covers, e.g.
    venlafaxine "ER" is the XR form); returns the figures and the typed-form aliases."""
    if not record.has("formulations"):
        return {}, {}
    raw = record.raw["formulations"]
    if not isinstance(raw, Mapping) or not raw:
        raise record.fail("formulations", "must be a non-empty object of form -> figures")
    forms: dict[str, Maximum] = {}
    aliases: dict[str, str] = {}
    for form, value in raw.items():
        if form not in FORMULATIONS:
            raise record.fail("formulations", f"names {form!r}, not one of {FORMULATIONS}")
        item = Record(value, f"{record.where} formulations {form}")
        forms[form] = read_maximum(item)
        for other in item.texts("also", ()):
            if other not in FORMULATIONS or other in raw or other in aliases:
                raise item.fail("also", f"names {other!r}: not a formulation of its own here")
            aliases[other] = form
    return forms, aliases


def read_advisory(record: Record) -> Advisory | None:
    if not record.has("advisory"):
        return None
    item = record.child("advisory")
    message = item.text("message")
    check_template(item, "message", message, {"drug", "dose", "threshold"})
    return Advisory(
        above_per_day=item.number("above_mg_per_day"),
        severity=item.choice("severity", ADVISORY_SEVERITIES),
        message=message,
        action=item.text("action"),
    )


def inpatient(view: PlanView) -> bool:
    return view.fact(SETTING_FACT) in INPATIENT_VALUES


@dataclass(frozen=True)
class Forms:
    """A drug's per-formulation figures, and how a course's stated form maps onto them."""

    figures: Mapping[str, Maximum]
    aliases: Mapping[str, str]

    def of(self, course: Course) -> str | None:
        """The form of the rule the course is; None when not given or not one of them."""
        stated = course.formulation
        if stated is None:
            return None
        return stated if stated in self.figures else self.aliases.get(stated)

    def names(self) -> str:
        return joined(sorted(self.figures))

    def unknown_note(self, courses: Iterable[Course]) -> str:
        """Why a course's form is unknown, for the message."""
        stated = sorted({c.formulation for c in courses if c.formulation and not self.of(c)})
        if stated:
            return f"The formulation {joined(stated)} does not say which of {self.names()} is meant"
        return "The formulation was not given"


NO_FORMS = Forms({}, {})
"""A rule without per-formulation figures."""


def highest_daily(figures: Iterable[Maximum], at_inpatient: bool) -> float:
    return max(f.daily(at_inpatient) for f in figures)


def highest_per_dose(figures: Iterable[Maximum]) -> float | None:
    """A form without a single-dose maximum allows any single dose within its daily one."""
    doses = [f.per_dose for f in figures]
    return None if any(d is None for d in doses) else max(d for d in doses if d is not None)


def setting_note(figures: Iterable[Maximum], at_inpatient: bool) -> str:
    """Which setting's figure was used, when the figures in play differ by setting."""
    if not any(f.inpatient_per_day is not None for f in figures):
        return ""
    if at_inpatient:
        return " The inpatient maximum applies: the care setting is recorded as inpatient."
    return (
        f" No inpatient care setting is recorded (the clinical fact {SETTING_FACT} = "
        "inpatient), so the outpatient maximum applies."
    )


def form_phrase(forms: list[str]) -> str:
    return f"for the {forms[0]} form" if len(forms) == 1 else f"for the {joined(forms)} forms"


def joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
