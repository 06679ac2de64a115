"""What ``carelog verify`` found: each chain's verified range and head, and the problems in the
order to read them (what ``/readyz``, the CLI and the verification mark report).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.integrity.classify import Problem


@dataclass(frozen=True)
class ChainReport:
    """How far one chain was verified."""

    name: str
    start: int
    stop: int
    records: int
    head_position: int
    head: str
    attested_position: int  # the newest position a valid checkpoint vouches for

    def as_dict(self) -> dict[str, Any]:
        """Every field but the name (the report is keyed by it)."""
        return {k: v for k, v in asdict(self).items() if k != "name"}


@dataclass
class VerifyResult:
    """The outcome of a verification: ok, or the problems in the order to read them."""

    problems: list[Problem]
    chains: dict[str, ChainReport]
    checkpoints: int
    key_id: str | None
    seconds: float
    warnings: list[str] = field(default_factory=list)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    pinned: bool = False  # checked against a public key the caller supplied
    store: str | None = None
    foreign_checkpoints: int = 0  # other stores' checkpoints found in the folder (ignored)
    legacy_checkpoints: int = 0
    witnessed: int = 0  # checkpoints appended to the witness file (--update-witness)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def verified_position(self) -> int:
        """The event log is sound up to this position (the end of the range checked if
        all is well, else just before the first problem in the event log)."""
        report = self.chains.get("events")
        if report is None:
            return 0
        bad = [p.position for p in self.problems if p.chain == "events"]
        return min(bad) - 1 if bad else report.head_position

    @property
    def records(self) -> int:
        return sum(report.records for report in self.chains.values())

    def as_dict(self) -> dict[str, Any]:
        first = self.first_problem
        return {
            "ok": self.ok,
            "time": self.time,
            "seconds": round(self.seconds, 3),
            "verified_position": self.verified_position,
            "first_problem": first.as_dict() if first else None,
            "problems": [p.as_dict() for p in self.problems],
            "chains": {name: report.as_dict() for name, report in self.chains.items()},
            "checkpoints": self.checkpoints,
            "key_id": self.key_id,
            "pinned": self.pinned,
            "store": self.store,
            "foreign_checkpoints": self.foreign_checkpoints,
            "legacy_checkpoints": self.legacy_checkpoints,
            "witnessed": self.witnessed,
            "warnings": self.warnings,
        }
