"""Shapes' instances (old settings unchanged), the crowded setting, and instance maps read beside a class mask."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import open_dataset
from cv_core.datasets.shapes import render_shapes
from cv_core.instances import (InstanceDataError, instances_from_maps, read_instance_map, sample_instances,
                               touching_pairs)
from tests.unit.fixtures import shapes_before_instances as before


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
@pytest.mark.parametrize("size", [32, 64, 96])
def test_old_settings_draw_exactly_what_they_drew_before(difficulty, size):
    for seed, split, index in [(0, "train", 0), (0, "train", 7), (3, "validation", 2), (11, "test", 5)]:
        old = before.render_shapes(seed, split, index, size, difficulty)
        new = render_shapes(seed, split, index, size, difficulty)
        np.testing.assert_array_equal(new.image, old.image)
        np.testing.assert_array_equal(new.mask, old.mask)
        assert new.label == old.label and new.boxes == old.boxes and new.source == old.source


def test_labels_without_drawing_still_match_for_old_settings():
    ds = open_dataset("shapes", image_size=32, train_size=20, validation_size=2, test_size=2, difficulty="hard")
    np.testing.assert_array_equal(ds.labels("train"), [before.render_shapes(0, "train", i, 32, "hard").label
                                                       for i in range(20)])


@pytest.mark.parametrize("difficulty", ["hard", "crowded"])
def test_every_box_is_one_instance_with_its_class_and_pixels(difficulty):
    for index in range(12):
        sample = render_shapes(0, "train", index, 64, difficulty)
        objects = sample_instances(sample)
        assert len(objects) == len(sample.boxes)
        assert sample.instances.dtype == np.uint16 and int(sample.instances.max()) == len(sample.boxes)
        for obj, box in zip(objects, sample.boxes):
            ys, xs = np.nonzero(obj["mask"])
            assert obj["class"] == box[0]
            assert (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) == tuple(box[1:])
            assert np.all(sample.mask[obj["mask"]] == box[0] + 1)  # the class mask agrees
        assert not np.any(sample.mask[sample.instances > 0] == 0)


def test_crowded_shapes_touch_and_bars_split_objects_in_two():
    from skimage.measure import label

    touching = split = 0
    for index in range(40):
        sample = render_shapes(0, "train", index, 64, "crowded")
        objects = sample_instances(sample)
        assert 1 <= len(objects) <= 6
        touching += len(touching_pairs(objects))
        split += sum(int(label(o["mask"], connectivity=2).max() >= 2) for o in objects)
    assert touching >= 40  # about two same-class touching pairs a picture
    assert split >= 5      # objects cut in two by a bar: one instance, two regions


def test_crowded_is_a_difficulty_of_the_dataset():
    ds = open_dataset("shapes", image_size=48, train_size=4, validation_size=2, test_size=2, difficulty="crowded")
    assert ds.has_instances and ds.sample("train", 0).instances.shape == (48, 48)
    np.testing.assert_array_equal(ds.labels("train"), [ds.sample("train", i).label for i in range(4)])


# -- instance maps beside a class mask --------------------------------------------------------------------------

def _maps():
    classes = np.zeros((10, 12), np.uint8)
    instances = np.zeros((10, 12), np.uint16)
    classes[1:4, 1:5], instances[1:4, 1:5] = 1, 3      # ids skip numbers: 3, 7, 20
    classes[1:4, 5:9], instances[1:4, 5:9] = 1, 7      # touching the first, same class
    classes[6:9, 2:10], instances[6:9, 2:10] = 2, 20
    classes[7, 2:10], instances[7, 2:10] = 0, 0         # cut in two by a background row: one object
    return classes, instances


def test_ids_that_skip_numbers_are_renumbered_in_order():
    classes, instances = _maps()
    result = instances_from_maps(classes, instances, image_shape=(10, 12, 3))
    assert result.renumbered == {3: 1, 7: 2, 20: 3}
    assert [b[0] for b in result.boxes] == [1, 1, 2]
    assert result.boxes[2][1:] == (2, 6, 10, 9)
    np.testing.assert_array_equal(result.instances == 3, instances == 20)
    assert result.mixed == ()


def test_a_mask_file_of_another_size_is_refused():
    classes, instances = _maps()
    with pytest.raises(InstanceDataError, match=r"12 × 10 pixels but its picture is 16 × 10"):
        instances_from_maps(classes, instances, image_shape=(10, 16, 3), source="0001.png")
    with pytest.raises(InstanceDataError, match="same size"):
        instances_from_maps(classes[:, :8], instances)


def test_an_instance_with_no_pixels_is_refused():
    classes, instances = _maps()
    with pytest.raises(InstanceDataError, match="Instance 9 .*has no pixels"):
        instances_from_maps(classes, instances, declared={3: 1, 7: 1, 9: 2, 20: 2})
    stray = instances.copy()
    stray[9, 0] = 5  # an id painted only where the class mask says background
    with pytest.raises(InstanceDataError, match="Instance 5 has no pixels on an object"):
        instances_from_maps(classes, stray)


def test_an_instance_over_two_classes_takes_its_most_frequent():
    classes, instances = _maps()
    classes[1, 1] = 2
    result = instances_from_maps(classes, instances)
    assert result.mixed == (3,) and result.boxes[0][0] == 1


def test_read_instance_map_png_8_and_16_bit():
    for array in (np.array([[0, 3], [3, 250]], np.uint8), np.array([[0, 300], [300, 7]], np.uint16)):
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG")
        np.testing.assert_array_equal(read_instance_map(buffer.getvalue()), array.astype(np.int64))
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(buffer, format="PNG")
    with pytest.raises(InstanceDataError, match="single-channel"):
        read_instance_map(buffer.getvalue())
    with pytest.raises(InstanceDataError, match="could not be read"):
        read_instance_map(b"not a png")


def test_touching_pairs_same_class_only():
    a, b, c = (np.zeros((6, 9), bool) for _ in range(3))
    a[1:4, 0:3], b[1:4, 3:6], c[1:4, 6:9] = True, True, True
    assert touching_pairs([{"mask": a, "class": 1}, {"mask": b, "class": 1}, {"mask": c, "class": 2}]) == [(0, 1)]
    d = np.zeros((6, 9), bool)
    d[4:6, 0:3] = True  # shares the edge below a
    assert (0, 1) in touching_pairs([{"mask": a, "class": 1}, {"mask": d, "class": 1}])


def test_a_user_mask_dataset_reads_an_instance_map_beside_its_masks(tmp_path):
    from cv_core.datasets import UserMaskStore

    store = UserMaskStore(tmp_path)
    store.create("mine", ["background", "square"])
    image = np.zeros((10, 12, 3), np.uint8)
    classes, instances = _maps()
    classes[classes == 2] = 1
    first = store.save_mask("mine", image, classes)
    second = store.save_mask("mine", image, classes)
    folder = tmp_path / "mine" / "instances"
    folder.mkdir()
    Image.fromarray(instances.astype(np.uint8)).save(folder / f"{first}.png")            # ids 3, 7, 20
    Image.fromarray(np.zeros((10, 16), np.uint8)).save(folder / f"{second}.png")         # the wrong size
    ds = open_dataset("user:mine", root=str(tmp_path))
    assert ds.has_instances
    split_of = {item: split for split, items in ds.items.items() for item in items}
    good = ds.readable_sample(split_of[first], ds.items[split_of[first]].index(first))
    assert sorted(np.unique(good.instances).tolist()) == [0, 1, 2, 3] and len(good.boxes) == 3
    assert ds.readable_sample(split_of[second], ds.items[split_of[second]].index(second)) is None
    assert any("its picture is 12 × 10" in message for message in ds.skipped_files)
