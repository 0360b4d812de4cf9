"""User mask datasets: plain names, refusals that write nothing, bit-exact round trips,
saves that survive a crash, and ``open_dataset("user:<name>")``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import (
    CatsVsDogsDataset,
    Dataset,
    DatasetError,
    ImageFolderDataset,
    OxfordPetsDataset,
    ShapesDataset,
    UserMaskDataset,
    UserMaskStore,
    open_dataset,
)
from cv_core.datasets.user_masks import IMAGE_HASH_KEY, check_plain_name, mask_label, split_items

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["background", "cat", "dog"]


@pytest.fixture
def store(tmp_path) -> UserMaskStore:
    store = UserMaskStore(tmp_path / "user_masks")
    store.create("pets", CLASSES)
    return store


def picture(seed=0, size=(24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def drawn_mask(seed=0, size=(24, 32), classes=3) -> np.ndarray:
    return np.random.default_rng(seed + 100).integers(0, classes, size).astype(np.uint8)


def files_under(root: Path) -> dict[str, bytes]:
    """Every file (hidden ones included) under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- names and datasets -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pets", "my-masks_2", "A", "0", "x" * 64])
def test_plain_names_are_accepted(name):
    assert check_plain_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "..", ".", ".hidden", "a/b", "a\\b", "../up", "/abs", "x" * 65, "with space", "ünïcode",
     "-lead", "_lead", "a\x00b", "tab\t", "name.png", None, 3],
)
def test_names_that_are_not_plain_are_refused_and_nothing_is_written(tmp_path, name):
    store = UserMaskStore(tmp_path / "user_masks")
    with pytest.raises(DatasetError, match="name"):
        store.create(name, CLASSES)
    assert not (tmp_path / "user_masks").exists() or files_under(tmp_path / "user_masks") == {}


def test_create_writes_the_description(store):
    info = store.dataset_info("pets")
    assert info["class_names"] == CLASSES and info["background"] == 0 and info["items"] == 0
    assert info["created"] == info["updated"] and info["created"].endswith("+00:00")
    saved = json.loads((store.root / "pets" / "dataset.json").read_text())
    assert saved["class_names"] == CLASSES and saved["format"] == 1
    assert (store.root / "pets" / "images").is_dir() and (store.root / "pets" / "masks").is_dir()
    assert store.list_datasets() == ["pets"]


@pytest.mark.parametrize(
    "class_names, background, message",
    [
        (["only"], 0, "2 to 256"),
        ([f"c{i}" for i in range(257)], 0, "2 to 256"),
        (["a", "a"], 0, "distinct"),
        (["a", ""], 0, "non-empty"),
        (["a", "   "], 0, "non-empty"),
        (["a", 3], 0, "non-empty"),
        ("ab", 0, "list of class names"),
        (["a", "b"], 2, "background"),
        (["a", "b"], -1, "background"),
        (["a", "b"], True, "background"),
    ],
)
def test_bad_class_lists_are_refused(tmp_path, class_names, background, message):
    store = UserMaskStore(tmp_path / "user_masks")
    with pytest.raises(DatasetError, match=message):
        store.create("x", class_names, background=background)
    assert store.list_datasets() == []


def test_an_existing_dataset_is_not_overwritten(store):
    store.save_mask("pets", picture(), drawn_mask())
    before = files_under(store.root)
    with pytest.raises(DatasetError, match="already exists"):
        store.create("pets", ["a", "b"])
    assert files_under(store.root) == before


def test_default_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_DATA", str(tmp_path / "somewhere"))
    assert UserMaskStore().root == tmp_path / "somewhere" / "user_masks"
    monkeypatch.delenv("CONVNET_LAB_DATA")
    monkeypatch.chdir(tmp_path)
    assert UserMaskStore().root == tmp_path / "data" / "user_masks"


def test_delete_dataset(store):
    store.save_mask("pets", picture(), drawn_mask())
    store.create("other", ["bg", "thing"])
    store.delete_dataset("pets")
    assert store.list_datasets() == ["other"]
    assert sorted(p.name for p in store.root.iterdir()) == ["other"]
    with pytest.raises(DatasetError, match="no user dataset"):
        store.delete_dataset("pets")
    with pytest.raises(DatasetError, match="not a plain name"):
        store.delete_dataset("..")


# -- saving and loading -----------------------------------------------------------------------


