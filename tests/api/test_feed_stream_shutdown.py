"""Stopping the server (Ctrl-C) ends every open live feed at once: a pharmacist's
dashboard left open no longer holds the exiting worker until gunicorn's graceful timeout
kills it (about 30 s, logged as "Worker was sent SIGKILL! Perhaps out of memory?")."""

from __future__ import annotations

from werkzeug.serving import BaseWSGIServer

from tests.api.conftest import ApiClient
from tests.api.test_feed_stream import Stream, server  # noqa: F401 - the live server fixture
from web.feed import end_open_streams
from web.serving import _end_open_streams


class TestStreamsEndOnShutdown:
    def test_an_open_stream_ends_when_the_server_stops(
        self,
        api: ApiClient,
        server: BaseWSGIServer,  # noqa: F811
    ) -> None:
        stream = Stream(server.server_port, api.team.tokens["pharmacist"])
        try:
            stream.thread.join(1.0)
            assert stream.thread.is_alive()  # heartbeats keep an idle stream open

            end_open_streams()

            stream.thread.join(3.0)
            assert not stream.thread.is_alive(), "the stream outlived the shutdown"
        finally:
            stream.close()

    def test_the_gunicorn_hook_ends_them_too(
        self,
        api: ApiClient,
        server: BaseWSGIServer,  # noqa: F811
    ) -> None:
        stream = Stream(server.server_port, api.team.tokens["pharmacist"])
        try:
            stream.thread.join(1.0)
            assert stream.thread.is_alive()

            _end_open_streams(worker=None)  # gunicorn's worker_int, on SIGINT / SIGQUIT

            stream.thread.join(3.0)
            assert not stream.thread.is_alive()
        finally:
            stream.close()
