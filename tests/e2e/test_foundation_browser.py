"""A person's first visit: Home, then Datasets through the sidebar, a bad folder, uploads."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser


def open_page(page, url: str, title: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).wait_for()
    wait_idle(page)


def test_home_shows_the_three_tasks_and_page_map(page, app_server):
    page.goto(app_server)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Convnet Lab")).to_be_visible()
    for task in ("Image classification", "Semantic segmentation", "Object detection"):
        expect(page.get_by_text(task).first).to_be_visible()
    images = page.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(3)
    assert all(images.nth(i).evaluate("img => img.naturalWidth") >= 160 for i in range(3))
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Datasets", exact=True)).to_be_visible()
    screenshot(page, "home")


def test_datasets_page_shows_samples_balance_and_masks(page, app_server):
    open_page(page, app_server, "Datasets")
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["5", "2,000", "500", "500"])
    page.get_by_text("Class balance of shapes").wait_for()
    assert page.locator(".js-plotly-plot").count() >= 2
    captions = page.get_by_test_id("stImageCaption").filter(has_text="shapes/")  # one per sample
    expect(captions).to_have_count(12)
    assert all("shapes/train/" in c for c in captions.all_inner_texts())
    expect(page.get_by_text("Mask colours (the background is left clear)")).to_be_visible()
    grid = page.locator('[data-testid="stImage"]:has-text("shapes/") img')
    screenshot(page, "datasets_shapes")
    # Fewer samples: the grid follows the slider.
    first = grid.first.get_attribute("src")
    page.get_by_role("radio", name="validation").click()
    expect(captions.first).to_contain_text("shapes/validation/0")
    assert grid.first.get_attribute("src") != first


def test_bad_folder_gives_a_friendly_message(page, app_server):
    open_page(page, app_server, "Datasets")
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Image folder (your own)").click()
    wait_idle(page)
    box = page.get_by_label("Folder", exact=True)
    box.fill("/no/such/folder")
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("does not exist")
    screenshot(page, "datasets_bad_folder")


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:, :30] = (255, 0, 0)
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_corrupt_then_good_picture(page, app_server, tmp_path):
    open_page(page, app_server, "Datasets")
    corrupt = tmp_path / "holiday.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(str(corrupt))
    wait_idle(page)
    error = page.get_by_test_id("stAlertContentError")
    error.wait_for()
    text = error.inner_text()
    assert "holiday.jpg" in text and "could not be used" in text
    assert "Traceback" not in page.content()
    screenshot(page, "datasets_corrupt_upload")

    good = tmp_path / "good.png"
    good.write_bytes(_png_bytes())
    upload.set_input_files(str(good))
    wait_idle(page)
    page.get_by_text("60 × 40 pixels, RGB").wait_for()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible()


def link_paths(links) -> list[str]:
    """The address paths the links lead to, as the browser resolved them."""
    return [urlparse(href).path.rstrip("/") for href in links.evaluate_all("els => els.map(e => e.href)")]


def test_every_page_through_the_sidebar(page, app_server):
    page.goto(app_server)
    wait_idle(page)
    nav = page.get_by_test_id("stSidebarNav")
    titles = [t.splitlines()[-1].strip() for t in nav.get_by_test_id("stSidebarNavLink").all_inner_texts()]
    assert titles == ["Home", "Chapter 9 tour", "Datasets", "Architecture lab", "Compare runs", "Heatmaps", "Activations", "Filters",
                      "Segmentation", "Instance segmentation", "Mask studio", "Detection", "Similarity", "Keypoints and pose", "Keypoint studio"]
    # Home's page map: each card's link goes where a sidebar link goes (each of those is opened below).
    sidebar = link_paths(nav.locator("a"))
    cards = link_paths(page.get_by_test_id("stMain").get_by_test_id("stPageLink").locator("a"))
    assert len(cards) >= 3 and set(cards) <= set(sidebar), (cards, sidebar)
    for title in titles:
        nav.get_by_text(title, exact=True).click()
        heading = "Convnet Lab" if title == "Home" else title
        expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible(timeout=120_000)
        wait_idle(page, timeout=180_000)  # Filters searches its first patterns before it is idle
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert "Traceback" not in page.content()


def test_deep_link_on_a_freshly_started_server_runs_the_router(browser, tmp_path):
    """A bookmark to /datasets opened right after a restart still gets the lab's navigation."""
    from tests.e2e.conftest import running_app

    with running_app(tmp_path, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/datasets")
        expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible(timeout=60_000)
        wait_idle(page)
        titles = [t.splitlines()[-1].strip() for t in
                  page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink").all_inner_texts()]
        assert titles == ["Home", "Chapter 9 tour", "Datasets", "Architecture lab", "Compare runs", "Heatmaps", "Activations", "Filters",
                          "Segmentation", "Instance segmentation", "Mask studio", "Detection", "Similarity", "Keypoints and pose", "Keypoint studio"]
        page.close()


def test_datasets_page_lists_mask_studio_datasets_and_a_reload_keeps_the_choice(page, app_server):
    """Issue 19: the Datasets page did not list the Mask studio's datasets at all."""
    import os
    import re
    from pathlib import Path

    from cv_core.datasets import UserMaskStore
    from cv_core.datasets.user_masks import split_items
    from ui.data import user_dataset_label

    store = UserMaskStore(Path(os.environ["CONVNET_LAB_DATA_E2E"]) / "user_masks")
    store.create("e2e_listed", ["background", "cat", "dog"])
    rng = np.random.default_rng(0)
    for i in range(5):
        mask = np.zeros((40, 56), np.uint8)
        mask[8 + i:24 + i, 10:30] = 1 + i % 2
        store.save_mask("e2e_listed", rng.integers(0, 256, (40, 56, 3), dtype=np.uint8), mask)
    splits = split_items(store.list_items("e2e_listed"))

    open_page(page, app_server, "Datasets")
    box = page.get_by_role("combobox", name="Dataset", exact=True)
    box.click()
    page.get_by_role("option", name=user_dataset_label("e2e_listed"), exact=True).click()
    wait_idle(page)
    expect(page.get_by_test_id("stMetricValue")).to_have_text(
        ["3", *(f"{len(splits[s]):,}" for s in ("train", "validation", "test"))])
    captions = page.get_by_test_id("stImageCaption").filter(has_text=".png")
    expect(captions).to_have_count(len(splits["train"]))
    expect(page.get_by_text("Mask colours (the background is left clear)")).to_be_visible()
    page.get_by_role("radio", name="validation").click()
    expect(captions).to_have_count(len(splits["validation"]))
    wait_idle(page)
    screenshot(page, "datasets_user_masks")
    expect(page).to_have_url(re.compile("datasets_split=validation"))  # waits: the URL follows the rerun

    page.reload()
    wait_idle(page)
    expect(box).to_have_value(user_dataset_label("e2e_listed"))
    expect(page.get_by_role("radio", name="validation")).to_be_checked()
    expect(captions).to_have_count(len(splits["validation"]))
    shown = sorted(c.split(" · ")[1] for c in captions.all_inner_texts())
    assert shown == sorted(f"{item}.png" for item in splits["validation"])
