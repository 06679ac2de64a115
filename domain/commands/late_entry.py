"""What the commands that record a clinical fact share: when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class LateEntry:
    """A command whose fact may be entered late: ``effective_at`` is when it happened
    clinically (None: now). Keyword-only, so each command keeps its own fields' order and
    defaults."""

    effective_at: datetime | None = None
