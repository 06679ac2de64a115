"""``evaluate``: every finding of the rule pack for the plan after one change.

State rules (interactions, a drug with a recorded fact such as alcohol use, maximum
doses, duplicate therapy, monitoring due, lab results out of range, drugs not in the
pack) hold or not for the active courses whatever the change; change rules (abrupt
stop, titration step, washout at a start, a suicide-risk answer, a smoking change) fire
only for the write that does the thing. The caller de-duplicates against open alerts by
``Finding.key``. The result is deterministic and independent of the order of the
medication list: courses are put in a canonical order first, findings sorted last.
"""

from __future__ import annotations

from collections.abc import Iterator

from domain.safety.assessments import check_assessments
from domain.safety.change_interactions import (
    FactChangeRule,
    StopWithRule,
    check_fact_changes,
    check_stops,
)
from domain.safety.condition_rules import check_condition_rules
from domain.safety.context import Change, Finding, PatientContext
from domain.safety.coverage import check_unknown_drugs
from domain.safety.dose_coverage import check_doses_unchecked
from domain.safety.dose_limits import check_dose_limits
from domain.safety.duplicates import DuplicateRule, check_duplicates
from domain.safety.fact_interactions import FactStateRule, check_fact_states
from domain.safety.interactions import PairRule, check_pairs
from domain.safety.lab_judgement import abnormal_results, check_lab_ranges
from domain.safety.measurement_care import check_measurement_care
from domain.safety.monitoring import check_monitoring
from domain.safety.monitoring_plan import group_monitoring
from domain.safety.pack import RulePack, default_pack
from domain.safety.pgx_rules import PgxRule, UnreadRule, check_pgx_rules, check_unread
from domain.safety.pgx_untested import UntestedRule, check_untested
from domain.safety.plan_view import PlanView
from domain.safety.side_effects import check_side_effects
from domain.safety.tapering import check_tapers
from domain.safety.titration import WeeklySchedule, check_weekly
from domain.safety.titration_steps import MinInterval, StepLimits, check_steps
from domain.safety.washout import check_washouts
from domain.safety.wording import SEVERITY_RANK

CHANGE_KINDS = frozenset(
    {"abrupt_stop", "titration", "washout", "suicide_risk", "worsening", "side_effect"}
)
"""Finding kinds that are about the change just written, not about the plan's state."""


def is_change_driven(finding: Finding, pack: RulePack | None = None) -> bool:
    """Whether a finding is about the write that produced it (an abrupt stop, a titration
    step, a smoking change ...) rather than about the plan: such a finding is not returned
    by later evaluations, so its absence then does not mean it was dealt with."""
    pack = pack or default_pack()
    about_changes = {
        r.rule.id for r in pack.interactions if isinstance(r, FactChangeRule | StopWithRule)
    }
    return finding.kind in CHANGE_KINDS or finding.rule_id in about_changes


def evaluate(
    context: PatientContext, change: Change, pack: RulePack | None = None
) -> list[Finding]:
    """All findings for the plan after ``change``, most pressing first (then by key)."""
    pack = pack or default_pack()
    view = PlanView(context, change, pack.index, pack.test_names)
    labels = {name: test.label for name, test in pack.lab_tests.items()}
    rules = pack.interactions
    findings = [
        *check_pairs(tuple(r for r in rules if isinstance(r, PairRule)), view),
        *check_duplicates(tuple(r for r in rules if isinstance(r, DuplicateRule)), view),
        *check_fact_changes(tuple(r for r in rules if isinstance(r, FactChangeRule)), view),
        *check_stops(tuple(r for r in rules if isinstance(r, StopWithRule)), view),
        *check_fact_states(tuple(r for r in rules if isinstance(r, FactStateRule)), view),
        *check_dose_limits(pack.dose_limits, view),
        *check_tapers(pack.tapers, view),
        *check_weekly(tuple(r for r in pack.titrations if isinstance(r, WeeklySchedule)), view),
        *check_steps(
            tuple(r for r in pack.titrations if isinstance(r, StepLimits | MinInterval)), view
        ),
        *check_washouts(pack.washouts, view),
        # one alert per prescription, listing its checks (domain.safety.monitoring_plan)
        *group_monitoring(
            check_monitoring(
                pack.monitoring, view, labels, abnormal_results(pack.lab_ranges, view)
            ),
            pack.monitoring,
            view,
            labels,
        ),
        *check_assessments(pack.assessments, view),
        *check_lab_ranges(pack.lab_ranges, view, labels),
        *check_unknown_drugs(pack.unknown_drug, view, pack.unknown_high_risk),
        *check_doses_unchecked(pack.dose_coverage, pack.dose_limits, view),
        *further_ingredients(pack, view),
        *check_side_effects(pack.side_effects, view),
        *check_condition_rules(pack.condition_rules, view),
        *check_pgx_rules(
            tuple(r for r in pack.pharmacogenomic_rules if isinstance(r, PgxRule)), view
        ),
        *check_unread(
            tuple(r for r in pack.pharmacogenomic_rules if isinstance(r, UnreadRule)), view
        ),
        *check_untested(
            tuple(r for r in pack.pharmacogenomic_rules if isinstance(r, UntestedRule)), view
        ),
        *check_measurement_care(pack.measurement_care, view),
    ]
    unique = {f.key: f for f in findings}
    return sorted(unique.values(), key=lambda f: (SEVERITY_RANK.get(f.severity, 99), f.key))


def further_ingredients(pack: RulePack, view: PlanView) -> Iterator[Finding]:
    """The rules about the change (stop, taper, titration, washout) for each further
    ingredient of a combination product: the checks above judge the one ``view.course``
    gives, so every ingredient meets them."""
    weekly = tuple(r for r in pack.titrations if isinstance(r, WeeklySchedule))
    steps = tuple(r for r in pack.titrations if isinstance(r, StepLimits | MinInterval))
    stops = tuple(r for r in pack.interactions if isinstance(r, StopWithRule))
    for focused in view.further_ingredients():
        yield from check_stops(stops, focused)
        yield from check_tapers(pack.tapers, focused)
        yield from check_weekly(weekly, focused)
        yield from check_steps(steps, focused)
        yield from check_washouts(pack.washouts, focused)
