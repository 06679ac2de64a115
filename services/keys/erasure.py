"""Erasure (crypto-shredding) and retention: destroying a patient's data key.

``erase`` is an administrator's act, recorded in the access log (kind ``operator``, with
actor, reason and time: ids only, no clinical data) and as the data key's tombstone in the
key table. It destroys the patient's data key; the patient's events stay in the log and
the hash chain (which covers the encrypted bytes), so ``carelog verify`` still passes, but
no process can decrypt them again. It then removes what the views and snapshots hold of the
patient in clear: every views table row with the patient's id (current plan, dashboard,
audit trail, history index, ...) except the access log's (ids and actions only, chained,
append-only), stored idempotent responses that name the patient, and the patient's
snapshots; a SQLite views database is vacuumed so no freed page keeps the old text. A view
rebuilt later skips the patient's events (``projections/feed.py``), so it holds nothing of
them either; readers answer with the tombstone (HTTP 410 Gone).

``retention`` lists the patients whose last event is older than the retention period.
"""

from __future__ import annotations

import getpass
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from projections.sql.database import Database
from services.keys.errors import KeyConfigError
from services.keys.keyring import MAGIC, KeyRing

if TYPE_CHECKING:
    from services.bootstrap import CareLog

KEPT_TABLES = frozenset({"access_log"})  # append-only, hash-chained, ids only


@dataclass(frozen=True)
class Erasure:
    patient_id: str
    erased_at: str
    erased_by: str
    reason: str
    view_rows: int
    snapshots: int
    already: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def require_keyring(carelog: CareLog) -> KeyRing:
    keyring = carelog.keyring
    if keyring is None:
        raise KeyConfigError(
            "Erasure needs envelope encryption at rest (CARELOG_KEK or CARELOG_KEK_FILE): "
            "without per-patient data keys a patient's events are stored in clear or under "
            "the one store key, and deleting them would break the audit chain. Nothing was "
            "erased."
        )
    return keyring


def operator(carelog: CareLog, actor: str | None) -> tuple[str, str]:
    """Who erases: a staff id that must be an administrator, else ``cli:<login>``."""
    if actor is None:
        return f"cli:{getpass.getuser()}", "operator"
    staff = carelog.staff.get(actor)
    if staff is None or staff.role != "admin" or not staff.active:
        raise NotPermittedError(f"{actor} is not an administrator: only an admin may erase.")
    return actor, "admin"


def erase(carelog: CareLog, patient_id: str, reason: str, actor: str | None = None) -> Erasure:
    keyring = require_keyring(carelog)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError("An erasure needs a reason.", "reason")
    by, role = operator(carelog, actor)
    try:
        pid = UUID(patient_id)
    except ValueError:
        raise NotFoundError(f"There is no patient {patient_id}.", "patient_id") from None
    row = keyring.table.get(str(pid))
    if row is not None and row.erased_at is not None:  # again: finish what it removes
        keyring.forget(str(pid))
        carelog.app.record_cache.forget(pid)
        rows = purge_views(carelog.db, str(pid))
        snapshots = purge_snapshots(carelog, pid)
        return Erasure(
            str(pid),
            row.erased_at,
            row.erased_by or "",
            row.erased_reason or "",
            rows,
            snapshots,
            already=True,
        )
    stored = carelog.app.recorder.select_events(pid)
    if not stored or stored[0].topic != "carelog.PatientRegistered":  # (an index entry's id)
        raise NotFoundError(f"There is no patient {patient_id}.", "patient_id")
    unshreddable = [s.originator_version for s in stored if s.state[: len(MAGIC)] != MAGIC]
    if unshreddable:
        raise KeyConfigError(
            f"Patient {pid} has {len(unshreddable)} event(s) (versions {unshreddable[0]}.."
            f"{unshreddable[-1]}) written before envelope encryption, in clear or under the "
            "legacy store-wide key: destroying a per-patient key cannot make them "
            "unreadable. Nothing was erased (README, 'Retention and erasure')."
        )
    now = datetime.now(UTC)
    if not keyring.table.erase(str(pid), now, by, reason):
        raise NotFoundError(f"Patient {pid} has no data key to destroy.", "patient_id")
    keyring.forget(str(pid))
    carelog.app.record_cache.forget(pid)
    rows = purge_views(carelog.db, str(pid))
    snapshots = purge_snapshots(carelog, pid)
    carelog.access_log.record(
        actor_id=by,
        actor_role=role,
        patient_id=str(pid),
        what="patient.erase",
        request_id=str(uuid4()),
        source="cli",
        kind="operator",
        reason=reason,
        details={"erased_at": now.isoformat()},
    )
    return Erasure(str(pid), now.isoformat(), by, reason, rows, snapshots)


