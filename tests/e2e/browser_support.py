"""Helpers for the browser tests: a Chromium driver, a signed-in browser, the live server's
HTTP API (the real one, with bearer tokens) and screenshots."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from domain.actor import Actor
from services.bootstrap import CareLog
from tests.conftest import Team

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT = 10.0
"""Seconds to wait for a page to show something (not a performance bound)."""

_FAILED_LOAD = re.compile(
    r"^(\S+) - Failed to load resource: the server responded with a status of (\d+)"
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_driver(size: tuple[int, int]) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class LiveServer:
    """The running server, and its HTTP API as any test staff member."""

    url: str
    carelog: CareLog
    team: Team

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        as_: str = "psychiatrist",
        expect: int | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.team.tokens[as_]}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with _NO_PROXY.open(request, timeout=30) as response:
                status, payload = response.status, json.loads(response.read() or b"null")
        except HTTPError as error:
            status, payload = error.code, json.loads(error.read() or b"null")
        if expect is not None:
            assert status == expect, f"{method} {path}: {status} {payload}"
        return status, payload

    def post(self, path: str, body: Any, as_: str = "psychiatrist") -> Any:
        return self.call("POST", path, body, as_, expect=201)[1]

    def get(self, path: str, as_: str = "psychiatrist") -> Any:
        return self.call("GET", path, None, as_, expect=200)[1]

    def add_colleague(self, key: str, role: str, pid: str) -> Actor:
        """A new staff member put on the patient's care team; ``key`` then names them for
        ``call`` and for the ``browser`` fixture, as the test team's members are."""
        member, token = self.carelog.staff.add(f"Test {key.replace('_', ' ')}", role)
        self.team.tokens[key] = token
        self.post(
            f"/api/v1/patients/{pid}/care-team", {"clinician_id": member.actor.id, "role": role}
        )
        return member.actor

    # -- a clinical story, through the API -------------------------------------------------
    def register_patient(self, mrn: str, name: str) -> str:
        """A patient whose care team is the test team's psychiatrist, therapist and both
        pharmacists."""
        pid: str = self.post(
            "/api/v1/patients", {"external_id": mrn, "name": name, "birth_date": "1984-05-06"}
        )["patient_id"]
        for member in ("therapist", "pharmacist", "prescribing_pharmacist"):
            actor = getattr(self.team, member)
            self.post(
                f"/api/v1/patients/{pid}/care-team",
                {"clinician_id": actor.id, "role": str(actor.role)},
            )
        return pid

    def prescribe(
        self,
        pid: str,
        drug: str = "sertraline",
        amount: float = 50,
        frequency: str = "once daily",
        **extra: Any,
    ) -> str:
        body = {
            "drug": drug,
            "dose": {"amount": amount, "unit": "mg"},
            "frequency": frequency,
            "route": "oral",
            "indication": "depression",
            **extra,
        }
        order_id: str = self.post(f"/api/v1/patients/{pid}/medications", body)["order_id"]
        return order_id

    def change_dose(
        self, pid: str, order_id: str, amount: float, reason: str = "partial response"
    ) -> Any:
        return self.post(
            f"/api/v1/patients/{pid}/medications/{order_id}/dose-changes",
            {"dose": {"amount": amount, "unit": "mg"}, "reason": reason},
        )

    def phq9(self, pid: str, items: list[int], as_: str = "psychiatrist", **extra: Any) -> Any:
        return self.post(
            f"/api/v1/patients/{pid}/assessments",
            {"instrument": "PHQ-9", "item_scores": items, **extra},
            as_=as_,
        )

    def gad7(self, pid: str, items: list[int], **extra: Any) -> Any:
        return self.post(
            f"/api/v1/patients/{pid}/assessments",
            {"instrument": "GAD-7", "item_scores": items, **extra},
        )


@dataclass
class Browser:
    """One Chromium window, signed in as one staff member."""

    driver: WebDriver
    live: LiveServer
    test_name: str
    who: str
    allowed_errors: set[tuple[str, int]] = field(default_factory=set)

    def open(self, path: str) -> Browser:
        self.driver.get(self.live.url + path)
        return self

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def sign_in(self, token: str) -> None:
        self.open("/login")
        self.find("#token").send_keys(token)
        self.submit("#sign-in")
        self.wait_for(lambda d: "/login" not in d.current_url)

    def sign_out(self) -> None:
        self.submit(".sign-out button")
        self.wait_for(lambda d: "/login" in d.current_url)

    def arrive(self, path: str) -> None:
        """Wait until the window shows ``path`` (query ignored) and that page has loaded.

        A URL test alone is not enough: ``/login?next=/alerts`` contains ``/alerts``, and an
        element read while the browser is still navigating goes stale."""
        self.wait_for(
            lambda d: (
                urlsplit(d.current_url).path == path
                and d.execute_script("return document.readyState") == "complete"
            )
        )

    def submit(self, css: str) -> None:
        """Click a control that loads a page (a form's button, a link) and wait until the
        new page has replaced the old one and loaded: reading sooner may find the old
        page's flash or error, or an element the navigation is about to remove."""
        # A mark on the old page's window: a new page comes with a window without it.
        # (Not an element gone stale: Chromium reports a detached node inconsistently.)
        self.driver.execute_script("window.carelogOldPage = true")
        self.find(css).click()
        self.wait_for(
            lambda d: (
                d.execute_script(
                    "return window.carelogOldPage === undefined && document.readyState"
                )
                == "complete"
            )
        )

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def wait_for(self, condition: Any, timeout: float = WAIT) -> Any:
        # A live update replaces elements while a condition reads them: just look again.
        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.05,
            ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
        ).until(condition)

    def expect_error_status(self, path: str, status: int) -> None:
        """A path (query ignored) the test opens on purpose and that answers ``status``:
        Chromium logs that response as a console error, which is then expected."""
        self.allowed_errors.add((urlsplit(path).path, status))

    def shot(self, name: str) -> Path:
        """The whole page (not just the window) as a PNG under artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}-{self.who}-{name}")
        path = SCREENSHOTS / f"{safe}.png"
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        image = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.write_bytes(base64.b64decode(image["data"]))
        return path

    def reset(self) -> None:
        """Ready for the next test: no page (its event stream closed), no cookies, the
        console read."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get_log("browser")

    def console_errors(self) -> list[str]:
        errors = []
        for entry in self.driver.get_log("browser"):
            if entry["level"] != "SEVERE":
                continue
            message = entry["message"]
            failed = _FAILED_LOAD.match(message)
            if failed and (urlsplit(failed[1]).path, int(failed[2])) in self.allowed_errors:
                continue
            errors.append(message)
        return errors
