"""A person opens the Detection page, sees a detector's boxes on a picture, moves the score slider
and sees the number of boxes change (only the thresholds' fragment reruns: the model does not)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle
from tests.e2e.test_segmentation_browser import choose

pytestmark = pytest.mark.browser


def boxes_shown(page) -> int:
    return int(page.locator(".st-key-detection_box_count [data-testid=stMetricValue]").inner_text())


def test_move_the_score_slider_and_the_number_of_boxes_changes(browser, tmp_path):
    from tests.app import detection_runs

    runs = tmp_path / "runs"
    run_dir = detection_runs.built_run(runs)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 2000})
        page.set_default_timeout(60_000)
        page.goto(url + "/detection")
        expect(page.get_by_role("heading", name="Detection", exact=True)).to_be_visible()
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(f"run={run_dir.name}"))  # waits: the URL follows the rerun
        # An untrained detector's candidates score about 0.1: at the default threshold (0.3) none is shown.
        expect(page.locator(".st-key-detection_box_count [data-testid=stMetricValue]")).to_have_text("0")
        expect(page.locator('[class*="st-key-detection_outcomes"] .js-plotly-plot')).to_have_count(1)
        slider = page.locator(".st-key-detection_score input[type=range]")
        slider.focus()
        for _ in range(4):  # 0.3 -> 0.1, one step of 0.05 per key
            page.keyboard.press("ArrowLeft")
        wait_idle(page)
        expect(slider).to_have_value("0.1")
        page.wait_for_function(
            "() => Number(document.querySelector('.st-key-detection_box_count [data-testid=stMetricValue]')"
            ".innerText) > 0", timeout=30_000)
        many = boxes_shown(page)
        expect(page).to_have_url(re.compile(r"detection_score=0\.1"))
        # The boxes are drawn: one outline trace per class present, and a table row per box.
        expect(page.locator('[class*="st-key-detection_boxes"] .js-plotly-plot .scatterlayer .trace').first).to_be_attached()
        screenshot(page, "detection_boxes")
        for _ in range(2):  # 0.1 -> 0.2: fewer boxes
            page.keyboard.press("ArrowRight")
        wait_idle(page)
        page.wait_for_function(
            "(n) => Number(document.querySelector('.st-key-detection_box_count [data-testid=stMetricValue]')"
            ".innerText) < n", arg=many, timeout=30_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.close()


def test_a_reload_keeps_the_picture_and_the_thresholds(browser, tmp_path):
    # Issue 19: every choice the README says is kept in the URL comes back after a reload.
    from tests.app import detection_runs

    runs = tmp_path / "runs"
    run_dir = detection_runs.built_run(runs)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.set_default_timeout(60_000)
        page.goto(url + "/detection")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(f"run={run_dir.name}"))
        choose(page, "detection_split", "test")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"detection_split=test"))
        number = page.locator(".st-key-detection_index input")
        number.fill("3")
        number.press("Enter")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"detection_index=3"))
        for key, presses, value in (("detection_score", 4, r"0\.1"), ("detection_nms", 4, r"0\.7")):
            slider = page.locator(f".st-key-{key} input[type=range]")
            slider.focus()
            for _ in range(presses):
                page.keyboard.press("ArrowLeft" if key == "detection_score" else "ArrowRight")
            wait_idle(page)
            expect(page).to_have_url(re.compile(f"{key}={value}"))
        shown = boxes_shown(page)
        before = page.url
        page.reload()
        wait_idle(page, timeout=120_000)
        expect(page.get_by_role("heading", name="Detection", exact=True)).to_be_visible()
        assert page.url == before
        expect(page.locator(".st-key-detection_split input")).to_have_value("test")
        expect(page.locator(".st-key-detection_index input")).to_have_value("3")
        expect(page.locator(".st-key-detection_score input[type=range]")).to_have_value("0.1")
        expect(page.locator(".st-key-detection_nms input[type=range]")).to_have_value("0.7")
        expect(page.locator(".st-key-detection_box_count [data-testid=stMetricValue]")).to_have_text(str(shown))
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, "detection_after_reload")
        page.close()
