"""A person clicks the named points of a picture in the Keypoint studio, in real Chromium, saves, and
the COCO file on disk holds those points, where the clicks went."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser

WAIT = 30_000  # ms; reruns answer slowly on a busy 2-core machine
ASSETS = Path(__file__).resolve().parents[2] / "assets"
COMPONENT = 'iframe[title="streamlit_image_coordinates.streamlit_image_coordinates"]'


def expect_success(page, text: str) -> None:
    """The success message holding ``text`` (another, such as "Every point is placed", may stand beside it)."""
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text=text)).to_be_visible(timeout=WAIT)


def _coco(name: str) -> dict:
    folder = Path(os.environ["CONVNET_LAB_DATA_E2E"]) / "user_keypoints" / name
    return json.loads((folder / "person_keypoints.json").read_text())


def _open_studio(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Keypoint studio", exact=True).click()
    page.get_by_role("heading", name="Keypoint studio").wait_for()
    wait_idle(page)


def _new_dataset(page, name: str, skeleton: str, joints: str = "", edges: str = "", ok: bool = True) -> None:
    box = page.get_by_role("combobox", name="Save points into", exact=True)
    if box.input_value() != "+ New dataset…":
        box.click()
        page.get_by_role("option", name="+ New dataset…", exact=True).click()
        expect(box).to_have_value("+ New dataset…", timeout=WAIT)
        wait_idle(page)
    page.get_by_text(skeleton, exact=True).click()
    wait_idle(page)
    if joints:
        areas = page.get_by_test_id("stTextArea").locator("textarea")
        for area, text in ((areas.nth(0), joints), (areas.nth(1), edges)):
            area.fill(text)
            area.press("Control+Enter")  # commits a text area
            wait_idle(page)
    box = page.get_by_label("Dataset name", exact=True)
    box.fill(name)
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_idle(page)
    if ok:
        expect_success(page, f"Created the dataset {name}")


def _click(page, x: int, y: int, then) -> None:
    """Click the picture at (x, y) CSS pixels from its top-left corner; wait for ``then`` to show."""
    wait_idle(page)
    image = page.frame_locator(COMPONENT).locator("#image")
    expect(image).to_be_visible(timeout=WAIT)
    image.click(position={"x": x, "y": y})
    expect(page.get_by_text(then).first).to_be_visible(timeout=WAIT)
    wait_idle(page)


def test_click_points_save_and_read_the_coco_file(page, app_server):
    _open_studio(page, app_server)
    outside = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None)
            and not r.url.startswith("data:") else None)

    # A skeleton of one's own; an edge naming an unknown joint is refused first, with the joint named.
    _new_dataset(page, "e2e_kp", "Your own points and edges", "nose\nleft_ear\ntail", "nose - left_ear\nnose - paw",
                 ok=False)
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("unknown joint 'paw'", timeout=WAIT)
    area = page.get_by_test_id("stTextArea").locator("textarea").nth(1)
    area.fill("nose - left_ear\nnose - tail")
    area.press("Control+Enter")
    wait_idle(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_idle(page)
    expect_success(page, "Created the dataset e2e_kp")

    # The picture is shown as wide as its column; a click at CSS pixel (cx, cy) of the shown picture is
    # the point ((cx + 0.5) · 192 / shown width, ...) of the 192 px picture, which COCO writes 0.5 less.
    expect(page.get_by_text("Next point: nose")).to_be_visible(timeout=WAIT)
    page.locator(COMPONENT).wait_for(timeout=WAIT)
    image = page.frame_locator(COMPONENT).locator("#image")
    expect(image).to_be_visible(timeout=WAIT)
    page.wait_for_timeout(300)
    shown = image.bounding_box()
    scale = 192 / shown["width"]
    assert abs(shown["height"] - shown["width"]) < 1 and shown["width"] >= 300
    _click(page, 100, 60, "Next point: left_ear")
    page.get_by_text("Hidden (labelled, not visible)").click()
    wait_idle(page)
    _click(page, 250, 41, "Next point: tail")
    page.get_by_text("Visible", exact=True).click()
    wait_idle(page)
    _click(page, 300, 300, "Every point is placed")
    # Move the nose: choose it, then click elsewhere; Undo puts it back.
    _click_select(page, "1. nose · visible")
    _click(page, 20, 20, f"nose is at ({20.5 * scale:.1f}, {20.5 * scale:.1f})")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text(f"nose is at ({100.5 * scale:.1f}, {60.5 * scale:.1f})")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    screenshot(page, "keypoint_studio_placed")

    page.get_by_role("button", name="Save into e2e_kp").click()
    wait_idle(page)
    expect_success(page, "Saved picture 1 into e2e_kp with 3 points.")
    data = _coco("e2e_kp")
    assert data["categories"][0]["keypoints"] == ["nose", "left_ear", "tail"]
    assert data["categories"][0]["skeleton"] == [[1, 2], [1, 3]]
    (annotation,) = data["annotations"]
    clicks = [(100, 60, 2), (250, 41, 1), (300, 300, 2)]
    expected = [v for cx, cy, flag in clicks for v in ((cx + 0.5) * scale - 0.5, (cy + 0.5) * scale - 0.5, flag)]
    assert annotation["keypoints"][2::3] == expected[2::3]
    for got, want in zip(annotation["keypoints"], expected):
        assert abs(got - want) <= 0.3, (annotation["keypoints"], expected)  # a click lands on a whole CSS pixel
    assert annotation["num_keypoints"] == 3
    assert data["images"][0]["width"] == 192 and data["images"][0]["height"] == 192
    expect(page.get_by_test_id("stImageCaption").filter(has_text="Picture 1")).to_have_count(1, timeout=WAIT)

    # A second object on the same picture: Edit, "+ Another object", one click, save.
    page.get_by_role("button", name="Edit", exact=True).click()
    wait_idle(page)
    box = page.get_by_role("combobox", name="Object on this picture", exact=True)
    box.click()
    page.get_by_role("option", name="+ Another object", exact=True).click()
    expect(page.get_by_text("Next point: nose")).to_be_visible(timeout=WAIT)
    _click(page, 40, 200, "Next point: left_ear")
    page.get_by_role("button", name="Save changes").click()
    wait_idle(page)
    expect_success(page, "Saved picture 1 into e2e_kp with one point.")
    data = _coco("e2e_kp")
    assert len(data["images"]) == 1 and len(data["annotations"]) == 2
    assert data["annotations"][0]["keypoints"] == annotation["keypoints"]  # the first object is kept as it was
    second = data["annotations"][1]["keypoints"]
    assert second[2::3] == [2, 0, 0] and abs(second[0] - ((40.5) * scale - 0.5)) <= 0.3
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
    assert outside == [], f"requests to other hosts: {outside}"


def _click_select(page, option: str) -> None:
    box = page.get_by_role("combobox", name="Point the next click places or moves", exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_people_screenshot(page, app_server):
    """The README's picture: a generated person's 14 points started from the truth, the right wrist
    marked hidden and the left wrist deleted; saved, the file has v = 1 and v = 0 for them."""
    page.set_viewport_size({"width": 1400, "height": 1400})
    _open_studio(page, app_server)
    _new_dataset(page, "e2e_people", "People (14 joints)")
    number = page.get_by_label("Picture number", exact=True)
    number.fill("25")  # a tall person (measured: the largest of the first 40 easy pictures at 192 px)
    number.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("generated people picture 25")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Start from the true points").click()
    wait_idle(page)
    expect(page.get_by_text("Every point is placed")).to_be_visible(timeout=WAIT)
    _click_select(page, "8. right_wrist · visible")
    page.get_by_role("button", name="Hide or show").click()
    expect(page.get_by_text(re.compile("right_wrist is at .*, hidden;"))).to_be_visible(timeout=WAIT)
    wait_idle(page)
    _click_select(page, "7. left_wrist · visible")
    page.get_by_role("button", name="Delete point").click()
    expect(page.get_by_text("Next point: left_wrist")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    page.get_by_test_id("stMain").evaluate("element => element.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    shot = screenshot(page, "keypoint_studio_people")
    shutil.copy(shot, ASSETS / "screenshot-keypoint-studio.png")

    page.get_by_role("button", name="Save into e2e_people").click()
    wait_idle(page)
    expect(page.get_by_text("Saved picture 1 into e2e_people with 13 points.")).to_be_visible(timeout=WAIT)
    (annotation,) = _coco("e2e_people")["annotations"]
    visibility = annotation["keypoints"][2::3]
    assert visibility[6] == 0 and visibility[7] == 1 and annotation["num_keypoints"] == 13
    # Edit reopens the saved picture with its points, ready to correct.
    page.get_by_role("button", name="Edit", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("button", name="Save changes")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Next point: left_wrist")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
