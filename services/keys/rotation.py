"""KEK rotation, status and retirement.

Rotation re-wraps every live data key under the active KEK (the first configured) and
touches nothing else: the events, their hash chain and the signed checkpoints stay as they
are. An old KEK can be retired (and then removed from the configuration) only once no data
key is wrapped by it any more.
"""

from __future__ import annotations

from typing import Any

from services.keys.errors import KeyConfigError, KeyUnavailableError
from services.keys.keyring import KeyRing

BATCH = 500


def status(keyring: KeyRing) -> dict[str, Any]:
    """Each KEK the store knows or the configuration gives, and the data keys it wraps."""
    wrong = set(keyring.wrong_keks())
    known = {k["kek_id"]: k for k in keyring.table.keks()}
    keks = []
    for kek_id in [*keyring.keks, *(k for k in known if k not in keyring.keks)]:
        row = known.get(kek_id, {})
        configured = kek_id in keyring.keks
        count = int(row.get("data_keys") or 0)
        keks.append(
            {
                "kek_id": kek_id,
                "active": kek_id == keyring.active.id,
                "configured": configured,
                "wrong_value": kek_id in wrong,
                "data_keys": count,
                "added_at": row.get("added_at"),
                "retired_at": row.get("retired_at"),
                "missing": count > 0 and not configured,
            }
        )
    return {
        "active": keyring.active.id,
        "keks": keks,
        "erased_data_keys": len(keyring.table.erased()),
        "legacy_key": keyring.has_legacy,
        "ok": not wrong and not any(k["missing"] for k in keks),
    }


def rotate(keyring: KeyRing) -> dict[str, Any]:
    """Re-wrap every data key not under the active KEK; events are not touched."""
    wrong = keyring.wrong_keks()
    if wrong:
        raise KeyUnavailableError(
            f"Key-encryption key(s) {', '.join(map(repr, wrong))} as configured are not the "
            "keys with those ids that this store's data keys were wrapped with: nothing was "
            "re-wrapped. Fix CARELOG_KEK / CARELOG_KEK_FILE."
        )
    active = keyring.active
    rewrapped = 0
    failed: dict[str, int] = {}
    errors: list[str] = []
    for kek in keyring.table.keks():
        kek_id = str(kek["kek_id"])
        if kek_id == active.id or not kek["data_keys"]:
            continue
        rows = keyring.table.wrapped_by(kek_id)
        for start in range(0, len(rows), BATCH):
            with keyring.db.transaction() as cur:
                for row in rows[start : start + BATCH]:
                    try:
                        dek = keyring.unwrap(row)
                    except KeyUnavailableError as exc:
                        failed[kek_id] = failed.get(kek_id, 0) + 1
                        if len(errors) < 5:
                            errors.append(exc.message)
                        continue
                    wrapped = active.wrap(row.subject_id, dek)
                    if keyring.table.rewrap(cur, row.subject_id, kek_id, active.id, wrapped):
                        rewrapped += 1
    return {"active": active.id, "rewrapped": rewrapped, "failed": failed, "errors": errors}


def retire(keyring: KeyRing, kek_id: str) -> dict[str, Any]:
    """Mark a KEK retired; refused while any data key is wrapped by it."""
    if keyring.table.kek(kek_id) is None:
        raise KeyConfigError(f"This store has never used a key-encryption key {kek_id!r}.")
    if kek_id == keyring.active.id:
        raise KeyConfigError(
            f"Key-encryption key {kek_id!r} is the active one (first in CARELOG_KEK / "
            "CARELOG_KEK_FILE): put the new key first and run `carelog keys rotate`."
        )
    needed = keyring.table.retire_kek(kek_id, _now())
    if needed:
        raise KeyConfigError(
            f"Key-encryption key {kek_id!r} still wraps {needed} data key(s): it cannot be "
            "retired or removed until `carelog keys rotate` has re-wrapped them."
        )
    return {"retired": kek_id, "data_keys": 0}


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
