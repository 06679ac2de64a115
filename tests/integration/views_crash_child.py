"""A view runner process for the crash test: catches up in small batches and prints each
committed position, so the test can kill it (-9) at a chosen moment of its catch-up.

Usage: python -m tests.integration.views_crash_child STORE_URL VIEWS_URL ACCESS_URL BATCH

ACCESS_URL is the database holding the access log the test wrote (the views database under
test is a fresh one).
"""

from __future__ import annotations

import sys

from projections.follower import Lane
from projections.runner import Views
from projections.sql.connection import connect
from services.access.access_log import AccessLog
from services.bootstrap import CareLog
from services.config import Config


def main() -> None:
    store, views_url, access_url, batch = sys.argv[1:5]
    carelog = CareLog(
        Config(
            database_url=store,
            views_url=views_url,
            run_projections=False,
            group_commit_ms=0,
            pool_size=2,
        )
    )
    access = AccessLog(connect(access_url, 2))
    views = Views(carelog.app, carelog.db, access, batch_size=int(batch), cache_size=64)

    def committed(lane: Lane) -> None:
        print(f"{lane.key} {lane.positions.get('events', 0)}", flush=True)

    views.follower.on_commit = committed
    print("ready", flush=True)
    views.catch_up()
    print("done", flush=True)
    carelog.close()


if __name__ == "__main__":
    main()
