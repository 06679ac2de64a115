"""``GET /api/v1/feed/stream`` over a real HTTP connection, as a pharmacist's tool uses it:
a dose change arrives live, a reconnect with ``Last-Event-ID`` loses nothing and repeats
nothing, and every delivery is in the audit trail."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.api.conftest import ApiClient, prescribe, register_patient

DOSE_CHANGED = "carelog.medication.dose-changed.v1"


@pytest.fixture
def server(app: Flask, api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[BaseWSGIServer]:
    # Frequent heartbeats: the server notices a closed connection at its next write, so
    # no stream outlives its test.
    monkeypatch.setattr("web.feed.HEARTBEAT_SECONDS", 0.2)
    api.carelog.views.start()  # the stream's care-team filter reads the views
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()
    for _ in range(100):  # streams end at their next heartbeat once their client hung up
        if not any(t.name.endswith("(process_request_thread)") for t in threading.enumerate()):
            break
        threading.Event().wait(0.05)
    api.carelog.views.stop()


class Stream:
    """One SSE connection, its events parsed into a queue by a reader thread."""

    def __init__(self, port: int, token: str, last_event_id: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/api/v1/feed/stream", headers=headers)
        self.sock = self.conn.sock  # the response takes it over; close() shuts it for good
        self.response = self.conn.getresponse()
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line:
                    if "data" in fields:
                        self.events.put({**json.loads(fields["data"]), "sse_id": fields.get("id")})
                    fields = {}
                elif not line.startswith(":") and ":" in line:
                    key, _, value = line.partition(":")
                    fields[key] = value.lstrip(" ")
        except Exception:  # the test hung up mid-read: whatever http.client raises then
            return

    def next(self, timeout: float = 15) -> dict[str, Any]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        """Hang up: the server sees it at its next heartbeat and ends the stream."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        self.response.close()
        self.conn.close()
        self.thread.join(5)


def cursor_feed(api: ApiClient, after: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = api.get(f"/api/v1/feed?after={after}&limit=100", as_="pharmacist").get_json()
        items += page["items"]
        if not page["items"] or page.get("next_after") is None:
            return items
        after = page["next_after"]


def change_dose(api: ApiClient, pid: str, order: str, amount: float) -> int:
    response = api.post(
        f"/api/v1/patients/{pid}/medications/{order}/dose-changes",
        {"dose": {"amount": amount, "unit": "mg"}, "reason": "titration"},
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["position"])


def views_caught_up(api: ApiClient) -> None:
    api.carelog.views.wait_for(api.carelog.app.recorder.max_notification_id(), timeout=10)


def on_sertraline(api: ApiClient, mrn: str) -> tuple[str, str]:
    """A new patient prescribed sertraline, the views caught up: the ids of both."""
    pid = register_patient(api, mrn)
    order: str = prescribe(api, pid).get_json()["order_id"]
    views_caught_up(api)
    return pid, order


class TestStream:
    def test_a_dose_change_arrives_live_and_a_resume_loses_and_repeats_nothing(
        self, api: ApiClient, server: BaseWSGIServer
    ) -> None:
        pid, order = on_sertraline(api, "MRN-SSE")
        port = server.server_port
        token = api.team.tokens["pharmacist"]

        stream = Stream(port, token)
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type", "").startswith("text/event-stream")
        seen: list[dict[str, Any]] = []
        position = change_dose(api, pid, order, 100)
        while True:  # the backlog (registration, prescription) first, then the change
            event = stream.next()
            seen.append(event)
            if event["type"] == DOSE_CHANGED:
                break
        assert event["subject"] == pid
        assert event["data"]["position"] == position
        assert event["sse_id"] == str(position)  # the SSE id is the log position
        stream.close()

        last = seen[-1]["sse_id"]
        later = [change_dose(api, pid, order, amount) for amount in (150, 200)]
        resumed = Stream(port, token, last_event_id=last)
        got: list[dict[str, Any]] = []
        while not got or got[-1]["data"]["position"] < later[-1]:
            got.append(resumed.next())
        resumed.close()
        changes = [e["data"]["position"] for e in got if e["type"] == DOSE_CHANGED]
        assert changes == later
        assert all(e["data"]["position"] > int(last) for e in got)
        expected = [e for e in cursor_feed(api, int(last)) if e["data"]["position"] <= later[-1]]
        assert [e["id"] for e in got] == [e["id"] for e in expected]  # CloudEvent ids

        before = [e for e in cursor_feed(api, 0) if e["data"]["position"] <= int(last)]
        assert [e["id"] for e in seen] == [e["id"] for e in before]  # nothing skipped

    def test_every_streamed_delivery_is_recorded_in_the_audit_trail(
        self, api: ApiClient, server: BaseWSGIServer
    ) -> None:
        pid, order = on_sertraline(api, "MRN-SSE-AUDIT")
        stream = Stream(server.server_port, api.team.tokens["pharmacist"])
        change_dose(api, pid, order, 100)
        views_caught_up(api)
        items, _ = api.carelog.feed.page(  # the service itself: an API read would be audited
            role="pharmacist", patient_ids={pid}, after=0, limit=1000
        )
        last = max(e["data"]["position"] for e in items)
        delivered = []  # everything the stream can send: nothing is written after this
        while not delivered or delivered[-1]["data"]["position"] < last:
            delivered.append(stream.next())
        stream.close()
        api.carelog.views.catch_up()
        entries, _ = api.carelog.views.audit_trail.entries(
            actor_id=api.team.pharmacist.id, action="read:feed:*", limit=100
        )
        recorded = sorted(e["action"] for e in entries if e["patient_id"] == pid)
        assert recorded == sorted(f"read:feed:{e['type']}" for e in delivered)

    def test_a_bad_last_event_id_is_a_field_error_and_no_token_is_401(
        self, api: ApiClient, server: BaseWSGIServer
    ) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request(
            "GET",
            "/api/v1/feed/stream",
            headers={
                "Authorization": f"Bearer {api.team.tokens['pharmacist']}",
                "Last-Event-ID": "yesterday",
            },
        )
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 400
        assert "Last-Event-ID" in body["errors"]
        conn.request("GET", "/api/v1/feed/stream")
        response = conn.getresponse()
        response.read()
        assert response.status == 401
        conn.close()
