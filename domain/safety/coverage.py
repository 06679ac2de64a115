"""Drugs the pack does not know: reported, never passed as safe.

A name the pack cannot resolve gets no interaction, dose or monitoring check. Saying so
keeps a clinician from reading "no alerts" as "checked and fine".
"""

from __future__ import annotations

from domain.safety.context import Finding
from domain.safety.plan_view import PlanView
from domain.safety.records import Provenance
from domain.safety.wording import finding


def check_unknown_drugs(rule: Provenance, view: PlanView) -> list[Finding]:
    return [
        finding(rule, "unknown_drug", [c.order_id], rule.message.format(drug=c.label))
        for c in view.active
        if c.info is None
    ]
