"""A person trains a tiny variant in the Architecture lab, watches it learn, then compares runs.

The runs are trained by the fake worker (``tests/fake_worker.py``, set up by the ``app_server``
fixture): what the pages show of a run, without TensorFlow.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_train_tiny_run_watch_curves_and_compare(page, app_server):
    page.goto(app_server)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Architecture lab", exact=True).click()
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Parameters")).to_be_visible()
    screenshot(page, "architecture_lab_anatomy")

    page.get_by_text("Tiny", exact=True).click()
    wait_idle(page)
    page.get_by_role("tab", name="Train").click()
    wait_idle(page)
    epochs = page.locator(".st-key-architecture_lab_tiny_epochs input")  # long enough to be seen training
    epochs.fill("6")
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text("Shapes (built in) at 32 px, 6 epochs")).to_be_visible(timeout=30_000)
    # The sidebar lists the new run at once, without navigating (it used to stay empty).
    expect(page.get_by_test_id("stSidebar").get_by_text("Training in the background")).to_be_visible(timeout=10_000)
    # The form and the open tab are in the URL...
    expect(page).to_have_url(re.compile("architecture_lab_preset=Tiny"))
    expect(page).to_have_url(re.compile("architecture_lab_tab=Train"))
    expect(page).to_have_url(re.compile("architecture_lab_tiny_epochs=6"))
    # ...so a reload (a new session; the run goes on) comes back to the same form, tab and run.
    page.reload()
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("tab", name="Train")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("radio", name="Tiny")).to_be_checked()
    # The panel refreshes itself: the run goes from queued/running to completed with curves.
    expect(page.get_by_text("Completed: best validation accuracy")).to_be_visible(timeout=120_000)
    wait_idle(page)
    # Accuracy and loss, as Vega-Lite charts (they paint with the page).
    expect(page.get_by_test_id("stMainBlockContainer").get_by_test_id("stVegaLiteChart")).to_have_count(2)
    expect(page.get_by_test_id("stSidebar").get_by_text("Training in the background")).to_have_count(0, timeout=20_000)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_role("button", name="Continue for more epochs")).to_be_visible()
    screenshot(page, "architecture_lab_trained")

    page.get_by_role("link", name="Compare this run with others").click()
    page.get_by_role("heading", name="Compare runs").wait_for()
    wait_idle(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_role("heading", name="Measured")).to_be_visible()
    screenshot(page, "compare_runs")


def test_concept_demos_render(page, app_server):
    page.goto(app_server + "/architecture_lab")
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    page.get_by_role("tab", name="Residual connections").click()
    # The demo builds and measures two deep models when its tab opens: seconds on a busy machine.
    expect(page.get_by_text("Measured at initialisation")).to_be_visible(timeout=30_000)
    wait_idle(page)
    screenshot(page, "architecture_lab_residual")
    page.get_by_role("tab", name="Batch normalisation").click()
    expect(page.get_by_text("The moving mean went from 0 to")).to_be_visible(timeout=30_000)
    wait_idle(page)
    screenshot(page, "architecture_lab_batchnorm")


def test_comparison_fills_in_while_a_run_trains(page, app_server, fake_worker, monkeypatch):
    """The curves on Compare runs grow by themselves while a chosen run trains, and the table
    notices when it stops, all without a click."""
    from cv_core.runs import preset_spec, request_cancel, submit_run

    from tests.e2e.conftest import FAKE_WORKER

    for name, value in FAKE_WORKER.items():  # the run is started here, not by the app
        monkeypatch.setenv(name, value)
    root = os.environ.get("CONVNET_LAB_RUNS_E2E")  # set by the app_server fixture
    run_dir = submit_run(preset_spec("tiny", epochs=400, notes="live comparison"), root)
    try:
        page.goto(app_server + "/compare_runs")
        page.get_by_role("heading", name="Compare runs").wait_for()
        wait_idle(page, timeout=90_000)
        picker = page.get_by_test_id("stMultiSelect")
        if run_dir.name[-4:] not in picker.inner_text():  # not chosen by default
            picker.locator("input").click()
            page.get_by_role("option", name=re.compile(run_dir.name[-4:] + "$")).first.click()
            page.keyboard.press("Escape")
            wait_idle(page)
        points = "() => { const p = document.querySelector('[class*=\"st-key-compare_runs_acc\"] .js-plotly-plot');" \
                 " return p && p.data ? p.data.reduce((n, t) => n + t.x.length, 0) : 0 }"
        page.wait_for_function(f"({points})() >= 1", timeout=60_000)
        first = page.evaluate(points)
        page.wait_for_function(f"({points})() > {first}", timeout=60_000)  # no click in between
        screenshot(page, "compare_runs_live")
    finally:
        request_cancel(run_dir)
    # The run stops; the page sees it without a reload (and stops refreshing).
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text("cancelled", timeout=30_000)


def test_a_grid_fills_in_without_a_reload(page, app_server):
    """The issue: "Run the grid" said "Queued …", then nothing changed until a reload.

    The one grid test (AppTest cannot see a page refresh itself): the experiment named by its
    settings, its progress, its six variants, its chart and its mean ± std table."""
    from cv_core.runs import list_runs

    page.goto(app_server + "/compare_runs?compare_runs_tab=Run+the+grid")
    page.get_by_role("heading", name="Compare runs").wait_for()
    wait_idle(page, timeout=90_000)
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Preset", exact=True)).click()
    page.get_by_role("option", name="Tiny").click()
    wait_idle(page)
    seeds = page.locator(".st-key-compare_runs_grid_seeds input")
    seeds.fill("1")
    seeds.press("Enter")
    wait_idle(page)
    epochs = page.locator(".st-key-compare_runs_grid_tiny_epochs input")
    epochs.fill("1")
    epochs.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Run the grid").click()
    expect(page.get_by_text("Tiny · shapes 32 px · 1 epoch · 1 seed · 2 × 3 variants")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("6 of 6 runs completed")).to_be_visible(timeout=240_000)
    runs = [run for run in list_runs(os.environ["CONVNET_LAB_RUNS_E2E"]) if run.spec and run.spec.experiment_id]
    experiment = runs[0].spec.experiment_id  # the newest
    grid = [run for run in runs if run.spec.experiment_id == experiment]
    assert len(grid) == 6 and all(run.state == "completed" for run in grid)
    assert {run.spec.experiment_label for run in grid} == {
        f"{conv} / {bn}" for conv in ("separable", "conv2d") for bn in ("before_activation", "after_activation", "none")}
    expect(page.locator(f'[class*="st-key-compare_runs_grid_grid_{experiment}"] .js-plotly-plot')).to_have_count(1)
    table = page.get_by_test_id("stDataFrame").filter(has_text="runs done")  # the only grid's table
    expect(table).to_have_count(1)
    expect(table).to_contain_text("best val. accuracy (mean ± std)")
    expect(table).to_contain_text("1 of 1")
    expect(table).not_to_contain_text("_mean")
    screenshot(page, "compare_runs_grid")
