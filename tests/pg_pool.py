"""A pool of used PostgreSQL schemas, one per test worker, for the ``store`` fixture.

A fresh schema costs a PostgreSQL test seconds: CareLog creates and migrates every table
(133 statements in 60 transactions), then the schema is dropped. A used schema emptied with
one ``TRUNCATE ... RESTART IDENTITY`` of every table but the migration record
(``schema_versions``) is already migrated: CareLog only checks the versions, and the views,
their tracking and ``view_meta`` emptied, recreate their (empty) tables as on a new store.

What is reset: the rows of every table (events, chain links, store id, checkpoints, access
log, views, view tracking and meta, quarantine, staff, sessions, keys) and the sequences
they own (ids and positions start at 1 again). What is not table rows is not reset but
checked: a schema is handed out again only if its catalogue (relations, columns, defaults,
constraints, indexes, triggers and whether they are enabled, functions, and the rows of
``schema_versions``) equals the one the first pooled schema of its kind had, and every
table but ``schema_versions`` is empty; otherwise it is dropped and a fresh one made.
Session state (LISTEN, advisory locks, prepared statements) ends with the test's
connections. Tests about creating or migrating a store take a fresh schema instead
(``@pytest.mark.fresh_store``, and every ``served`` test).

On by default; ``CARELOG_TEST_PG_POOL=0`` turns it off (every test a fresh schema, dropped
after, as before the pool)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

ENABLED = os.environ.get("CARELOG_TEST_PG_POOL", "1") != "0"
KEPT = ("schema_versions",)
"""The migration record: the one table a reset keeps (its rows say the schema is migrated)."""

_CATALOGUE = """
SELECT 'relation', c.relname, c.relkind::text, ''
  FROM pg_class c WHERE c.relnamespace = %(s)s::regnamespace
UNION ALL
SELECT 'column', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = %(s)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, k.conname, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
 WHERE k.connamespace = %(s)s::regnamespace
UNION ALL
SELECT 'index', i.indrelid::regclass::text, i.indexrelid::regclass::text,
       pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = %(s)s::regnamespace
UNION ALL
SELECT 'trigger', c.relname, t.tgname, t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'function', p.proname, pg_get_function_identity_arguments(p.oid),
       pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace = %(s)s::regnamespace
ORDER BY 1, 2, 3, 4
"""


@dataclass
class SchemaPool:
    """The used schemas of one kind (a database, encrypted or not) in this worker."""

    database: str
    prime: Callable[[str], None]
    """Runs a CareLog as a typical test does (views, staff) on a store URL: on the pool's
    first schema, whose catalogue after a reset becomes the one every schema must have."""
    free: list[str] = field(default_factory=list)
    catalogue: tuple[tuple[str, ...], ...] | None = None

    def take(self) -> str:
        """A schema for a test: a pooled one that checks out as empty, else a new one."""
        if self.catalogue is None:
            self._prime()
        with psycopg.connect(self.database, autocommit=True) as conn:
            while self.free:
                schema = self.free.pop()
                if self._as_new(conn, schema):
                    return schema
                drop(conn, schema)
            schema = f"t_{uuid.uuid4().hex[:12]}"
            conn.execute(f"CREATE SCHEMA {schema}")
            return schema

    def give_back(self, schema: str) -> None:
        """Empties a used schema into the pool, or drops it if it cannot be emptied (its
        catalogue is checked when it is taken: checking it here too would cost each test
        one more catalogue query)."""
        with psycopg.connect(self.database, autocommit=True) as conn:
            try:
                # A test that left a connection open in a transaction would hold locks:
                # wait a little, then drop it instead (as without the pool).
                conn.execute("SET lock_timeout = '5s'")
                _empty(conn, schema)
            except psycopg.Error:
                conn.execute("RESET lock_timeout")
                drop(conn, schema)
                return
            self.free.append(schema)

    def _prime(self) -> None:
        """The reference: a new schema, used as a test would, then reset."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.database, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self.prime(f"{self.database}?schema={schema}")
        with psycopg.connect(self.database, autocommit=True) as conn:
            _empty(conn, schema)
            self.catalogue = _catalogue(conn, schema)
        self.free.append(schema)

    def _as_new(self, conn: psycopg.Connection[tuple[object, ...]], schema: str) -> bool:
        """Whether a pooled schema still has the pool's catalogue and no rows to speak of."""
        if _catalogue(conn, schema) != self.catalogue:
            return False
        tables = [t for t in _tables(conn, schema) if t not in KEPT]
        if not tables:
            return True
        any_row = " OR ".join(f"EXISTS (SELECT 1 FROM {schema}.{t})" for t in tables)
        row = conn.execute(f"SELECT {any_row}").fetchone()
        return row is not None and not row[0]


def drop(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _empty(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Every table's rows but the migration record's, and the sequences the tables own."""
    tables = [t for t in _tables(conn, schema) if t not in KEPT]
    if tables:
        listed = ", ".join(f"{schema}.{t}" for t in tables)
        conn.execute(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")


def _tables(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
    ).fetchall()
    return [str(r[0]) for r in rows]


def _catalogue(
    conn: psycopg.Connection[tuple[object, ...]], schema: str
) -> tuple[tuple[str, ...], ...]:
    """The schema's structure with its own name taken out (pooled schemas differ by name),
    and the migration record's versions."""
    rows = conn.execute(_CATALOGUE, {"s": schema}).fetchall()
    structure = tuple(
        tuple(str(value).replace(f"{schema}.", "<schema>.") for value in row) for row in rows
    )
    versions: tuple[tuple[str, ...], ...] = ()
    if "schema_versions" in _tables(conn, schema):
        versions = tuple(
            tuple(str(v) for v in row)
            for row in conn.execute(
                f"SELECT component, version FROM {schema}.schema_versions ORDER BY 1"
            ).fetchall()
        )
    return (*structure, ("versions",), *versions)
