"""The staff registry: who may sign in, with which role, and their API token's hash.

Tokens are ``<staff id>.<secret>``; only a scrypt hash of the secret is stored, so a copy
of the database does not let anyone sign in. Verifying scrypt on every request would cost
tens of milliseconds, so a verified token is remembered in memory (by its SHA-256) for a
few minutes, together with the stored hash it matched. The cache saves the scrypt, never
the revocation check: every request still reads the staff member's row (one primary-key
lookup, tens of microseconds on SQLite, one round trip on PostgreSQL) and the cached
verification counts only while the account is active and its stored hash unchanged. So
deactivating an account or rotating its token, from any process (``carelog users``,
``carelog demo``), ends access on every server process's next request.

A failed verification costs the same scrypt whether the id exists, is inactive or not
(a dummy hash stands in), and failures are limited per id and per source address
(services/access/sign_in_limits.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from domain.actor import Actor, Role
from domain.errors import DuplicateError, InvalidInputError, NotFoundError
from projections.sql.database import Database
from projections.sql.table_migrations import migrate
from services.access.sign_in_limits import FailedSignIns, SignInLimits
from services.access.staff_sessions import StaffSessions
from services.access.staff_table import STAFF_TABLE

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

CACHE_SECONDS = 300.0

CACHE_ENTRIES = 10_000
"""Verified tokens kept per process at most (expired ones are dropped first)."""

_DUMMY_SALT = "00" * 16


_ROW = (
    "SELECT id, name, role, prescriber, active, created_at, token_salt, token_hash"
    " FROM staff WHERE id = ?"
)


@dataclass(frozen=True)
class StaffMember:
    """A staff account: an actor plus whether it may still sign in."""

    id: str
    name: str
    role: Role
    prescriber: bool
    active: bool
    created_at: str

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role, name=self.name, prescriber=self.prescriber)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": str(self.role),
            # Whether they may prescribe, as a clinician reads the flag: a psychiatrist
            # always; a pharmacist with the collaborative practice privilege.
            "prescriber": self.actor.may_prescribe,
            "active": self.active,
            "created_at": self.created_at,
        }


def _hash(secret: str, salt: str, params: dict[str, int] | None = None) -> str:
    """``scrypt$n$r$p$hex``: the cost travels with the hash, so it can be raised later
    without invalidating tokens already issued."""
    cost = params or SCRYPT
    digest = hashlib.scrypt(
        secret.encode(),
        salt=bytes.fromhex(salt),
        n=cost["n"],
        r=cost["r"],
        p=cost["p"],
        dklen=cost["dklen"],
    ).hex()
    return f"scrypt${cost['n']}${cost['r']}${cost['p']}${digest}"


def _matches(secret: str, salt: str, stored: str) -> bool:
    try:
        _, n, r, p, digest = stored.split("$")
        params = {"n": int(n), "r": int(r), "p": int(p), "dklen": len(digest) // 2}
    except ValueError:
        return False
    return hmac.compare_digest(_hash(secret, salt, params), stored)


_dummies: dict[tuple[int, ...], str] = {}


def _dummy_hash() -> str:
    """A stored-hash stand-in at today's cost, so an unknown id costs a real scrypt."""
    key = tuple(SCRYPT.values())
    if key not in _dummies:
        _dummies[key] = _hash(secrets.token_urlsafe(16), _DUMMY_SALT)
    return _dummies[key]


@dataclass(frozen=True)
class _Verified:
    expires: float
    token_hash: str