def test_save_and_reload_bit_exactly(store):
    image, mask = picture(1), drawn_mask(1).astype(np.int64)
    item = store.save_mask("pets", image, mask)
    assert item == "0001"
    loaded_image, loaded_mask = store.load_item("pets", item)
    assert loaded_image.dtype == np.uint8 and loaded_mask.dtype == np.uint8
    np.testing.assert_array_equal(loaded_image, image)
    np.testing.assert_array_equal(loaded_mask, mask)
    # The files are the chapter's format: an RGB PNG and a single-channel PNG of class indices.
    with Image.open(store.root / "pets" / "masks" / "0001.png") as png:
        assert png.mode == "L" and np.array_equal(np.array(png), mask)
        assert IMAGE_HASH_KEY in png.info
    with Image.open(store.root / "pets" / "images" / "0001.png") as png:
        assert png.mode == "RGB"


def test_ids_count_up_and_can_be_chosen(store):
    assert store.save_mask("pets", picture(1), drawn_mask(1)) == "0001"
    assert store.save_mask("pets", picture(2), drawn_mask(2)) == "0002"
    assert store.save_mask("pets", picture(3), drawn_mask(3), item_id="cat-photo") == "cat-photo"
    assert store.list_items("pets") == ["0001", "0002", "cat-photo"]
    assert store.dataset_info("pets")["items"] == 3


def test_editing_a_mask_keeps_the_image_file(store):
    image = picture(1)
    item = store.save_mask("pets", image, drawn_mask(1))
    image_file = store.root / "pets" / "images" / f"{item}.png"
    inode = image_file.stat().st_ino
    corrected = drawn_mask(2)
    assert store.save_mask("pets", image, corrected, item_id=item) == item
    assert image_file.stat().st_ino == inode  # not rewritten
    np.testing.assert_array_equal(store.load_item("pets", item)[1], corrected)
    assert store.list_items("pets") == [item]


def test_replacing_image_and_mask_of_an_item(store):
    item = store.save_mask("pets", picture(1), drawn_mask(1))
    store.save_mask("pets", picture(2, (40, 20)), drawn_mask(2, (40, 20)), item_id=item)
    image, mask = store.load_item("pets", item)
    np.testing.assert_array_equal(image, picture(2, (40, 20)))
    np.testing.assert_array_equal(mask, drawn_mask(2, (40, 20)))
    # Nothing left over but the writers' lock file.
    assert set(files_under(store.root / "pets")) - {".lock"} == {"dataset.json", "images/0001.png", "masks/0001.png"}


def test_save_updates_the_description_time(store):
    created = store.dataset_info("pets")["created"]
    store.save_mask("pets", picture(), drawn_mask())
    assert store.dataset_info("pets")["updated"] >= created


BAD_PAIRS = [
    (picture(), drawn_mask(size=(24, 31)), "the same size"),
    (picture(), drawn_mask(size=(32, 24)), "the same size"),
    (picture(), np.full((24, 32), 3, np.uint8), "the value 3 .* 3 classes"),
    (picture(), np.full((24, 32), -1, np.int32), "the value -1"),
    (picture(), drawn_mask().astype(np.float32), "integer class indices"),
    (picture(), drawn_mask().astype(bool), "integer class indices"),
    (picture(), np.zeros((24, 32, 1), np.uint8), "2-D"),
    (picture(), [[0, 1], [1, 0]], "2-D"),
    (picture().astype(np.float32), drawn_mask(), "uint8 RGB"),
    (picture()[..., :1], drawn_mask(), "uint8 RGB"),
    (np.zeros((24, 32, 4), np.uint8), drawn_mask(), "uint8 RGB"),
    (picture(size=(4, 32)), drawn_mask(size=(4, 32)), "between 8 and 4096"),
]


@pytest.mark.parametrize("image, mask, message", BAD_PAIRS)
def test_bad_pairs_are_refused_and_nothing_is_written(store, image, mask, message):
    store.save_mask("pets", picture(9), drawn_mask(9))
    before = files_under(store.root)
    with pytest.raises(DatasetError, match=message):
        store.save_mask("pets", image, mask)
    with pytest.raises(DatasetError, match=message):
        store.save_mask("pets", image, mask, item_id="0001")
    assert files_under(store.root) == before


@pytest.mark.parametrize("item_id", ["..", "../0001", ".x", "a/b", "", "x" * 65])
def test_bad_item_ids_are_refused(store, item_id):
    before = files_under(store.root)
    with pytest.raises(DatasetError, match="item id"):
        store.save_mask("pets", picture(), drawn_mask(), item_id=item_id)
    with pytest.raises(DatasetError, match="item id"):
        store.load_item("pets", item_id)
    assert files_under(store.root) == before


