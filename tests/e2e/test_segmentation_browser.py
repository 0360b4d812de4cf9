"""A person opens the Segmentation page, chooses a run, sees its masks, hovers a pixel and moves
the opacity slider."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser


def built_runs(root):
    """Two completed segmentation runs with built (untrained) models: the book's and a U-Net."""
    from tests.app.segmentation_runs import built_run

    first = built_run(root)
    second = built_run(root, model="unet", filters=(8, 16, 32))
    return first, second


def overlay_href(page) -> str:
    return page.locator('[class*="st-key-segmentation_overlay"] .js-plotly-plot image').first.get_attribute("href")


def test_choose_a_run_see_the_masks_and_move_the_opacity_slider(browser, tmp_path):
    runs = tmp_path / "runs"
    first, second = built_runs(runs)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2200})
        page.set_default_timeout(60_000)
        page.goto(url + "/segmentation")
        expect(page.get_by_role("heading", name="Segmentation", exact=True)).to_be_visible()
        wait_idle(page, timeout=120_000)
        # Choose the run: the newest is shown first; pick the other one.
        page.locator(".st-key-segmentation_model_run [data-testid=stSelectbox]").click()
        page.get_by_role("option").filter(has_text=first.name).click()
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(f"run={first.name}"))  # waits for the rerun
        # The masks: the picture, the predicted mask, the true mask, and the legend under them.
        for caption in ("The picture, as the model sees it", "Predicted mask", "True mask"):
            expect(page.get_by_test_id("stImageCaption").filter(has_text=caption).first).to_be_visible()
        expect(page.locator('[class*="st-key-segmentation_confidence"] .js-plotly-plot')).to_have_count(1)
        # Hovering the overlay names the class and its probability under the cursor.
        plot = page.locator('[class*="st-key-segmentation_overlay"] .js-plotly-plot .nsewdrag').first
        box = plot.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(page.locator(".hoverlayer").first).to_contain_text("p =", timeout=10_000)
        before = overlay_href(page)
        screenshot(page, "segmentation_predict")
        # Move the opacity slider with the keyboard: the overlay is redrawn (only its fragment reruns).
        slider = page.locator(".st-key-segmentation_opacity input[type=range]")
        slider.focus()
        for _ in range(6):
            page.keyboard.press("ArrowRight")
        wait_idle(page)
        expect(slider).to_have_value("0.8")
        page.wait_for_function(
            "(old) => { const i = document.querySelector('[class*=\"st-key-segmentation_overlay\"] .js-plotly-plot image');"
            " return i && i.getAttribute('href') !== old; }", arg=before, timeout=30_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, "segmentation_opacity")
        page.close()
