"""A snapshot stores the plan as plain dicts (the shape it had before its entities were
dataclasses) and rebuilds the entities when loaded, so snapshots written by older
versions load too and replaying from one gives the same plan as replaying the log."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex

from domain.plan import PlanState
from domain.plan_entities import Order
from domain.plan_entity import Author
from domain.plan_vocabulary import OrderStatus
from services.writing.application import PlanStateAsDict
from services.writing.transcoder import FastJSONTranscoder
from tests.unit.test_view_documents import a_history


def folded() -> PlanState:
    state = PlanState()
    for event in a_history():
        state.apply(event)
    return state


def transcoders() -> list[JSONTranscoder]:
    made = [JSONTranscoder(), FastJSONTranscoder()]
    for transcoder in made:
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), PlanStateAsDict()):
            transcoder.register(transcoding)
    return made


def as_older_versions_stored_it(state: PlanState) -> dict[str, Any]:
    """The plan as a snapshot of an older version holds it: entities as dicts, without
    the collections and keys added since, with a key this version no longer has."""
    old = state.as_dict()
    del old["pharmacogenomics"]
    for order in old["orders"].values():
        for key in ("continuing", "override_reason"):
            order.pop(key, None)
        for step in order["steps"]:
            step["route"] = "oral"  # an old correction copied every field onto the step
    return old


class TestSnapshotsOfThePlan:
    def test_a_snapshot_decodes_to_the_same_plan_with_its_entities(self) -> None:
        state = folded()
        for transcoder in transcoders():
            stored = transcoder.encode({"plan": state, "id": UUID(int=7)})
            plan = transcoder.decode(stored)["plan"]
            assert isinstance(plan, PlanState)
            assert plan == state
            order = next(iter(plan.orders.values()))
            assert isinstance(order, Order)
            assert isinstance(order.prescriber, Author)
            assert order.status is OrderStatus.DISCONTINUED  # enums come back as enums

    def test_a_snapshot_an_older_version_wrote_still_loads(self) -> None:
        state = folded()
        loaded = PlanState.from_dict(as_older_versions_stored_it(state))
        assert loaded.pharmacogenomics == {}
        assert loaded.orders == state.orders  # missing keys take their defaults
        assert loaded.assessments == state.assessments
        assert loaded.patient == state.patient

    def test_a_plan_not_yet_registered_is_stored_as_an_empty_patient(self) -> None:
        state = PlanState()
        assert state.as_dict()["patient"] == {}
        assert not PlanState.from_dict(state.as_dict()).patient
