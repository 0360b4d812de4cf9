"""cv_core.coco_accumulate: COCO's accumulate step (also checked against pycocotools through the mask and
keypoint AP tests, which call it)."""

import numpy as np

from cv_core.coco_accumulate import RECALL_THRESHOLDS, interpolated_precision


def test_recall_points_are_cocos_101():
    assert len(RECALL_THRESHOLDS) == 101 and RECALL_THRESHOLDS[0] == 0.0 and RECALL_THRESHOLDS[-1] == 1.0


def test_a_prediction_matched_to_an_ignored_truth_counts_neither_way():
    scores = [np.array([0.9, 0.8, 0.7])]
    matched = [np.array([[True, False, True]])]
    ignored = [np.array([[False, True, False]])]  # the false positive at 0.8 matched an ignored truth
    with_ignored = interpolated_precision(scores, matched, 2, ignored)
    without_it = interpolated_precision([np.array([0.9, 0.7])], [np.array([[True, True]])], 2)
    np.testing.assert_array_equal(with_ignored, without_it)
    assert with_ignored[0, -1] > 0.99  # both truths found with no false positive: precision 1 at recall 1


def test_predictions_are_pooled_across_pictures_by_score():
    # Picture 1's miss (0.95) outranks picture 2's hit (0.5): precision at recall 1 is 1/2, at recall 0.5 it is 1/2.
    precision = interpolated_precision([np.array([0.95]), np.array([0.5])],
                                       [np.array([[False]]), np.array([[True]])], 1)
    assert precision.shape == (1, 101)
    np.testing.assert_allclose(precision[0], 0.5, rtol=1e-9)
