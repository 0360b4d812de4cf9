"""One picture's boxes at a time: hits, misses and false positives; boxes from elsewhere as
candidates for the same thresholds; boxes moved between picture sizes; two approaches scored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cv_core.detection import (
    box_outcomes,
    box_scores,
    candidates_from_boxes,
    filter_detections,
    mean_average_precision,
    rescale_boxes,
)


@pytest.mark.parametrize(
    "predictions, truths, hit, found",
    [
        ([], [(0, 0, 0, 10, 10)], [], [False]),
        ([(0, 0, 0, 10, 10, 0.9)], [], [False], []),
        # A duplicate: the better-scored box takes the truth, the other is a false positive.
        ([(0, 1, 0, 10, 10, 0.5), (0, 0, 0, 10, 10, 0.9)], [(0, 0, 0, 10, 10)], [False, True], [True]),
        # The right place but the wrong class is no hit; a box overlapping too little neither.
        ([(1, 0, 0, 10, 10, 0.9), (0, 5, 5, 15, 15, 0.8)], [(0, 0, 0, 10, 10)], [False, False], [False]),
        # Two objects, each found once, whatever the order of the boxes.
        ([(0, 20, 20, 30, 30, 0.4), (0, 0, 0, 10, 10, 0.6)], [(0, 0, 0, 10, 10), (0, 20, 20, 30, 30)],
         [True, True], [True, True]),
    ],
)
def test_box_outcomes(predictions, truths, hit, found):
    assert box_outcomes(predictions, truths) == (hit, found)


def test_boxes_from_elsewhere_go_through_the_same_threshold_and_nms():
    boxes = [(2, 0, 0, 10, 10, 0.4), (2, 1, 1, 10, 10, 0.9), (0, 20, 20, 30, 30, 0.7)]
    raw = candidates_from_boxes(boxes, (32, 32), 3)
    assert raw.boxes.shape == (1, 3, 4) and raw.scores[0].tolist() == pytest.approx([0.9, 0.7, 0.4])
    (kept,) = filter_detections(raw, 0.3, 0.5)
    assert [(c, s) for c, *_, s in kept] == [(2, pytest.approx(0.9)), (0, pytest.approx(0.7))]  # NMS drops the 0.4
    assert len(filter_detections(raw, 0.3, 1.0)[0]) == 3 and filter_detections(raw, 0.8, 0.5)[0][0][0] == 2
    assert filter_detections(candidates_from_boxes([], (32, 32), 3), 0.0, 0.5) == [[]]


def test_rescale_boxes_moves_corners_with_the_picture():
    (moved,) = rescale_boxes([(1, 10, 20, 30, 40)], (100, 50), (50, 100))
    assert moved[0] == 1 and moved[1:] == pytest.approx((20.0, 10.0, 60.0, 20.0))
    assert rescale_boxes([(1, 10, 20, 30, 40, 0.5)], (10, 10), (10, 10)) == [(1, 10.0, 20.0, 30.0, 40.0, 0.5)]
    assert rescale_boxes([], (10, 10), (20, 20)) == []


def test_box_scores_agree_with_the_metrics():
    truths = [[(0, 0, 0, 10, 10)], [(1, 0, 0, 10, 10)]]
    predictions = [[(0, 0, 0, 10, 10, 0.9)], [(0, 0, 0, 10, 10, 0.8)]]
    scores = box_scores(predictions, truths)
    assert scores.map50 == mean_average_precision(predictions, truths) == 0.5
    assert (scores.ap50(0), scores.ap50(1), scores.images, scores.boxes) == (1.0, 0.0, 2, 2)
    assert math.isnan(scores.ap50(4))
    np.testing.assert_allclose(scores.curves[0][1], [1.0, 0.5])  # precision: a hit, then a wrong-class box


def test_mean_average_precisions_match_one_threshold_at_a_time():
    from cv_core.detection import COCO_IOU_THRESHOLDS, coco_map, mean_average_precisions

    rng = np.random.default_rng(0)
    truths = [[(int(rng.integers(3)), 10, 10, 30, 30), (int(rng.integers(3)), 25, 20, 60, 50)] for _ in range(20)]
    predictions = []
    for _ in range(20):
        corner = rng.uniform(0, 40, (15, 2))
        size = rng.uniform(5, 35, (15, 2))
        predictions.append([(int(rng.integers(3)), *corner[i], *(corner[i] + size[i]), float(rng.random()))
                            for i in range(15)])
    values = mean_average_precisions(predictions, truths)
    assert values == [mean_average_precision(predictions, truths, t) for t in COCO_IOU_THRESHOLDS]
    assert coco_map(predictions, truths) == pytest.approx(np.mean(values)) and values[0] > values[-1]


def test_boxes_under_a_pixel_are_no_candidates():
    # An untrained detector's candidate at x 3.77-4.5, y 18.91-18.95 read "(4, 19, 4, 19)" in the table.
    from cv_core.detection import MIN_BOX_SIDE, drop_tiny_boxes

    boxes = [(2, 3.77, 18.91, 4.5, 18.95, 0.16), (0, 23.35, 26.19, 25.15, 27.27, 0.19),
             (1, 10.0, 10.0, 10.0 + MIN_BOX_SIDE, 12.0, 0.12)]
    raw = candidates_from_boxes(boxes, (32, 32), 5)
    kept, dropped = drop_tiny_boxes(raw)
    assert dropped.tolist() == [[False, True, False]]  # candidates go best score first: 0.19, 0.16, 0.12
    assert int((dropped & (kept.scores > 0.17)).sum()) == 0 and int((dropped & (kept.scores > 0.1)).sum()) == 1
    (shown,) = filter_detections(kept, 0.0, 1.0)
    assert sorted(b[0] for b in shown) == [0, 1]  # the 1-pixel-wide box stays
    assert all(x1 - x0 >= MIN_BOX_SIDE and y1 - y0 >= MIN_BOX_SIDE for _, x0, y0, x1, y1, _ in shown)
    assert drop_tiny_boxes(kept)[1].sum() == 0  # already dropped: not counted twice
    assert drop_tiny_boxes(raw, min_side=3.0)[1].sum() == 3


def test_curve_gaps_say_why_a_class_has_no_curve():
    from cv_core.detection import curve_gaps, precision_recall_curves

    truths = [[(0, 0, 0, 10, 10), (1, 20, 20, 30, 30), (2, 0, 20, 10, 30)]]
    predictions = [[(0, 0, 0, 10, 10, 0.9), (2, 40, 40, 50, 50, 0.5)]]  # class 0 hit; class 2 misses; class 1 none
    curves = precision_recall_curves(predictions, truths)
    assert curve_gaps(curves, 4) == {"no_truth": [3], "no_box": [1], "no_hit": [2]}
    assert curve_gaps({}, 2) == {"no_truth": [0, 1], "no_box": [], "no_hit": []}


@pytest.mark.parametrize("predictions, truths, why", [
    ([[]], [[]], "no_truth"),
    ([[]], [[(0, 0, 0, 10, 10)]], "no_box"),
    ([[(0, 40, 40, 50, 50, 0.5)]], [[(0, 0, 0, 10, 10)]], "no_hit"),
    ([[(0, 0, 0, 10, 10, 0.5)]], [[(0, 0, 0, 10, 10)]], None),
])
def test_an_empty_precision_recall_chart_says_why(predictions, truths, why):
    from cv_core.detection import precision_recall_curves
    from cv_core.plots.detection import EMPTY_CURVES, precision_recall_figure

    figure = precision_recall_figure(precision_recall_curves(predictions, truths), ["circle"])
    notes = [note.text for note in figure.layout.annotations]
    assert notes == ([] if why is None else [EMPTY_CURVES[why]])
