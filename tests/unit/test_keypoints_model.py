"""Keypoint models: shapes and layer names, compiling, saving, decoding, and the per-epoch scores."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cv_core.keypoints import PEOPLE, KeypointInstance, keypoint_average_precision
from cv_core.keypoints.decode import RawKeypoints, filter_keypoints, predict_raw_keypoints, snap_joints
from cv_core.keypoints.models import (
    build_keypoint_heatmap_model,
    build_keypoint_regression_model,
    build_pose_model,
    compile_keypoint_model,
    keypoint_model_geometry,
    load_keypoint_model,
)

BUILDERS = {"pose": build_pose_model, "heatmap": build_keypoint_heatmap_model,
            "regression": build_keypoint_regression_model}


def _build(kind, conv_type="separable", size=32, joints=5, filters=(8, 16, 32)):
    return BUILDERS[kind](img_size=(size, size), num_joints=joints, backbone_filters=filters, conv_type=conv_type,
                          head_width=8)


@pytest.mark.parametrize("conv_type", ["separable", "conv2d"])
@pytest.mark.parametrize("kind, expected", [
    ("pose", {"centre": (8, 8, 1), "size": (8, 8, 2), "offset": (8, 8, 2), "joint_offsets": (8, 8, 10),
              "joint_heatmap": (8, 8, 5), "joint_refine": (8, 8, 10)}),
    ("heatmap", {"joint_heatmap": (8, 8, 5), "joint_refine": (8, 8, 10)}),
    ("regression", {"joints": (10,)}),
])
def test_each_model_has_its_outputs_and_the_detectors_layer_names(kind, expected, conv_type):
    model = _build(kind, conv_type)
    assert {name: tuple(t.shape[1:]) for name, t in model.output.items()} == expected
    names = {layer.name for layer in model.layers}
    conv = "sepconv" if conv_type == "separable" else "conv"
    assert {"image", "rescaling", "stem_conv", f"block1_{conv}1", f"block2_{conv}2", "block2_add"} <= names
    assert {f"{head}_conv" for head in expected} <= names
    assert ("neck2_concat" in names) == (kind != "regression")  # the heatmap models climb back to stride 4
    assert not any(name.startswith(("conv2d", "dense", "lambda")) for name in names)  # no automatic names
    geometry = keypoint_model_geometry(model)
    assert (geometry.image_size, geometry.num_joints, geometry.kind) == ((32, 32), 5, kind)
    assert geometry.output_stride == (None if kind == "regression" else 4)


@pytest.mark.parametrize("argument, value, message", [
    ("num_joints", 0, "num_joints"), ("conv_type", "depthwise", "conv_type"), ("output_stride", 8, "output_stride"),
    ("img_size", (30, 32), "img_size"), ("backbone_filters", (), "backbone_filters"),
])
def test_bad_arguments_say_what_was_expected(argument, value, message):
    arguments = {"img_size": (32, 32), "num_joints": 5, "backbone_filters": (8, 16), "output_stride": 4}
    arguments[argument] = value
    with pytest.raises(ValueError, match=f"Expected `{message}`"):
        build_pose_model(**arguments)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # never trained: no optimizer state
@pytest.mark.parametrize("kind", ["pose", "regression"])
def test_compiled_models_log_a_loss_per_output_and_load_in_safe_mode(kind, tmp_path):
    model = compile_keypoint_model(_build(kind), 5)
    assert set(model.loss) == set(model.output)
    with pytest.raises(ValueError, match="6 joints"):
        compile_keypoint_model(_build(kind), 6)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_keypoint_model(path)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    for name, value in model.predict(images, verbose=0).items():
        assert np.allclose(loaded.predict(images, verbose=0)[name], value, atol=1e-5)


@pytest.mark.parametrize("kind", ["pose", "heatmap", "regression"])
def test_predictions_are_objects_with_every_joint_inside_the_picture(kind):
    model = _build(kind)
    images = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    raw = predict_raw_keypoints(model, images)
    people = 20 if kind == "pose" else 1
    assert raw.points.shape == (3, people, 5, 2) and raw.scores.shape == (3, people)
    found = filter_keypoints(raw, 0.0)
    assert all(1 <= len(p) <= people for p in found)  # a pose model's candidates are the centre map's peaks
    assert all(0 <= p.score <= 1 and p.points.shape == (5, 2) for picture in found for p in picture)
    assert all(((p.points >= 0) & (p.points <= 32)).all() for picture in found for p in picture)
    with pytest.raises(ValueError, match="Expected images of shape"):
        predict_raw_keypoints(model, images[:, :16])


def test_a_joint_snaps_to_the_nearest_confident_peak_within_reach():
    regressed = np.array([[[[10.0, 10.0], [40.0, 40.0], [20.0, 20.0]]]], np.float32)  # (1, 1, 3, 2)
    boxes = np.array([[[0.0, 0.0, 20.0, 10.0]]], np.float32)  # longer side 20: reach 0.3 * 20 = 6 px
    peak_scores = np.array([[[0.9, 0.8], [0.9, 0.0], [0.05, 0.0]]], np.float32)  # (1, 3, 2)
    peak_points = np.array([[[[13.0, 14.0], [11.0, 9.0]], [[47.0, 40.0], [0.0, 0.0]],
                             [[20.5, 20.0], [0.0, 0.0]]]], np.float32)
    points, scores, snapped = snap_joints(regressed, boxes, peak_scores, peak_points)
    assert snapped[0, 0].tolist() == [True, False, False]  # too far (7 px), too weak (0.05)
    assert points[0, 0].tolist() == [[11.0, 9.0], [40.0, 40.0], [20.0, 20.0]]  # the nearer of two peaks
    assert scores[0, 0].tolist() == pytest.approx([0.8, 0.0, 0.0])


def test_the_score_threshold_filters_candidates_found_once():
    raw = RawKeypoints(points=np.zeros((1, 3, 2, 2), np.float32), joint_scores=np.zeros((1, 3, 2), np.float32),
                       snapped=np.zeros((1, 3, 2), bool), regressed=np.zeros((1, 3, 2, 2), np.float32),
                       scores=np.array([[0.9, 0.5, 0.2]], np.float32),
                       boxes=np.array([[[0, 0, 4, 5]] * 3], np.float32), image_size=(32, 32), kind="pose")
    assert [p.score for p in filter_keypoints(raw, 0.3)[0]] == pytest.approx([0.9, 0.5])
    assert [p.area for p in filter_keypoints(raw, 0.0, max_objects=1)[0]] == [20.0]
    with pytest.raises(ValueError, match="score_threshold"):
        filter_keypoints(raw, 1.5)


def test_scores_on_hand_made_people_follow_the_definitions():
    from cv_core.keypoints.evaluate import score_keypoints

    truth_points = np.stack([np.arange(14) * 3.0 + 10, np.full(14, 40.0)], axis=1).astype(np.float32)
    truth = KeypointInstance(points=truth_points, visibility=np.full(14, 2, np.uint8), box=(10, 30, 50, 50),
                             area=400.0)
    other = KeypointInstance(points=truth_points + 60, visibility=np.full(14, 2, np.uint8), box=(70, 90, 110, 110),
                             area=400.0)
    reference = math.dist(truth_points[PEOPLE.index("left_shoulder")], truth_points[PEOPLE.index("right_hip")])
    near = truth_points.copy()
    near[:4, 0] += 0.2 * reference + 0.5  # four joints just past PCK@0.2, the rest exact
    prediction = KeypointInstance(points=near, visibility=np.full(14, 2, np.uint8), score=0.9)
    hidden = KeypointInstance(points=truth_points + 60, visibility=np.full(14, 2, np.uint8), score=0.2)
    result = score_keypoints([[prediction, hidden]], [[truth, other]], PEOPLE)
    assert result.pck == pytest.approx(10 / 28)  # the second person's only prediction scores under 0.3
    assert result.joint_pck[:4].tolist() == [0.0] * 4 and result.joint_pck[4:].tolist() == [0.5] * 10
    assert result.joint_error[4] == 0.0 and result.joint_error[0] == pytest.approx(0.2 * reference + 0.5)
    expected = keypoint_average_precision([[prediction.as_prediction(), hidden.as_prediction()]],
                                          [[truth.as_truth(), other.as_truth()]], PEOPLE.sigma_array)
    assert (result.ap, result.ap50, result.ap75) == (expected["AP"], expected["AP50"], expected["AP75"])


def test_the_callback_logs_the_numbers_of_keypoint_average_precision(monkeypatch):
    """On predictions near the truth (encoded, decoded, then moved a little), so the scores are neither 0 nor 1."""
    from dataclasses import replace

    from cv_core.datasets import open_dataset
    from cv_core.keypoints import evaluate
    from cv_core.keypoints.decode import raw_keypoints
    from cv_core.keypoints.targets import encode_pose_targets, instance_arrays, targets_as_outputs

    dataset = open_dataset("people", image_size=64, train_size=4, validation_size=8, test_size=0, difficulty="easy")
    images, truths = evaluate.keypoint_samples(dataset, "validation", (64, 64), limit=6)
    rng = np.random.default_rng(4)
    produced = []

    def near_the_truth(model, batch, **settings):
        raws = []
        for image in batch:
            index = next(i for i in range(len(images)) if np.array_equal(images[i], image))
            parts = instance_arrays(truths[index], PEOPLE.num_joints)
            raw = raw_keypoints(targets_as_outputs(encode_pose_targets(*parts, (64, 64), 4)), 4)
            raws.append(replace(raw, points=raw.points + rng.normal(0, 0.8, raw.points.shape).astype(np.float32),
                                scores=np.where(raw.scores > 0.5, rng.uniform(0.2, 1, raw.scores.shape), 0.005)))
        produced.append(replace(raws[0], **{name: np.concatenate([getattr(r, name) for r in raws]) for name in (
            "points", "joint_scores", "snapped", "regressed", "scores", "boxes")}))
        return produced[-1]

    monkeypatch.setattr(evaluate, "predict_raw_keypoints", near_the_truth)
    callback = evaluate.KeypointScoresCallback(dataset, limit=6, batch_size=4)
    callback.set_model(build_pose_model((64, 64), PEOPLE.num_joints, (8, 16), head_width=8))
    logs = {}
    callback.on_epoch_end(0, logs)
    predictions = [p for raw in produced for p in filter_keypoints(raw, 0.01)]
    assert len(predictions) == 6 and sum(map(len, predictions)) > 6
    expected = keypoint_average_precision([[p.as_prediction() for p in picture] for picture in predictions],
                                          [[t.as_truth() for t in picture] for picture in truths], PEOPLE.sigma_array)
    assert 0 < expected["AP"] < 1
    assert (logs["val_kp_ap"], logs["val_kp_ap50"]) == (expected["AP"], expected["AP50"])
    assert logs["val_pck"] == evaluate.score_keypoints(predictions, truths, PEOPLE).pck
