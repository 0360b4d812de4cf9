"""A person trains a tiny variant in the Architecture lab, watches it learn, then compares runs."""

from __future__ import annotations

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

    page.get_by_text("Tiny (seconds: a smoke test)").click()
    wait_idle(page)
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("shapes at 32 px, 2 epochs")).to_be_visible(timeout=30_000)
    # Reloading the page (a new session) does not stop the run: the lab reattaches to it.
    page.reload()
    page.get_by_role("heading", name="Architecture lab").wait_for()
    wait_idle(page, timeout=90_000)
    page.get_by_role("tab", name="Train").click()
    # The panel refreshes itself: the run goes from queued/running to completed with curves.
    expect(page.get_by_text("Completed: best validation accuracy")).to_be_visible(timeout=120_000)
    wait_idle(page)
    expect(page.locator('[class*="st-key-architecture_lab_acc_"] .js-plotly-plot')).to_have_count(1)
    expect(page.locator('[class*="st-key-architecture_lab_loss_"] .js-plotly-plot')).to_have_count(1)
    expect(page.get_by_test_id("stSidebar").get_by_text("Training in the background")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
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
    expect(page.get_by_text("Measured at initialisation")).to_be_visible()
    wait_idle(page)
    screenshot(page, "architecture_lab_residual")
    page.get_by_role("tab", name="Batch normalisation").click()
    expect(page.get_by_text("The moving mean went from 0 to")).to_be_visible()
    wait_idle(page)
    screenshot(page, "architecture_lab_batchnorm")


def test_comparison_fills_in_while_a_run_trains(page, app_server, tmp_path):
    """The curves on Compare runs grow by themselves while a selected run is training."""
    import os

    from cv_core.runs import list_runs, preset_spec, request_cancel, submit_run

    root = os.environ.get("CONVNET_LAB_RUNS_E2E")  # set by the app_server fixture
    run_dir = submit_run(preset_spec("tiny", epochs=400, notes="live comparison"), root)
    try:
        page.goto(app_server + "/compare_runs")
        page.get_by_role("heading", name="Compare runs").wait_for()
        wait_idle(page, timeout=90_000)
        page.get_by_test_id("stMultiSelect").locator("input").click()
        page.get_by_role("option", name=run_dir.name, exact=False).first.click()
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
    assert any(r.id == run_dir.name for r in list_runs(root))
