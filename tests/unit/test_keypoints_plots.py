"""Keypoint figures: skeletons, boxes and orientation arrows where the joints are, hits and misses as the
comparison says, a joint's heatmap over the cells it speaks for, per-joint error bars."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, KeypointInstance, compare_with_truth, person_orientation, read_pose
from cv_core.plots.keypoints import (
    OUTCOME_COLOURS,
    arrow_end,
    heatmap_figure,
    joint_errors_figure,
    outcomes_figure,
    skeleton_figure,
)

PICTURE = np.zeros((100, 100, 3), np.uint8)


@pytest.mark.parametrize("angle, end", [(0, (10, 5)), (90, (5, 10)), (-90, (15, 10)), (180, (10, 15))])
def test_arrow_end_points_the_way_the_angle_says(angle, end):
    assert arrow_end((10, 10), angle, 5) == pytest.approx(end)


def test_the_arrow_of_a_person_points_from_the_hips_to_the_shoulders():
    # A torso leaning to the picture's left: shoulders up and left of the hips.
    points = np.zeros((14, 2))
    hips, shoulders = np.array([50.0, 60.0]), np.array([40.0, 40.0])
    for name, where in (("left_hip", hips), ("right_hip", hips), ("left_shoulder", shoulders),
                        ("right_shoulder", shoulders), ("neck", shoulders)):
        points[PEOPLE.index(name)] = where
    angle = person_orientation(points, np.ones(14, bool), PEOPLE)
    direction = np.subtract(arrow_end((0, 0), angle, 1), (0, 0))
    expected = (shoulders - hips) / np.linalg.norm(shoulders - hips)
    assert direction == pytest.approx(expected)


def _face(offset=(0.0, 0.0), visibility=None, score=0.8):
    points = np.array([[60, 40], [40, 40], [50, 52], [58, 62], [42, 62], [50, 75]], np.float32) + offset
    return KeypointInstance(points=points, visibility=np.asarray(visibility or [2] * 6, np.uint8),
                            box=(40.0, 40.0, 60.0, 75.0), area=700.0, score=score)


def _trace(figure, name):
    (trace,) = [t for t in figure.data if t.name == name]
    return trace


def test_skeleton_figure_draws_joints_bones_box_label_and_arrow_where_they_are():
    face = _face(visibility=[2, 2, 2, 2, 2, 1])
    reading = read_pose(face.points, face.visibility, FACE_LANDMARKS)
    fig = skeleton_figure(PICTURE, [face], FACE_LANDMARKS, scale=2.0, readings=[reading], labels=["Face 1"])
    joints = _trace(fig, "Face 1")
    # Continuous pixel x is drawn at x * scale - 0.5 (plotly centres image pixel i on i).
    assert list(joints.x) == pytest.approx(list(face.points[:, 0] * 2 - 0.5))
    assert list(joints.y) == pytest.approx(list(face.points[:, 1] * 2 - 0.5))
    # A confirmed joint is filled; the faint chin is hollow.
    assert joints.marker.color[-1] == "rgba(0,0,0,0)" and joints.marker.color[0] != "rgba(0,0,0,0)"
    bones = _trace(fig, "bones 1")
    assert sum(x is None for x in bones.x) == len(FACE_LANDMARKS.edges)
    box = _trace(fig, "box 1")
    assert (min(box.x), max(box.x), min(box.y), max(box.y)) == pytest.approx((79.5, 119.5, 79.5, 149.5))
    (label, arrow) = fig.layout.annotations
    assert label.text == "Face 1" and arrow.showarrow
    assert (arrow.ax, arrow.ay) == pytest.approx((50 * 2 - 0.5, 40 * 2 - 0.5))  # from the eyes' midpoint
    assert arrow.y < arrow.ay  # an upright face: the arrow points up


def test_skeleton_figure_without_objects_is_just_the_picture():
    fig = skeleton_figure(PICTURE, [], PEOPLE)
    assert len(fig.data) == 1 and fig.data[0].type == "image" and not fig.layout.showlegend


def test_outcomes_figure_colours_each_joint_as_the_comparison_says():
    truth = _face(score=None)
    moved = _face()
    moved.points[5, 1] += 10  # the chin misses
    far_truth = _face((0, -38), score=None)  # a second true face nobody finds
    comparison = compare_with_truth([moved], [truth, far_truth], FACE_LANDMARKS)
    assert comparison.missed == [1]
    fig = outcomes_figure(PICTURE, [moved], [truth, far_truth], comparison, FACE_LANDMARKS)
    assert len(_trace(fig, "hit").x) == 5 and len(_trace(fig, "miss").x) == 1
    assert _trace(fig, "hit").marker.color == OUTCOME_COLOURS["hit"]
    assert _trace(fig, "miss").y[0] == pytest.approx(moved.points[5, 1] - 0.5)
    assert len(_trace(fig, "true object nobody found").x) == 6
    assert [t.name for t in fig.data if t.name == "found, no true object here"] == []


def test_heatmap_figure_places_each_cell_over_the_pixels_it_speaks_for():
    heatmap = np.zeros((25, 25), np.float32)
    heatmap[3, 7] = 1.0
    fig = heatmap_figure(PICTURE, heatmap, stride=4, scale=1.0, points=[(30.0, 14.0)])
    cells = _trace(fig, "heatmap")
    # Cell 7 covers model pixels [28, 32): its centre, x = 30, is drawn at 29.5.
    assert cells.x0 + 7 * cells.dx == pytest.approx(29.5) and cells.y0 + 3 * cells.dy == pytest.approx(13.5)
    assert (cells.zmin, cells.zmax) == (0.0, 1.0)
    assert list(_trace(fig, "found here").x) == [29.5]
    with pytest.raises(ValueError, match="2-D"):
        heatmap_figure(PICTURE, np.zeros((25, 25, 2)), stride=4)


def test_joint_errors_figure_has_a_bar_group_per_model_and_leaves_nan_out():
    fig = joint_errors_figure({"Heatmaps": [1.0, 2.0], "Regression": [3.0, float("nan")]}, ["eye", "chin"])
    assert [t.name for t in fig.data] == ["Heatmaps", "Regression"]
    assert list(fig.data[1].y) == [3.0, None] and fig.layout.barmode == "group"


def test_labels_of_two_objects_in_the_same_place_do_not_overlap():
    faces = [_face(), _face((1, 1))]
    fig = skeleton_figure(PICTURE, faces, FACE_LANDMARKS, labels=["Face 1: 0.90", "Face 2: 0.80"])
    labels = [a for a in fig.layout.annotations if not a.showarrow]
    assert [a.text for a in labels] == ["Face 1: 0.90", "Face 2: 0.80"]
    assert (labels[0].x, labels[0].y) != (labels[1].x, labels[1].y)
