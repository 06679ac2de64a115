"""Creating views on first use, and starting them again from zero when their schema changes.

Each view has a ``schema_version``. A view seen for the first time gets its tables and
tracking rows at position 0; a view whose version changed (new columns, a projection that
now means something else) has its tables dropped and recreated at position 0, and the
runner replays the log into them. To change a view without an empty moment, bump nothing
and run ``carelog projections rebuild NAME`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.sql.database import Database
from projections.tracking import create_control_tables, reset_position
from projections.view import Tables, View


def ensure(db: Database, views: Iterable[View]) -> None:
    create_control_tables(db)
    with db.transaction() as cur:
        if db.dialect == "postgres":  # two processes starting at once must not both create
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('carelog.views.ensure'))")
        for view in views:
            meta = cur.execute(
                "SELECT schema_version, generation, building FROM view_meta WHERE name = ?",
                (view.name,),
            ).fetchone()
            generation = 0 if meta is None else int(meta["generation"])
            live = Tables(view.tables, "", generation)
            if meta is None or int(meta["schema_version"]) != view.schema_version:
                view.drop(cur, live)
                view.create(cur, live)
                for stream in view.streams:
                    reset_position(cur, view.name, stream)
                cur.execute(
                    "DELETE FROM view_quarantine WHERE name = ? AND status = 'open'", (view.name,)
                )
                cur.execute("DELETE FROM view_meta WHERE name = ?", (view.name,))
                cur.execute(
                    "INSERT INTO view_meta (name, schema_version, generation) VALUES (?, ?, ?)",
                    (view.name, view.schema_version, generation),
                )
                continue
            if meta["building"] is None:  # IF NOT EXISTS: a no-op unless an index was added
                # (during a rebuild the generation is the new tables', whose indexes the
                # rebuild creates after its bulk load: naming them here would put them on
                # the live tables, or race the rebuild for the name)
                view.create(cur, live)
            for stream in view.streams:
                found = cur.execute(
                    "SELECT 1 FROM view_tracking WHERE name = ? AND stream = ?", (view.name, stream)
                ).fetchone()
                if found is None:
                    reset_position(cur, view.name, stream)
