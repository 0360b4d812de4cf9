"""A person paints a mask in the Mask studio with the mouse, saves it, and the PNG on disk has
the class where the stroke went and the background elsewhere."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser

DATASET = "e2e_shapes"
WAIT = 30_000  # ms; reruns answer slowly on a busy 2-core machine


def _saved(name: str, item: str) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(os.environ["CONVNET_LAB_DATA_E2E"]) / "user_masks" / name
    with Image.open(folder / "masks" / f"{item}.png") as mask, Image.open(folder / "images" / f"{item}.png") as image:
        assert mask.mode in ("L", "P")
        return np.asarray(image.convert("RGB")), np.asarray(mask)


def _draw(page, canvas, moves, count: str) -> None:
    """Press, move through ``moves(box)`` (page coordinates from the canvas's box), release, and
    wait for the app to count ``count`` strokes. On a busy machine the browser can lose a whole drag (the canvas applies a
    rerun's settings when it gets to them, and a tool set up again mid-drag drops the stroke): when
    nothing changed on the canvas, the drag is made once more. A drag that painted but was never
    reported still fails."""
    for attempt in (1, 2):
        _settle(page)
        before = _pixels(canvas.screenshot())  # (scrolls the canvas into view: measure after it)
        path = moves(canvas.bounding_box())
        page.mouse.move(*path[0])
        page.mouse.down()
        for x, y in path[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
        try:
            expect(page.get_by_text(count)).to_be_visible(timeout=WAIT // 2 if attempt == 1 else WAIT)
            return
        except AssertionError:
            # (hovering shades the canvas a little; paint changes a pixel by far more)
            painted = (np.abs(_pixels(canvas.screenshot()) - before).max(axis=-1) > 48).sum()
            if attempt == 2 or painted > 100:
                raise


def _drag(page, canvas, points, count: str) -> None:
    """A mouse stroke through ``points`` given as fractions of the canvas's width and height, then
    ``count`` strokes on the canvas (see :func:`_draw`)."""
    def moves(box):
        xs = [box["x"] + fx * box["width"] for fx, _ in points]
        ys = [box["y"] + fy * box["height"] for _, fy in points]
        path = [(xs[0], ys[0])]
        for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
            path += [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in np.linspace(0, 1, 12)[1:]]
        return path

    _draw(page, canvas, moves, count)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def _box_cells(shape, x0, y0, x1, y1) -> np.ndarray:
    """The pixels whose centres lie inside the box (x0, y0)-(x1, y1), in image pixels."""
    rows = (np.arange(shape[0]) + 0.5)[:, None]
    cols = (np.arange(shape[1]) + 0.5)[None, :]
    return (rows > y0) & (rows < y1) & (cols > x0) & (cols < x1)


def _settle(page) -> None:
    """Wait for the script to finish, then let the canvas apply its new settings: it reconfigures
    its tool (colour, mode) asynchronously after the rerun, and a reconfiguration in the middle of
    a stroke would cut the stroke short."""
    wait_idle(page)
    page.wait_for_timeout(500)


def _choose(page, label: str, option: str) -> None:
    """Pick a selectbox option; a rerun that lands while the list is open closes it: try again."""
    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(3):
        wait_idle(page)
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    expect(box).to_have_value(option, timeout=WAIT)
    wait_idle(page)


def _open_studio(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Mask studio", exact=True).click()
    page.get_by_role("heading", name="Mask studio").wait_for()
    wait_idle(page)


def _new_dataset(page, name: str, classes: str) -> None:
    """Create a user dataset through the form (choosing "+ New dataset…" when others exist)."""
    if page.get_by_role("combobox", name="Save masks into", exact=True).input_value() != "+ New dataset…":
        _choose(page, "Save masks into", "+ New dataset…")
    if classes == "shapes":
        page.get_by_role("button", name="Shapes", exact=True).click()
        expect(page.get_by_test_id("stTextArea").locator("textarea")).to_have_value(re.compile("circle"),
                                                                                     timeout=WAIT)
    else:
        area = page.get_by_test_id("stTextArea").locator("textarea")
        area.fill(classes)
        area.press("Control+Enter")  # commits a text area
    wait_idle(page)
    box = page.get_by_label("Dataset name", exact=True)
    box.fill(name)
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_idle(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Created the dataset {name}", timeout=WAIT)


def test_paint_a_stroke_save_and_read_the_png(page, app_server):
    _open_studio(page, app_server)
    # From here on (the canvas component loads its code when it first appears), nothing may come
    # from another host: the component serves its assets from the app.
    outside = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in ("127.0.0.1", None)
            and not r.url.startswith("data:") else None)

    # A new dataset with the shapes' classes.
    _new_dataset(page, DATASET, "shapes")
    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_contain_text("circle, square, triangle", timeout=WAIT)

    # Start from an empty mask and paint one horizontal stroke of "square" (class 2).
    page.get_by_text("An empty mask (all background)").click()
    expect(page.get_by_text("No IoU: you started from an empty mask.")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    _choose(page, "Class", "2 · square")
    expect(page.get_by_text("Brush: drag on the picture to paint 2 · square")).to_be_visible(timeout=WAIT)
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1, timeout=WAIT)
    box = canvas.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (480, 480)  # 96 px shapes enlarged 5×
    _drag(page, canvas, [(0.2, 0.5), (0.8, 0.5)], "1 stroke or shape on the canvas.")
    wait_idle(page)
    screenshot(page, "mask_studio_stroke")

    page.get_by_role("button", name=f"Save to {DATASET}").click()
    wait_idle(page)
    expect(success).to_contain_text(
        "Saved as a new item 0001 in e2e_shapes: the picture (96 × 96 px) and its mask of class indices "
        "(background, square)", timeout=WAIT)
    image, mask = _saved(DATASET, "0001")
    assert image.shape == (96, 96, 3) and mask.shape == (96, 96)
    assert set(np.unique(mask).tolist()) == {0, 2}
    # The stroke: canvas y = 240 ± 9 px is image row 48 ± 1.8, from x = 96 to 384 (columns 19 to 77).
    rows, cols = np.nonzero(mask == 2)
    assert (mask[47:49, 22:75] == 2).all(), (rows.min(), rows.max(), cols.min(), cols.max(), len(rows))
    assert 45 <= rows.min() and rows.max() <= 51 and 16 <= cols.min() and cols.max() <= 80
    assert (mask[:44] == 0).all() and (mask[53:] == 0).all()

    # A second stroke of another class, then Undo: saving again keeps only the first stroke.
    _choose(page, "Class", "1 · circle")
    expect(page.get_by_text("Brush: drag on the picture to paint 1 · circle")).to_be_visible(timeout=WAIT)
    _drag(page, canvas, [(0.5, 0.1), (0.5, 0.9)], "2 strokes or shapes on the canvas.")
    wait_idle(page)
    page.get_by_role("button", name="Undo", exact=True).first.click()
    expect(page.get_by_text("1 stroke or shape on the canvas.")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    page.get_by_role("button", name="Save changes to 0001").click()
    wait_idle(page)
    expect(success).to_contain_text(
        "Saved the changes to item 0001 in e2e_shapes: the picture (96 × 96 px) and its mask of class indices "
        "(background, square)", timeout=WAIT)
    assert np.array_equal(_saved(DATASET, "0001")[1], mask)

    # A filled polygon of "triangle" (class 3) in the top-left corner, closed on its first corner.
    _choose(page, "Class", "3 · triangle")
    page.get_by_role("radio", name="Polygon").click()
    hint = page.get_by_text("Polygon: click the corners")
    expect(hint).to_contain_text("3 · triangle", timeout=WAIT)
    wait_idle(page)
    _settle(page)
    box = canvas.bounding_box()
    corners = [(0.05, 0.05), (0.35, 0.05), (0.35, 0.3), (0.05, 0.3), (0.05, 0.05)]
    for fx, fy in corners:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(150)
    expect(page.get_by_text("2 strokes or shapes on the canvas.")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    screenshot(page, "mask_studio_polygon")
    page.get_by_role("button", name="Save changes to 0001").click()
    wait_idle(page)
    expect(success).to_contain_text("(background, square, triangle)", timeout=WAIT)
    wait_idle(page)
    _, polygon = _saved(DATASET, "0001")
    # The polygon has no outline: it covers the image pixels whose centres lie inside its corners,
    # 4.8 to 33.6 across (columns 5 to 33) and 4.8 to 28.8 down (rows 5 to 28), and nothing more.
    assert np.array_equal(polygon == 3, _box_cells(polygon.shape, 4.8, 4.8, 33.6, 28.8)), \
        np.nonzero(polygon == 3)
    assert (polygon[mask == 2] == 2).all() and set(np.unique(polygon).tolist()) == {0, 2, 3}

    # The saved mask appears in the list.
    expect(page.get_by_test_id("stImageCaption").filter(has_text="0001")).to_have_count(1, timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
    assert outside == [], f"requests to other hosts: {outside}"
    screenshot(page, "mask_studio_saved")


def test_a_big_upload_is_drawn_reduced_and_saved_at_its_stored_size(page, app_server, tmp_path):
    """A 1600 × 1200 photo is stored at 1024 × 768 and drawn on a 480 × 360 canvas: the stroke
    lands at the same place, scaled, in the saved mask."""
    _open_studio(page, app_server)
    _new_dataset(page, "e2e_uploads", "background\nroad")
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("background, road", timeout=WAIT)
    page.get_by_role("radio", name="Upload", exact=True).click()
    wait_idle(page)
    photo = np.zeros((1200, 1600, 3), np.uint8)
    photo[:, :, 1] = np.linspace(0, 255, 1600, dtype=np.uint8)[None]
    Image.fromarray(photo).save(tmp_path / "big.png")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "big.png"))
    expect(page.get_by_text("This picture is 1600 × 1200 px; it is stored at 1024 × 768 px")).to_be_visible(
        timeout=WAIT)
    expect(page.get_by_text("You draw on a reduced 480 × 360 view")).to_be_visible(timeout=WAIT)
    canvas = page.locator("canvas.upper-canvas")
    box = canvas.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (480, 360)
    _drag(page, canvas, [(0.1, 0.25), (0.9, 0.25)], "1 stroke or shape on the canvas.")
    wait_idle(page)
    page.get_by_role("button", name="Save to e2e_uploads").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("(background, road)", timeout=WAIT)
    image, mask = _saved("e2e_uploads", "0001")
    assert image.shape == (768, 1024, 3) and mask.shape == (768, 1024)
    # The stroke: canvas y = 90 ± 9 of 360 is stored row 192 ± 19; x from 48 to 432 of 480 is
    # stored columns 102 to 922, ± 19 for the round ends.
    rows, cols = np.nonzero(mask == 1)
    assert 168 <= rows.min() and rows.max() <= 216 and 80 <= cols.min() and cols.max() <= 945
    assert (mask[185:200, 120:900] == 1).all()
    assert (mask[:165] == 0).all() and (mask[220:] == 0).all()
    screenshot(page, "mask_studio_big_upload")


def _tool(page, name: str) -> None:
    """Pick a tool (clicking the tool already picked keeps it: a tool is always chosen)."""
    page.get_by_role("radio", name=name, exact=True).click()
    expect(page.get_by_role("radio", name=name, exact=True)).to_be_checked(timeout=WAIT)
    _settle(page)


def test_the_canvas_stays_put_and_a_rectangle_covers_what_was_dragged(page, app_server):
    """The hint above the canvas wrapped for the eraser and the polygon and pushed the canvas
    22 px down (a polygon then landed above where it was aimed); a rectangle saved one outline
    width wider and taller than the box dragged."""
    _open_studio(page, app_server)
    _new_dataset(page, "e2e_rects", "shapes")
    page.get_by_text("An empty mask (all background)").click()
    expect(page.get_by_text("No IoU: you started from an empty mask.")).to_be_visible(timeout=WAIT)
    _choose(page, "Class", "4 · star")
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1, timeout=WAIT)
    tops = {}
    for name in ("Brush", "Eraser", "Polygon", "Rectangle", "Brush"):
        _tool(page, name)
        tops[name] = canvas.bounding_box()["y"]
        screenshot(page, f"mask_studio_tool_{name.lower()}")
    assert len(set(tops.values())) == 1, tops
    # A narrower window: the hint may wrap inside its box, the canvas still does not move.
    page.set_viewport_size({"width": 1000, "height": 1600})
    _settle(page)
    narrow = {}
    for name in ("Eraser", "Polygon", "Brush"):
        _tool(page, name)
        narrow[name] = canvas.bounding_box()["y"]
    assert len(set(narrow.values())) == 1, narrow
    page.set_viewport_size({"width": 1400, "height": 1600})

    # A rectangle dragged from (264, 264) to (408, 384) on the 480 px canvas of a 96 px picture
    # (5 canvas px per picture px) covers picture px 52.8 to 81.6 across and 52.8 to 76.8 down.
    _tool(page, "Rectangle")
    _rectangle(page, canvas, 264, 264, 408, 384, "1 stroke or shape on the canvas.")
    wait_idle(page)
    screenshot(page, "mask_studio_rectangle")
    page.get_by_role("button", name="Save to e2e_rects").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("(background, star)", timeout=WAIT)
    _, mask = _saved("e2e_rects", "0001")
    assert np.array_equal(mask == 4, _box_cells(mask.shape, 52.8, 52.8, 81.6, 76.8)), np.nonzero(mask == 4)


def test_a_reload_keeps_the_picture_the_choices_and_the_unsaved_strokes(page, app_server):
    _open_studio(page, app_server)
    _new_dataset(page, "e2e_reload", "shapes")
    _choose(page, "Split", "validation")
    number = page.get_by_label("Picture number", exact=True)
    number.fill("7")
    number.press("Enter")
    expect(page.get_by_role("heading", name="Draw on shapes, validation picture 7")).to_be_visible(timeout=WAIT)
    page.get_by_text("An empty mask (all background)").click()
    expect(page.get_by_text("No IoU: you started from an empty mask.")).to_be_visible(timeout=WAIT)
    _choose(page, "Class", "3 · triangle")
    canvas = page.locator("canvas.upper-canvas")
    _drag(page, canvas, [(0.2, 0.3), (0.8, 0.3)], "1 stroke or shape on the canvas.")
    expect(page.get_by_text("Unsaved strokes are kept as a draft")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    expect(page).to_have_url(re.compile("mask_studio_src_index=7"))  # waits: the URL follows the rerun
    before = canvas.screenshot()

    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Draw on shapes, validation picture 7")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("combobox", name="Save masks into", exact=True)).to_have_value("e2e_reload")
    expect(page.get_by_role("combobox", name="Class", exact=True)).to_have_value("3 · triangle")
    expect(page.get_by_role("radio", name="An empty mask (all background)")).to_be_checked()
    expect(page.get_by_text("1 stroke or shape on the canvas.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile("Your unsaved strokes from .* are back"))).to_be_visible(timeout=WAIT)
    canvas = page.locator("canvas.upper-canvas")
    _settle(page)
    # The same strokes, drawn again on the canvas (the browser antialiases a redrawn path a
    # shade differently: a few border pixels differ by a few levels; a missing stroke by ~100).
    difference = np.abs(_pixels(canvas.screenshot()) - _pixels(before)).max(axis=-1)
    assert difference.max() <= 30, np.argwhere(difference > 30)[:10]
    screenshot(page, "mask_studio_after_reload")

    # The strokes are live again: a second one adds to them, Undo takes it back off.
    _drag(page, canvas, [(0.5, 0.6), (0.5, 0.9)], "2 strokes or shapes on the canvas.")
    wait_idle(page)
    page.get_by_role("button", name="Undo", exact=True).first.click()
    expect(page.get_by_text("1 stroke or shape on the canvas.")).to_be_visible(timeout=WAIT)
    wait_idle(page)
    page.get_by_role("button", name="Save to e2e_reload").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("(background, triangle)", timeout=WAIT)
    image, mask = _saved("e2e_reload", "0001")
    # The first stroke: canvas y = 144 ± 9 is picture row 28.8 ± 1.8, x from 96 to 384.
    rows, cols = np.nonzero(mask == 3)
    assert 26 <= rows.min() and rows.max() <= 31 and 16 <= cols.min() and cols.max() <= 80, (rows, cols)
    assert (mask[28:30, 22:75] == 3).all() and (mask[40:] == 0).all()
    drafts = Path(os.environ["CONVNET_LAB_DATA_E2E"]) / "user_masks" / "e2e_reload" / "drafts"
    assert not list(drafts.glob("*.npz"))  # saved: the draft is gone
    expect(page.get_by_text("Unsaved strokes are kept as a draft")).to_have_count(0, timeout=WAIT)


def _rectangle(page, canvas, x0, y0, x1, y1, count: str) -> None:
    """Drag a rectangle between two points in canvas pixels, then ``count`` strokes on the canvas."""
    _draw(page, canvas, lambda box: [(box["x"] + x0 + t * (x1 - x0), box["y"] + y0 + t * (y1 - y0))
                                     for t in np.linspace(0, 1, 10)], count)


def test_paint_two_touching_objects_of_one_class_with_new_object_and_save(page, app_server):
    """Two squares side by side, the second after "New object": the class mask has one square
    region, the instance map beside it two objects, split where the second rectangle began."""
    _open_studio(page, app_server)
    _new_dataset(page, "e2e_objects", "shapes")
    page.get_by_text("An empty mask (all background)").click()
    expect(page.get_by_text("No IoU: you started from an empty mask.")).to_be_visible(timeout=WAIT)
    _choose(page, "Class", "2 · square")
    _tool(page, "Rectangle")
    canvas = page.locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1, timeout=WAIT)
    # 96 px picture on a 480 px canvas: 5 canvas px a picture px. First square: canvas x 100-240,
    # y 150-300 (picture 20-48 across, 30-60 down).
    _rectangle(page, canvas, 100, 150, 240, 300, "1 stroke or shape on the canvas.")
    wait_idle(page)
    page.get_by_role("button", name="New object", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("combobox", name="Object", exact=True)).to_have_value("square 2", timeout=WAIT)
    expect(page.get_by_text("Rectangle: drag a box to fill it with square object 2.")).to_be_visible(timeout=WAIT)
    # The second, touching it: canvas x 240-380 (picture 48-76 across).
    _rectangle(page, canvas, 240, 150, 380, 300, "2 strokes or shapes on the canvas.")
    wait_idle(page)
    expect(page.get_by_text("2 objects are saved in the instance map beside the mask.")).to_be_visible(timeout=WAIT)
    page.get_by_role("radio", name="Objects", exact=True).click()
    wait_idle(page)
    screenshot(page, "mask_studio_two_objects")
    page.get_by_role("button", name="Save to e2e_objects").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Its instance map holds 2 objects.",
                                                                         timeout=WAIT)
    _, mask = _saved("e2e_objects", "0001")
    folder = Path(os.environ["CONVNET_LAB_DATA_E2E"]) / "user_masks" / "e2e_objects"
    with Image.open(folder / "instances" / "0001.png") as png:
        instances = np.asarray(png)
    first = _box_cells(mask.shape, 20, 30, 48, 60)
    second = _box_cells(mask.shape, 48, 30, 76, 60)
    assert np.array_equal(mask == 2, first | second) and set(np.unique(mask).tolist()) == {0, 2}
    assert np.array_equal(instances == 1, first) and np.array_equal(instances == 2, second)
    # The dataset downloads as COCO: one annotation per object, category = the class (square, 2).
    page.get_by_text("Import a COCO set").click()
    wait_idle(page)
    expect(page.get_by_role("button", name="Download COCO zip")).to_be_visible(timeout=WAIT)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download COCO zip").click()
    import json
    import zipfile

    with zipfile.ZipFile(download.value.path()) as archive:
        coco = json.loads(archive.read("e2e_objects/annotations/instances_e2e_objects.json"))
    assert sorted(a["area"] for a in coco["annotations"]) == [int(first.sum()), int(second.sum())]
    assert {a["category_id"] for a in coco["annotations"]} == {2}
    screenshot(page, "mask_studio_coco_panel")
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
