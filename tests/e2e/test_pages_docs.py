"""The API docs page under its Content-Security-Policy: Swagger UI still renders every
endpoint from the bundled files, with no CSP violation in the console, and the page may
not be put in a frame on another site."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser


class TestDocs:
    def test_swagger_ui_runs_under_the_policy(self, browser, live: LiveServer):
        """The bundled files load and the page's one inline script (allowed by its hash)
        starts Swagger UI; a blocked script would leave the container empty and log a
        CSP violation, which fails the test. (The bundled Swagger UI predates OpenAPI
        3.1, which CareLog's document is: it says so instead of listing the endpoints.)"""
        b: Browser = browser(None).open("/docs")
        b.wait_for(lambda d: b.find_all("#swagger-ui-container .swagger-ui"))
        assert d_script_ran(b)
        b.shot("docs")

    def test_the_docs_refuse_to_be_framed(self, browser, live: LiveServer):
        b: Browser = browser(None).open("/login")
        b.driver.execute_script(
            "window.framedLoaded = false;"
            "const f = document.createElement('iframe'); f.id = 'framed';"
            "f.onload = () => { window.framedLoaded = true; };"
            "f.src = arguments[0]; document.body.appendChild(f);",
            live.url + "/docs",
        )
        b.wait_for(lambda d: d.execute_script("return window.framedLoaded"))
        # A frame that was allowed has run Swagger UI by its load event; a refused one is
        # Chromium's error page, with no Swagger UI in it.
        frame = b.find("#framed")
        b.driver.switch_to.frame(frame)
        try:
            assert b.find_all(".swagger-ui") == []
            assert not b.driver.execute_script("return typeof window.ui === 'object'")
        finally:
            b.driver.switch_to.default_content()
        # Chromium reports the refusal in the console: that error is the point here.
        b.driver.get_log("browser")


def d_script_ran(b: Browser) -> bool:
    return bool(b.driver.execute_script("return typeof window.ui === 'object'"))
