"""The orjson transcoder decodes exactly what the library's JSON transcoder decodes.

Stored bytes are written by the library's encoder either way; what must hold is that
every stored document reads back as the same values whichever parser reads it, typed
values (times, ids, decimals, a snapshot's plan) included, and that a document orjson
refuses is still read (or refused) as the library would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.plan import PlanState
from domain.plan_entities import Patient
from domain.plan_records import Assessment
from services.writing.transcoder import FastJSONTranscoder, PlanStateAsDict


def pair() -> tuple[JSONTranscoder, FastJSONTranscoder]:
    made = (JSONTranscoder(), FastJSONTranscoder())
    for transcoder in made:
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), PlanStateAsDict()):
            transcoder.register(transcoding)
    return made


LIBRARY, FAST = pair()

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.datetimes(timezones=st.just(UTC))
    | st.uuids()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
        # objects that look like the typed form but are not quite it stay plain objects
        | st.fixed_dictionaries({"_type_": st.text(max_size=4), "x": children})
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(VALUES)
def test_any_stored_value_decodes_the_same_with_either_parser(value: Any) -> None:
    stored = LIBRARY.encode({"value": value})
    assert FAST.decode(stored) == LIBRARY.decode(stored)


def test_a_snapshot_with_a_plan_decodes_to_the_same_plan() -> None:
    plan = PlanState()
    plan.patient = Patient(name="Test Patient", registered_at=datetime(2026, 1, 2, tzinfo=UTC))
    plan.assessments = [
        Assessment.from_dict({"total": 12, "effective_at": datetime(2026, 1, 3, tzinfo=UTC)})
    ]
    stored = LIBRARY.encode({"state": plan, "id": UUID(int=7), "dose": Decimal("2.5")})
    fast, library = FAST.decode(stored), LIBRARY.decode(stored)
    assert isinstance(fast["state"], PlanState)
    assert fast == library
    assert fast["state"].assessments[0].effective_at == datetime(2026, 1, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "stored",
    [
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":1e400}',
        b'{"a":%d}' % (2**70),  # orjson would round it to a float
        b'{"a":%d}' % -(2**64),
        b'{"a":[%d]}' % (10**19),
    ],
)
def test_documents_orjson_refuses_are_read_as_the_library_reads_them(stored: bytes) -> None:
    fast, library = FAST.decode(stored), LIBRARY.decode(stored)
    assert repr(fast) == repr(library)  # repr: NaN is not equal to itself


def test_an_unknown_typed_value_is_refused_as_the_library_refuses_it() -> None:
    stored = b'{"a":{"_type_":"no_such_type","_data_":"x"}}'
    with pytest.raises(TranscodingNotRegisteredError):
        LIBRARY.decode(stored)
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.decode(stored)


def test_bytes_that_are_not_json_are_refused_as_the_library_refuses_them() -> None:
    with pytest.raises(json.JSONDecodeError):
        LIBRARY.decode(b'{"a": ')
    with pytest.raises(json.JSONDecodeError):
        FAST.decode(b'{"a": ')
