"""AppTest for the Mask studio: create a dataset, save, refusals that write nothing, reopen,
edit and delete with confirmation, starting masks, huge and odd inputs.

The canvas is a custom component that AppTest cannot drive (it returns no drawing here), so
these tests save the starting mask; drawing is tested in tests/e2e/test_mask_studio_browser.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cv_core.datasets import SHAPE_CLASSES, UserMaskStore, open_dataset
from cv_core.mask_drawing import apply_strokes, canvas_size, remap_mask

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/mask_studio.py"
SHAPES = ["background", *SHAPE_CLASSES]


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CONVNET_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path / "runs"))
    return tmp_path / "data"


@pytest.fixture
def store(data_root) -> UserMaskStore:
    return UserMaskStore(data_root / "user_masks")


def open_studio() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def create(at: AppTest, name: str, classes: str | None = None) -> AppTest:
    if classes is None:
        at.button(key="mask_studio_preset_shapes").click().run()
    else:
        at.text_area(key="mask_studio_new_classes").input(classes).run()
    at.text_input(key="mask_studio_new_name").input(name).run()
    at.button(key="mask_studio_create").click().run()
    assert not at.exception, at.exception
    return at


def messages(at: AppTest, kind: str) -> list[str]:
    return [m.value for m in getattr(at, kind)]


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_studio_is_in_the_navigation_and_on_home(data_root):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any(link.label == "Mask studio" for link in at.get("page_link"))
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Mask studio"
    assert "Choose a dataset to save into, or create one" in messages(at, "info")[0]


def test_create_a_dataset_and_save_a_sample_with_its_true_mask(data_root, store):
    at = create(open_studio(), "my_shapes")
    assert "Created the dataset **my_shapes**" in messages(at, "success")[0]
    assert store.dataset_info("my_shapes")["class_names"] == SHAPES
    assert at.radio(key="mask_studio_start").value == "true"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Mean IoU with the dataset's true mask": "1.000", "Pixels changed": "0.0%"}
    assert "The picture is 96 × 96 px and is stored at that size" in captions(at)

    at.button(key="mask_studio_save").click().run()
    assert "Saved as a new item **0001** in **my_shapes**" in messages(at, "success")[0]
    image, mask = store.load_item("my_shapes", "0001")
    sample = open_dataset("shapes", image_size=96).sample("train", 0)
    assert np.array_equal(image, sample.image)  # bit-exact
    assert np.array_equal(mask, remap_mask(sample.mask, SHAPES, SHAPES))
    assert [b.label for b in at.button if b.key in ("mask_studio_save", "mask_studio_save_new")] == [
        "Save changes to 0001", "Save as a new item"]
    # The dataset opens for training with its classes.
    dataset = open_dataset("user:my_shapes", store.root)
    assert dataset.mask_class_names == SHAPES and dataset.count("train") == 1
    assert [img.proto.imgs[0].caption for img in at.get("image") if img.proto.imgs[0].caption == "0001"]


@pytest.mark.parametrize("name, expected", [
    ("", "Please give a dataset name"),
    ("   ", "Please give a dataset name"),
    ("größe", "is not a plain name"),
    ("名前", "is not a plain name"),
    ("../outside", "is not a plain name"),
    ("my masks", "is not a plain name"),
    (".hidden", "is not a plain name"),
    ("x" * 65, "is too long: at most 64 characters"),
    ("y" * 5000, "is too long: at most 64 characters"),
])
def test_bad_dataset_names_are_refused_and_nothing_is_written(data_root, name, expected):
    at = create(open_studio(), name)
    errors = messages(at, "error")
    assert errors and "The dataset was not created." in errors[0] and expected in errors[0]
    assert len(errors[0]) < 400  # a long name is not echoed back in full
    assert files_under(data_root) == []
    assert at.selectbox(key="mask_studio_dataset").value == "__new__"


@pytest.mark.parametrize("classes, expected", [
    ("background", "Give at least two classes"),
    ("", "Give at least two classes"),
    ("background\ncat\nCat", "repeats class 2"),
    ("background\n" + "z" * 300, "too long"),
    ("\n".join(f"c{i}" for i in range(300)), "at most 256"),
])
def test_bad_class_names_are_refused(data_root, classes, expected):
    at = create(open_studio(), "fine_name", classes)
    assert expected in messages(at, "error")[0]
    assert files_under(data_root) == []


def test_existing_dataset_name_is_refused(data_root, store):
    store.create("taken", ["background", "thing"])
    before = files_under(data_root)
    at = open_studio()
    at.selectbox(key="mask_studio_dataset").select("__new__").run()
    at = create(at, "taken")
    assert "already exists" in messages(at, "error")[0]
    assert files_under(data_root) == before


def test_unicode_and_many_classes_render(data_root, store):
    at = create(open_studio(), "unicode", "fond\nchat été 🐱\n狗")
    assert not at.exception
    assert store.dataset_info("unicode")["class_names"] == ["fond", "chat été 🐱", "狗"]
    store.create("many", [f"class_{i}" for i in range(256)])
    at.run()
    at.selectbox(key="mask_studio_dataset").select("many").run()
    assert not at.exception
    assert len(at.selectbox(key="mask_studio_class").options) == 256


def test_true_mask_with_classes_the_dataset_lacks_is_not_offered(data_root):
    at = create(open_studio(), "circles", "background\ncircle")
    start = at.radio(key="mask_studio_start")
    assert "true" not in start.options and start.value == "empty"
    text = captions(at)
    assert "The dataset's true mask cannot start a mask of circles" in text and "'square'" in text
    assert "No IoU: you started from an empty mask." in text


def test_item_names_are_checked_and_duplicates_refused(data_root, store):
    at = create(open_studio(), "items")
    at.text_input(key="mask_studio_item_name").input("bad name!").run()
    at.button(key="mask_studio_save").click().run()
    assert "Nothing was saved." in messages(at, "error")[0] and "is not a plain name" in messages(at, "error")[0]
    assert store.list_items("items") == []

    at.text_input(key="mask_studio_item_name").input("cat-01").run()
    at.button(key="mask_studio_save").click().run()
    assert store.list_items("items") == ["cat-01"]
    at.number_input(key="mask_studio_src_index").set_value(1).run()
    at.text_input(key="mask_studio_item_name").input("cat-01").run()
    before = store.load_item("items", "cat-01")[0]
    at.button(key="mask_studio_save").click().run()
    assert "already has an item called 'cat-01'" in messages(at, "error")[0]
    assert np.array_equal(store.load_item("items", "cat-01")[0], before)


def test_list_reopen_edit_and_delete_with_confirmation(data_root, store):
    at = create(open_studio(), "edits")
    at.button(key="mask_studio_save").click().run()
    at.number_input(key="mask_studio_src_index").set_value(3).run()
    at.button(key="mask_studio_save").click().run()
    assert store.list_items("edits") == ["0001", "0002"]
    thumbs = [img.proto.imgs[0].caption for img in at.get("image") if img.proto.imgs[0].caption in ("0001", "0002")]
    assert thumbs == ["0001", "0002"]

    # Reopen 0001: it starts from the saved mask, and saving writes over it.
    at.button(key="mask_studio_edit_0001").click().run()
    assert not at.exception
    assert at.button_group(key="mask_studio_source").value == "saved"
    assert at.selectbox(key="mask_studio_item").value == "0001"
    assert at.radio(key="mask_studio_start").value == "saved"
    assert {m.label for m in at.metric} >= {"Mean IoU with the saved mask"}
    at.button(key="mask_studio_save").click().run()
    assert "Saved the changes to item **0001**" in messages(at, "success")[0]
    assert store.list_items("edits") == ["0001", "0002"]

    # Delete asks first; Cancel keeps the item.
    at.button(key="mask_studio_delete_0002").click().run()
    assert any("Delete item **0002** of **edits**" in w for w in messages(at, "warning"))
    assert store.list_items("edits") == ["0001", "0002"]
    at.button(key="mask_studio_confirm_no").click().run()
    assert not messages(at, "warning") and store.list_items("edits") == ["0001", "0002"]
    at.button(key="mask_studio_delete_0002").click().run()
    at.button(key="mask_studio_confirm_yes").click().run()
    assert "Deleted item **0002** of **edits**." in messages(at, "success")[0]
    assert store.list_items("edits") == ["0001"]

    # Deleting the item being edited leaves the editor without it.
    at.button(key="mask_studio_delete_0001").click().run()
    at.button(key="mask_studio_confirm_yes").click().run()
    assert not at.exception and store.list_items("edits") == []
    assert any("has no saved masks yet" in i for i in messages(at, "info"))


def test_delete_the_whole_dataset_needs_its_name(data_root, store):
    at = create(open_studio(), "doomed")
    at.button(key="mask_studio_save").click().run()
    at.text_input(key="mask_studio_confirm_dataset").input("wrong").run()
    at.button(key="mask_studio_delete_dataset").click().run()
    assert "type the dataset's name, doomed, to confirm" in messages(at, "error")[0]
    assert store.list_datasets() == ["doomed"]
    at.text_input(key="mask_studio_confirm_dataset").input("doomed").run()
    at.button(key="mask_studio_delete_dataset").click().run()
    assert not at.exception
    assert store.list_datasets() == []
    assert "Deleted the dataset **doomed**" in messages(at, "success")[0]
    assert at.selectbox(key="mask_studio_dataset").value == "__new__"


def test_mask_file_start_refusals_then_a_good_file(data_root, store):
    at = create(open_studio(), "files", "background\nthing\nother")
    at.radio(key="mask_studio_start").set_value("file").run()

    def upload(name, data):
        at.file_uploader(key="mask_studio_mask_file").set_value((name, data, "image/png")).run()

    upload("small.png", png(np.zeros((50, 96), np.uint8)))
    error = messages(at, "error")[0]
    assert "small.png" in error and "The mask is 96 × 50 pixels but the picture is 96 × 96" in error

    upload("big_values.png", png(np.full((96, 96), 7, np.uint8)))
    assert "has the value 7, outside the 3 classes (values 0 to 2)" in messages(at, "error")[0]

    upload("rgb.png", png(np.zeros((96, 96, 3), np.uint8)))
    assert "rgb.png" in messages(at, "error")[0]
    assert not [b for b in at.button if b.key == "mask_studio_save"]  # nothing to save from a refused mask

    good = np.zeros((96, 96), np.uint8)
    good[10:40, 20:70] = 2
    good[60:, :30] = 1
    upload("good.png", png(good))
    assert not messages(at, "error")
    assert {m.label: m.value for m in at.metric}["Mean IoU with your mask file good.png"] == "1.000"
    at.button(key="mask_studio_save").click().run()
    assert np.array_equal(store.load_item("files", "0001")[1], good)


def test_huge_thin_and_broken_uploads(data_root, store):
    at = create(open_studio(), "uploads", "background\nthing")
    at.button_group(key="mask_studio_source").set_value("upload").run()

    def upload(name, data, kind="image/png"):
        at.file_uploader(key="mask_studio_upload").set_value((name, data, kind)).run()

    picture = np.zeros((2000, 3000, 3), np.uint8)
    picture[:, 1500:] = (200, 30, 30)
    upload("huge.png", png(picture))
    assert not at.exception
    text = captions(at)
    assert "This picture is 3000 × 2000 px; it is stored at 1024 × 683 px" in text
    assert "You draw on a reduced 480 × 320 view. The mask is saved at 1024 × 683 px" in text
    at.button(key="mask_studio_save").click().run()
    image, mask = store.load_item("uploads", "0001")
    assert image.shape == (683, 1024, 3) and mask.shape == (683, 1024) and mask.max() == 0

    upload("thin.png", png(np.zeros((8, 2000, 3), np.uint8)))
    assert "too long and thin to draw a mask on" in messages(at, "error")[0]

    upload("holiday.jpg", b"\xff\xd8\xff\xe0 not a jpeg" * 20, "image/jpeg")
    assert "**holiday.jpg** could not be used" in messages(at, "error")[0]
    assert not at.exception
    assert store.list_items("uploads") == ["0001"]


def test_an_item_changed_outside_the_lab_gets_a_clear_message(data_root, store):
    store.create("tampered", ["background", "thing"])
    image = np.zeros((16, 16, 3), np.uint8)
    store.save_mask("tampered", image, np.zeros((16, 16), np.uint8))
    Image.fromarray(np.full((16, 16, 3), 255, np.uint8)).save(store.root / "tampered" / "images" / "0001.png")
    at = open_studio()
    assert not at.exception
    assert any("0001: unreadable" in w for w in messages(at, "warning"))
    at.button(key="mask_studio_edit_0001").click().run()
    assert not at.exception
    assert "do not belong together" in messages(at, "error")[0]


def test_mask_studio_does_not_import_tensorflow(data_root):
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({APP!r}, default_timeout=60).run(); "
        f"at.switch_page({PAGE!r}).run(); "
        "assert not at.exception; print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


# -- nothing is lost on a reload: choices in the URL, unsaved strokes in a draft --------------
BROWSER = "browser-a"
_browser = {"id": BROWSER}


@pytest.fixture(autouse=True)
def same_browser(monkeypatch):
    """Each AppTest session gets its own cookie, so its own browser id; a reload in a real browser
    keeps the cookie. Sessions opened by :func:`reopen` are the browser it names."""
    import ui.mask_canvas

    monkeypatch.setattr(ui.mask_canvas, "browser_id", lambda: _browser["id"])


def reopen(query: dict[str, str], browser: str = BROWSER) -> AppTest:
    """A fresh session at the address ``query`` (a reload, or a link opened elsewhere)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    _browser["id"] = browser
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def labels_for(at: AppTest) -> np.ndarray:
    """Canvas labels (-1 = not painted) with a band of class 3 across the canvas's middle."""
    height, width = canvas_size(96, 96, side=at.select_slider(key="mask_studio_side").value)
    labels = np.full((height, width), -1, np.int16)
    labels[height // 3: height // 2, width // 5: 4 * width // 5] = 3
    return labels


def plant_draft(at: AppTest, store: UserMaskStore, name: str, labels: np.ndarray, **meta) -> str:
    """Keep a draft where the open session's canvas looks for it (as the canvas would write it)."""
    drawing = at.session_state["mask_studio_drawing"]
    store.save_draft(name, drawing["draft"], labels, {
        "canvas": drawing["canvas"], "objects": [{"type": "Path", "stroke": "#2f6fde"}], "browser": BROWSER, **meta})
    return drawing["draft"]


STATE = {"mask_studio_dataset": "my_shapes", "mask_studio_src_split": "validation", "mask_studio_src_index": "7",
         "mask_studio_start": "An empty mask (all background)", "mask_studio_class": "3",
         "mask_studio_tool": "Rectangle", "mask_studio_side": "640", "mask_studio_width": "30",
         "mask_studio_opacity": "0.8"}


def test_every_choice_comes_back_from_the_url(data_root, store):
    """The values are written as Streamlit writes a bound widget's value into the address (the
    option's label); the browser test reloads the page and checks the same."""
    store.create("other", ["background", "thing"])
    store.create("my_shapes", SHAPES)
    at = reopen(STATE)
    assert at.selectbox(key="mask_studio_dataset").value == "my_shapes"
    assert at.selectbox(key="mask_studio_src_split").value == "validation"
    assert at.number_input(key="mask_studio_src_index").value == 7
    assert at.radio(key="mask_studio_start").value == "empty"
    assert at.selectbox(key="mask_studio_class").value == 3
    assert at.button_group(key="mask_studio_tool").value == "rect"
    assert at.select_slider(key="mask_studio_side").value == 640
    assert at.slider(key="mask_studio_width").value == 30 and at.slider(key="mask_studio_opacity").value == 0.8
    assert "Draw on shapes, validation picture 7" in [h.value for h in at.subheader]


def test_unsaved_strokes_come_back_after_a_reload_and_saving_forgets_them(data_root, store):
    store.create("my_shapes", SHAPES)
    at = reopen(STATE)
    labels = labels_for(at)
    draft = plant_draft(at, store, "my_shapes", labels)

    at = reopen(STATE)  # the reload
    assert any("Your unsaved strokes from" in c and "are back" in c for c in captions(at).split(":material"))
    expected = apply_strokes(np.zeros((96, 96), np.uint8), labels)
    assert "No IoU: you started from an empty mask." in captions(at)
    at.button(key="mask_studio_save").click().run()
    assert "Saved as a new item **0001** in **my_shapes**" in messages(at, "success")[0]
    image, mask = store.load_item("my_shapes", "0001")
    assert np.array_equal(mask, expected) and (mask == 3).sum() > 0
    assert np.array_equal(image, open_dataset("shapes", image_size=96).sample("validation", 7).image)
    assert store.load_draft("my_shapes", draft) is None  # saved: nothing is unsaved any more
    assert "are back" not in captions(at)

    # Another browser on the same picture does not get this browser's strokes.
    plant_draft(at, store, "my_shapes", labels)
    assert "are back" not in captions(reopen(STATE, browser="browser-b"))


def test_a_draft_of_another_canvas_size_or_a_torn_draft_is_not_restored(data_root, store):
    store.create("my_shapes", SHAPES)
    at = reopen(STATE)
    plant_draft(at, store, "my_shapes", labels_for(at))
    other = reopen({**STATE, "mask_studio_side": "480"})
    assert "are back" not in captions(other) and not other.exception
    draft = plant_draft(at, store, "my_shapes", labels_for(at))
    path = store.root / "my_shapes" / "drafts" / f"{draft}.npz"
    path.write_bytes(b"PK\x03\x04 torn")
    again = reopen(STATE)
    assert not again.exception and "are back" not in captions(again)


def test_an_upload_and_its_strokes_come_back_without_uploading_again(data_root, store):
    store.create("uploads", ["background", "road", "car", "tree"])
    query = {"mask_studio_dataset": "uploads", "mask_studio_source": "Upload", "mask_studio_start":
             "An empty mask (all background)"}
    at = reopen(query)
    photo = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    at.file_uploader(key="mask_studio_upload").set_value(("street.png", png(photo), "image/png")).run()
    assert "Draw on your upload" in [h.value for h in at.subheader]
    labels = np.full(canvas_size(120, 160, side=at.select_slider(key="mask_studio_side").value), -1, np.int16)
    labels[10:60, 20:200] = 2
    drawing = at.session_state["mask_studio_drawing"]
    store.save_draft("uploads", drawing["draft"], labels, {
        "canvas": drawing["canvas"], "objects": [{"type": "Path"}], "browser": BROWSER,
        "subject": at.session_state["mask_studio_upload_kept"].key, "origin": "your upload"}, image=photo)

    again = reopen(query)  # the uploader is empty after a reload
    assert "Still drawing on the picture you uploaded before" in captions(again)
    assert "are back" in captions(again)
    again.button(key="mask_studio_save").click().run()
    image, mask = store.load_item("uploads", "0001")
    assert np.array_equal(image, photo)
    assert np.array_equal(mask, apply_strokes(np.zeros((120, 160), np.uint8), labels))
