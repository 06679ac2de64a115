"""Stopping the server (Ctrl-C) ends every open live feed at once: a pharmacist's
dashboard left open no longer holds the exiting worker until gunicorn's graceful timeout
kills it (about 30 s, logged as "Worker was sent SIGKILL! Perhaps out of memory?")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.serving import BaseWSGIServer

from tests.api.conftest import ApiClient
from tests.api.test_feed_stream import Stream, server  # noqa: F401 - the live server fixture
from web.feed import end_open_streams
from web.serving import _end_open_streams


class TestStreamsEndOnShutdown:
    @pytest.mark.parametrize(
        "shut_down",
        [
            pytest.param(end_open_streams, id="an_open_stream_ends_when_the_server_stops"),
            pytest.param(  # gunicorn's worker_int, on SIGINT / SIGQUIT
                lambda: _end_open_streams(worker=None), id="the_gunicorn_hook_ends_them_too"
            ),
        ],
    )
    def test_an_open_stream_ends_when_the_server_stops(
        self,
        api: ApiClient,
        server: BaseWSGIServer,  # noqa: F811
        shut_down: Callable[[], None],
    ) -> None:
        stream = Stream(server.server_port, api.team.tokens["pharmacist"])
        try:
            stream.thread.join(1.0)
            assert stream.thread.is_alive()  # heartbeats keep an idle stream open

            shut_down()

            stream.thread.join(3.0)
            assert not stream.thread.is_alive(), "the stream outlived the shutdown"
        finally:
            stream.close()