class StaffRegistry:
    """Staff accounts and token checks, kept in CareLog's SQL database."""

    def __init__(self, db: Database, limits: SignInLimits | None = None) -> None:
        self.db = db
        migrate(db, STAFF_TABLE)
        self.sessions = StaffSessions(db)
        self.failures = FailedSignIns(db, limits)
        self._verified: dict[str, _Verified] = {}
        self._lock = threading.Lock()
        _dummy_hash()  # made now, so the first unknown id costs no more than later ones

    def add(
        self, name: str, role: str, prescriber: bool = False, staff_id: str | None = None
    ) -> tuple[StaffMember, str]:
        """Create an account; returns it and its token (shown once, never stored)."""
        name = (name or "").strip()
        if not name:
            raise InvalidInputError("A name is required.", "name")
        try:
            parsed_role = Role(role)
        except ValueError:
            raise InvalidInputError(
                f"Unknown role {role!r}: use one of {', '.join(r.value for r in Role)}.", "role"
            ) from None
        if prescriber and parsed_role not in (Role.PHARMACIST, Role.PSYCHIATRIST):
            raise InvalidInputError(
                "The prescriber privilege is for pharmacists (psychiatrists prescribe anyway).",
                "prescriber",
            )
        staff_id = staff_id or str(uuid4())
        if self.get(staff_id) is not None:
            raise DuplicateError(f"Staff member {staff_id} exists already.", "id")
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        created = datetime.now(UTC).isoformat()
        self.db.execute(
            "INSERT INTO staff (id, name, role, prescriber, token_salt, token_hash, active,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
            (
                staff_id,
                name,
                parsed_role.value,
                int(prescriber),
                salt,
                _hash(secret, salt),
                created,
            ),
        )
        member = StaffMember(staff_id, name, parsed_role, prescriber, True, created)
        return member, f"{staff_id}.{secret}"

    def rotate_token(self, staff_id: str) -> str:
        """Issue a new token (the old one stops working at once)."""
        self.require(staff_id)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        self.db.execute(
            "UPDATE staff SET token_salt = ?, token_hash = ? WHERE id = ?",
            (salt, _hash(secret, salt), staff_id),
        )
        self.sessions.end_all(staff_id)
        return f"{staff_id}.{secret}"

    def get(self, staff_id: str) -> StaffMember | None:
        row = self.db.query_one("SELECT * FROM staff WHERE id = ?", (staff_id,))
        return _member(row) if row else None

    def require(self, staff_id: str) -> StaffMember:
        member = self.get(staff_id)
        if member is None:
            raise NotFoundError(f"There is no staff member {staff_id}.", "clinician_id")
        return member

    def list(self) -> list[StaffMember]:
        return [_member(r) for r in self.db.query("SELECT * FROM staff ORDER BY created_at, id")]

    def find_by_name(self, name: str) -> StaffMember | None:
        row = self.db.query_one("SELECT * FROM staff WHERE name = ? ORDER BY created_at", (name,))
        return _member(row) if row else None

    def authenticate(self, token: str, source: str | None = None) -> StaffMember | None:
        """The active staff member a bearer token belongs to, or None.

        ``source`` (the client's address) is what failures are also counted by; raises
        ``SignInThrottledError`` while the id or the source is over its limit."""
        row = self._verify(token, source)
        return _member(row) if row is not None else None

    def start_session(
        self, token: str, source: str | None, lifetime: timedelta
    ) -> tuple[StaffMember, str] | None:
        """Sign in to the pages: the member and a new session's secret, or None."""
        row = self._verify(token, source)
        if row is None:
            return None
        return _member(row), self.sessions.start(row["id"], row["token_hash"], lifetime)

    def start_session_for(self, member: StaffMember, lifetime: timedelta) -> str:
        """A page session for a member someone else vouched for (single sign-on): it
        ends, as a token's does, when the account is deactivated or its token rotated."""
        row = self.db.query_one(_ROW, (member.id,))
        if row is None or not row["active"]:
            raise NotFoundError(f"There is no active staff member {member.id}.", "id")
        return self.sessions.start(member.id, row["token_hash"], lifetime)

    def session_member(self, secret: str) -> StaffMember | None:
        """The staff member of a page session that is still running."""
        row = self.sessions.current(secret)
        return _member(row) if row is not None else None

    def _verify(self, token: str, source: str | None) -> dict[str, Any] | None:
        staff_id, _, secret = token.partition(".")
        if not staff_id or not secret or len(token) > 512 or "\x00" in token:
            return None  # (PostgreSQL refuses NUL in text: never a 500 for a bad token)
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            cached = self._verified.get(digest)
        if cached is not None and cached.expires > time.monotonic():
            row = self.db.query_one(_ROW, (staff_id,))  # the per-request revocation check
            if row is not None and row["active"] and row["token_hash"] == cached.token_hash:
                return row
            with self._lock:
                self._verified.pop(digest, None)
            return None
        self.failures.check(staff_id, source)
        row = self.db.query_one(_ROW, (staff_id,))
        if row is None or not row["active"]:
            _matches(secret, _DUMMY_SALT, _dummy_hash())  # the same cost as a real check
            row = None
        elif not _matches(secret, row["token_salt"], row["token_hash"]):
            row = None
        if row is None:
            self.failures.record(staff_id, source)
            return None
        self._remember(digest, row["token_hash"])
        return row

    def _remember(self, digest: str, token_hash: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._verified) >= CACHE_ENTRIES:
                self._verified = {k: v for k, v in self._verified.items() if v.expires > now}
                if len(self._verified) >= CACHE_ENTRIES:
                    self._verified.clear()
            self._verified[digest] = _Verified(now + CACHE_SECONDS, token_hash)

    def claimed_id(self, token: str) -> str | None:
        """The staff id a (possibly bad) token claims, for auditing denied attempts (None
        when it is not one CareLog would store: empty, NUL, overlong)."""
        staff_id = token.partition(".")[0]
        if not staff_id or len(staff_id) > 512 or "\x00" in staff_id:
            return None
        return staff_id  # real or not: the denied attempt is audited either way

    def deactivate(self, staff_id: str) -> None:
        self.require(staff_id)
        self.db.execute("UPDATE staff SET active = 0 WHERE id = ?", (staff_id,))
        self.sessions.end_all(staff_id)


def _member(row: dict[str, Any]) -> StaffMember:
    return StaffMember(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        prescriber=bool(row["prescriber"]),
        active=bool(row["active"]),
        created_at=str(row["created_at"]),
    )
