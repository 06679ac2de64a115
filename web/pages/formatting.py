"""How the pages write times, doses and event names. Every time is shown in UTC and says
so: a care team spread over sites must never guess a page's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from services.interop.fhir.vocabulary import ICD10_CM_DISPLAYS
from web.pages.form_keys import FORM_KEY_FIELD, new_form_key
from web.pages.session import CSRF_FIELD, csrf_token


def when(value: datetime | str | None, seconds: bool = False) -> str:
    """``2026-03-01 09:30 UTC``; an empty string for no time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # never expected: every stored time carries its zone
        value = value.replace(tzinfo=UTC)
    text = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return value.astimezone(UTC).strftime(text) + " UTC"


def iso(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return value.isoformat()


def amount(value: Any) -> str:
    """50.0 -> "50", 12.5 -> "12.5"."""
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


def dose(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    return f"{amount(value.get('amount'))} {value.get('unit', '')}".strip()


def trial_dose(trial: dict[str, Any]) -> str:
    """A trial's highest daily dose; an as-needed (PRN) dose said to be one, with the
    most that may be taken ("as needed, up to 4 mg/day"), never as a dose taken."""
    steps = trial.get("dose_steps") or []
    prn = [s["mg_per_day"] for s in steps if s.get("as_needed") and s["mg_per_day"] is not None]
    regular = trial.get("highest_regular_mg_per_day")
    parts = []
    if regular is not None:
        parts.append(f"{amount(regular)} mg/day")
    if prn:
        parts.append(f"as needed, up to {amount(max(prn))} mg/day")
    if not parts and trial.get("highest_mg_per_day") is not None:
        parts.append(f"{amount(trial['highest_mg_per_day'])} mg/day")
    return "; ".join(parts) or "\u2013"


def diagnosis(condition: dict[str, Any]) -> str:
    """An active diagnosis once, as code and ICD-10-CM title ("F32.1 Major depressive
    disorder, single episode, moderate"); a code without a known title shows the
    clinician's wording, else the code alone (never the code twice)."""
    code = str(condition.get("code") or "")
    worded = str(condition.get("display") or "")
    title = ICD10_CM_DISPLAYS.get(code)
    if title is None and condition.get("source") == "recorded" and code not in worded:
        title = worded
    return f"{code} {title}" if title else code or worded


def says_role(name: str | None, role: Any) -> bool:
    """Whether a staff name already ends by naming the role ("Pia Marsh (demo
    pharmacist)"): the page then does not add "(pharmacist)" a second time."""
    text = str(name or "").rstrip()
    return bool(role) and text.endswith(")") and str(role) in text[text.rfind("(") :]


def label(name: str | None) -> str:
    """``DoseChanged`` -> "Dose changed"; ``suicide_risk`` -> "Suicide risk"."""
    if not name:
        return ""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name)).replace("_", " ").split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def register_filters(app: Flask) -> None:
    # Each filter is named for its function: ``{{ at|when }}``, ``{{ order.dose|dose }}``.
    filters = (when, iso, amount, dose, label, trial_dose, diagnosis)
    app.jinja_env.filters.update({f.__name__: f for f in filters})
    app.jinja_env.tests["saying_role"] = lambda name, role: says_role(name, role)

    @app.context_processor
    def _forms() -> dict[str, Any]:
        return {
            "csrf_token": csrf_token,
            "csrf_field": CSRF_FIELD,
            "form_key": new_form_key,
            "form_key_field": FORM_KEY_FIELD,
        }
