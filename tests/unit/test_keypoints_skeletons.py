"""Skeletons: COCO's published values, the lab's people and face skeletons, and your own, checked."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.keypoints import (COCO_JOINTS, COCO_PERSON, COCO_SIGMAS, DEFAULT_SIGMA, FACE_LANDMARKS, PEOPLE,
                               SKELETONS, Skeleton, custom_skeleton, get_skeleton)

# COCO's person category as person_keypoints_val2017.json writes it (joint numbers from 1).
COCO_FILE_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
                      [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]


def test_coco_sigmas_are_the_published_ones():
    published = [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
    assert COCO_SIGMAS == pytest.approx([s / 10 for s in published], abs=1e-15)
    pytest.importorskip("pycocotools")
    from pycocotools.cocoeval import Params

    assert np.array_equal(np.array(COCO_SIGMAS), Params(iouType="keypoints").kpt_oks_sigmas)  # bit for bit


def test_coco_person_matches_the_coco_file():
    assert COCO_PERSON.joints == COCO_JOINTS and len(COCO_JOINTS) == 17
    assert [[a + 1, b + 1] for a, b in COCO_PERSON.edges] == COCO_FILE_SKELETON
    assert COCO_PERSON.edge_names()[0] == ("left_ankle", "left_knee")


def _swap(name: str) -> str:
    return name.replace("left", "#").replace("right", "left").replace("#", "right")


@pytest.mark.parametrize("skeleton", list(SKELETONS.values()), ids=list(SKELETONS))
def test_every_left_joint_is_paired_with_its_right_one(skeleton):
    for a, b in skeleton.flip_pairs:
        assert _swap(skeleton.joints[a]) == skeleton.joints[b]
    paired = {j for pair in skeleton.flip_pairs for j in pair}
    sided = {i for i, name in enumerate(skeleton.joints) if "left" in name or "right" in name}
    assert paired == sided
    perm = skeleton.flip_permutation()
    assert np.array_equal(perm[perm], np.arange(skeleton.num_joints))  # mirroring twice changes nothing


def test_people_keep_coco_order_and_sigmas_for_coco_joints():
    assert PEOPLE.joints[:2] == ("head", "neck")
    assert PEOPLE.joints[2:] == COCO_JOINTS[5:]
    assert PEOPLE.sigmas[2:] == COCO_SIGMAS[5:]
    assert PEOPLE.sigmas[:2] == (0.079, 0.079)  # CrowdPose's head and neck
    assert PEOPLE.reference == ("left_shoulder", "right_hip")
    connected = {j for edge in PEOPLE.edges for j in edge}
    assert connected == set(range(PEOPLE.num_joints))


def test_face_landmarks():
    assert FACE_LANDMARKS.joints == ("left_eye", "right_eye", "nose_tip", "left_mouth_corner",
                                     "right_mouth_corner", "chin")
    assert FACE_LANDMARKS.sigmas == (DEFAULT_SIGMA,) * 5 + (0.07,)
    assert FACE_LANDMARKS.reference == ("left_eye", "right_eye")


def test_custom_skeleton_from_names_and_edges():
    s = custom_skeleton(["nose", "Left Ear", "Right Ear", "tail"], [("nose", "Left Ear"), ("nose", "Right Ear"),
                                                                    ("nose", "tail")], name="dog")
    assert s.edges == ((0, 1), (0, 2), (0, 3))
    assert s.flip_pairs == ((1, 2),)
    assert s.sigmas == (COCO_SIGMAS[0], DEFAULT_SIGMA, DEFAULT_SIGMA, DEFAULT_SIGMA)  # "nose" is COCO's
    assert Skeleton.from_dict(s.to_dict()) == s
    assert get_skeleton("people") is PEOPLE


@pytest.mark.parametrize("joints, edges, options, words", [
    (["a", "b"], [("a", "tail")], {}, "unknown joint 'tail'.*'a', 'b'"),
    (["a", "a"], [], {}, "unique"),
    ([], [], {}, "at least one"),
    (["a", ""], [], {}, "non-empty"),
    (["a", "b"], [("a", "a")], {}, "two different joints"),
    (["a", "b"], [(0, 5)], {}, "between 0 and 1"),
    (["a", "b"], [("a",)], {}, "two joints"),
    (["a", "b"], [], {"sigmas": [0.1]}, "one sigma per joint"),
    (["a", "b"], [], {"sigmas": [0.1, -1]}, "positive sigma for joint 'b'"),
    (["a", "b"], [], {"sigmas": [0.1, float("nan")]}, "positive sigma"),
    (["a", "b"], [], {"reference": ("a", "c")}, "reference"),
    (["l", "r", "m"], [], {"flip_pairs": [("l", "r"), ("r", "m")]}, "at most one flip pair"),
])
def test_custom_skeleton_refuses_bad_descriptions(joints, edges, options, words):
    with pytest.raises(ValueError, match=words):
        custom_skeleton(joints, edges, **options)


def test_unknown_names():
    with pytest.raises(ValueError, match="skeleton name"):
        get_skeleton("horse")
    with pytest.raises(ValueError, match="joint of the 'people' skeleton"):
        PEOPLE.index("tail")
