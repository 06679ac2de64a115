"""What the views kept from each patient's folded plan share.

A ``PlanView`` folds each patient's events with ``plan_states`` (the states kept in memory
between batches, keyed by the view's per-patient table, whose rows carry the record version
and position they reflect) and hands the patients a batch changed to the view's own
``write``. A ``CareTeamView`` also keeps the active care-team members per patient, so that
a clinician's patients are one indexed query.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from projections import plan_states
from projections.feed import Item
from projections.plan_states import Folded, PlanStates
from projections.sql.database import Cursor, Database
from projections.view import Tables, View, fast_compression


class PlanView(View):
    """A view whose rows are made from each patient's folded plan."""

    head: ClassVar[str]
    """The per-patient table (keyed by ``patient_id``) the folded states are kept for."""

    def __init__(self, db: Database, states: PlanStates | None = None) -> None:
        super().__init__(db)
        self.states = states or PlanStates()

    def project(self, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]) -> None:
        states = self.states.take(cur, t[self.head], plan_states.touched(items))
        changed = plan_states.fold(states, items)
        if changed:
            self.write(cur, t, states, changed)
        self.states.keep(t[self.head], states)

    @abstractmethod
    def write(
        self, cur: Cursor, t: Tables, states: dict[str, Folded], changed: dict[str, list[str]]
    ) -> None:
        """Write the rows of the patients ``changed`` (each with its event types in the
        batch), whose folded states ``states`` holds."""

    def forget(self, t: Tables) -> None:
        self.states.forget(t[self.head])


HEAD_TYPES = {
    "patient_id": "TEXT PRIMARY KEY",
    "external_id": "TEXT NOT NULL",
    "name": "TEXT NOT NULL",
    "birth_date": "TEXT",
    "version": "INTEGER NOT NULL",
    "position": "BIGINT NOT NULL",
}
"""The per-patient table's columns beside the document, as a care-team view may keep them."""


class CareTeamView(PlanView):
    """A plan view with two tables, read by clinician: one row per patient (``head``, the
    first of ``tables``: the patient's id, some of the patient's own attributes, the
    record's version and position, and a JSON document) and one per active care-team
    member (``member``, the second)."""

    member: ClassVar[str]
    patient_columns: ClassVar[tuple[str, ...]]
    """The patient's attributes kept in the per-patient table (``HEAD_TYPES`` names them)."""
    document_column: ClassVar[str]
    """The per-patient table's column of large JSON (compressed on PostgreSQL)."""
    head_columns: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.head, cls.member = cls.tables
        cls.order = {cls.head: "patient_id", cls.member: "patient_id, clinician_id"}
        cls.head_columns = (
            "patient_id",
            *cls.patient_columns,
            "version",
            "position",
            cls.document_column,
        )

    def create_tables(self, cur: Cursor, t: Tables) -> None:
        types = {**HEAD_TYPES, self.document_column: "TEXT NOT NULL"}
        columns = ",\n            ".join(f"{c} {types[c]}" for c in self.head_columns)
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[self.head]} (
            {columns})""")
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[self.member]} (
            patient_id TEXT NOT NULL,
            clinician_id TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (patient_id, clinician_id))""")
        fast_compression(cur, self.db, t[self.head], self.document_column)

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(self.member, 'clinician')}"
            f" ON {t[self.member]} (clinician_id)"
        )

    def write(
        self, cur: Cursor, t: Tables, states: dict[str, Folded], changed: dict[str, list[str]]
    ) -> None:
        rows = [self.head_row(pid, states[pid], kinds) for pid, kinds in changed.items()]
        cur.replace_rows(t[self.head], "patient_id", self.head_columns, rows)
        moved, members = plan_states.members(states, changed)
        if moved:
            where, params = cur.any_of("patient_id", moved)
            cur.execute(f"DELETE FROM {t[self.member]} WHERE {where}", params)
        if members:
            cur.insert_rows(t[self.member], ("patient_id", "clinician_id", "role"), members)

    def head_row(self, patient_id: str, folded: Folded, kinds: list[str]) -> tuple[Any, ...]:
        patient = folded.plan.patient
        return (
            patient_id,
            *(getattr(patient, name) for name in self.patient_columns),
            folded.version,
            folded.position,
            self.render(patient_id, folded, kinds),
        )

    @abstractmethod
    def render(self, patient_id: str, folded: Folded, kinds: list[str]) -> str:
        """The patient's document as stored (JSON), re-encoding only the sections the
        event types ``kinds`` can change."""
