"""Offline and safe by default: no request leaves the machine; serving a class is explicit.

Every request the browser makes while a person visits every page (and every tab) is
recorded; any host other than the app's own fails the test. A server started in class mode
records who started a run and keeps other browsers from managing it without the operator
token.
"""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser

TABS = {"Architecture lab": ["Train", "Residual connections", "Batch normalisation", "Anatomy"],
        "Compare runs": ["Run the grid", "Runs"]}
#: Streamlit's frontend probes a deep link's path as a possible base URL before the root
#: (streamlit/streamlit#7074, open): two 404s on our own host, harmless and not ours.
KNOWN_PROBES = ("/_stcore/health", "/_stcore/host-config")


def test_no_request_leaves_the_apps_own_host(page, app_server, request_log):
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.goto(app_server + "/datasets")  # a deep link first, as a bookmark would
    wait_idle(page, timeout=90_000)
    nav = page.get_by_test_id("stSidebarNav")
    titles = [t.splitlines()[-1].strip() for t in nav.get_by_test_id("stSidebarNavLink").all_inner_texts()]
    assert {"Home", "Datasets", "Architecture lab", "Compare runs"} <= set(titles)
    for title in titles:  # every page, including ones added later
        nav.get_by_text(title, exact=True).click()
        wait_idle(page, timeout=90_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        for tab in TABS.get(title, []):
            page.get_by_role("tab", name=tab).click()
            wait_idle(page, timeout=90_000)
    own = urlparse(app_server).netloc
    hosts = {urlparse(url).netloc for url in request_log if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {own}, f"requests to other hosts: {sorted(hosts - {own})}"
    icons = page.evaluate("() => Array.from(document.querySelectorAll('link[rel~=icon]')).map(l => l.href)")
    assert icons and all(urlparse(icon).netloc in (own, "") for icon in icons), icons
    # A picture of a page left before it loaded is dropped by the server (Streamlit's media files live
    # as long as their script run): that 404 is on our own host and is not a missing asset.
    unexpected = [f for f in failed if not f.split(" ", 1)[1].endswith(KNOWN_PROBES)
                  and urlparse(f.split(" ", 1)[1]).path.rsplit("/", 1)[0] != "/media"]
    assert unexpected == [], unexpected


def test_the_server_listens_on_this_machine_only(app_server, tmp_path):
    """Started with no address at all, the app listens on 127.0.0.1 (config.toml), not on every interface."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.e2e.conftest import ROOT, _free_port

    port = _free_port()
    env = dict(os.environ, CONVNET_LAB_RUNS=str(tmp_path / "runs"))
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the app did not start")
        other = _non_loopback_address()
        if other is None:
            pytest.skip("this machine has no non-loopback address to try")
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()
    finally:
        process.terminate()
        process.wait(10)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` (again if a rerun closed the list)."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    for _ in range(5):
        wait_idle(page)
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
            wait_idle(page)
            return
        except Exception:  # the list closed before the click: a rerun redrew the widget
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
            address = sock.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_class_mode_owner_operator_and_limits(browser, tmp_path, monkeypatch):
    from cv_core.runs import list_runs, load_run, preset_spec, request_cancel, submit_run

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CONVNET_LAB_SERVE", "class")
    monkeypatch.setenv("CONVNET_LAB_OPERATOR_TOKEN", "s3cret-token")
    monkeypatch.setenv("CONVNET_LAB_DATA_ROOTS", str(data))
    monkeypatch.setenv("CONVNET_LAB_MAX_RUNS_PER_BROWSER", "1")
    runs = tmp_path / "runs"
    someone_else = submit_run(preset_spec("tiny", epochs=400), runs, owner="another-browser")
    try:
        with running_app(runs, tmp_path) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url + "/architecture_lab?architecture_lab_preset=Tiny&architecture_lab_tab=Train")
            page.get_by_role("heading", name="Architecture lab").wait_for()
            wait_idle(page, timeout=90_000)
            expect(page.get_by_text("Serving a class")).to_be_visible()
            # A folder outside the data roots is refused, `..` included.
            choose(page, "Dataset", "Image folder (your own)")
            wait_idle(page)
            box = page.get_by_label("Folder", exact=True)
            box.fill(str(data / ".." / ".."))
            box.press("Enter")
            wait_idle(page)
            expect(page.get_by_text("dataset folders must be inside")).to_be_visible()
            choose(page, "Dataset", "Shapes (built in)")
            wait_idle(page)
            # My run: recorded as mine; a second one is over this browser's limit.
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("Shapes (built in) at 32 px, 2 epochs")).to_be_visible(timeout=30_000)
            mine = [run for run in list_runs(runs) if run.owner not in (None, "another-browser")]
            assert len(mine) == 1
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text("at most 1 runs queued or running")).to_be_visible(timeout=30_000)
            # Someone else's run cannot be managed from here...
            page.goto(url + "/compare_runs")
            page.get_by_role("heading", name="Compare runs").wait_for()
            wait_idle(page, timeout=90_000)
            page.get_by_text("All runs").click()
            expect(page).to_have_url(re.compile("compare_runs_whose=All"))
            wait_idle(page)
            picker = page.get_by_test_id("stMultiSelect")
            if someone_else.name[-4:] not in picker.inner_text():  # not chosen by default
                picker.locator("input").click()
                page.get_by_role("option", name=re.compile(someone_else.name[-4:] + "$")).first.click()
                page.keyboard.press("Escape")
                wait_idle(page)
            page.get_by_text("Manage these runs").click()
            expect(page.get_by_text("started by another browser").first).to_be_visible()
            # ...until the operator token is typed.
            page.get_by_test_id("stSidebar").get_by_text("Operator", exact=True).click()
            token = page.get_by_label("Operator token")
            token.fill("s3cret-token")
            token.press("Enter")
            wait_idle(page)
            expect(page.get_by_text("You are the operator")).to_be_visible()
            cancel = page.locator(f'[class*="st-key-compare_runs_cancel_{someone_else.name}"] button')
            for _ in range(5):
                wait_idle(page)
                if not cancel.is_visible():
                    page.get_by_text("Manage these runs").click()
                    wait_idle(page)
                try:
                    cancel.click(timeout=5_000)
                    break
                except Exception:  # a rerun redrew the expander under the pointer
                    continue
            deadline = time.time() + 60
            while time.time() < deadline and load_run(someone_else).state != "cancelled":
                time.sleep(0.5)
            assert load_run(someone_else).state == "cancelled"
            screenshot(page, "class_mode_operator")
            page.close()
    finally:
        for run in list_runs(runs):
            request_cancel(run.dir)
