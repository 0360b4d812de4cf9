"""Mask scores, instances and boxes on hand-made masks with known answers."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cv_core.datasets import open_dataset
from cv_core.segmentation import (
    box_class_map,
    class_confusion,
    dice,
    instances_to_boxes,
    iou,
    iou_from_confusion,
    mask_to_boxes,
    mask_to_instances,
    mask_to_objects,
    region_sizes,
    score_boxes,
)

REPO = Path(__file__).resolve().parents[2]


def test_importing_segmentation_does_not_import_tensorflow_or_skimage():
    code = (
        "import sys, cv_core.segmentation; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tf'; "
        "assert 'skimage.measure' not in sys.modules and 'scipy' not in sys.modules, 'skimage'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


# -- IoU and Dice -----------------------------------------------------------------------------


def two_squares():
    """Truth: class 1 in a 4x4 square (16 px); prediction: the square moved 2 px right.

    Overlap 4 x 2 = 8 px; union 16 + 16 - 8 = 24 -> IoU(1) = 1/3, Dice(1) = 16/32 = 1/2.
    Background: 100 - 16 = 84 px each, overlap 100 - 24 = 76, union 92 -> IoU(0) = 76/92.
    Class 2 is absent from both -> NaN.
    """
    truth = np.zeros((10, 10), np.uint8)
    truth[2:6, 2:6] = 1
    predicted = np.zeros((10, 10), np.uint8)
    predicted[2:6, 4:8] = 1
    return truth, predicted


def test_iou_and_dice_known_answers():
    truth, predicted = two_squares()
    np.testing.assert_allclose(iou(truth, predicted, 3)[:2], [76 / 92, 1 / 3])
    np.testing.assert_allclose(dice(truth, predicted, 3)[:2], [2 * 76 / 168, 0.5])
    assert math.isnan(iou(truth, predicted, 3)[2]) and math.isnan(dice(truth, predicted, 3)[2])
    assert iou(truth, predicted, 3).dtype == np.float64 and iou(truth, predicted, 3).shape == (3,)


def test_identical_masks_score_one_and_disjoint_classes_zero():
    truth, _ = two_squares()
    np.testing.assert_array_equal(iou(truth, truth, 2), [1.0, 1.0])
    np.testing.assert_array_equal(dice(truth, truth, 2), [1.0, 1.0])
    everything_wrong = 1 - truth
    np.testing.assert_array_equal(iou(truth, everything_wrong, 2), [0.0, 0.0])


def test_a_class_only_in_one_mask_scores_zero_not_nan():
    truth, _ = two_squares()
    empty = np.zeros_like(truth)
    assert iou(truth, empty, 2)[1] == 0.0 and dice(truth, empty, 2)[1] == 0.0


def test_dice_is_two_iou_over_one_plus_iou():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, (2, 32, 32))
    i, d = iou(a, b, 4), dice(a, b, 4)
    np.testing.assert_allclose(d, 2 * i / (1 + i))


def test_confusion_pools_pixels_over_images():
    truth, predicted = two_squares()
    total = class_confusion(truth, predicted, 2) + class_confusion(truth, truth, 2)
    # Class 1 over both images: intersections 8 + 16, unions 24 + 16.
    assert iou_from_confusion(total)[1] == pytest.approx(24 / 40)
    assert class_confusion(truth, predicted, 2).sum() == 100


@pytest.mark.parametrize(
    "a, b, num_classes, message",
    [
        (np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), 2, "same shape"),
        (np.zeros((4, 4), np.float32), np.zeros((4, 4), np.uint8), 2, "integer"),
        (np.full((4, 4), 3, np.uint8), np.zeros((4, 4), np.uint8), 3, r"\[0, 3\)"),
        (np.full((4, 4), -1, np.int32), np.zeros((4, 4), np.int32), 3, r"\[0, 3\)"),
        (np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), 0, "num_classes"),
    ],
)
def test_iou_refuses_bad_masks(a, b, num_classes, message):
    with pytest.raises(ValueError, match=message):
        iou(a, b, num_classes)


# -- instances and boxes ----------------------------------------------------------------------


def three_objects():
    """Class 1: a 3x4 block and a single-pixel speck; class 2: an L of 5 pixels."""
    mask = np.zeros((8, 12), np.uint8)
    mask[1:4, 1:5] = 1          # 12 px, box (1, 1, 5, 4)
    mask[6, 10] = 1             # speck, box (10, 6, 11, 7)
    mask[5:8, 2] = 2            # vertical bar of the L
    mask[7, 3:5] = 2            # foot of the L: 5 px, box (2, 5, 5, 8)
    return mask


def test_instances_and_exact_boxes():
    mask = three_objects()
    ones = mask_to_instances(mask, 1, min_area=1)
    assert len(ones) == 2
    assert [int(i.sum()) for i in ones] == [12, 1]
    assert instances_to_boxes(ones) == [(1, 1, 5, 4), (10, 6, 11, 7)]
    assert all(i.dtype == bool and i.shape == mask.shape for i in ones)
    twos = mask_to_instances(mask, 2, min_area=1)
    assert instances_to_boxes(twos) == [(2, 5, 5, 8)]


def test_specks_under_min_area_are_dropped():
    mask = three_objects()
    assert len(mask_to_instances(mask, 1)) == 1            # default min_area 4
    assert len(mask_to_instances(mask, 1, min_area=12)) == 1
    assert len(mask_to_instances(mask, 1, min_area=13)) == 0
    assert mask_to_instances(mask, 3) == []                 # a class not in the mask


def test_connectivity_decides_whether_diagonal_neighbours_join():
    mask = np.zeros((4, 4), np.uint8)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = 1
    assert len(mask_to_instances(mask, 1, min_area=1)) == 1
    assert len(mask_to_instances(mask, 1, min_area=1, connectivity=1)) == 3


def test_touching_objects_of_one_class_stay_one_instance():
    mask = np.zeros((6, 10), np.uint8)
    mask[1:4, 1:4] = 1
    mask[2:5, 4:8] = 1  # touches the first square along an edge
    assert len(mask_to_instances(mask, 1)) == 1


def test_boxes_match_the_shapes_dataset_boxes():
    # The shapes dataset's boxes are the bounding boxes of each object's visible pixels;
    # where the objects of a class do not touch, instances give the same boxes.
    ds = open_dataset("shapes", train_size=12, validation_size=0, test_size=0, image_size=64)
    checked = 0
    for sample in ds.samples("train", count=12):
        for cls in np.unique(sample.mask):
            if cls == 0:
                continue
            truth = sorted(b[1:] for b in sample.boxes if b[0] == cls - 1)
            found = sorted(instances_to_boxes(mask_to_instances(sample.mask, int(cls), min_area=4)))
            if len(truth) == len(found):
                assert found == truth
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mask=np.zeros((4, 4), np.float32), class_index=1), "integer"),
        (dict(mask=np.zeros((2, 4, 4), np.uint8), class_index=1), "2-D"),
        (dict(mask=np.zeros((4, 4), np.uint8), class_index=1, min_area=0), "min_area"),
        (dict(mask=np.zeros((4, 4), np.uint8), class_index=1, connectivity=3), "connectivity"),
        (dict(mask=np.zeros((4, 4), np.uint8), class_index="cat"), "class_index"),
    ],
)
def test_mask_to_instances_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mask_to_instances(**kwargs)


def test_instances_to_boxes_refuses_empty_instances():
    with pytest.raises(ValueError, match="empty"):
        instances_to_boxes([np.zeros((4, 4), bool)])
    assert instances_to_boxes([]) == []


def test_a_one_pixel_object_has_a_one_pixel_box_and_no_box_is_empty():
    # x1/y1 exclusive: the pixel at (x 27, y 18) has the box (27, 18, 28, 19), never (27, 18, 27, 18).
    mask = np.zeros((32, 32), np.uint8)
    mask[18, 27] = 1
    assert instances_to_boxes(mask_to_instances(mask, 1, min_area=1)) == [(27, 18, 28, 19)]
    assert mask_to_objects(mask, min_area=1)[0]["box"] == (27, 18, 28, 19)
    # Random masks: every box is the numpy extent of its pixels (max + 1) and at least 1 x 1.
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = (rng.random((24, 24)) < 0.08).astype(np.uint8) * rng.integers(1, 3, (24, 24)).astype(np.uint8)
        for obj in mask_to_objects(mask, min_area=1):
            rows, cols = np.nonzero(obj["mask"])
            assert obj["box"] == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            x0, y0, x1, y1 = obj["box"]
            assert x1 > x0 and y1 > y0


def test_region_sizes_say_why_pixels_give_no_object():
    mask = three_objects()
    # Class 1: the 12-pixel block and a 1-pixel speck; class 2: the 5-pixel L.
    assert region_sizes(mask) == {1: (13, 12), 2: (5, 5)}
    specks = np.zeros((8, 8), np.uint8)
    specks[0, 0] = specks[4, 4] = specks[4, 6] = 3
    assert region_sizes(specks) == {3: (3, 1)}
    assert mask_to_objects(specks) == []  # so no object: none reaches the default 4 pixels
    assert region_sizes(np.zeros((4, 4), np.uint8)) == {}
    assert region_sizes(mask, background=1) == {0: (8 * 12 - 13 - 5, 78), 2: (5, 5)}  # one connected background


# -- objects, boxes from masks, scoring -------------------------------------------------------


def test_mask_to_objects_with_confidence():
    mask = three_objects()
    probabilities = np.zeros((*mask.shape, 3), np.float32)
    probabilities[..., 0] = 1.0
    probabilities[mask == 1] = (0.1, 0.8, 0.1)
    probabilities[mask == 2] = (0.2, 0.2, 0.6)
    probabilities[1, 1] = (0.0, 0.56, 0.44)  # one pixel of the block less sure
    objects = mask_to_objects(mask, probabilities)
    assert [(o["class_index"], o["area"], o["box"]) for o in objects] == [(1, 12, (1, 1, 5, 4)), (2, 5, (2, 5, 5, 8))]
    assert objects[0]["confidence"] == pytest.approx((11 * 0.8 + 0.56) / 12)
    assert objects[1]["confidence"] == pytest.approx(0.6)
    assert objects[0]["mask"].sum() == 12
    assert mask_to_objects(mask)[0]["confidence"] is None
    # Another background value: class 1 becomes "background" and class 0 an object.
    assert {o["class_index"] for o in mask_to_objects(mask, background=1, min_area=1)} == {0, 2}


def test_mask_to_objects_refuses_mismatched_probabilities():
    with pytest.raises(ValueError, match="probabilities"):
        mask_to_objects(three_objects(), np.zeros((8, 12, 2)))
    with pytest.raises(ValueError, match="probabilities"):
        mask_to_objects(three_objects(), np.zeros((8, 11, 3)))


def test_box_class_map_matches_names():
    shapes = ["background", "circle", "square"]
    assert box_class_map(shapes, ["circle", "square"]) == {1: 0, 2: 1}
    assert box_class_map(["foreground", "background", "boundary"], ["cat", "dog"]) == {}
    assert box_class_map(shapes, shapes) == {0: 0, 1: 1, 2: 2}


def test_mask_to_boxes_maps_classes_and_scores():
    mask = three_objects()
    assert mask_to_boxes(mask) == [(1, 1, 1, 5, 4, 1.0), (2, 2, 5, 5, 8, 1.0)]
    assert mask_to_boxes(mask, class_map={1: 0}) == [(0, 1, 1, 5, 4, 1.0)]


def test_score_boxes_known_answer():
    # Image 0: truths class 0 at (0, 0, 10, 10) and class 1 at (20, 20, 30, 30);
    # predicted: class 0 hit (0.9), class 1 at the wrong place (0.8).
    # Image 1: truth class 0 at (5, 5, 15, 15); predicted: nothing.
    # TP 1, FP 1, FN 2 -> precision 1/2, recall 1/3. AP: class 0 = 1/2 (one of two found,
    # at precision 1), class 1 = 0 -> mAP 1/4.
    predicted = [[(0, 0, 0, 10, 10, 0.9), (1, 40, 40, 50, 50, 0.8)], []]
    truths = [[(0, 0, 0, 10, 10), (1, 20, 20, 30, 30)], [(0, 5, 5, 15, 15)]]
    result = score_boxes(predicted, truths)
    assert result == {
        "precision": 0.5, "recall": pytest.approx(1 / 3), "ap": pytest.approx(0.25),
        "true_positives": 1, "false_positives": 1, "false_negatives": 2,
        "num_predictions": 2, "num_truths": 3,
    }
    # Class-agnostic: the class-1 box is still in the wrong place, nothing changes but AP.
    agnostic = score_boxes(predicted, truths, class_agnostic=True)
    assert agnostic["true_positives"] == 1 and agnostic["ap"] == pytest.approx(1 / 3)


def test_score_boxes_with_nothing_to_score():
    result = score_boxes([[]], [[]])
    assert result["num_predictions"] == 0 and math.isnan(result["precision"]) and math.isnan(result["ap"])


def test_boxes_from_the_true_masks_show_the_ceiling_of_the_segmentation_route():
    # The segmentation route applied to the true masks themselves. A semantic mask cannot
    # separate touching objects of one class (one instance, one box for two truths), and an
    # occluder cuts an object in two (two boxes for one truth), so even a perfect
    # segmentation model does not give perfect boxes on shapes (measured: precision 0.80,
    # recall 0.86 on these 20 images). Most boxes are still exact.
    ds = open_dataset("shapes", train_size=0, validation_size=20, test_size=0, image_size=64)
    samples = ds.samples("validation", count=20)
    class_map = box_class_map(ds.mask_class_names, ds.class_names)
    predicted = [mask_to_boxes(s.mask, class_map=class_map) for s in samples]
    result = score_boxes(predicted, [s.boxes for s in samples])
    assert 0.7 < result["precision"] < 1 and 0.7 < result["recall"] < 1
    assert result["true_positives"] + result["false_negatives"] == sum(len(s.boxes) for s in samples)
