"""AppTest for painting objects (instances) in the Mask studio: "New object", one colour per
object, the instance map saved beside the class mask, old masks still opening.

The canvas cannot be driven here; strokes come in as a draft (as the canvas writes it) and the
browser test paints for real (tests/e2e/test_mask_studio_browser.py).
"""

from __future__ import annotations

import numpy as np

from cv_core.datasets import open_dataset
from cv_core.datasets.user_masks.files import INSTANCES_DIR
from cv_core.mask_drawing import canvas_size
from tests.app.test_mask_studio import (  # noqa: F401 - fixtures
    BROWSER,
    SHAPES,
    data_root,
    messages,
    reopen,
    same_browser,
    store,
)

K = len(SHAPES)  # background, circle, square, triangle, star, cross
SQUARE = SHAPES.index("square")
EMPTY = {"mask_studio_dataset": "objs", "mask_studio_src_split": "validation", "mask_studio_src_index": "7",
         "mask_studio_start": "An empty mask (all background)", "mask_studio_class": str(SQUARE),
         "mask_studio_side": "480"}


def _partition(instances):
    return sorted(tuple(np.flatnonzero(instances == i)) for i in np.unique(instances) if i)


def test_new_object_starts_the_next_object_of_the_class(data_root, store):
    store.create("objs", SHAPES)
    at = reopen(EMPTY)
    assert at.selectbox(key=f"mask_studio_object_{SQUARE}").value == SQUARE  # the class's first object
    at.button(key="mask_studio_new_object").click().run()
    assert not at.exception
    drawing = at.session_state["mask_studio_drawing"]
    assert drawing["extra_classes"] == [SQUARE]
    assert at.selectbox(key=f"mask_studio_object_{SQUARE}").value == K  # the first extra object
    assert at.selectbox(key=f"mask_studio_object_{SQUARE}").options == ["square 1", "square 2"]
    hint = " ".join(c.value for c in at.caption)
    assert "square object 2" in hint


def test_two_touching_objects_of_one_class_are_saved_as_two_instances(data_root, store):
    store.create("objs", SHAPES)
    at = reopen(EMPTY)
    height, width = canvas_size(96, 96, side=480)
    labels = np.full((height, width), -1, np.int16)
    labels[100:200, 50:150] = SQUARE         # the first square, in the class colour
    labels[100:200, 150:250] = K             # a second square touching it ("New object")
    drawing = at.session_state["mask_studio_drawing"]
    store.save_draft("objs", drawing["draft"], labels, {
        "canvas": drawing["canvas"], "objects": [{"type": "rect"}, {"type": "rect"}], "browser": BROWSER,
        "extra_classes": [SQUARE]})
    at = reopen(EMPTY)
    assert at.session_state["mask_studio_drawing"]["extra_classes"] == [SQUARE]
    assert "2 objects are saved in the instance map beside the mask." in " ".join(c.value for c in at.caption)
    at.button(key="mask_studio_save").click().run()
    assert "Its instance map holds 2 objects." in messages(at, "success")[0]
    image, mask = store.load_item("objs", "0001")
    instances = store.load_instances("objs", "0001")
    scale = 96 / width
    # The two squares in stored pixels (96 px picture, canvas 480 px: 5 canvas px a pixel).
    y0, y1 = round(100 * scale), round(200 * scale)
    assert (mask[y0:y1, 10:50] == SQUARE).all() and (mask == SQUARE).sum() == (y1 - y0) * 40
    assert (instances[y0:y1, 10:30] == 1).all() and (instances[y0:y1, 30:50] == 2).all()
    assert set(np.unique(instances).tolist()) == {0, 1, 2}
    ds = open_dataset("user:objs", store.root)
    assert ds.has_instances and len(ds.sample("train", 0).boxes) == 2


