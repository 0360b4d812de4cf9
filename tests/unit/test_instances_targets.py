"""Targets and decoding on synthetic pictures: two touching squares stay two, a square cut by a bar stays one."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.instances import (OFFSET_SCALE, connected_components, decode_instances, encode_instance_targets,
                               filter_instances, mask_average_precision, score_instances, targets_as_outputs)

H = W = 32


def _scene():
    classes = np.zeros((H, W), np.int32)
    instances = np.zeros((H, W), np.uint16)
    classes[4:12, 4:12], instances[4:12, 4:12] = 2, 1      # two touching squares of one class
    classes[4:12, 12:20], instances[4:12, 12:20] = 2, 2
    classes[18:28, 6:16], instances[18:28, 6:16] = 2, 3    # a square ...
    classes[22:24, 6:16], instances[22:24, 6:16] = 0, 0    # ... cut in two by a bar (background)
    classes[20:26, 22:28], instances[20:26, 22:28] = 1, 4  # another class
    truths = [{"mask": instances == i, "class": int(classes[instances == i][0])} for i in (1, 2, 3, 4)]
    return classes, instances, truths


def test_targets_follow_the_definition():
    classes, instances, _ = _scene()
    t = encode_instance_targets(classes, instances, 3)
    np.testing.assert_array_equal(t["semantic"], classes)
    # Exactly 1 at each object's centre of mass (rounded), below 1 elsewhere.
    for i in (1, 2, 3, 4):
        ys, xs = np.nonzero(instances == i)
        cy, cx = ys.mean(), xs.mean()
        cls = int(classes[instances == i][0])
        assert t["centre"][int(round(cy)), int(round(cx)), cls] == 1.0  # on its class's channel
        # offsets point from each pixel to that centre, in OFFSET_SCALE units, with mask 1
        np.testing.assert_allclose(t["offset"][ys, xs, 0] * OFFSET_SCALE, cy - ys, atol=1e-5)
        np.testing.assert_allclose(t["offset"][ys, xs, 1] * OFFSET_SCALE, cx - xs, atol=1e-5)
    assert np.count_nonzero(t["centre"] == 1.0) == 4 and not t["centre"][..., 0].any()
    assert np.count_nonzero(t["centre"][..., 1] == 1.0) == 1
    np.testing.assert_array_equal(t["offset"][..., 2], instances > 0)
    assert not t["offset"][instances == 0].any()
    # The cut square's centre of mass lies on the bar: both halves point at it.
    ys, xs = np.nonzero(instances == 3)
    assert classes[int(round(ys.mean())), int(round(xs.mean()))] == 0


def test_decoding_the_targets_gives_every_object_back():
    classes, instances, truths = _scene()
    outputs = targets_as_outputs(encode_instance_targets(classes, instances, 3), num_classes=3)
    found = decode_instances(outputs["semantic"], outputs["centre"], outputs["offset"])
    assert len(found) == 4
    for truth in truths:
        match = [f for f in found if np.array_equal(f["mask"], truth["mask"])]
        assert len(match) == 1 and match[0]["class"] == truth["class"]
    assert mask_average_precision([found], [truths])["AP"] == pytest.approx(1.0)
    scores = score_instances([found], [truths])
    assert (scores["pairs_separated"], scores["touching_pairs"]) == (1, 1)


def test_connected_components_merge_the_touching_squares_and_split_the_cut_one():
    classes, instances, truths = _scene()
    probabilities = np.eye(3, dtype=np.float32)[classes]
    found = connected_components(probabilities)
    areas = sorted((f["class"], f["area"]) for f in found)
    assert areas == [(1, 36), (2, 40), (2, 40), (2, 128)]  # one blob of 128 = 2 × 64; two halves of 40
    scores = score_instances([found], [truths])
    assert (scores["pairs_separated"], scores["touching_pairs"]) == (0, 1)
    assert scores["mask_ap75"] < 0.5


def test_score_filter_and_nothing_found():
    classes, instances, _ = _scene()
    outputs = targets_as_outputs(encode_instance_targets(classes, instances, 3), num_classes=3)
    outputs["centre"] = outputs["centre"] * 0.5
    found = decode_instances(outputs["semantic"], outputs["centre"], outputs["offset"])
    assert len(filter_instances(found, 0.4)) == 4 and filter_instances(found, 0.6) == []
    assert decode_instances(outputs["semantic"], np.zeros((H, W, 3)), outputs["offset"]) == []


def test_one_centre_channel_takes_the_class_from_the_semantic_vote():
    classes, instances, truths = _scene()
    outputs = targets_as_outputs(encode_instance_targets(classes, instances, 3), num_classes=3)
    single = outputs["centre"].max(-1, keepdims=True)  # Panoptic-DeepLab's one heatmap for all classes
    found = decode_instances(outputs["semantic"], single, outputs["offset"])
    assert mask_average_precision([found], [truths])["AP"] == pytest.approx(1.0)


def test_the_class_is_the_centre_channel_not_the_pixels_vote():
    classes, instances, _ = _scene()
    outputs = targets_as_outputs(encode_instance_targets(classes, instances, 3), num_classes=3)
    semantic = outputs["semantic"].copy()
    semantic[instances == 4] = [0.1, 0.0, 0.9]  # the pixels of the class-1 square say class 2
    found = decode_instances(semantic, outputs["centre"], outputs["offset"])
    (square,) = [f for f in found if np.array_equal(f["mask"], instances == 4)]
    assert square["class"] == 1
