"""What the team pages (the dashboard, the outcomes) share: drawn from the views once
they reach the log's head, so a page shows every write made before it was asked for, or
says the latest are still being processed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template

from domain.actor import Actor
from services.access.policy import RequestInfo
from web.context import carelog, reader_of, views_wait

Content = Callable[[Actor, RequestInfo], dict[str, Any]]


def views_at_head() -> tuple[int, bool]:
    """The log's head now, and whether the views reached it within the (bounded) wait."""
    instance = carelog()
    head = int(instance.app.recorder.max_notification_id() or 0)
    return head, head == 0 or instance.views.wait_for(head, timeout=views_wait())


def render_team_page(kind: str, template: str, content: Content) -> str:
    """``template`` for the caller, once the policy lets them read ``kind`` and the views
    had their chance to reach the head (``after``, where a live page's feed starts);
    ``content`` builds the rest of the page and records the reads it makes."""
    who, info = reader_of(kind)
    head, caught_up = views_at_head()
    return render_template(template, who=who, after=head, caught_up=caught_up, **content(who, info))
