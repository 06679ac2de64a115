"""Group commit's batching logic, with a fake store (the real one is in integration)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from services.writing.group_commit import GroupCommitter, _Pending


@dataclass
class Agg:
    id: str
    pending_events: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Event:
    originator_id: str


@dataclass(frozen=True)
class Recording:
    domain_event: Event


class FakeStore:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.events: list[list[Any]] = []
        self.gate = threading.Event()
        self.conflicting: set[str] = set()

    def save(self, *aggregates: Agg) -> list[Recording]:
        self.gate.wait(5)
        ids = [a.id for a in aggregates]
        self.events.append([e for a in aggregates for e in a.pending_events])
        for aggregate in aggregates:  # like the library, saving takes the pending events
            aggregate.pending_events.clear()
        self.calls.append(ids)
        if self.conflicting & set(ids):
            raise IntegrityError("conflict")
        return [Recording(Event(i)) for i in ids]


def run_concurrently(committer: GroupCommitter, ids: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def call(i: str) -> None:
        try:
            results[i] = committer.save(Agg(i, [f"event-of-{i}"]))
        except IntegrityError as exc:
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    return {"threads": threads, "results": results}


class TestGroupCommit:
    def test_writes_queued_behind_a_commit_share_the_next_transaction(self) -> None:
        store = FakeStore()
        committer = GroupCommitter(store.save, window_seconds=0.002)
        first = run_concurrently(committer, ["a"])
        while not committer.batches:
            pass
        rest = run_concurrently(committer, ["b", "c", "d"])
        time.sleep(0.05)
        store.gate.set()
        for t in first["threads"] + rest["threads"]:
            t.join(5)
        assert store.calls[0] == ["a"]
        assert sorted(store.calls[1]) == ["b", "c", "d"]
        for i in "bcd":
            assert [r.domain_event.originator_id for r in rest["results"][i]] == [i]
        committer.close()

    def test_a_conflict_fails_only_its_own_command(self) -> None:
        store = FakeStore()
        store.conflicting = {"bad"}
        committer = GroupCommitter(store.save, window_seconds=0.002)
        first = run_concurrently(committer, ["x"])
        while not committer.batches:
            pass
        rest = run_concurrently(committer, ["good", "bad"])
        time.sleep(0.05)
        store.gate.set()
        for t in first["threads"] + rest["threads"]:
            t.join(5)
        assert isinstance(rest["results"]["bad"], IntegrityError)
        assert sorted(map(sorted, store.calls[1:])) == [["bad"], ["bad", "good"], ["good"]]
        retried = store.events[store.calls.index(["good"])]
        assert retried == ["event-of-good"], "the failed batch lost the command's events"
        assert [r.domain_event.originator_id for r in rest["results"]["good"]] == ["good"]
        committer.close()

    def test_one_record_is_never_saved_twice_in_one_transaction(self) -> None:
        store = FakeStore()
        store.gate.set()
        committer = GroupCommitter(store.save)
        committer._queue = []

        committer._queue = [_Pending((Agg("p"),)), _Pending((Agg("p"),)), _Pending((Agg("q"),))]
        batch = committer._take()
        assert [p.aggregates[0].id for p in batch] == ["p", "q"]
        assert len(committer._queue) == 1

    def test_closed_committer_refuses_new_writes(self) -> None:
        committer = GroupCommitter(FakeStore().save)
        committer.close()
        with pytest.raises(RuntimeError, match="shutting down"):
            committer.save(Agg("z"))
