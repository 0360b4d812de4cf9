"""Instance maps saved beside user masks: atomic with the mask, checked, renumbered, and read back."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import DatasetError, UserMaskStore, open_dataset
from cv_core.datasets.user_masks.files import INSTANCES_DIR, MASK_HASH_KEY
from cv_core.instances.data import InstanceDataError, sample_instances


@pytest.fixture
def store(tmp_path) -> UserMaskStore:
    s = UserMaskStore(tmp_path / "user_masks")
    s.create("objs", ["background", "square", "circle"])
    return s


def picture(size=(20, 24)):
    return np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)


def maps(size=(20, 24)):
    """Two touching squares (ids 3 and 9: ids that skip numbers) and a circle cut in two (id 4)."""
    classes = np.zeros(size, np.uint8)
    ids = np.zeros(size, np.int64)
    classes[2:8, 2:8], ids[2:8, 2:8] = 1, 3
    classes[2:8, 8:14], ids[2:8, 8:14] = 1, 9
    classes[12:16, 2:20], ids[12:16, 2:20] = 2, 4
    classes[12:16, 10], ids[12:16, 10] = 0, 0      # the bar: one object, two regions
    return classes, ids


def test_instances_are_saved_renumbered_and_read_back(store):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes, instances=ids)
    folder = store.root / "objs" / INSTANCES_DIR
    assert (folder / f"{item}.png").is_file()
    assert not list(folder.glob(".*"))  # nothing pending or temporary left
    saved = store.load_instances("objs", item)
    # 3 -> 1, 4 -> 2, 9 -> 3 (increasing order)
    expected = np.select([ids == 3, ids == 4, ids == 9], [1, 2, 3], 0)
    np.testing.assert_array_equal(saved, expected)
    with Image.open(folder / f"{item}.png") as png:
        assert png.mode == "L" and MASK_HASH_KEY in png.info
    sample = open_dataset("user:objs", store.root).sample("train", 0)
    objects = sample_instances(sample)
    assert [o["class"] for o in objects] == [1, 2, 1]
    assert objects[1]["box"] == (2, 12, 20, 16)  # the cut circle is one object


def test_an_item_without_instances_still_reads(store):
    classes, _ = maps()
    item = store.save_mask("objs", picture(), classes)
    assert store.load_instances("objs", item) is None
    ds = open_dataset("user:objs", store.root)
    assert not ds.has_instances
    assert ds.sample("train", 0).instances is None and ds.sample("train", 0).boxes


def test_saving_again_without_instances_removes_the_old_map(store):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes, instances=ids)
    store.save_mask("objs", picture(), classes, item_id=item)  # same mask, now no objects
    assert store.load_instances("objs", item) is None
    assert not (store.root / "objs" / INSTANCES_DIR / f"{item}.png").exists()


def test_a_map_with_no_object_saves_no_file(store):
    classes, _ = maps()
    item = store.save_mask("objs", picture(), classes, instances=np.zeros(classes.shape, np.int64))
    assert store.load_instances("objs", item) is None


@pytest.mark.parametrize("problem, message", [
    ("size", "its picture is 24 × 20"),
    ("empty", "no pixels on an object"),
])
def test_refused_instance_maps_write_nothing(store, problem, message):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes, instances=ids)
    before = store.load_instances("objs", item)
    if problem == "size":
        bad = np.zeros((20, 30), np.int64)
    else:
        bad = ids.copy()
        bad[0, 0] = 7  # on background only
    with pytest.raises(InstanceDataError, match=message):
        store.save_mask("objs", picture(), np.zeros_like(classes), item_id=item, instances=bad)
    np.testing.assert_array_equal(store.load_instances("objs", item), before)
    np.testing.assert_array_equal(store.load_item("objs", item)[1], classes)


def test_a_stale_map_is_ignored_and_an_interrupted_save_finishes(store):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes, instances=ids)
    folder = store.root / "objs" / INSTANCES_DIR
    old = (folder / f"{item}.png").read_bytes()
    other, other_ids = classes.copy(), ids.copy()
    other[2:8, 8:14], other_ids[2:8, 8:14] = 0, 0  # the second square erased
    store.save_mask("objs", picture(), other, item_id=item, instances=other_ids)
    new = (folder / f"{item}.png").read_bytes()
    # A crash after the new mask's commit and before its instance map took its place: the new
    # map waits as .next beside the old one; readers take the new one, the next write moves it.
    (folder / f"{item}.png").rename(folder / f".{item}.next.png")
    (folder / f"{item}.png").write_bytes(old)
    assert store.load_instances("objs", item).max() == 2
    store._tidy(store.root / "objs", item)
    assert (folder / f"{item}.png").read_bytes() == new and not (folder / f".{item}.next.png").exists()
    # A map that records another mask (the mask changed outside the lab) is not used.
    (folder / f"{item}.png").write_bytes(old)
    assert store.load_instances("objs", item) is None


def test_a_map_from_another_tool_is_taken_as_it_is(store):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes)
    folder = store.root / "objs" / INSTANCES_DIR
    folder.mkdir()
    buffer = io.BytesIO()
    Image.fromarray(ids.astype(np.uint8)).save(buffer, "PNG")
    (folder / f"{item}.png").write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(store.load_instances("objs", item), ids)
    assert open_dataset("user:objs", store.root).has_instances


def test_many_objects_are_saved_in_16_bits(store):
    size = (40, 40)
    classes = np.ones(size, np.uint8)
    ids = np.arange(1, 1601, dtype=np.int64).reshape(size)  # 1,600 one-pixel objects
    item = store.save_mask("objs", picture(size), classes, instances=ids)
    with Image.open(store.root / "objs" / INSTANCES_DIR / f"{item}.png") as png:
        assert png.mode.startswith("I")
    np.testing.assert_array_equal(store.load_instances("objs", item), ids)


def test_deleting_an_item_deletes_its_instances(store):
    classes, ids = maps()
    item = store.save_mask("objs", picture(), classes, instances=ids)
    store.delete_item("objs", item)
    assert not (store.root / "objs" / INSTANCES_DIR / f"{item}.png").exists()
    with pytest.raises(DatasetError):
        store.load_instances("objs", item)


def test_items_without_a_map_in_a_dataset_with_maps_have_their_regions_as_objects(store):
    classes, ids = maps()
    store.save_mask("objs", picture(), classes, item_id="a", instances=ids)
    store.save_mask("objs", picture(), classes, item_id="b")  # a plain class mask
    ds = open_dataset("user:objs", store.root)
    assert ds.has_instances
    split, index = next((s, i) for s in ds.items for i, item in enumerate(ds.items[s]) if item == "b")
    sample = ds.sample(split, index)
    objects = sample_instances(sample)
    # Connected regions: the two touching squares are one region; the cut circle is two.
    assert sorted((o["class"], o["box"]) for o in objects) == [
        (1, (2, 2, 14, 8)), (2, (2, 12, 10, 16)), (2, (11, 12, 20, 16))]
    assert [b[0] for b in sample.boxes] == [o["class"] for o in objects]
