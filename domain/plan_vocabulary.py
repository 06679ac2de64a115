"""The words the plan's fold itself writes: the status of an order, an alert, a follow-up,
a condition, and the kind of a dose step. Defined once here so that a reader compares
against a name mypy knows, not a string literal that can drift.

They are ``StrEnum`` members, so they compare equal to the plain strings stored in older
snapshots and the view documents, and they serialise as those same strings.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """A medication order is taken (``active``) until it is stopped (``discontinued``)."""

    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class StepKind(StrEnum):
    """A dose step began the order (``start``) or changed its dose (``change``)."""

    START = "start"
    CHANGE = "change"


class AlertStatus(StrEnum):
    """A safety alert is open until acknowledged, overridden or superseded."""

    OPEN = "open"
    RESOLVED = "resolved"


class FollowUpStatus(StrEnum):
    """A follow-up is due (``scheduled``) until it took place (``completed``)."""

    SCHEDULED = "scheduled"
    COMPLETED = "completed"


class ConditionStatus(StrEnum):
    """A condition is on the problem list (``active``) until it is resolved."""

    ACTIVE = "active"
    RESOLVED = "resolved"


GOAL_ACTIVE = "active"
"""The status of a goal when set; later statuses (met, abandoned, revised) are the
clinician's words, recorded by ``GoalStatusChanged``."""
