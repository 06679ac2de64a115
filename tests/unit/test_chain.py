"""The chain's canonical bytes and links: unambiguous, and sensitive to every field."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from services.integrity.chain import (
    ACCESS_TAG,
    GENESIS,
    canonical_id,
    event_bytes,
    extend,
    fields_bytes,
    link,
)

OID = "6f1c0c4e8f0a4d8e9b2d3c4b5a697887"


class TestCanonicalBytes:
    def test_moving_bytes_between_topic_and_state_changes_the_record(self) -> None:
        assert event_bytes(OID, 1, "carelog.NoteAdded", b"x") != event_bytes(
            OID, 1, "carelog.NoteAdde", b"dx"
        )

    def test_a_uuid_and_its_stored_hex_text_give_the_same_bytes(self) -> None:
        assert canonical_id(UUID(OID)) == OID

    def test_none_and_empty_text_and_zero_are_different_fields(self) -> None:
        rows = [(None,), ("",), (0,), ("0",), (b"",), (False,)]
        assert len({fields_bytes(ACCESS_TAG, row) for row in rows}) == len(rows)

    @given(
        st.lists(st.one_of(st.none(), st.text(), st.integers(), st.binary()), max_size=4),
        st.lists(st.one_of(st.none(), st.text(), st.integers(), st.binary()), max_size=4),
    )
    def test_different_rows_never_share_their_bytes(self, a: list[object], b: list[object]) -> None:
        same = [(type(x), x) for x in a] == [(type(y), y) for y in b]
        assert (fields_bytes(ACCESS_TAG, tuple(a)) == fields_bytes(ACCESS_TAG, tuple(b))) == same

    @given(
        st.text(),
        st.integers(0, 2**40),
        st.text(),
        st.binary(),
        st.sampled_from(["oid", "version", "topic", "state"]),
    )
    def test_changing_any_field_of_an_event_changes_its_bytes(
        self, oid: str, version: int, topic: str, state: bytes, which: str
    ) -> None:
        before = event_bytes(oid, version, topic, state)
        changed = {
            "oid": (oid + "x", version, topic, state),
            "version": (oid, version + 1, topic, state),
            "topic": (oid, version, topic + "x", state),
            "state": (oid, version, topic, state + b"\0"),
        }[which]
        assert event_bytes(*changed) != before


class TestLinks:
    def test_a_link_depends_on_the_link_before_and_on_the_position(self) -> None:
        record = event_bytes(OID, 1, "t", b"s")
        first = link(GENESIS, 1, record)
        assert link(first, 2, record) != link(GENESIS, 2, record)
        assert link(GENESIS, 1, record) != link(GENESIS, 2, record)
        assert len(first) == 32

    def test_extending_a_chain_is_linking_each_record_in_turn(self) -> None:
        records = [(p, event_bytes(OID, p, "t", bytes([p]))) for p in (1, 2, 5)]
        links = extend(GENESIS, records)
        expected, previous = [], GENESIS
        for position, record in records:
            previous = link(previous, position, record)
            expected.append((position, previous))
        assert links == expected
