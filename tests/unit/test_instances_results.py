"""cv_core.instances.results: one picture's objects matched with the truth, resized, exported.

Every expected number is worked out by hand from the masks drawn here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cv_core.instances import (
    coco_json,
    instance_map,
    instance_map_png,
    match_instances,
    read_coco_instances,
    read_instance_map,
    resize_objects,
)


def square(y0, x0, side, shape=(20, 20)):
    mask = np.zeros(shape, bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def test_hits_false_positives_and_misses_by_hand():
    truths = [{"mask": square(0, 0, 4), "class": 1}, {"mask": square(0, 4, 4), "class": 1},
              {"mask": square(10, 10, 5), "class": 2}]
    found = [
        {"mask": square(0, 0, 4), "class": 1, "score": 0.9},                # exact: hit truth 0
        {"mask": square(0, 0, 4) | square(0, 4, 4), "class": 1, "score": 0.8},  # two squares as one: IoU 0.5 each
        {"mask": square(10, 10, 5), "class": 1, "score": 0.7},              # right place, wrong class: false positive
        {"mask": square(15, 0, 3), "class": 2, "score": 0.6},               # nowhere: false positive
    ]
    outcome = match_instances(found, truths)
    # The blob covers truths 0 and 1 (16 px each) with 32 px: IoU 16/32 = 0.5 with each; truth 0 is
    # already taken by the better-scored exact square, so it takes truth 1.
    assert outcome.hit == (True, True, False, False)
    assert outcome.truth_of == (0, 1, None, None)
    assert outcome.found == (True, True, False)
    assert outcome.iou == pytest.approx((1.0, 0.5, 0.0, 0.0))
    assert (outcome.hits, outcome.false_positives, outcome.misses) == (2, 2, 1)
    # Above 0.5 the blob is no hit any more.
    stricter = match_instances(found, truths, iou_threshold=0.55)
    assert stricter.hit == (True, False, False, False) and stricter.misses == 2


def test_the_best_scored_object_is_matched_first_whatever_the_order():
    truth = [{"mask": square(2, 2, 6), "class": 1}]
    worse = {"mask": square(2, 2, 5), "class": 1, "score": 0.2}     # IoU 25/36
    better = {"mask": square(2, 2, 6), "class": 1, "score": 0.9}
    outcome = match_instances([worse, better], truth)
    assert outcome.hit == (False, True) and outcome.truth_of == (None, 0)


def test_nothing_found_or_nothing_true():
    truths = [{"mask": square(0, 0, 3), "class": 1}]
    assert match_instances([], truths).misses == 1
    none = match_instances([{"mask": square(0, 0, 3), "class": 1, "score": 1.0}], [])
    assert none.hit == (False,) and none.false_positives == 1 and none.found == ()


def test_instance_map_numbers_objects_and_the_first_keeps_shared_pixels():
    a, b = square(0, 0, 4), square(2, 2, 4)
    ids = instance_map([{"mask": a}, {"mask": b}], (20, 20))
    assert ids.dtype == np.uint16
    assert (ids == 1).sum() == 16 and (ids == 2).sum() == 16 - 4 and ids[3, 3] == 1
    with pytest.raises(ValueError, match=r"Expected every mask to be \(10, 10\)"):
        instance_map([{"mask": a}], (10, 10))


def test_instance_map_png_reads_back_as_the_same_ids():
    objects = [{"mask": square(0, 0, 4)}, {"mask": square(10, 10, 5)}, {"mask": square(0, 12, 2)}]
    data = instance_map_png(objects, (20, 20))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(read_instance_map(data), instance_map(objects, (20, 20)))
    # More than 255 objects: a 16-bit map.
    big = [{"mask": (np.arange(300 * 2).reshape(2, 300) == i)} for i in range(300)]
    np.testing.assert_array_equal(read_instance_map(instance_map_png(big, (2, 300))), instance_map(big, (2, 300)))


def test_resize_objects_recounts_area_and_box():
    obj = {"mask": square(2, 4, 4, (16, 16)), "class": 3, "score": 0.5, "centre": (5, 3)}
    (big,) = resize_objects([obj], (32, 32))
    assert big["area"] == 64 and big["box"] == (8, 4, 16, 12) and big["class"] == 3 and big["score"] == 0.5
    assert big["centre"] == (11, 7)
    (same,) = resize_objects([obj], (16, 16))
    np.testing.assert_array_equal(same["mask"], obj["mask"])
    # A one-pixel object gone at a quarter of the size is dropped.
    assert resize_objects([{"mask": square(1, 1, 1, (16, 16))}], (4, 4)) == []


def test_coco_json_reads_back_exact_with_scores(tmp_path):
    names = ["background", "circle", "square"]
    objects = [{"mask": square(0, 0, 4), "class": 2, "score": 0.75}, {"mask": square(10, 10, 5), "class": 1}]
    text = coco_json("picture.png", objects, names, (20, 20))
    data = json.loads(text)
    assert [a["category_id"] for a in data["annotations"]] == [2, 1]
    assert data["annotations"][0]["score"] == 0.75 and "score" not in data["annotations"][1]
    assert data["annotations"][0]["bbox"] == [0, 0, 4, 4] and data["annotations"][1]["area"] == 25
    path = tmp_path / "one.json"
    path.write_text(text)
    back = read_coco_instances(path)
    (image,) = back.images
    assert (image.height, image.width) == (20, 20) and image.file_name == "picture.png"
    for read, written in zip(back.objects[image.id], objects):
        np.testing.assert_array_equal(read["mask"], written["mask"])
        assert read["class"] == written["class"]
