"""Whether the newest checkpoints are still there and fresh: a signed heartbeat naming a
checkpoint newer than any left means the newest were removed, and records past the newest
checkpoint for longer than its interval plus the grace are an unsigned tail (``carelog
verify`` reports both).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.integrity.checkpoints import Checkpoint
from services.integrity.classify import Problem
from services.integrity.heartbeat import read_heartbeat
from services.integrity.verify_result import ChainReport


def heartbeat_ahead(
    folder: Path,
    store: str | None,
    public_key: Ed25519PublicKey | None,
    trusted: list[Checkpoint],
) -> list[Problem]:
    """A heartbeat signed by the trusted key for this store names the checkpoint that was
    newest when it was signed: one newer than every checkpoint left (or the same number
    with another digest) means the newest checkpoints were removed or replaced."""
    beat = read_heartbeat(folder)
    if beat is None or beat.store != store or not beat.signed_by(public_key):
        return []
    newest = trusted[-1] if trusted else None
    if newest is not None and (
        beat.seq < newest.seq or (beat.seq == newest.seq and beat.digest == newest.digest())
    ):
        return []
    have = f"the newest left is {newest.seq}" if newest else "none is left"
    detail = (
        f"the signed heartbeat of {beat.time} names checkpoint {beat.seq} as the newest, "
        f"but {have}"
        + (" (with another digest: it was replaced)" if newest and beat.seq == newest.seq else "")
        + ": the newest checkpoints were removed"
    )
    return [Problem("checkpoints", 0, "bad-checkpoint", detail, "signature")]


def unsigned_tail(
    report: ChainReport,
    newest: Checkpoint | None,
    folder: Path,
    public_key: Ed25519PublicKey | None,
    *,
    interval: float,
    grace: float,
) -> str | None:
    """Why the records past the newest checkpoint are overdue for one, or None if
    they are within its signing interval plus the grace (measured from its signed
    time: the one clock here the database owner cannot set)."""
    span = f"{report.name} positions {report.attested_position + 1}..{report.head_position}"
    if newest is None:
        return f"{span}: no signed checkpoint of this store covers them"
    interval = newest.interval if newest.interval is not None else interval
    allowed = max(0.0, interval) + grace
    times = [newest.time]
    beat = read_heartbeat(folder)
    if beat is not None and beat.vouches_for(newest, public_key):
        times.append(beat.time)  # still the newest then, signed
    try:
        signed = max(datetime.fromisoformat(t) for t in times)
    except ValueError:
        return f"{span}: the newest checkpoint ({newest.seq}) has no readable time"
    age = (datetime.now(UTC) - signed).total_seconds()
    if age <= allowed:
        return None
    return (
        f"{span} are not covered by a signed checkpoint: the newest ({newest.seq}, "
        f"signed {newest.time}) was last confirmed newest {age:,.0f} s ago, past its "
        f"{interval:g} s interval plus {grace:g} s grace"
    )