def test_saving_into_a_missing_dataset_is_refused(store):
    with pytest.raises(DatasetError, match="no user dataset called 'nope'"):
        store.save_mask("nope", picture(), drawn_mask())
    assert not (store.root / "nope").exists()


def test_missing_items(store):
    with pytest.raises(DatasetError, match="no item '0007'"):
        store.load_item("pets", "0007")
    with pytest.raises(DatasetError, match="no item '0007'"):
        store.delete_item("pets", "0007")


def test_delete_item(store):
    first = store.save_mask("pets", picture(1), drawn_mask(1))
    second = store.save_mask("pets", picture(2), drawn_mask(2))
    store.delete_item("pets", first)
    assert store.list_items("pets") == [second]
    assert not (store.root / "pets" / "images" / f"{first}.png").exists()
    with pytest.raises(DatasetError, match="no item"):
        store.load_item("pets", first)


def test_a_mask_from_another_tool_loads(store):
    # Masks written elsewhere carry no image hash; they load as they are.
    folder = store.root / "pets"
    Image.fromarray(picture(4)).save(folder / "images" / "outside.png")
    Image.fromarray(drawn_mask(4)).save(folder / "masks" / "outside.png")
    image, mask = store.load_item("pets", "outside")
    np.testing.assert_array_equal(mask, drawn_mask(4))
    # Saving over it works and tidies up.
    store.save_mask("pets", picture(5), drawn_mask(5), item_id="outside")
    np.testing.assert_array_equal(store.load_item("pets", "outside")[0], picture(5))


def test_an_image_swapped_outside_the_lab_is_detected(store):
    item = store.save_mask("pets", picture(1), drawn_mask(1))
    Image.fromarray(picture(2)).save(store.root / "pets" / "images" / f"{item}.png")
    with pytest.raises(DatasetError, match="do not belong together"):
        store.load_item("pets", item)


# -- crashes ----------------------------------------------------------------------------------


