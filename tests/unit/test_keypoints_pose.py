"""Mirroring, orientation and posture, checked against the generated sets' own labels and pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cv_core.datasets.landmarks import render_landmarks
from cv_core.datasets.people import render_people
from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, KeypointInstance
from cv_core.keypoints.pose import (face_orientation, flip_instances, flip_keypoints, person_orientation, posture,
                                    scale_instances, up_vector_angle)

SIZE = 96


@pytest.fixture(scope="module")
def persons():
    """200 generated people (from as many pictures as it takes)."""
    out, index = [], 0
    while len(out) < 200:
        out += render_people(2, "validation", index, SIZE).keypoints
        index += 1
    return out[:200]


def _angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.mark.parametrize("dx, dy, expected", [(0, -1, 0.0), (-1, 0, 90.0), (1, 0, -90.0), (0, 1, 180.0),
                                               (-1, -1, 45.0)])
def test_angle_convention(dx, dy, expected):
    assert up_vector_angle(dx, dy) == pytest.approx(expected)


def test_flip_swaps_left_and_right_and_mirrors_x():
    points = np.arange(28, dtype=np.float32).reshape(14, 2)
    visibility = np.full(14, 2, np.uint8)
    visibility[PEOPLE.index("right_wrist")] = 1
    flipped, vis = flip_keypoints(points, visibility, 100, PEOPLE)
    lw, rw = PEOPLE.index("left_wrist"), PEOPLE.index("right_wrist")
    assert flipped[lw].tolist() == [100 - points[rw, 0], points[rw, 1]]
    assert vis[lw] == 1 and vis[rw] == 2
    assert flipped[0].tolist() == [100 - points[0, 0], points[0, 1]]  # the head has no pair
    twice, vis_twice = flip_keypoints(flipped, vis, 100, PEOPLE)
    assert np.array_equal(twice, points) and np.array_equal(vis_twice, visibility)
    with pytest.raises(ValueError, match="14 joints"):
        flip_keypoints(points[:5], visibility[:5], 100, PEOPLE)


def test_flipped_picture_and_flipped_points_still_agree():
    """Mirror the picture with numpy and the points with flip_keypoints: each joint lands on the same pixel
    of the mirrored mask as before (x -> W - x in continuous pixels; W - 1 - x would miss by one pixel)."""
    compared = 0
    for index in range(10):
        sample = render_people(0, "test", index, SIZE)
        mirrored_mask = sample.mask[:, ::-1]
        for person, mirrored in zip(sample.keypoints, flip_instances(sample.keypoints, SIZE, PEOPLE)):
            perm = PEOPLE.flip_permutation()
            for j in np.nonzero(person.visibility > 0)[0]:
                x, y = person.points[j]
                mx, my = mirrored.points[np.nonzero(perm == j)[0][0]]
                if x != int(x):
                    assert sample.mask[int(y), int(x)] == mirrored_mask[int(my), int(mx)]
                    compared += 1
            x0, y0, x1, y1 = mirrored.box
            assert (x0, x1) == (SIZE - person.box[2], SIZE - person.box[0])
            assert mirrored.orientation == pytest.approx(-person.orientation)
    assert compared > 100


def test_person_orientation_is_the_generated_torso_angle(persons):
    exact = 0
    for person in persons:
        torso = [PEOPLE.index(j) for j in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
        angle = person_orientation(person.points, person.labelled, PEOPLE)
        if person.labelled[torso].all():
            assert _angle_gap(angle, person.orientation) < 1e-3  # float32 points, nothing else
            exact += 1
    assert exact >= 150


def test_posture_agrees_with_the_generated_labels(persons):
    """The bar: every person whose torso and knees are labelled, because the generator keeps clear of both
    45° thresholds (thighs: at most 28° standing, at least 70° sitting; torso: at most 20° from vertical
    upright, at least 70° lying), so posture is a property of those joints; overall, at least that share,
    since only people cut by the picture's edge lack them."""
    needed = [PEOPLE.index(j) for j in ("left_shoulder", "right_shoulder", "left_hip", "right_hip",
                                         "left_knee", "right_knee")]
    complete = [p for p in persons if p.labelled[needed].all()]
    assert len({p.posture for p in complete}) == 3
    assert all(posture(p.points, p.labelled, PEOPLE) == p.posture for p in complete)
    agree = np.mean([posture(p.points, p.labelled, PEOPLE) == p.posture for p in persons])
    assert agree >= len(complete) / len(persons)


def test_posture_and_orientation_from_hand_made_joints():
    points = np.zeros((14, 2))
    j = {name: i for i, name in enumerate(PEOPLE.joints)}
    for side, x in (("left", 1.0), ("right", -1.0)):
        points[j[f"{side}_shoulder"]] = (x, -3)
        points[j[f"{side}_hip"]] = (x, 0)
        points[j[f"{side}_knee"]] = (x, 2)  # thighs straight down
    visible = np.ones(14, bool)
    assert posture(points, visible, PEOPLE) == "standing"
    assert person_orientation(points, visible, PEOPLE) == 0.0
    points[[j["left_knee"], j["right_knee"]], 0] += 2  # thighs out sideways: 45° -> still standing
    points[[j["left_knee"], j["right_knee"]], 1] = 0.1
    assert posture(points, visible, PEOPLE) == "sitting"
    lying = points[:, ::-1] * [1, -1]  # turned a quarter: x = y, y = -x
    assert posture(lying, visible, PEOPLE) == "lying"
    assert abs(person_orientation(lying, visible, PEOPLE)) == 90.0
    assert posture(points, np.zeros(14, bool), PEOPLE) is None


def test_face_orientation_reads_back_the_generated_roll_and_yaw():
    checked = 0
    for index in range(80):
        face = render_landmarks(1, "train", index, SIZE).keypoints[0]
        found = face_orientation(face.points, face.labelled, FACE_LANDMARKS)
        if not face.labelled[:3].all():  # an eye or the nose outside the picture
            assert found is None or found["yaw"] is None
            continue
        checked += 1
        assert found["roll"] == pytest.approx(face.orientation, abs=0.01)
        assert found["yaw"] == pytest.approx(face.turn, abs=0.01)
    assert checked >= 60
    assert face_orientation(np.zeros((6, 2)), np.zeros(6, bool)) is None


def test_scale_instances_scales_points_boxes_and_areas():
    item = KeypointInstance(points=np.array([[10.0, 20.0]]), visibility=np.array([2], np.uint8),
                            box=(0, 0, 40, 80), area=100.0)
    scaled = scale_instances([item], (100, 200), (50, 400))[0]
    assert scaled.points.tolist() == [[20.0, 10.0]]
    assert scaled.box == (0, 0, 80, 40) and scaled.area == 100.0
    assert math.isclose(scaled.area, item.area * 2 * 0.5)
