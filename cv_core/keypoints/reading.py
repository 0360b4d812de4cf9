"""Reading found keypoints as a person would: each object's pose, and how it compares with the truth.

- :func:`read_pose`: which way an object points (a person's torso from
  :func:`~cv_core.keypoints.person_orientation`, a face's eye line and turn from
  :func:`~cv_core.keypoints.face_orientation`), its posture where the skeleton knows it
  (:func:`~cv_core.keypoints.posture`), and a point to draw its orientation arrow from.
- :func:`compare_with_truth`: the predictions of one picture paired with its true objects as COCO
  pairs them (:func:`~cv_core.keypoints.match_instances`), with each pair's OKS, PCK@0.2 and each
  joint's hit (within 0.2 of the reference length) or miss, and the true objects nobody found.

>>> reading = read_pose(person.points, person.labelled, PEOPLE)
>>> reading.angle, reading.posture            # (4.2, "standing")
>>> comparison = compare_with_truth(found, truths, PEOPLE)
>>> [(m.oks, m.pck) for m in comparison.matches], comparison.missed
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cv_core.keypoints.instance import KeypointInstance
from cv_core.keypoints.metrics import match_instances, reference_length
from cv_core.keypoints.pose import face_orientation, person_orientation, posture
from cv_core.keypoints.skeletons import Skeleton

__all__ = ["PoseReading", "TruthComparison", "TruthMatch", "compare_with_truth", "pose_kind", "read_pose"]

_TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "neck")


def pose_kind(skeleton: Skeleton) -> str | None:
    """"person" for a skeleton with hips (its torso gives an orientation and a posture), "face" for
    one with both eyes and no hips, else None (no orientation can be read)."""
    joints = set(skeleton.joints)
    if {"left_hip", "right_hip"} <= joints:
        return "person"
    if {"left_eye", "right_eye"} <= joints:
        return "face"
    return None


@dataclass(frozen=True)
class PoseReading:
    """An object's pose, read from its joints.

    Attributes:
        kind: "person", "face" or None (see :func:`pose_kind`).
        angle: degrees in the picture's plane, 0 = upright, counter-clockwise positive, in
            (-180, 180] (a person's torso, a face's eye line: its roll); None when unknown.
        posture: "standing", "sitting" or "lying" for a person whose torso is known, else None.
        yaw: a face's turn in degrees (positive: towards the picture's right), else None.
        anchor: ``(x, y)`` where the orientation arrow starts (the torso's centre, the eyes'
            midpoint); None when no joint is labelled.
    """

    kind: str | None
    angle: float | None
    posture: str | None = None
    yaw: float | None = None
    anchor: tuple[float, float] | None = None


def _anchor(points: np.ndarray, labelled: np.ndarray, skeleton: Skeleton, names: tuple[str, ...]):
    chosen = [skeleton.joints.index(n) for n in names if n in skeleton.joints and labelled[skeleton.joints.index(n)]]
    rows = points[chosen] if chosen else points[labelled]
    if not len(rows):
        return None
    x, y = rows.mean(axis=0)
    return float(x), float(y)


def read_pose(points, visible, skeleton: Skeleton) -> PoseReading:
    """The orientation, posture and arrow anchor of one object.

    Args:
        points: (K, 2) ``(x, y)`` in pixels, in ``skeleton``'s joint order.
        visible: (K,) bool or COCO visibility: the joints to trust (labelled or found).
        skeleton: the joints' :class:`~cv_core.keypoints.Skeleton`.

    Returns:
        :class:`PoseReading` (fields None where the joints cannot tell).
    """
    points = np.asarray(points, np.float64)
    labelled = np.asarray(visible) > 0
    if points.shape != (skeleton.num_joints, 2) or labelled.shape != (skeleton.num_joints,):
        raise ValueError(f"Expected ({skeleton.num_joints}, 2) points and ({skeleton.num_joints},) visibility for "
                         f"the {skeleton.name!r} skeleton. Received {points.shape} and {labelled.shape}.")
    kind = pose_kind(skeleton)
    if kind == "person":
        return PoseReading("person", person_orientation(points, labelled, skeleton),
                           posture(points, labelled, skeleton), None, _anchor(points, labelled, skeleton, _TORSO))
    if kind == "face":
        face = face_orientation(points, labelled, skeleton)
        anchor = _anchor(points, labelled, skeleton, ("left_eye", "right_eye"))
        if face is None:
            return PoseReading("face", None, None, None, anchor)
        return PoseReading("face", face["roll"], None, face["yaw"], anchor)
    return PoseReading(None, None, None, None, _anchor(points, labelled, skeleton, ()))


@dataclass(frozen=True)
class TruthMatch:
    """One prediction paired with one true object.

    Attributes:
        prediction: index in the predictions given.
        truth: index in the truths given.
        oks: their object keypoint similarity, in [0, 1].
        pck: the share of the truth's labelled joints within ``threshold`` × its reference length.
        hit: (K,) bool, the joints counted as correct (labelled and close enough).
        labelled: (K,) bool, the truth's labelled joints (the others are neither hit nor missed).
        error: (K,) float64 distance in pixels of each joint; NaN where the truth is unlabelled.
        reference: the reference length in pixels (torso diameter, eye distance or box diagonal).
    """

    prediction: int
    truth: int
    oks: float
    pck: float
    hit: np.ndarray = field(repr=False)
    labelled: np.ndarray = field(repr=False)
    error: np.ndarray = field(repr=False)
    reference: float = 0.0


@dataclass(frozen=True)
class TruthComparison:
    """A picture's predictions against its true objects.

    Attributes:
        matches: the pairs, best-scored prediction first.
        missed: indices of the true objects that count (not a crowd, a joint labelled) and that no
            prediction was paired with.
        unmatched: indices of the predictions paired with no truth (false positives).
    """

    matches: list[TruthMatch]
    missed: list[int]
    unmatched: list[int]

    def for_prediction(self, index: int) -> TruthMatch | None:
        """The pair of prediction ``index``, or None."""
        return next((m for m in self.matches if m.prediction == index), None)


def compare_with_truth(predicted: list[KeypointInstance], truths: list[KeypointInstance], skeleton: Skeleton,
                       threshold: float = 0.2) -> TruthComparison:
    """Pair ``predicted`` with ``truths`` (COCO's greedy rule: best score first, each to its best OKS)
    and score every pair by OKS and PCK at ``threshold``.

    Args:
        predicted: one picture's predicted objects (``score`` set; None counts as 1).
        truths: the same picture's true objects, in the same pixels.
        skeleton: gives the OKS sigmas and PCK's reference joints.
        threshold: PCK's fraction of the reference length (0.2: PCK@0.2).

    Returns:
        :class:`TruthComparison`.
    """
    counted = [j for j, t in enumerate(truths) if not t.crowd and t.labelled.any()]
    pairs = match_instances([p.as_prediction() for p in predicted], [truths[j].as_truth() for j in counted],
                            skeleton.sigma_array) if predicted and counted else []
    matches = []
    for prediction, position, oks in pairs:
        truth_index = counted[position]
        truth = truths[truth_index]
        labelled = truth.labelled
        error = np.hypot(*(np.asarray(predicted[prediction].points, np.float64)
                           - np.asarray(truth.points, np.float64)).T)
        error = np.where(labelled, error, np.nan)
        reference = reference_length(truth.points, labelled, truth.box, skeleton)
        hit = labelled & (np.nan_to_num(error, nan=np.inf) <= threshold * reference)
        matches.append(TruthMatch(prediction, truth_index, float(oks), float(hit.sum() / labelled.sum()), hit,
                                  labelled.copy(), error, float(reference)))
    found = {m.truth for m in matches}
    paired = {m.prediction for m in matches}
    return TruthComparison(matches, [j for j in counted if j not in found],
                           [i for i in range(len(predicted)) if i not in paired])
