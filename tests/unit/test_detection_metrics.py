"""Detection metrics on hand-built cases whose answers are worked out in the comments."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cv_core.detection import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    box_iou,
    coco_map,
    match_detections,
    mean_average_precision,
    precision_recall_curves,
)

REPO = Path(__file__).resolve().parents[2]
A = (0, 0, 10, 10)      # 100 px
B = (20, 20, 30, 30)    # 100 px, far from A
C = (40, 0, 50, 10)


def test_importing_detection_metrics_does_not_import_tensorflow():
    code = (
        "import sys, cv_core.detection, cv_core.detection.metrics; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tf imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (A, A, 1.0),
        (A, B, 0.0),
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),   # x1 exclusive: side by side, no shared column
        ((0, 0, 10, 10), (9, 0, 19, 10), 10 / 190),  # one shared column of 10 px
        ((0, 0, 20, 10), (0, 0, 10, 10), 0.5),
        ((0, 0, 20, 20), (0, 0, 20, 15), 0.75),
        ((5, 5, 5, 9), (5, 5, 5, 9), 0.0),          # empty boxes: union 0 gives 0, not NaN
    ],
)
def test_box_iou_with_exclusive_corners(a, b, expected):
    assert box_iou([a], [b])[0, 0] == pytest.approx(expected)


def test_box_iou_shape():
    assert box_iou([A, B, C], [A, B]).shape == (3, 2)
    assert box_iou(np.zeros((0, 4)), [A]).shape == (0, 1)


def test_one_perfect_box_and_a_lower_scored_miss():
    # TP at 0.9 then FP at 0.3: points (1, 1), (1, 0.5) -> envelope 1 over recall 0..1.
    assert mean_average_precision([[(0, *A, 0.9), (0, *B, 0.3)]], [[(0, *A)]]) == 1.0


def test_duplicate_box_is_a_false_positive():
    # Truths A, B. Predictions by score: A (TP), A again (FP: A is taken), B (TP).
    # Points: (r .5, p 1), (.5, .5), (1, 2/3). AP = .5 * 1 + .5 * 2/3 = 5/6.
    predictions = [[(0, *A, 0.9), (0, *A, 0.8), (0, *B, 0.7)]]
    truths = [[(0, *A), (0, *B)]]
    assert mean_average_precision(predictions, truths) == pytest.approx(5 / 6)
    recall, precision, ap = precision_recall_curves(predictions, truths)[0]
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(precision, [1.0, 0.5, 2 / 3])
    assert ap == pytest.approx(5 / 6)
    matches = match_detections(predictions, truths)[0]
    assert matches.true_positive.tolist() == [True, False, True] and matches.num_truths == 2


def test_misses_cap_recall():
    # Four truths, two found with precision 1: AP = 0.5.
    truths = [[(0, *A), (0, *B), (0, *C), (0, 60, 60, 70, 70)]]
    predictions = [[(0, *A, 0.9), (0, *B, 0.8)]]
    assert mean_average_precision(predictions, truths) == pytest.approx(0.5)


def test_several_images_rank_predictions_together_and_match_within_their_image():
    # Image 0: truth A; FP at B (0.9), TP at A (0.6). Image 1: truth B; TP at B (0.8),
    # and a box at A (0.7) that would fit image 0's truth but is in image 1: FP.
    # Ranked: FP .9, TP .8, FP .7, TP .6 -> points (0, 0), (.5, .5), (.5, 1/3), (1, .5).
    # Envelope: .5 on (0, .5], .5 on (.5, 1] -> AP = 0.5.
    predictions = [[(0, *B, 0.9), (0, *A, 0.6)], [(0, *B, 0.8), (0, *A, 0.7)]]
    truths = [[(0, *A)], [(0, *B)]]
    assert mean_average_precision(predictions, truths) == pytest.approx(0.5)
    recall, precision, _ = precision_recall_curves(predictions, truths)[0]
    np.testing.assert_allclose(recall, [0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(precision, [0, 0.5, 1 / 3, 0.5])


def test_classes_are_matched_separately():
    # A class-1 box on a class-0 truth is not a match.
    assert mean_average_precision([[(1, *A, 0.9)]], [[(0, *A)]]) == 0.0


def test_classes_without_truths_are_left_out_of_the_mean():
    # Class 0 perfect (AP 1); class 1 has predictions but no truths: ignored.
    predictions = [[(0, *A, 0.9), (1, *B, 0.95), (1, *C, 0.5)]]
    truths = [[(0, *A)]]
    assert mean_average_precision(predictions, truths) == 1.0
    assert set(precision_recall_curves(predictions, truths)) == {0}
    # Class 2 has a truth but no prediction: AP 0, and it counts -> mean 0.5.
    truths = [[(0, *A), (2, *C)]]
    assert mean_average_precision(predictions, truths) == pytest.approx(0.5)
    recall, precision, ap = precision_recall_curves(predictions, truths)[2]
    assert recall.size == 0 and precision.size == 0 and ap == 0.0


@pytest.mark.parametrize(
    "predictions, truths",
    [([], []), ([[]], [[]]), ([[], []], [[], []]), ([[(0, *A, 0.9)]], [[]])],
)
def test_without_any_truth_the_mean_is_undefined(predictions, truths):
    assert math.isnan(mean_average_precision(predictions, truths))
    assert math.isnan(coco_map(predictions, truths))
    assert precision_recall_curves(predictions, truths) == {}


def test_truths_without_predictions_score_zero():
    assert mean_average_precision([[]], [[(0, *A)]]) == 0.0
    assert mean_average_precision([[], []], [[(0, *A)], [(1, *B)]]) == 0.0


def test_score_ties_form_one_point_whatever_their_order():
    # A TP and an FP with the same score cannot be separated by any threshold: one point
    # (recall 1, precision .5) -> AP 0.5, in either order, in one image or across two.
    truths = [[(0, *A)]]
    assert mean_average_precision([[(0, *A, 0.5), (0, *B, 0.5)]], truths) == pytest.approx(0.5)
    assert mean_average_precision([[(0, *B, 0.5), (0, *A, 0.5)]], truths) == pytest.approx(0.5)
    two = [[(0, *A)], []]
    assert mean_average_precision([[(0, *A, 0.5)], [(0, *B, 0.5)]], two) == pytest.approx(0.5)
    assert mean_average_precision([[(0, *B, 0.5)], [(0, *A, 0.5)]], [[], [(0, *A)]]) == pytest.approx(0.5)


def test_iou_threshold_is_inclusive_and_configurable():
    half = [[(0, 0, 0, 20, 10, 0.9)]]  # IoU with A is exactly 0.5
    truths = [[(0, *A)]]
    assert mean_average_precision(half, truths, iou_threshold=0.5) == 1.0
    assert mean_average_precision(half, truths, iou_threshold=0.55) == 0.0


def test_a_prediction_takes_the_best_true_box_still_free():
    # Overlapping truths T1 = A and T2 = (0, 0, 10, 11); two predictions on A. The first
    # takes T1 (IoU 1); the second takes T2 (IoU 100/110), so both are true positives.
    truths = [[(0, *A), (0, 0, 0, 10, 11)]]
    predictions = [[(0, *A, 0.9), (0, *A, 0.8)]]
    assert mean_average_precision(predictions, truths) == 1.0


def test_coco_map_averages_ten_thresholds():
    assert COCO_IOU_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    truths = [[(0, 0, 0, 20, 20)]]
    # IoU 0.75: a hit at 0.50 ... 0.75 (6 of 10 thresholds).
    assert coco_map([[(0, 0, 0, 20, 15, 0.9)]], truths) == pytest.approx(0.6)
    # IoU 0.5: a hit at 0.50 only.
    assert coco_map([[(0, 0, 0, 40, 20, 0.9)]], truths) == pytest.approx(0.1)
    assert coco_map([[(0, 0, 0, 20, 20, 0.9)]], truths) == 1.0


@pytest.mark.parametrize(
    "recall, precision, expected",
    [
        ([], [], 0.0),
        ([1.0], [1.0], 1.0),
        ([0.5, 1.0], [1.0, 0.5], 0.75),
        ([0.25, 0.5, 0.5, 1.0], [0.5, 0.4, 1.0, 0.2], 0.6),   # the dip is filled in: 0.5 * 1 + 0.5 * 0.2
    ],
)
def test_average_precision_all_point_interpolation(recall, precision, expected):
    assert average_precision(recall, precision) == pytest.approx(expected)


def test_arrays_per_image_are_accepted():
    predictions = [np.array([[0, 0, 0, 10, 10, 0.9], [0, 20, 20, 30, 30, 0.8]]), np.zeros((0, 6))]
    truths = [np.array([[0, 0, 0, 10, 10]]), np.array([[0, 20, 20, 30, 30]])]
    # Ranked: TP (image 0), FP (image 0: B is in image 1) -> points (.5, 1), (.5, .5) -> AP .5.
    assert mean_average_precision(predictions, truths) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "predictions, truths, message",
    [
        ([[]], [], "one entry per image"),
        ([[(0, *A)]], [[(0, *A)]], "6 numbers"),
        ([[(0, *A, 0.9)]], [[(0, *A, 1.0)]], "5 numbers"),
        ([[(0, 10, 0, 5, 10, 0.9)]], [[]], "x1 >= x0"),
        ([[(0, *A, float("nan"))]], [[]], "finite"),
        ([[(-1, *A, 0.9)]], [[]], "class indices"),
        ([[(0.5, *A, 0.9)]], [[]], "class indices"),
        ("boxes", [[]], "one list of boxes per image"),
    ],
)
def test_malformed_input_is_refused(predictions, truths, message):
    with pytest.raises(ValueError, match=message):
        mean_average_precision(predictions, truths)


@pytest.mark.parametrize("threshold", [0, 1.5, -0.1, True, "0.5"])
def test_bad_threshold_is_refused(threshold):
    with pytest.raises(ValueError, match="iou_threshold"):
        mean_average_precision([[]], [[]], iou_threshold=threshold)