def patient_tables(db: Database) -> list[str]:
    """Every views table with a ``patient_id`` column."""
    if db.dialect == "sqlite":
        names = [
            r["name"]
            for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(r["name"]).startswith("sqlite_")
        ]
        return [
            n
            for n in names
            if any(c["name"] == "patient_id" for c in db.query(f'PRAGMA table_info("{n}")'))
        ]
    return [
        str(r["table_name"])
        for r in db.query(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'patient_id' "
            "AND table_schema = current_schema()"
        )
    ]


def purge_views(db: Database, patient_id: str) -> int:
    """Delete the patient's rows from the views (and stored responses naming them)."""
    removed = 0
    with db.transaction() as cur:
        if db.dialect == "sqlite":
            cur.execute("PRAGMA secure_delete = ON")
        for table in patient_tables(db):
            if table in KEPT_TABLES:
                continue
            cur.execute(f'DELETE FROM "{table}" WHERE patient_id = ?', (patient_id,))
            removed += max(cur.rowcount, 0)
        if db.table_exists("idempotency_keys"):
            cur.execute("DELETE FROM idempotency_keys WHERE body LIKE ?", (f"%{patient_id}%",))
            removed += max(cur.rowcount, 0)
    if db.dialect == "sqlite":  # freed pages may still hold the old text: rewrite the file
        vacuum(str(getattr(db, "path", "")))
    return removed


def unaudited_erasures(keyring: Any, db: Database) -> list[str]:
    """Erased patients (key-table tombstones) with no ``patient.erase`` act in the chained
    access log: the tombstone lives in a plain table that no chain covers, so an erasure
    without its audited act is a forgery (or an erase cut short: it must be looked into)."""
    erased = [row.subject_id for row in keyring.table.erased()]
    if not erased:
        return []
    audited = {
        str(r["patient_id"])
        for r in db.query("SELECT DISTINCT patient_id FROM access_log WHERE what = 'patient.erase'")
    }
    return [pid for pid in erased if pid not in audited]


def vacuum(path: str) -> None:
    """Rewrite a SQLite file without its free pages, and empty its write-ahead log."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def purge_snapshots(carelog: CareLog, pid: UUID) -> int:
    """Delete the patient's snapshots (encrypted under the destroyed key: hygiene)."""
    snapshots = carelog.app.snapshots
    if snapshots is None:
        return 0
    recorder: Any = snapshots.recorder
    keyring = carelog.keyring
    assert keyring is not None
    db = keyring.db
    table = recorder.events_table_name
    with db.transaction() as cur:
        param: Any = pid if db.dialect == "postgres" else pid.hex  # as the library stores it
        cur.execute(f"DELETE FROM {table} WHERE originator_id = ?", (param,))
        return max(cur.rowcount, 0)


@dataclass(frozen=True)
class Due:
    patient_id: str
    mrn: str | None
    last_event_at: str
    erased: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def past_retention(carelog: CareLog, days: float, now: datetime | None = None) -> list[Due]:
    """Patients whose last event is older than ``days`` (erased ones are not listed)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    app = carelog.app
    due: list[Due] = []
    for pid in patient_ids(carelog):
        if carelog.keyring is not None:
            row = carelog.keyring.table.get(str(pid))
            if row is not None and row.erased_at is not None:
                continue
        last = next(iter(app.events.get(pid, desc=True, limit=1)), None)
        stamp = getattr(last, "timestamp", None)
        if not isinstance(stamp, datetime) or stamp >= cutoff:
            continue
        first = next(iter(app.events.get(pid, lte=1)), None)
        mrn = getattr(first, "external_id", None)
        due.append(Due(str(pid), mrn, stamp.isoformat(), False))
    return due


def patient_ids(carelog: CareLog) -> list[UUID]:
    """Every patient record's id (the streams whose first event registers a patient)."""
    recorder: Any = carelog.app.recorder
    ids: list[UUID] = []
    after = 0
    while True:
        page = recorder.select_notifications(
            after, 1000, topics=["carelog.PatientRegistered"], inclusive_of_start=False
        )
        if not page:
            return ids
        ids.extend(n.originator_id for n in page)
        after = int(page[-1].id)
