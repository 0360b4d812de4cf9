"""Keypoint targets: they decode back to the truth, flips swap left and right, shifts move joints with pixels."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import DatasetError, open_dataset
from cv_core.keypoints import PEOPLE, KeypointInstance, keypoint_average_precision, object_keypoint_similarity, pck
from cv_core.keypoints.decode import filter_keypoints, raw_keypoints
from cv_core.keypoints.targets import (
    augment_batch,
    encode_keypoint_targets,
    instance_arrays,
    keypoint_batches,
    target_shapes,
    targets_as_outputs,
)

SIZE = (64, 64)
STRIDE = 4
KINDS = ("pose", "heatmap", "regression")


def _person(points, visibility=None, box=None, area=200.0):
    points = np.asarray(points, np.float32)
    visibility = np.full(len(points), 2, np.uint8) if visibility is None else np.asarray(visibility, np.uint8)
    if box is None:
        box = (*points.min(axis=0), *points.max(axis=0))
    return KeypointInstance(points=points, visibility=visibility, box=tuple(float(v) for v in box), area=area)


def _random_person(rng, centre, spread=12.0):
    points = centre + rng.uniform(-spread, spread, size=(PEOPLE.num_joints, 2))
    return _person(points.astype(np.float32), box=(centre[0] - spread, centre[1] - spread,
                                                    centre[0] + spread, centre[1] + spread))


def _decode(kind, instances, size=SIZE):
    points, visibility, boxes = instance_arrays(instances, PEOPLE.num_joints)
    targets = encode_keypoint_targets(kind, points, visibility, boxes, size, STRIDE)
    return filter_keypoints(raw_keypoints(targets_as_outputs(targets), STRIDE, image_size=size), 0.0)[0]


def test_two_people_come_back_exactly_from_the_pose_targets():
    rng = np.random.default_rng(0)
    people = [_random_person(rng, np.array([18.3, 20.6])), _random_person(rng, np.array([45.1, 41.7]))]
    people[1].visibility[[3, 8]] = (1, 0)  # a hidden joint counts, an unlabelled one is not encoded
    found = _decode("pose", people)
    assert len(found) == 2 and all(p.score == pytest.approx(1.0) for p in found)
    for truth in people:
        best = max(found, key=lambda p: object_keypoint_similarity(p.points, truth.points, truth.labelled,
                                                                   truth.area, PEOPLE.sigma_array))
        assert np.allclose(best.points[truth.labelled], truth.points[truth.labelled], atol=1e-4)
        assert (best.visibility[truth.labelled] == 2).all()  # every labelled joint snapped to its heatmap's peak


@pytest.mark.parametrize("kind", ["heatmap", "regression"])
def test_one_object_comes_back_exactly(kind):
    rng = np.random.default_rng(1)
    small, main = _random_person(rng, np.array([15.5, 14.2]), 6.0), _random_person(rng, np.array([40.2, 38.9]))
    main.area, small.area = 500.0, 100.0
    found = _decode(kind, [small, main])  # the largest object is the one a single-object model learns
    assert len(found) == 1
    assert np.allclose(found[0].points, main.points, atol=1e-4)
    assert pck(found[0].points, main.points, main.labelled, reference=10.0) == 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_generated_pictures_round_trip_to_a_perfect_score(kind):
    dataset = open_dataset("people", image_size=64, validation_size=12, difficulty="medium")
    predictions, truths = [], []
    for sample in dataset.samples("validation", count=12):
        truth = sample.keypoints if kind == "pose" else sorted(sample.keypoints, key=lambda t: -t.area)[:1]
        found = _decode(kind, sample.keypoints, (64, 64))
        predictions.append([p.as_prediction() for p in found])
        truths.append([t.as_truth() for t in truth])
    if kind == "pose":
        assert sum(len(t) for t in truths) > 12  # several people a picture: the grouping is exercised
    assert keypoint_average_precision(predictions, truths, PEOPLE.sigma_array) == {"AP": 1.0, "AP50": 1.0,
                                                                                   "AP75": 1.0}


def test_only_labelled_joints_have_targets():
    person = _person(np.full((PEOPLE.num_joints, 2), 30.0, np.float32), visibility=[2, 1] + [0] * 12,
                     box=(20, 20, 40, 40))
    points, visibility, boxes = instance_arrays([person], PEOPLE.num_joints)
    k = PEOPLE.num_joints
    pose = encode_keypoint_targets("pose", points, visibility, boxes, SIZE, STRIDE)
    assert pose["joint_heatmap"].reshape(-1, k).max(axis=0).tolist() == [1.0, 1.0] + [0.0] * 12
    assert pose["joint_offsets"][..., 2 * k:].sum(axis=(0, 1)).tolist() == [1.0, 1.0] + [0.0] * 12
    regression = encode_keypoint_targets("regression", points, visibility, boxes, SIZE, None)
    assert regression["joints"][2 * k:].tolist() == [1.0, 1.0] + [0.0] * 12


def test_crowds_and_people_without_labelled_joints_are_left_out():
    crowd, nobody, someone = (_person(np.full((PEOPLE.num_joints, 2), 10.0), area=900.0),
                              _person(np.zeros((PEOPLE.num_joints, 2)), visibility=[0] * 14, area=800.0),
                              _person(np.full((PEOPLE.num_joints, 2), 20.0), area=10.0))
    crowd.crowd = True
    points, visibility, boxes = instance_arrays([crowd, nobody, someone], PEOPLE.num_joints, max_instances=4)
    assert (visibility > 0).any(axis=1).tolist() == [True, False, False, False]
    assert points[0, 0].tolist() == [20.0, 20.0]


def _mirror_pairs():
    return [(a, b) for a, b in PEOPLE.flip_pairs] + [(b, a) for a, b in PEOPLE.flip_pairs]


def test_a_flip_swaps_left_and_right_joints_in_the_targets():
    dataset = open_dataset("people", image_size=64, train_size=4, difficulty="easy")
    sample = dataset.samples("train", count=1)[0]
    points, visibility, boxes = instance_arrays(sample.keypoints, PEOPLE.num_joints)
    images = sample.image[None].astype(np.float32)
    flipped = augment_batch(images, points[None], visibility[None], boxes[None], seed=3,
                            permutation=PEOPLE.flip_permutation(), max_shift=0.0, flip_probability=1.0)
    assert np.array_equal(flipped[0][0], images[0, :, ::-1])
    before = encode_keypoint_targets("pose", points, visibility, boxes, (64, 64), STRIDE)
    after = encode_keypoint_targets("pose", flipped[1][0], flipped[2][0], flipped[3][0], (64, 64), STRIDE)
    assert before["joint_heatmap"].max() == 1.0
    for left, right in _mirror_pairs():  # the mirrored picture's left wrist is the original right wrist
        assert np.allclose(after["joint_heatmap"][:, :, left], before["joint_heatmap"][:, ::-1, right])
    assert np.allclose(after["centre"], before["centre"][:, ::-1])
    left_wrist, right_wrist = PEOPLE.index("left_wrist"), PEOPLE.index("right_wrist")
    main = np.argmax((visibility > 0).sum(axis=1))
    if visibility[main, right_wrist]:
        assert np.allclose(flipped[1][0][main, left_wrist], (64 - points[main, right_wrist, 0],
                                                             points[main, right_wrist, 1]))


def test_flips_and_shifts_move_the_joints_with_the_pixels():
    rng = np.random.default_rng(2)
    k = PEOPLE.num_joints
    cells = np.stack([rng.choice(56 * 56, size=3 * k, replace=False) for _ in range(6)])  # no two on one pixel
    points = (np.stack([cells % 56, cells // 56], axis=-1) + 4 + rng.uniform(0.1, 0.9, size=(6, 3 * k, 2)))
    points = points.reshape(6, 3, k, 2).astype(np.float32)
    visibility = np.full((6, 3, k), 2, np.int32)
    images = np.zeros((6, 64, 64, 3), np.float32)
    joint_value = np.arange(1, k + 1, dtype=np.float32)
    for b in range(6):
        for person in range(3):
            cols, rows = np.floor(points[b, person]).astype(int).T
            images[b, rows, cols, 0] = joint_value  # each joint's pixel carries the joint's number
    out_images, out_points, out_visibility, _ = augment_batch(images, points, visibility, np.zeros((6, 3, 4)),
                                                              seed=11, permutation=PEOPLE.flip_permutation())
    mirrored, kept = 0, 0
    for b in range(6):
        inside = out_visibility[b] > 0
        cols, rows = np.floor(np.minimum(out_points[b][inside], 63.999)).astype(int).T
        seen = out_images[b, rows, cols, 0]
        expected = np.broadcast_to(joint_value, (3, k))[inside]
        swapped = np.broadcast_to(joint_value[PEOPLE.flip_permutation()], (3, k))[inside]
        assert np.array_equal(seen, expected) or np.array_equal(seen, swapped)
        mirrored += np.array_equal(seen, swapped) and not np.array_equal(seen, expected)
        kept += inside.sum()
    assert 0 < mirrored < 6 and kept > 0.8 * 6 * 3 * k  # some pictures flipped, most joints still inside


@pytest.mark.parametrize("kind", KINDS)
def test_the_pipeline_batches_every_kind(kind):
    dataset = open_dataset("people", image_size=32, train_size=6, validation_size=2, test_size=0,
                           difficulty="easy")
    batches = keypoint_batches(dataset, "train", kind, (32, 32), batch_size=4, shuffle=True, augment=True,
                               output_stride=STRIDE)
    images, targets = next(iter(batches))
    assert images.shape == (4, 32, 32, 3)
    expected = target_shapes(kind, (32, 32), None if kind == "regression" else STRIDE, PEOPLE.num_joints)
    assert {name: tuple(value.shape[1:]) for name, value in targets.items()} == expected


def test_a_dataset_without_keypoints_is_refused():
    with pytest.raises(DatasetError, match="has no keypoints"):
        keypoint_batches(open_dataset("shapes", train_size=4, validation_size=2, test_size=0), "train", "pose")
