"""Audit integrity: a hash chain over every stored record, signed checkpoints kept outside
the database, and the verifier that names the first position where the log was altered.

See README, "Audit review", and ``carelog verify``.
"""

from __future__ import annotations

from typing import Any

from services.integrity.chain_heads import IntegrityViolation
from services.integrity.checkpoints import Checkpoint
from services.integrity.classify import Problem
from services.integrity.service import Integrity
from services.integrity.verify_result import VerifyResult
from services.integrity.walk import ChainSource

__all__ = [
    "ChainSource",
    "Checkpoint",
    "Integrity",
    "IntegrityViolation",
    "Problem",
    "VerifyResult",
    "chain_sources",
]


def chain_sources(recorder: Any, carelog: Any = None) -> dict[str, ChainSource]:
    """CareLog's chains by name: the event log (the application's recorder) and, when
    ``carelog`` is given, the access log in its views database."""
    if not hasattr(recorder, "select_chain_records"):
        raise RuntimeError(
            "The event store's recorder does not chain events: check "
            "APPLICATION_RECORDER_TOPIC in Config.eventsourcing_env()."
        )
    sources: dict[str, ChainSource] = {"events": recorder}
    if carelog is not None:
        from services.integrity.access_chain import AccessChainSource

        carelog.access_log  # noqa: B018 - creates the access log (and its hash column)
        sources["access"] = AccessChainSource(carelog.db)
    return sources
