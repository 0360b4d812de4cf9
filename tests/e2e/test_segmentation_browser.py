"""A person opens the Segmentation page, chooses a run, sees its masks, hovers a pixel and moves
the opacity slider."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser


def built_runs(root):
    """Two completed segmentation runs with built (untrained) models: the book's and a U-Net."""
    from tests.app.segmentation_runs import built_run

    first = built_run(root)
    second = built_run(root, model="unet", filters=(8, 16, 32))
    return first, second


def hover_until_a_label(page, selector: str, text: str, attempts: int = 8) -> None:
    """Move the mouse over the plot until its hover label shows ``text``.

    On a loaded machine the plot can still be laying out (or be redrawn by a rerun) when the
    mouse first arrives, and plotly then draws no label until the mouse moves again.
    """
    label = page.locator(".hoverlayer").first
    for attempt in range(attempts):
        box = page.locator(selector).first.bounding_box()
        if box:
            page.mouse.move(box["x"] + box["width"] / 2 + 3 * attempt, box["y"] + box["height"] / 2 + 2 * attempt)
            try:
                expect(label).to_contain_text(text, timeout=3_000)
                return
            except AssertionError:
                pass
        page.wait_for_timeout(500)
    expect(label).to_contain_text(text, timeout=3_000)


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox ``key``; a click that lands while widgets re-render is tried again."""
    for _ in range(5):
        page.locator(f".st-key-{key} [data-testid=stSelectbox]").click()
        wanted = page.get_by_role("option").filter(has_text=option).first
        try:
            wanted.wait_for(state="visible", timeout=3_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        try:
            wanted.click(timeout=5_000)
        except PlaywrightTimeout:  # the list was re-rendered under the click (a rerun on a loaded machine)
            page.keyboard.press("Escape")
            continue
        return
    raise AssertionError(f"The selectbox {key} did not open")


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
        hover_until_a_label(page, '[class*="st-key-segmentation_overlay"] .js-plotly-plot .nsewdrag', "p =")
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


def test_a_reload_keeps_the_picture_and_every_choice(browser, tmp_path):
    # Issue 19: a reload lost the picture number and the opacity, though the README said the picture was kept.
    from tests.app.segmentation_runs import built_run

    runs = tmp_path / "runs"
    run_dir = built_run(runs)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        page.set_default_timeout(60_000)
        page.goto(url + "/segmentation")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(f"run={run_dir.name}"))
        number = page.locator(".st-key-segmentation_index input")
        number.fill("5")
        number.press("Enter")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"segmentation_index=5"))
        opacity = page.locator(".st-key-segmentation_opacity input[type=range]")
        opacity.focus()
        for _ in range(4):  # 0.5 -> 0.7
            page.keyboard.press("ArrowRight")
        wait_idle(page)
        expect(page).to_have_url(re.compile(r"segmentation_opacity=0\.7"))
        smallest = page.locator(".st-key-segmentation_min_area input[type=range]")
        smallest.focus()
        for _ in range(3):  # 4 -> 7
            page.keyboard.press("ArrowRight")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"segmentation_min_area=7"))
        choose(page, "segmentation_cam_method", "HiResCAM")
        wait_idle(page, timeout=120_000)
        expect(page).to_have_url(re.compile(r"segmentation_cam_method=HiResCAM"))
        before = page.url
        page.reload()
        wait_idle(page, timeout=120_000)
        expect(page.get_by_role("heading", name="Segmentation", exact=True)).to_be_visible()
        assert page.url == before
        expect(page.locator(".st-key-segmentation_index input")).to_have_value("5")
        expect(page.locator(".st-key-segmentation_opacity input[type=range]")).to_have_value("0.7")
        expect(page.locator(".st-key-segmentation_min_area input[type=range]")).to_have_value("7")
        expect(page.locator(".st-key-segmentation_cam_method input")).to_have_value("HiResCAM")
        expect(page.locator(".st-key-segmentation_model_run input")).to_have_value(re.compile(run_dir.name))
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, "segmentation_after_reload")
        page.close()
