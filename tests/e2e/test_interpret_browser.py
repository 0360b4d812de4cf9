"""A person explaining photos: upload one and see the heatmap and predictions, take one with the
camera, step through activations, and get a clear message for a bad file."""

from __future__ import annotations

import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, screenshot, still, wait_idle

pytestmark = pytest.mark.browser


def open_page(page, url: str, title: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)
    wait_idle(page, timeout=120_000)


def settle(page) -> None:
    """Wait for the rerun an action starts to begin (if it has not yet) and then to finish."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=3_000)
    except Exception:  # the rerun was already over (or too quick to see)
        pass
    wait_idle(page, timeout=120_000)


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    settle(page)


def test_upload_a_photo_and_see_the_heatmap(page, app_server, tmp_path):
    from skimage import data

    open_page(page, app_server, "Heatmaps")
    expect(page.get_by_text("Grad-CAM at conv10 for “Egyptian cat”")).to_be_visible(timeout=60_000)
    page.get_by_role("radio", name="Upload", exact=True).click()
    settle(page)
    photo = tmp_path / "my cat.jpg"
    Image.fromarray(data.chelsea()).save(photo, quality=92)
    upload(page, photo)
    expect(page.get_by_text("Your picture (your upload)")).to_be_visible()
    caption = page.get_by_text("Grad-CAM at conv10 for").first
    expect(caption).to_be_visible()
    assert any(cat in caption.inner_text() for cat in ("Egyptian cat", "tabby", "tiger cat"))
    screenshot(page, "heatmaps_upload")
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(4)  # picture and overlay, and the side-by-side pair
    assert all(images.nth(i).evaluate("img => img.complete && img.naturalWidth > 100") for i in range(4))
    chart = page.locator(".js-plotly-plot").first
    expect(chart).to_contain_text("What the model thinks it is")
    expect(chart).to_contain_text("Egyptian cat (285)")
    screenshot(page, "heatmaps_upload")
    # Another method, without losing the picture.
    page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Method", exact=True)).locator("input").click()
    page.get_by_role("option", name="Score-CAM").click()
    settle(page)
    screenshot(page, "heatmaps_score_cam")
    expect(page.get_by_text("Score-CAM at conv10 for").first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Your picture (your upload)")).to_be_visible()


def test_bad_upload_gets_a_message_and_the_page_keeps_working(page, app_server, tmp_path):
    open_page(page, app_server, "Heatmaps")
    page.get_by_role("radio", name="Upload", exact=True).click()
    settle(page)
    broken = tmp_path / "holiday.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture" * 5)
    upload(page, broken)
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("holiday.png")
    expect(error).to_contain_text("could not be used")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.get_by_role("radio", name="Sample", exact=True).click()
    settle(page)
    expect(page.get_by_text("Your picture (chelsea)")).to_be_visible()


def test_step_through_activations(page, app_server):
    open_page(page, app_server, "Activations")
    header = page.get_by_role("heading", level=4).first
    expect(header).to_contain_text("conv1 · Conv2D · output 112 × 112 × 64")
    page.get_by_role("button", name="Next").click()
    settle(page)
    expect(header).to_contain_text("relu_conv1 · Activation")
    page.get_by_role("button", name="Next").click()
    settle(page)
    expect(header).to_contain_text("pool1 · MaxPooling2D")
    page.get_by_role("button", name="Previous").click()
    settle(page)
    expect(header).to_contain_text("relu_conv1")
    expect(page).to_have_url(re.compile("layer=relu_conv1"))  # a reload or a shared link lands on the same layer
    page.reload()
    wait_idle(page, timeout=120_000)
    expect(page.get_by_role("heading", level=4).first).to_contain_text("relu_conv1")
    grid = page.locator(".js-plotly-plot").filter(has_text="channels 0–31")
    expect(grid).to_be_visible()
    # Click a tile: that channel is enlarged.
    grid.locator(".scatterlayer .point").nth(10).click(force=True)
    settle(page)
    expect(page.locator(".js-plotly-plot").filter(has_text="relu_conv1, channel 10")).to_be_visible()
    screenshot(page, "activations")


def test_take_a_photo_with_the_camera(browser, app_server):
    """Chromium's fake camera stands in for a webcam; the photo is explained like an upload."""
    camera_browser = browser.browser_type.launch(  # a second Chromium, with a fake camera
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
              "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    try:
        context = still(camera_browser.new_context(viewport={"width": 1400, "height": 1600}, permissions=["camera"]))
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_page(page, app_server, "Heatmaps")
        page.get_by_role("radio", name="Camera", exact=True).click()
        settle(page)
        button = page.get_by_role("button", name="Take Photo")
        expect(button).to_be_enabled(timeout=30_000)
        time.sleep(2)  # let the fake stream start producing frames
        button.click()
        settle(page)
        expect(page.get_by_text("Your picture (camera photo)")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Grad-CAM at conv10 for").first).to_be_visible()
        screenshot(page, "heatmaps_camera")
    finally:
        camera_browser.close()


def _toggle(page, label: str):
    return page.get_by_role("switch", name=label).or_(page.get_by_role("checkbox", name=label)).first


def _opacity(page):
    return page.get_by_test_id("stSlider").filter(has_text="Heatmap opacity").get_by_role("slider")


def test_heatmaps_choices_survive_a_reload(page, app_server):
    """Opacity, test-time smoothing and "Two models" are in the URL: a reload shows the same thing."""
    open_page(page, app_server, "Heatmaps")
    page.get_by_text("Test-time smoothing", exact=True).click()  # the switch's label (it covers the input)
    settle(page)
    expect(page.get_by_text("smoothed at test time").first).to_be_visible(timeout=90_000)
    slider = _opacity(page)
    slider.focus()
    for _ in range(4):  # 0.50 -> 0.70, one step of 0.05 per key
        slider.press("ArrowRight")
    settle(page)
    expect(slider).to_have_value("0.7")
    page.get_by_role("radio", name="Two models", exact=True).click()
    settle(page)
    expect(page.get_by_text("Second model", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"opacity=0\.7.*smoothing=on|smoothing=on.*opacity=0\.7"))
    expect(page).to_have_url(re.compile(r"compare=Two"))
    page.reload()
    wait_idle(page, timeout=120_000)
    expect(_toggle(page, "Test-time smoothing")).to_be_checked()
    expect(_opacity(page)).to_have_value("0.7")
    expect(page.get_by_role("radio", name="Two models", exact=True)).to_be_checked()
    expect(page.get_by_text("Second model", exact=True)).to_be_visible()
    expect(page.get_by_text("smoothed at test time").first).to_be_visible()
    screenshot(page, "heatmaps_after_reload")


def test_the_smoothing_switch_stays_as_the_map_after_a_new_upload(page, app_server, tmp_path):
    from skimage import data

    open_page(page, app_server, "Heatmaps")
    page.get_by_text("Test-time smoothing", exact=True).click()  # the switch's label (it covers the input)
    settle(page)
    page.get_by_role("radio", name="Upload", exact=True).click()
    settle(page)
    photo = tmp_path / "cat.jpg"
    Image.fromarray(data.chelsea()).save(photo, quality=92)
    upload(page, photo)
    expect(page.get_by_text("Your picture (your upload)")).to_be_visible(timeout=90_000)
    expect(_toggle(page, "Test-time smoothing")).to_be_checked()  # the switch shows what made the map
    expect(page.get_by_text("smoothed at test time").first).to_be_visible()


def test_an_upload_follows_the_person_to_activations_and_back(page, app_server, tmp_path):
    from skimage import data

    open_page(page, app_server, "Heatmaps")
    page.get_by_role("radio", name="Upload", exact=True).click()
    settle(page)
    photo = tmp_path / "rocket photo.png"
    Image.fromarray(data.rocket()).save(photo)
    upload(page, photo)
    expect(page.get_by_text("Your picture (your upload)")).to_be_visible(timeout=90_000)
    page.get_by_test_id("stSidebarNav").get_by_text("Activations", exact=True).click()
    page.get_by_role("heading", name="Activations", exact=True).wait_for(timeout=60_000)
    wait_idle(page, timeout=120_000)
    expect(page.get_by_role("radio", name="Upload", exact=True)).to_be_checked()
    expect(page.get_by_text("rocket photo.png")).to_be_visible()
    expect(page.get_by_test_id("stImage").filter(has_text="your upload")).to_be_visible()
    expect(page.get_by_role("heading", level=4).first).to_contain_text("conv1")
    screenshot(page, "activations_with_the_upload")
    page.get_by_test_id("stSidebarNav").get_by_text("Heatmaps", exact=True).click()
    page.get_by_role("heading", name="Heatmaps", exact=True).wait_for(timeout=60_000)
    wait_idle(page, timeout=120_000)
    expect(page.get_by_text("Your picture (your upload)")).to_be_visible()
    page.get_by_role("button", name="Remove", exact=True).click()
    settle(page)
    expect(page.get_by_text("Your picture (your upload)")).to_have_count(0)
