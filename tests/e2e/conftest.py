"""Browser fixtures: a real `streamlit run app.py` on a free port and headless Debian Chromium.

Without Chromium these tests skip on a laptop; with CONVNET_LAB_REQUIRE_BROWSER=1 (set by
.ci/run) a missing browser is a failure instead. The shared app's runs are trained by
``tests/fake_worker.py`` (what a person sees of a run, without TensorFlow; real training is
tested in ``tests/unit/test_jobs.py``).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CONVNET_LAB_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
#: The environment of an app whose runs the fake worker trains, 0.25 s a batch: a Tiny run lasts
#: a few seconds, long enough to be seen queued and running.
FAKE_WORKER = {"CONVNET_LAB_WORKER_MODULE": "tests.fake_worker", "CONVNET_LAB_FAKE_BATCH_SECONDS": "0.25"}
#: Every app origin started by :func:`running_app` this session (:class:`WarmBrowser` clears their storage).
APP_ORIGINS: set[str] = set()


def _require_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "playwright is not installed (pip install -r requirements-dev.txt)"
    if problem:
        if os.environ.get("CONVNET_LAB_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " and CONVNET_LAB_REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(runs: Path, logs: Path, data: Path | None = None, extra_env: dict | None = None,
                script: str = "app.py"):
    """Start `streamlit run app.py` like a user would on a free port; yield its URL; stop it.

    ``data``, when given, is the data root (``CONVNET_LAB_DATA``: user mask datasets live there);
    ``extra_env`` is added to the app's environment (e.g. :data:`FAKE_WORKER`); ``script`` another
    Streamlit script to run instead of the app (relative to the repository).
    """
    log = open(logs / "streamlit.log", "w")
    env = dict(os.environ, CONVNET_LAB_RUNS=str(runs), PYTHONUNBUFFERED="1", **(extra_env or {}))
    if data is not None:
        env["CONVNET_LAB_DATA"] = str(data)
    process = None
    try:
        # A free port can be taken between _free_port and the app's bind (another pytest-xdist worker
        # starting its own app): a server that exits at once is started again on another port.
        for _attempt in range(3):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}"
            APP_ORIGINS.add(url)
            deadline = time.time() + 60
            while time.time() < deadline and process.poll() is None:
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                if process.poll() is not None:
                    continue  # it exited (port taken?): try another port
                pytest.fail("The app did not start within 60 s; see " + log.name)
            break
        else:
            pytest.fail("The app exited at start three times; see " + log.name)
        yield url
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The app, shared by the browser tests of a session; the runs it starts are trained by the fake worker."""
    _require_browser()
    runs = tmp_path_factory.mktemp("runs")
    os.environ["CONVNET_LAB_RUNS_E2E"] = str(runs)  # tests that submit runs themselves use it
    data = tmp_path_factory.mktemp("data")
    os.environ["CONVNET_LAB_DATA_E2E"] = str(data)  # tests that read what the app saved use it
    with running_app(runs, tmp_path_factory.mktemp("logs"), data=data, extra_env=FAKE_WORKER) as url:
        yield url


#: Every page's CSS animations and transitions end at once (spinners stop on their first frame,
#: fades and slides land where they finish): a spinner redrawn 60 times a second in software
#: (``--disable-gpu``) costs Chromium about 0.1 s of CPU a second, and browser tests spend much of
#: their time watching scripts run. Nothing a test checks moves; finite animations still send
#: their end events.
STILL = """
(() => {
  const css = '*, *::before, *::after { animation-duration: 0s !important; animation-delay: 0s !important;'
    + ' animation-iteration-count: 1 !important; transition-duration: 0s !important;'
    + ' transition-delay: 0s !important; }';
  const add = () => {
    const style = document.createElement('style');
    style.textContent = css;
    (document.head || document.documentElement).appendChild(style);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', add); else add();
})();
"""


def still(context):
    """``context`` with :data:`STILL` in each of its pages; returns it."""
    context.add_init_script(STILL)
    return context


class WarmBrowser:
    """The session's Chromium, whose :meth:`new_page` opens every page in one shared context.

    A page in a new context starts a new renderer process, which compiles Streamlit's scripts
    from nothing: about 5 s of CPU here, more than the page's own work in a short test. With
    ``--process-per-site`` and a blank page of 127.0.0.1 kept open, every test's page of any app
    on 127.0.0.1 opens in that one warm process instead (about 2 s). Each page is still new (its
    own listeners, history and session storage), and :meth:`new_page` first clears what a
    context keeps between pages: cookies, permissions and every app's local storage.
    Anything else (``new_context``, ``close``, ``version``) is the Playwright browser's own.
    """

    def __init__(self, browser, anchor_url: str):
        self._browser = browser
        self.context = still(browser.new_context(accept_downloads=True))
        self._anchor = self.context.new_page()
        self._anchor.goto(anchor_url)
        self._cdp = self.context.new_cdp_session(self._anchor)

    def new_page(self, viewport: dict | None = None, accept_downloads: bool = True):
        """A new page (tab) of the shared context, of the given viewport, with no stored state."""
        assert accept_downloads, "pages of the shared context always accept downloads"
        self.context.clear_cookies()
        self.context.clear_permissions()
        for origin in sorted(APP_ORIGINS):
            self._cdp.send("Storage.clearDataForOrigin", {"origin": origin,
                                                          "storageTypes": "local_storage,indexeddb,cache_storage"})
        page = self.context.new_page()
        page.set_viewport_size(viewport or {"width": 1280, "height": 720})
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


class _Blank(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>anchor</title>")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    anchor = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Blank)
    threading.Thread(target=anchor.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--process-per-site"],
        )
        yield WarmBrowser(instance, f"http://127.0.0.1:{anchor.server_address[1]}/")
        instance.close()
    anchor.shutdown()


@pytest.fixture
def page(browser, app_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.set_default_timeout(30_000)
    yield page
    page.close()


@pytest.fixture
def request_log(page):
    """Every URL the page requests from now on (fonts, icons and scripts included), in order."""
    log: list[str] = []
    page.on("request", lambda request: log.append(request.url))
    return log


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the script has finished running (not a fixed sleep)."""
    page.wait_for_selector(IDLE, timeout=timeout)
    # Widgets render as skeletons until their lazily loaded code arrives; images load last.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stSkeleton\"]')"
        " && Array.from(document.images).every(img => img.complete)",
        timeout=timeout,
    )


def screenshot(page, name: str) -> Path:
    """Save a screenshot for the developer to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
