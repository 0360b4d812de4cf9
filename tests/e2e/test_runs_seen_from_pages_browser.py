"""Issue 19: a page notices at once, without a click, when another browser deletes or cancels its run;
and the server log has no widget warning after a dead worker is noticed.

Each test starts its own server on its own runs folder (the warning is logged once per process).
The runs are written as a worker and another browser would leave them, so nothing trains.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from cv_core.runs import files, folders, jobs, liveness, preset_spec
from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser

LAB = "/architecture_lab?architecture_lab_tab=Train"


def make_run(root, state="completed", **status):
    run_dir = folders.create_run(preset_spec("tiny", epochs=2), root)
    files.update_status(run_dir, state=state, **status)
    files.write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.3 * e, "val_loss": 1.2 / e,
                                   "val_accuracy": 0.25 * e, "seconds": 0.2} for e in (1, 2)])
    return run_dir


def alive() -> dict:
    return {"pid": os.getpid(), "pid_start": liveness.process_start_time(os.getpid())}


@pytest.fixture
def lab(tmp_path, page):
    """``(runs folder, url, log file)`` of a fresh server of the lab; ``page`` is a browser tab on nothing yet."""
    runs, logs = tmp_path / "runs", tmp_path / "logs"
    runs.mkdir()
    logs.mkdir()
    with running_app(runs, logs) as url:
        yield runs, url, logs / "streamlit.log"


def test_a_run_deleted_elsewhere_shows_at_once(lab, page):
    runs, url, _ = lab
    run_dir = make_run(runs)
    page.goto(url + LAB + f"&architecture_lab_run={run_dir.name}")
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("button", name="Continue for more epochs")).to_be_visible()
    folders.delete_run(run_dir)  # another browser deletes it; nobody touches this page
    expect(page.get_by_text(f"Run {run_dir.name} no longer exists")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Continue for more epochs")).to_have_count(0)
    expect(page.get_by_role("button", name="Show the newest run")).to_be_visible()
    wait_idle(page)
    screenshot(page, "architecture_lab_run_deleted_elsewhere")
    page.reload()  # a reload does not quietly switch to another run either
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_text(f"Run {run_dir.name} no longer exists")).to_be_visible()


def test_a_run_cancelled_elsewhere_shows_who_at_once(lab, page):
    runs, url, _ = lab
    run_dir = make_run(runs, state="running", **alive())
    page.goto(url + LAB + f"&architecture_lab_run={run_dir.name}")
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    jobs.request_cancel(run_dir, by="another-browser")
    expect(page.get_by_text("Cancelling: someone in another browser asked for it")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    files.update_status(run_dir, state="cancelled", pid=None)  # its worker stops
    # Said on the page and in a toast: the page's own notice must show.
    notice = page.get_by_test_id("stAlertContentWarning").get_by_text("Cancelled from another browser after 2 finished epochs")
    expect(notice).to_be_visible(timeout=30_000)
    wait_idle(page)
    screenshot(page, "architecture_lab_run_cancelled_elsewhere")


def test_no_widget_warning_in_the_server_log_when_a_dead_worker_is_noticed(lab, page):
    """The issue's server log after a worker was killed: 'The widget with key "architecture_lab_preset" was
    created with a default value but also had its value set via the Session State API'."""
    runs, url, log = lab
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    make_run(runs, state="running", pid=process.pid, pid_start=1)  # its worker was killed
    page.goto(url + LAB + "&architecture_lab_preset=Tiny")
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_text("Interrupted after 2 finished epochs")).to_be_visible()
    page.get_by_role("button", name="Switch to Quick").first.click()
    expect(page.get_by_role("radio", name="Quick")).to_be_checked()
    wait_idle(page)
    assert "created with a default value" not in log.read_text()


def test_tiny_says_it_is_a_smoke_test_and_offers_quick(lab, page):
    runs, url, _ = lab
    run_dir = make_run(runs)
    page.goto(url + LAB + f"&architecture_lab_preset=Tiny&architecture_lab_run={run_dir.name}")
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_text("Tiny is a smoke test")).to_be_visible()
    expect(page.get_by_text("This was the Tiny smoke test")).to_be_visible()
    screenshot(page, "architecture_lab_tiny_smoke_test")
    page.get_by_role("button", name="Switch to Quick").first.click()
    wait_idle(page)
    expect(page.get_by_role("radio", name="Quick")).to_be_checked()
    # The radio is checked at once; the rerun that drops the Tiny notice can take longer on a loaded machine.
    expect(page.get_by_text("Tiny is a smoke test")).to_have_count(0, timeout=30_000)
    shutil.rmtree(run_dir, ignore_errors=True)
