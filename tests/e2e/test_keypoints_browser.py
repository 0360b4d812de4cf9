"""A person opens the Keypoints and pose page, picks a sample, moves the score threshold and sees the
skeletons appear with their OKS against the truth (only the threshold's fragment reruns: the model
does not); a reload keeps the picture, the threshold and the joint."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle
from tests.e2e.test_segmentation_browser import choose

pytestmark = pytest.mark.browser

COUNT = ".st-key-keypoints_count [data-testid=stMetricValue]"


def shown(page) -> int:
    return int(page.locator(COUNT).inner_text())


def test_pick_a_sample_move_the_threshold_see_skeletons_and_oks(browser, tmp_path):
    from tests.app import keypoint_runs

    runs = tmp_path / "runs"
    run_dir = keypoint_runs.built_run(runs)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 2200})
        page.set_default_timeout(60_000)
        page.goto(url + "/keypoints")
        expect(page.get_by_role("heading", name="Keypoints and pose", exact=True)).to_be_visible()
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(f"run={run_dir.name}"))
        # An untrained model's candidates score about 0.09: at the default threshold (0.3) none is shown.
        expect(page.locator(COUNT)).to_have_text("0")
        # Pick a sample: the test split's picture 2.
        choose(page, "keypoints_split", "test")
        wait_idle(page, timeout=120_000)
        number = page.locator(".st-key-keypoints_index input")
        number.fill("2")
        number.press("Enter")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"keypoints_index=2"))
        expect(page.get_by_text("test picture 2", exact=False).first).to_be_visible()
        slider = page.locator(".st-key-keypoints_score input[type=range]")
        slider.focus()
        for _ in range(6):  # 0.3 -> 0.0, one step of 0.05 per key
            page.keyboard.press("ArrowLeft")
        wait_idle(page)
        expect(slider).to_have_value("0")
        page.wait_for_function(f"() => Number(document.querySelector('{COUNT}').innerText) > 0", timeout=30_000)
        expect(page).to_have_url(re.compile(r"keypoints_score=0(&|$)"))
        # The skeletons are drawn (plotly traces over the picture), and the OKS is read against the truth.
        skeletons = page.locator('[class*="st-key-keypoints_skeletons"] .js-plotly-plot')
        expect(skeletons.locator(".scatterlayer .trace").first).to_be_attached()
        expect(skeletons.locator(".annotation-text").first).to_contain_text("Person 1:")
        oks = page.locator(".st-key-keypoints_oks [data-testid=stMetricValue]")
        expect(oks).to_have_text(re.compile(r"^[01]\.\d{3}$"))
        expect(page.locator('[class*="st-key-keypoints_outcomes"] .js-plotly-plot')).to_have_count(1)
        expect(page.locator('[class*="st-key-keypoints_heatmap"] .js-plotly-plot')).to_have_count(1)
        # Counts are read after a reload: six quick key presses rerun the fragment several times, and a
        # count read between two of those reruns may belong to an earlier threshold. The URL keeps it.
        page.reload()
        wait_idle(page, timeout=120_000)
        expect(page.locator(".st-key-keypoints_score input[type=range]")).to_have_value("0")
        many = shown(page)
        assert many > 0
        screenshot(page, "keypoints_skeletons")
        slider = page.locator(".st-key-keypoints_score input[type=range]")
        slider.focus()
        page.keyboard.press("ArrowRight")  # 0.0 -> 0.05: fewer or as many
        wait_idle(page)
        expect(page).to_have_url(re.compile(r"keypoints_score=0\.05"))
        before = page.url
        page.reload()
        wait_idle(page, timeout=120_000)
        assert page.url == before
        expect(page.locator(".st-key-keypoints_index input")).to_have_value("2")
        expect(page.locator(".st-key-keypoints_score input[type=range]")).to_have_value("0.05")
        assert shown(page) <= many
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.close()
