"""JSON-like values: what a snapshot stores and what the plan's documents answer with.

Defined once so that a signature says "plain data" precisely instead of ``Any``: text,
numbers, booleans, None, times (the stores' and the API's encoders write them as ISO
text), and lists and objects of these.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeAlias

JsonValue: TypeAlias = (
    str | int | float | bool | datetime | date | list["JsonValue"] | dict[str, "JsonValue"] | None
)
"""One plain value (nested lists and objects included)."""

JsonObject: TypeAlias = dict[str, JsonValue]
"""A plain object: a document, or an entity as a snapshot stores it."""
