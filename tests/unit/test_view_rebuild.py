"""Side-by-side rebuilds: a view whose worker met another's schema statements is rebuilt
again on its own; any other failure is reported as it is."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.cli import view_rebuild
from services.cli.view_rebuild import Rebuilt
from services.config import Config


def test_a_view_that_raced_another_worker_is_rebuilt_again_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[str], int]] = []

    def side_by_side(_config: Config, names: Sequence[str], jobs: int) -> list[Rebuilt]:
        calls.append((list(names), jobs))
        if len(calls) == 1:
            return [
                Rebuilt("current_plan", result={"events": 8}),
                Rebuilt("team_dashboard", error="InternalError: tuple concurrently updated"),
                Rebuilt("audit_trail", error="ValueError: a poison event"),
            ]
        return [Rebuilt(name, result={"events": 8}) for name in names]

    monkeypatch.setattr(view_rebuild, "_side_by_side", side_by_side)
    names = ["current_plan", "team_dashboard", "audit_trail"]
    done = view_rebuild.rebuild_views(Config(), names, 2)
    assert calls == [(names, 2), (["team_dashboard"], 1)]
    assert [(r.view, r.error) for r in done] == [
        ("current_plan", None),
        ("team_dashboard", None),
        ("audit_trail", "ValueError: a poison event"),
    ]