def test_the_true_instances_start_the_drawing_and_are_saved(data_root, store):
    store.create("objs", SHAPES)
    at = reopen({**EMPTY, "mask_studio_start": "The dataset's true mask"})
    at.button(key="mask_studio_save").click().run()
    truth = open_dataset("shapes", image_size=96).sample("validation", 7)
    instances = store.load_instances("objs", "0001")
    assert _partition(instances) == _partition(truth.instances)
    # Two objects of one class in the truth: one is the class's first object, one an extra.
    again = reopen({**EMPTY, "mask_studio_source": "Saved mask", "mask_studio_item": "0001",
                    "mask_studio_start": "The saved mask"})
    assert len(again.session_state["mask_studio_drawing"]["extra_classes"]) == 1
    again.button(key="mask_studio_save").click().run()  # saved again unchanged
    assert _partition(store.load_instances("objs", "0001")) == _partition(truth.instances)


def test_a_mask_saved_before_objects_opens_edits_and_saves_without_an_instance_map(data_root, store):
    store.create("objs", SHAPES)
    mask = np.zeros((40, 40), np.uint8)
    mask[5:20, 5:20] = SQUARE
    store.save_mask("objs", np.full((40, 40, 3), 90, np.uint8), mask, item_id="old")
    at = reopen({"mask_studio_dataset": "objs", "mask_studio_source": "Saved mask", "mask_studio_item": "old",
                 "mask_studio_start": "The saved mask"})
    assert "No separate objects yet" in " ".join(c.value for c in at.caption)
    at.button(key="mask_studio_save").click().run()
    assert "Saved the changes to item **old**" in messages(at, "success")[0]
    assert store.load_instances("objs", "old") is None
    assert not (store.root / "objs" / INSTANCES_DIR / "old.png").exists()
    assert np.array_equal(store.load_item("objs", "old")[1], mask)


def test_a_broken_instance_map_opens_as_a_class_mask_with_a_message(data_root, store):
    store.create("objs", SHAPES)
    mask = np.zeros((40, 40), np.uint8)
    mask[5:20, 5:20] = SQUARE
    store.save_mask("objs", np.full((40, 40, 3), 90, np.uint8), mask, item_id="bad")
    folder = store.root / "objs" / INSTANCES_DIR
    folder.mkdir()
    from PIL import Image

    ids = np.zeros((30, 30), np.uint8)  # another size than its picture
    Image.fromarray(ids).save(folder / "bad.png")
    at = reopen({"mask_studio_dataset": "objs", "mask_studio_source": "Saved mask", "mask_studio_item": "bad",
                 "mask_studio_start": "The saved mask"})
    warnings = messages(at, "warning")
    assert any("cannot be used, so it opens as a class mask only" in w and "30 × 30" in w for w in warnings)