def test_a_failure_while_moving_the_mask_leaves_the_previous_version(store, monkeypatch):
    item = store.save_mask("pets", picture(1), drawn_mask(1))
    before = files_under(store.root)
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst).parent.name == "masks":
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        store.save_mask("pets", picture(2), drawn_mask(2), item_id=item)
    monkeypatch.setattr(os, "replace", real_replace)
    image, mask = store.load_item("pets", item)
    np.testing.assert_array_equal(image, picture(1))
    np.testing.assert_array_equal(mask, drawn_mask(1))
    assert files_under(store.root) == before  # the old image is back, no temporary files left


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import numpy as np
    from cv_core.datasets import UserMaskStore

    root, item = sys.argv[1], sys.argv[2]
    real_replace = os.replace

    def crash_on_mask(src, dst):
        if Path(dst).parent.name == "masks":
            os._exit(17)  # the process dies: no except, no finally
        return real_replace(src, dst)

    os.replace = crash_on_mask
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    UserMaskStore(root).save_mask("pets", image, np.ones((24, 32), np.uint8), item_id=item)
    """
)


def test_a_process_killed_mid_save_leaves_the_previous_version_readable(store):
    item = store.save_mask("pets", picture(1), drawn_mask(1))
    result = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(store.root), item], cwd=REPO, timeout=60,
        capture_output=True, text=True,
    )
    assert result.returncode == 17, result.stderr
    # The new image had been moved into place; the mask had not. Readers see the old pair.
    assert (store.root / "pets" / "images" / f".{item}.prev.png").exists()
    image, mask = store.load_item("pets", item)
    np.testing.assert_array_equal(image, picture(1))
    np.testing.assert_array_equal(mask, drawn_mask(1))
    assert store.list_items("pets") == [item]
    # The next save of the item tidies up.
    store.save_mask("pets", picture(3), drawn_mask(3), item_id=item)
    np.testing.assert_array_equal(store.load_item("pets", item)[0], picture(3))
    hidden = [name for name in files_under(store.root / "pets") if "/." in name]
    assert hidden == []


# -- as a dataset -----------------------------------------------------------------------------


def square_mask(size=(32, 32)) -> np.ndarray:
    """Cat: a 6x8 block (48 px) and a 2x2 block (4 px); dog: a 5x5 block (25 px)."""
    mask = np.zeros(size, np.uint8)
    mask[2:8, 3:11] = 1
    mask[20:22, 20:22] = 1
    mask[12:17, 1:6] = 2
    return mask


def test_open_dataset_user_prefix(store):
    ids = [store.save_mask("pets", picture(i, (32, 32)), square_mask()) for i in range(6)]
    store.save_mask("pets", picture(9, (32, 32)), np.zeros((32, 32), np.uint8), item_id="empty")
    dog_mask = np.where(square_mask() == 1, 0, square_mask()).astype(np.uint8)
    store.save_mask("pets", picture(8, (32, 32)), dog_mask, item_id="dog")
    ds = open_dataset("user:pets", root=store.root)
    assert isinstance(ds, UserMaskDataset)
    assert ds.name == "user:pets" and ds.has_masks and ds.has_boxes
    assert ds.mask_class_names == CLASSES and ds.class_names == CLASSES and ds.mask_background == 0
    assert sum(ds.count(s) for s in ("train", "validation", "test")) == len(ids) + 2
    assert ds.count("validation") >= 1
    samples = {s.source: s for split in ("train", "validation", "test") for s in ds.samples(split, count=10)}
    first = samples["0001.png"]
    np.testing.assert_array_equal(first.image, picture(0, (32, 32)))
    np.testing.assert_array_equal(first.mask, square_mask())
    assert first.label == 1  # cat has the most pixels
    assert first.boxes == [(1, 3, 2, 11, 8), (1, 20, 20, 22, 22), (2, 1, 12, 6, 17)]
    assert samples["empty.png"].label == 0 and samples["empty.png"].boxes == []
    assert samples["dog.png"].label == 2
    counts = {name: 0 for name in CLASSES}
    for split in ("train", "validation", "test"):
        for name, n in ds.class_counts(split).items():
            counts[name] += n
    assert counts == {"background": 1, "cat": 6, "dog": 1}


def test_user_dataset_min_area_drops_small_boxes(store):
    store.save_mask("pets", picture(0, (32, 32)), square_mask())
    ds = open_dataset("user:pets", root=store.root, min_area=5)
    assert ds.sample("train", 0).boxes == [(1, 3, 2, 11, 8), (2, 1, 12, 6, 17)]


def test_user_dataset_feeds_a_segmentation_pipeline(store):
    for i in range(3):
        store.save_mask("pets", picture(i, (32, 32)), square_mask())
    ds = open_dataset("user:pets", root=store.root)
    images, masks = next(iter(ds.tf_dataset("train", task="segmentation", image_size=(16, 16), batch_size=8)))
    assert images.shape[1:] == (16, 16, 3) and masks.shape[1:] == (16, 16)
    assert set(np.unique(masks.numpy())) <= {0, 1, 2}


@pytest.mark.parametrize("name", ["user:", "user:..", "user:a/b", "user:nope"])
def test_open_dataset_user_refusals(store, name):
    with pytest.raises(DatasetError):
        open_dataset(name, root=store.root)


def test_an_empty_user_dataset_cannot_be_opened(store):
    with pytest.raises(DatasetError, match="no saved masks"):
        open_dataset("user:pets", root=store.root)


def test_unknown_option_for_a_user_dataset(store):
    store.save_mask("pets", picture(), drawn_mask())
    with pytest.raises(DatasetError, match="Unknown option"):
        open_dataset("user:pets", root=store.root, colour="red")


def test_split_items_is_seeded_stable_and_roughly_70_15_15():
    ids = [f"{i:04d}" for i in range(1, 2001)]
    splits = split_items(ids)
    sizes = {s: len(v) for s, v in splits.items()}
    assert sum(sizes.values()) == 2000
    assert abs(sizes["train"] / 2000 - 0.70) < 0.04 and abs(sizes["validation"] / 2000 - 0.15) < 0.03
    assert split_items(ids) == splits and split_items(ids, seed=1) != splits
    # Growing the dataset never moves an item to another split.
    smaller = split_items(ids[:1500])
    for split, items in smaller.items():
        assert set(items) <= set(splits[split])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_split_items_small_datasets(n):
    splits = split_items([f"{i:04d}" for i in range(n)])
    assert len(splits["train"]) >= 1
    assert len(splits["validation"]) >= (1 if n >= 2 else 0)
    assert sum(len(v) for v in splits.values()) == n


def test_mask_label():
    assert mask_label(np.array([[0, 0, 0], [2, 2, 1]]), background=0) == 2
    assert mask_label(np.array([[0, 1, 1], [2, 2, 0]]), background=0) == 1  # tie: lower index
    assert mask_label(np.zeros((3, 3), np.uint8), background=0) == 0
    assert mask_label(np.ones((3, 3), np.uint8), background=1) == 1
    assert mask_label(np.array([[1, 1, 1], [0, 2, 2]]), background=1) == 2


# -- what each dataset offers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, has_masks, has_boxes",
    [(Dataset, False, False), (ShapesDataset, True, True), (OxfordPetsDataset, True, True),
     (ImageFolderDataset, False, False), (CatsVsDogsDataset, False, False), (UserMaskDataset, True, True)],
)
def test_what_a_dataset_offers_is_a_class_attribute(cls, has_masks, has_boxes):
    assert cls.has_masks is has_masks and cls.has_boxes is has_boxes


def test_bad_min_area_is_refused(store):
    store.save_mask("pets", picture(), drawn_mask())
    with pytest.raises(DatasetError, match="min_area"):
        open_dataset("user:pets", root=store.root, min_area=0)


# -- drafts: unsaved drawings that survive a reload ------------------------------------------


def painted(seed=0, size=(40, 60), classes=3) -> np.ndarray:
    """Canvas labels: -1 (not drawn) with one painted band."""
    labels = np.full(size, -1, np.int16)
    labels[10:20, 5:50] = 1 + seed % (classes - 1)
    return labels


def test_a_draft_round_trips_and_is_never_an_item(store):
    store.save_mask("pets", picture(), drawn_mask())
    labels, image = painted(), picture(3)
    meta = {"canvas": "abc", "objects": [{"type": "Path", "path": [["M", 1.5, 2]]}], "origin": "ü upload"}
    store.save_draft("pets", "d1", labels, meta, image=image)
    draft = store.load_draft("pets", "d1")
    assert np.array_equal(draft["labels"], labels) and draft["labels"].dtype == np.int16
    assert {k: v for k, v in draft["meta"].items() if k != "saved"} == meta and "saved" in draft["meta"]
    assert np.array_equal(draft["image"], image)  # bit-exact
    assert store.list_drafts("pets") == ["d1"]
    # Not an item: the dataset lists, counts and trains on its saved masks only.
    assert store.list_items("pets") == ["0001"] and store.dataset_info("pets")["items"] == 1
    dataset = open_dataset("user:pets", store.root)
    assert sum(dataset.count(s) for s in ("train", "validation", "test")) == 1
    # A newer drawing replaces it; without a picture there is none.
    store.save_draft("pets", "d1", painted(1))
    again = store.load_draft("pets", "d1")
    assert np.array_equal(again["labels"], painted(1))
    assert store.delete_draft("pets", "d1") and store.load_draft("pets", "d1") is None
    assert not store.delete_draft("pets", "d1") and store.list_drafts("pets") == []


@pytest.mark.parametrize("draft_id, labels, error", [
    ("../escape", painted(), "not a plain name"),
    ("ok", painted().astype(np.float32), "2-D integer array"),
    # 3 classes + MAX_EXTRA_OBJECTS (200) object indices after them: 0..202
    ("ok", np.full((4, 4), 203, np.int16), "from -1 (not drawn) to 202"),
    ("ok", np.full((4, 4), -2, np.int16), "from -1 (not drawn) to 202"),
    ("ok", np.zeros((4, 4, 2), np.int16), "2-D integer array"),
])
def test_bad_drafts_are_refused_and_nothing_is_written(store, draft_id, labels, error):
    before = files_under(store.root)
    with pytest.raises(DatasetError) as raised:
        store.save_draft("pets", draft_id, labels)
    assert error in str(raised.value)
    assert files_under(store.root) == before


def test_a_torn_draft_is_forgotten_not_an_error(store):
    store.save_draft("pets", "torn", painted())
    path = store.root / "pets" / "drafts" / "torn.npz"
    path.write_bytes(path.read_bytes()[:40])
    assert store.load_draft("pets", "torn") is None
    assert not path.exists()


def test_drafts_nobody_came_back_to_are_pruned(store):
    from cv_core.datasets.user_masks import DRAFT_MAX_AGE_DAYS

    store.save_draft("pets", "old", painted())
    store.save_draft("pets", "recent", painted())
    old = store.root / "pets" / "drafts" / "old.npz"
    stale = old.stat().st_mtime - (DRAFT_MAX_AGE_DAYS + 1) * 86400
    os.utime(old, (stale, stale))
    store.save_draft("pets", "new", painted(1))
    assert sorted(store.list_drafts("pets")) == ["new", "recent"]
