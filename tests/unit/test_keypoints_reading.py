"""Reading found keypoints: each object's pose (against the generators' own labels) and the comparison
with the truth (OKS, PCK@0.2 and joint hits, from their definitions)."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import open_dataset
from cv_core.keypoints import (
    FACE_LANDMARKS,
    PEOPLE,
    KeypointInstance,
    compare_with_truth,
    custom_skeleton,
    object_keypoint_similarity,
    pose_kind,
    read_pose,
)


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def test_pose_kind_follows_the_joints():
    assert pose_kind(PEOPLE) == "person" and pose_kind(FACE_LANDMARKS) == "face"
    assert pose_kind(custom_skeleton(["tip", "tail"], [("tip", "tail")])) is None


def test_people_readings_agree_with_the_generators_labels():
    people = open_dataset("people", image_size=96, difficulty="easy", validation_size=40)
    compared = 0
    for index in range(40):
        for truth in people.sample("validation", index).keypoints:
            reading = read_pose(truth.points, truth.visibility, PEOPLE)
            torso = [PEOPLE.index(j) for j in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
            if not truth.labelled[torso].all():
                continue
            compared += 1
            assert reading.kind == "person"
            assert reading.posture == truth.posture
            assert _angle_gap(reading.angle, truth.orientation) < 1.0
            # The arrow starts at the torso's centre: the mean of shoulders, hips and neck.
            x0, y0, x1, y1 = truth.box
            assert x0 - 1 <= reading.anchor[0] <= x1 + 1 and y0 - 1 <= reading.anchor[1] <= y1 + 1
    assert compared > 30


def test_face_readings_agree_with_the_generators_labels():
    faces = open_dataset("landmarks", image_size=128, validation_size=20)
    for index in range(20):
        (truth,) = faces.sample("validation", index).keypoints
        reading = read_pose(truth.points, truth.visibility, FACE_LANDMARKS)
        assert reading.kind == "face" and reading.posture is None
        assert _angle_gap(reading.angle, truth.orientation) < 1.0
        assert abs(reading.yaw - truth.turn) < 1.0


def test_read_pose_refuses_points_of_another_skeleton():
    with pytest.raises(ValueError, match="14, 2"):
        read_pose(np.zeros((6, 2)), np.ones(6), PEOPLE)


def _person(points, score=None, area=400.0):
    points = np.asarray(points, np.float32)
    box = (float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max()))
    return KeypointInstance(points=points, visibility=np.full(len(points), 2, np.uint8), box=box, area=area,
                            score=score)


def _face(offset=(0.0, 0.0)):
    base = np.array([[60, 40], [40, 40], [50, 52], [58, 62], [42, 62], [50, 75]], np.float32)
    return base + np.asarray(offset, np.float32)


def test_a_perfect_prediction_hits_every_joint():
    truth = _person(_face())
    found = _person(_face(), score=0.9)
    result = compare_with_truth([found], [truth], FACE_LANDMARKS)
    (match,) = result.matches
    assert match.oks == pytest.approx(1.0) and match.pck == 1.0 and match.hit.all()
    assert result.missed == [] and result.unmatched == []
    assert match.reference == pytest.approx(20.0)  # the eye distance, FACE_LANDMARKS's reference


def test_a_joint_beyond_a_fifth_of_the_reference_is_a_miss():
    truth = _person(_face())
    moved = _face()
    moved[5, 1] += 4.5  # the chin, 4.5 px off: more than 0.2 × 20 px
    moved[2, 0] += 3.5  # the nose tip, 3.5 px off: within 4 px
    result = compare_with_truth([_person(moved, score=0.8)], [truth], FACE_LANDMARKS)
    (match,) = result.matches
    assert list(match.hit) == [True, True, True, True, True, False]
    assert match.pck == pytest.approx(5 / 6)
    assert match.error[5] == pytest.approx(4.5) and match.error[2] == pytest.approx(3.5)
    expected = object_keypoint_similarity(moved, truth.points, truth.labelled, truth.area, FACE_LANDMARKS.sigmas)
    assert match.oks == pytest.approx(expected)


def test_unlabelled_joints_are_neither_hit_nor_missed():
    truth = _person(_face())
    truth = KeypointInstance(points=truth.points, visibility=np.array([2, 2, 2, 2, 2, 0], np.uint8), box=truth.box,
                             area=truth.area)
    moved = _face()
    moved[5] += 30  # far off, but the truth does not know the chin
    (match,) = compare_with_truth([_person(moved, score=0.5)], [truth], FACE_LANDMARKS).matches
    assert match.pck == 1.0 and not match.labelled[5] and not match.hit[5] and np.isnan(match.error[5])


def test_missed_truths_and_predictions_without_a_truth():
    near, far = _person(_face()), _person(_face((200, 0)))
    found = [_person(_face((1, 0)), score=0.9), _person(_face((0, 300)), score=0.5)]
    result = compare_with_truth(found, [near, far], FACE_LANDMARKS)
    assert [(m.prediction, m.truth) for m in result.matches] == [(0, 0)]
    assert result.missed == [1] and result.unmatched == [1]
    assert result.for_prediction(1) is None and result.for_prediction(0).truth == 0


def test_nothing_found_misses_every_truth():
    result = compare_with_truth([], [_person(_face())], FACE_LANDMARKS)
    assert result.matches == [] and result.missed == [0] and result.unmatched == []
