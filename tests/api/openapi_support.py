"""The OpenAPI fuzzers' shared work, done once per test process: loading the document into
schemathesis and drawing each operation's requests.

Loading builds a generator and compiled validators for every operation (the document's
components bundled into each), and drawing runs Hypothesis over them: most of a fuzzer's
time, and the same whichever app served the document, since the document is identical for
every app (the store is below the HTTP layer). So the document is loaded once, and each
operation's requests are drawn once: the per-store fuzzer sends the very same requests to
every store (what a store may refuse is the same input on each), and the shape-check
fuzzer checks them against the request schemas. The draws stay fixed (``derandomize``,
tests/conftest.py): every run sends the same requests.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings

DRAWN = 15
"""Requests drawn per operation: as many as the most any fuzzer uses."""
FUZZ_GROUP = "openapi_fuzz"
"""The xdist group of the tests that use the draws: one worker, so they are drawn once."""


class FuzzedDocument:
    """One document loaded into schemathesis, and the requests drawn for its operations.

    It is loaded from an app (``from_wsgi``), so generation also tries the constants in the
    app's code (each only where the document allows it); ``case.call(app=...)`` sends a
    request to any app serving the same document."""

    def __init__(self, app: Flask) -> None:
        self.schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
        self.operations = [result.ok() for result in self.schema.get_all_operations()]
        self._drawn: dict[str, list[schemathesis.Case]] = {}

    def cases(self, operation: Any) -> list[schemathesis.Case]:
        """``DRAWN`` requests the document allows for ``operation``, drawn on first use. They
        are shared: a caller that changes one (a path parameter) changes ``case.derive()``."""
        if operation.label not in self._drawn:
            drawn: list[schemathesis.Case] = []

            @settings(
                max_examples=DRAWN,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def draw(case: schemathesis.Case) -> None:
                drawn.append(case)

            draw()
            self._drawn[operation.label] = drawn
        return self._drawn[operation.label]


_loaded: dict[bytes, FuzzedDocument] = {}


def fuzzed_document(app: Flask) -> FuzzedDocument:
    """``app``'s document, loaded once per test process (per document, should two differ)."""
    document = app.test_client().get("/openapi.json").get_data()
    if document not in _loaded:
        _loaded[document] = FuzzedDocument(app)
    return _loaded[document]
