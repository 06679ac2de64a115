"""Naming what happened at each anomaly a walk found, for a person to act on.

Kinds, as ``carelog verify`` reports them:

- **changed**: the record at the position is not the one chained there (state, topic,
  version or originator edited), or its chain link was edited or removed;
- **missing**: a chained record is gone (its link is still there, or a checkpoint says so);
- **reordered**: records were moved to other positions (the record at P chains at Q);
- **forged**: a record CareLog never chained (inserted in the database directly);
- **truncated**: everything from the position on is gone.

Each test below re-hashes a record against a neighbouring link; it only runs on anomalies,
so its cost does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from services.integrity.chain import link
from services.integrity.walk import Anomaly, WalkOutcome


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a log or its checkpoints, at a position, in words."""

    chain: str  # "events", "access" or "checkpoints"
    position: int
    kind: str  # changed, missing, reordered, forged, truncated, bad-checkpoint
    detail: str
    evidence: str = "chain"  # "chain" (the links), "checkpoint" (a signed head), "signature"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.chain} position {self.position}: {self.kind}: {self.detail}"


Witness = Callable[[int, int], "dict[int, bytes] | None"]


def classify(chain: str, outcome: WalkOutcome, witness: Witness | None = None) -> list[Problem]:
    """The problems behind a walk's anomalies, in position order. ``witness(after, upto)``
    gives the checkpoints' witnessed links in (after, upto], to name rows deleted whole."""
    anomalies = outcome.anomalies
    linked = [a for a in anomalies if a.stored_link is not None]
    recorded = [a for a in anomalies if a.record is not None]
    consequences: set[int] = set()
    problems: list[Problem] = []

    def belongs_at(record: bytes, here: int) -> Anomaly | None:
        """The other anomalous position whose stored link this record chains to."""
        for other in linked:
            if other.position != here and other.stored_link == link(
                other.previous, other.position, record
            ):
                return other
        return None

    for a in anomalies:
        if a.position in consequences:
            continue
        p = a.position
        if a.kind == "mismatch":
            assert a.record is not None
            expected = link(a.previous, p, a.record)
            nxt = a.following
            if nxt and nxt[1] is not None and nxt[2] == link(expected, nxt[0], nxt[1]):
                consequences.add(nxt[0])
                problems.append(
                    Problem(
                        chain,
                        p,
                        "changed",
                        "its chain link was edited (the record chains, the stored link does not)",
                    )
                )
            elif (target := belongs_at(a.record, p)) is not None:
                problems.append(
                    Problem(
                        chain,
                        p,
                        "reordered",
                        f"the record stored here belongs at position {target.position}",
                    )
                )
            elif (
                a.before_previous is not None
                and a.previous_position is not None
                and a.stored_link == link(a.before_previous, p, a.record)
            ):
                problems.append(
                    Problem(
                        chain,
                        a.previous_position,
                        "forged",
                        f"inserted before position {p} with a made-up link: the chain runs past it",
                    )
                )
            elif gone := _witnessed_between(witness, a.previous_position or 0, p):
                problems.append(
                    Problem(
                        chain,
                        gone,
                        "missing",
                        "a record the checkpoints witnessed here is gone, with its link",
                        "checkpoint",
                    )
                )
            else:
                gap = a.previous_position is not None and p - a.previous_position > 1
                problems.append(
                    Problem(
                        chain,
                        p,
                        "changed",
                        "the record stored here is not the one chained here "
                        "(its content was edited"
                        + (
                            f", or records after {a.previous_position} were "
                            "deleted with their links)"
                            if gap
                            else ")"
                        ),
                    )
                )
        elif a.kind == "unrecorded":
            assert a.stored_link is not None
            if p > outcome.last_record_position:
                problems.append(
                    Problem(chain, p, "truncated", "this record and every one after it are gone")
                )
                break
            mover = next(
                (
                    b
                    for b in recorded
                    if b.position != p and a.stored_link == link(a.previous, p, b.record or b"")
                ),
                None,
            )
            if mover is not None:
                problems.append(
                    Problem(
                        chain,
                        p,
                        "reordered",
                        f"the record chained here is stored at position {mover.position}",
                    )
                )
                consequences.add(mover.position)
            else:
                problems.append(Problem(chain, p, "missing", "the record chained here was deleted"))
        else:  # unlinked
            assert a.record is not None
            nxt = a.following
            candidate = link(a.previous, p, a.record)
            if (target := belongs_at(a.record, p)) is not None:
                problems.append(
                    Problem(
                        chain,
                        p,
                        "reordered",
                        f"the record stored here belongs at position {target.position}",
                    )
                )
                consequences.add(target.position)
            elif nxt and nxt[1] is not None and nxt[2] == link(candidate, nxt[0], nxt[1]):
                consequences.add(nxt[0])
                problems.append(
                    Problem(chain, p, "changed", "its chain link was removed (the record chains)")
                )
            else:
                problems.append(
                    Problem(
                        chain,
                        p,
                        "forged",
                        "a record CareLog never chained (inserted directly into the database)",
                    )
                )
    if outcome.truncated_anomalies:
        problems.append(
            Problem(
                chain,
                outcome.anomalies[-1].position,
                "changed",
                "more anomalies than are reported: the log is badly damaged",
            )
        )
    # A forged record often also fails its own link: say "forged" once, not both.
    forged = {problem.position for problem in problems if problem.kind == "forged"}
    problems = [pr for pr in problems if pr.kind == "forged" or pr.position not in forged]
    problems.sort(key=lambda problem: problem.position)
    return problems


def _witnessed_between(witness: Witness | None, after: int, position: int) -> int | None:
    """The first witnessed position strictly between ``after`` and ``position``."""
    if witness is None or position - after <= 1:
        return None
    seen = witness(after, position - 1)
    return min(seen) if seen else None