# -- COCO in and out ----------------------------------------------------------------------------
def _coco_zip(overlapping: bool = False) -> bytes:
    import io
    import json
    import zipfile

    from cv_core.instances.coco import mask_to_rle
    from tests.app.test_mask_studio import png

    first = np.zeros((20, 30), bool)
    first[2:10, 2:10] = True
    second = np.zeros((20, 30), bool)
    second[2:10, (8 if overlapping else 10):18] = True
    coco = {"images": [{"id": 1, "file_name": "cats.png", "width": 30, "height": 20}],
            "categories": [{"id": 1, "name": "cat"}],
            "annotations": [{"id": n, "image_id": 1, "category_id": 1, "segmentation": mask_to_rle(m),
                             "area": int(m.sum()), "bbox": [0, 0, 1, 1], "iscrowd": 0}
                            for n, m in ((1, first), (2, second))]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("set/annotations/instances.json", json.dumps(coco))
        archive.writestr("set/images/cats.png", png(np.full((20, 30, 3), 120, np.uint8)))
    return buffer.getvalue()


def test_import_a_coco_zip_then_download_it(data_root, store):
    at = reopen({})
    at.toggle(key="mask_studio_coco_open").set_value(True).run()
    at.file_uploader(key="mask_studio_coco_files").set_value([("set.zip", _coco_zip(), "application/zip")]).run()
    at.text_input(key="mask_studio_coco_target").input("cats").run()
    at.button(key="mask_studio_coco_import").click().run()
    assert not at.exception
    assert "Imported 1 picture with 2 objects into the new dataset **cats**." in messages(at, "success")[0]
    instances = store.load_instances("cats", "cats")
    assert set(np.unique(instances).tolist()) == {0, 1, 2}  # two touching cats, two objects
    assert at.selectbox(key="mask_studio_dataset").value == "cats"
    download = at.get("download_button")
    assert download and any("Download COCO zip" in str(d.proto) for d in download)


def test_overlapping_coco_objects_are_refused_then_resolved(data_root, store):
    at = reopen({})
    at.toggle(key="mask_studio_coco_open").set_value(True).run()
    at.file_uploader(key="mask_studio_coco_files").set_value(
        [("set.zip", _coco_zip(overlapping=True), "application/zip")]).run()
    at.text_input(key="mask_studio_coco_target").input("cats").run()
    at.button(key="mask_studio_coco_import").click().run()
    error = messages(at, "error")[0]
    assert error.startswith("Nothing was imported.") and "overlaps annotation(s) [1] on 16 pixels" in error
    assert "cats" not in store.list_datasets()
    at.radio(key="mask_studio_coco_overlap").set_value("later_in_front").run()
    at.button(key="mask_studio_coco_import").click().run()
    assert "Imported 1 picture with 2 objects" in messages(at, "success")[0]
    assert any("gave their shared pixels to later annotations" in c.value for c in at.caption)


def test_pictures_and_a_json_without_the_pictures_named_are_refused(data_root, store):
    import json

    from tests.app.test_mask_studio import png

    coco = {"images": [{"id": 1, "file_name": "missing.png", "width": 30, "height": 20}],
            "categories": [{"id": 1, "name": "cat"}], "annotations": []}
    at = reopen({})
    at.toggle(key="mask_studio_coco_open").set_value(True).run()
    at.file_uploader(key="mask_studio_coco_files").set_value([
        ("coco.json", json.dumps(coco).encode(), "application/json"),
        ("other.png", png(np.zeros((20, 30, 3), np.uint8)), "image/png")]).run()
    at.text_input(key="mask_studio_coco_target").input("cats").run()
    at.button(key="mask_studio_coco_import").click().run()
    assert "'missing.png' is not among the pictures given" in messages(at, "error")[0]
    assert store.list_datasets() == []


def test_an_instance_map_whose_ids_skip_numbers_is_read_renumbered_and_saved_without_gaps(data_root, store):
    from PIL import Image

    store.create("objs", SHAPES)
    mask = np.zeros((40, 40), np.uint8)
    ids = np.zeros((40, 40), np.uint8)
    mask[5:20, 5:15], ids[5:20, 5:15] = SQUARE, 3
    mask[5:20, 15:25], ids[5:20, 15:25] = SQUARE, 7     # touching the first, same class
    store.save_mask("objs", np.full((40, 40, 3), 90, np.uint8), mask, item_id="tool")
    folder = store.root / "objs" / INSTANCES_DIR
    folder.mkdir()
    Image.fromarray(ids).save(folder / "tool.png")  # written by another tool: no record of its mask
    at = reopen({"mask_studio_dataset": "objs", "mask_studio_source": "Saved mask", "mask_studio_item": "tool",
                 "mask_studio_start": "The saved mask"})
    text = " ".join(c.value for c in at.caption)
    assert "numbers its objects 3, 7; they are read as 1, 2" in text
    at.button(key="mask_studio_save").click().run()
    saved = store.load_instances("objs", "tool")
    assert set(np.unique(saved).tolist()) == {0, 1, 2}
    assert (saved[5:20, 5:15] == 1).all() and (saved[5:20, 15:25] == 2).all()
