"""Views write their JSON with orjson; what they write reads back as what they meant."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.plan_states import dumps

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses those, json writes them
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(VALUES, st.booleans())
def test_a_view_document_reads_back_as_the_value_written(value: Any, sort_keys: bool) -> None:
    text = dumps(value, sort_keys=sort_keys)
    assert json.loads(text) == value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(), max_size=6))
def test_sorted_documents_are_the_same_text_json_would_write(value: dict[str, int]) -> None:
    expected = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert dumps(value, sort_keys=True) == expected


def test_keys_that_are_not_text_are_written_as_json_writes_them() -> None:
    assert dumps({1: "a"}) == '{"1":"a"}'
