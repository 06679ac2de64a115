"""Browser tests: the real server on a loopback port, over a CareLog on each store, driven
by Debian's Chromium through Selenium and ChromeDriver.

Chromium and ChromeDriver come from apt (installed here when missing, as
``scripts/test-setup.sh`` does for ``make test``); a tool's own browser download is never
used. Each test gets its own server (views running, as in production) and opens as many
signed-in browsers as it needs; every browser's console is checked for errors when the
test ends, and each test saves screenshots under ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.serving import WSGIRequestHandler, make_server

from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from tests.e2e.browser_support import CHROMEDRIVER, CHROMIUM, Browser, LiveServer, start_driver
from tests.parallel import one_at_a_time
from web import create_app


def _install_chromium() -> None:
    command = ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = (
        ["apt-get", "update", "-qq"]
        if os.geteuid() == 0
        else ["sudo", "-n", "apt-get", "update", "-qq"]
    )
    subprocess.run(update, check=False, capture_output=True, timeout=600, env=env)
    subprocess.run(command, check=False, capture_output=True, timeout=1200, env=env)


class OneRequestEach(WSGIRequestHandler):
    """HTTP/1.0: a connection per request, so no handler thread outlives the test idling on
    a kept-alive browser socket (and event streams end when their browser goes)."""

    protocol_version = "HTTP/1.0"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium and ChromeDriver, installed with apt-get if missing (never skipped:
    the browser half of the suite fails loudly without them)."""
    with one_at_a_time("chromium-install"):  # parallel workers: one apt-get at a time
        if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
            _install_chromium()
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(
            f"{CHROMIUM} and {CHROMEDRIVER} are needed for the browser tests: "
            "apt-get install chromium chromium-driver (scripts/test-setup.sh)."
        )
    return shutil.which("chromium") or CHROMIUM


@pytest.fixture
def config(config: Config) -> Config:
    """The views follow the log in the server process, as ``carelog serve`` runs them (and
    a page waits for them as long as it would there)."""
    return config.with_(run_projections=True, views_wait_seconds=Config().views_wait_seconds)


@pytest.fixture
def live(carelog: CareLog, team: Team, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """CareLog's app on Werkzeug's threaded server at a free loopback port."""
    # A closed browser's event stream is noticed at the next heartbeat: keep it short so
    # that the server's threads end with the test.
    monkeypatch.setattr("web.feed.HEARTBEAT_SECONDS", 0.1)
    app = create_app(carelog=carelog)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=OneRequestEach)
    before = set(threading.enumerate())
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="e2e-server", daemon=True
    )
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", carelog, team)
    server.shutdown()
    server.server_close()
    for handler in set(threading.enumerate()) - before:
        if handler is not thread and "process_request" in handler.name:
            handler.join(timeout=10)
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def driver_pool(chromium: str) -> Iterator[list[WebDriver]]:
    """Idle Chromium drivers, reused across tests (starting one costs ~2 s); each is reset
    (blank page, no cookies, console read) before it is handed out again."""
    pool: list[WebDriver] = []
    yield pool
    for driver in pool:
        driver.quit()


@pytest.fixture
def browser(
    driver_pool: list[WebDriver], live: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Browser]]:
    """``browser("psychiatrist")``: a Chromium window signed in as that test staff member
    (``None``: not signed in). Fails the test if any window logged a console error."""
    opened: list[Browser] = []
    test_name = request.node.name

    def open_browser(who: str | None, size: tuple[int, int] = (1366, 900)) -> Browser:
        driver = driver_pool.pop() if driver_pool else start_driver(size)
        driver.set_window_size(*size)
        b = Browser(driver, live, test_name, who or "anonymous")
        opened.append(b)
        if who is not None:
            b.sign_in(live.team.tokens[who])
        return b

    yield open_browser
    problems: list[str] = []
    for b in opened:
        try:
            problems += [f"{b.who}: {entry}" for entry in b.console_errors()]
            b.reset()
            driver_pool.append(b.driver)
        except WebDriverException:
            b.driver.quit()
    if problems:
        pytest.fail("Browser console errors:\n" + "\n".join(problems))


@pytest.fixture(params=[(1366, 900), (390, 844)], ids=["desktop", "phone"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    """The window of a test run twice: on a desktop and on a phone."""
    width, height = request.param
    return width, height
