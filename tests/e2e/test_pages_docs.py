"""The API docs page under its Content-Security-Policy: Swagger UI 5 renders CareLog's
OpenAPI 3.1 document from the bundled files (no network beyond this server), lists the
operations, and "Try it out" with a bearer token calls the real API; no CSP violation in
the console, and the page may not be put in a frame on another site."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py


class TestDocs:
    def test_swagger_ui_runs_under_the_policy(self, browser, live: LiveServer):
        """The bundled files load and the page's one inline script (allowed by its hash)
        starts Swagger UI; a blocked script would leave the container empty and log a
        CSP violation, which fails the test."""
        b: Browser = browser(None).open("/docs")
        b.wait_for(lambda d: b.find_all("#swagger-ui-container .swagger-ui"))
        assert d_script_ran(b)
        b.shot("docs")

    def test_the_openapi_3_1_document_renders_with_its_operations(self, browser, live: LiveServer):
        """Swagger UI 4 answered "Unable to render this definition" for OpenAPI 3.1."""
        b: Browser = browser(None).open("/docs")
        b.wait_for(lambda d: len(b.find_all(".opblock")) > 20)
        assert "Unable to render" not in b.text("body")
        paths = {e.get_attribute("data-path") for e in b.find_all(".opblock-summary-path")}
        assert {"/api/v1/patients", "/api/v1/dashboard", "/api/v1/feed"} <= paths
        assert "OAS 3.1" in b.text(".information-container")

    def test_try_it_out_with_a_bearer_token_calls_the_api(self, browser, live: LiveServer):
        """Authorize with a printed token, then execute GET /api/v1/dashboard: 200 shown."""
        b: Browser = browser(None).open("/docs")
        b.wait_for(lambda d: b.find_all(".btn.authorize"))
        b.find(".btn.authorize").click()
        field = b.wait_for(lambda d: b.find(".modal-ux input[type=text]"))
        field.send_keys(live.team.tokens["psychiatrist"])
        b.find(".modal-ux .auth-btn-wrapper .authorize").click()
        b.wait_for(lambda d: b.find_all(".modal-ux .auth-btn-wrapper .btn-done"))
        b.find(".modal-ux .auth-btn-wrapper .btn-done").click()
        block = b.wait_for(lambda d: _operation(b, "get", "/api/v1/dashboard"))
        block.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
        b.wait_for(lambda d: block.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
        block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
        b.wait_for(lambda d: block.find_elements(By.CSS_SELECTOR, ".execute"))
        block.find_element(By.CSS_SELECTOR, ".execute").click()
        status = b.wait_for(
            lambda d: block.find_element(
                By.CSS_SELECTOR, ".live-responses-table .response .response-col_status"
            )
        )
        assert status.text.strip() == "200"
        curl = block.find_element(By.CSS_SELECTOR, ".curl-command").text
        assert "Authorization: Bearer" in curl
        b.shot("docs-try-it-out")

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


def _operation(b: Browser, method: str, path: str) -> WebElement:
    """The operation block of ``method path`` (Swagger UI marks each with its path)."""
    for block in b.find_all(f".opblock-{method}"):
        summary = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path")
        if summary.get_attribute("data-path") == path:
            return block
    raise NoSuchElementException(f"{method} {path}")


def d_script_ran(b: Browser) -> bool:
    return bool(b.driver.execute_script("return typeof window.ui === 'object'"))
