"""Every command class reaches the record: by a route of ``services/writing/dispatch.py``
or a handler of its own in ``Commands.execute``. A class with neither is a failing test
here, never a silent miss at run time."""

from __future__ import annotations

import inspect
import typing

import pytest

from domain import commands as c
from services.writing import commands as service
from services.writing.dispatch import ROUTES

HANDLED = {
    c.Prescribe,
    c.ChangeDose,
    c.AssignCareTeamMember,
    c.RecordAssessment,
    c.RecordFact,
    c.RecordLabResult,
    c.RecordPharmacogenomicResult,
}
"""The commands ``Commands.execute`` matches before the routes (drug lookup, staff check,
the check-in after a dose change, the score and the warnings in the answer)."""


class TestDispatch:
    @pytest.mark.parametrize("cls", typing.get_args(c.RecordCommand), ids=lambda k: k.__name__)
    def test_every_command_class_has_a_way_to_the_record(self, cls: type) -> None:
        assert cls in ROUTES or cls in HANDLED

    def test_the_handled_commands_are_the_ones_execute_matches(self) -> None:
        source = inspect.getsource(service.Commands.execute)
        for cls in HANDLED:
            assert f"case c.{cls.__name__}()" in source

    def test_every_command_class_is_in_the_union(self) -> None:
        exported = {getattr(c, name) for name in c.__all__ if name not in ("RecordCommand",)}
        assert exported - {c.RegisterPatient} == set(typing.get_args(c.RecordCommand))

    def test_every_command_is_a_frozen_dataclass(self) -> None:
        for cls in typing.get_args(c.RecordCommand):
            assert cls.__dataclass_params__.frozen, cls.__name__
