"""How stored event state is decoded: the library's JSON format, parsed by orjson.

Every read of the record decodes JSON: the views' catch-up and rebuilds, history
queries, loading a record or a snapshot, exports and verification. The library's
``JSONTranscoder`` parses with the standard ``json`` module and an ``object_hook``;
this one parses the same bytes with orjson (about four times faster here) and then
applies the same hook to every object, innermost first, exactly as ``json`` would, so
the decoded values are the same (a property test holds the two to that).

Writing is unchanged (the standard encoder), so stored bytes, and the hash chain over
them, do not depend on this module. The few documents orjson refuses and ``json``
accepts (``NaN`` and ``Infinity``) are decoded by the library's own path, so nothing that
was stored becomes unreadable. So is any document in which orjson found a number of
2**63 or more: orjson reads an integer beyond 64 bits as a float, silently rounded (the
test of this module caught that), and a float that large might be one.

Snapshots carry the plan state as plain JSON (``PlanStateAsDict``).
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.plan import PlanState

_HUGE = float(2**63)


class _MaybeRounded(Exception):
    """orjson parsed a number so large it may have been an integer it rounded."""


class FastJSONTranscoder(JSONTranscoder):
    """``JSONTranscoder`` with orjson parsing; same format, same decoded values."""

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
            kind = type(parsed)
            if kind is dict or kind is list:
                return self._revive(parsed)
            if kind is float and not -_HUGE < parsed < _HUGE:
                raise _MaybeRounded
            return parsed
        except (orjson.JSONDecodeError, _MaybeRounded):  # NaN, huge numbers, not JSON
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        """What ``object_hook`` does during parsing, done after it: children first. The
        usual typed value (a time, an id: ``{"_type_": name, "_data_": text}``) is
        converted in its parent's loop rather than by another call."""
        names = self.names
        if type(value) is dict:
            for key, item in value.items():  # replacing values only: safe while iterating
                kind = type(item)
                if kind is dict:
                    if len(item) == 2 and type(item.get("_data_")) is str:
                        transcoding = names.get(item.get("_type_"))
                        if transcoding is not None:
                            value[key] = transcoding.decode(item["_data_"])
                            continue
                    value[key] = self._revive(item)
                elif kind is list:
                    value[key] = self._revive(item)
                elif kind is float and not -_HUGE < item < _HUGE:
                    raise _MaybeRounded
            return self._decode_obj(value) if len(value) == 2 else value
        for index, item in enumerate(value):
            kind = type(item)
            if kind is dict or kind is list:
                value[index] = self._revive(item)
            elif kind is float and not -_HUGE < item < _HUGE:
                raise _MaybeRounded
        return value


class PlanStateAsDict(Transcoding):
    """Lets snapshots carry the plan state as plain JSON."""

    type = PlanState
    name = "plan_state"

    def encode(self, obj: PlanState) -> dict[str, Any]:
        return obj.as_dict()  # entities as plain dicts: the shape older snapshots have

    def decode(self, data: dict[str, Any]) -> PlanState:
        return PlanState.from_dict(data)  # rebuilds the entities, older snapshots too
