"""Skeletons: which points a keypoint model finds, how they connect, and how strictly each is scored.

A :class:`Skeleton` names its joints (in the order of every ``(K, 2)`` keypoint array), the
edges drawn between them, the left/right pairs that a horizontal flip swaps, one OKS sigma per
joint (how far off a prediction may be, relative to the object's size, before it stops
counting) and the reference length that PCK measures errors against.

Three come with the lab, plus your own:

* :data:`COCO_PERSON` — COCO's 17-joint person, with COCO's edges and its 17 published sigmas.
* :data:`PEOPLE` — the generated ``people`` set's 14 joints: head, neck, then COCO's twelve
  limb joints in COCO's order.
* :data:`FACE_LANDMARKS` — the generated ``landmarks`` set's 6 face points.
* :func:`custom_skeleton` — any list of point names and edges, checked.

>>> from cv_core.keypoints import PEOPLE, custom_skeleton
>>> PEOPLE.joints[:3], PEOPLE.index("left_wrist")
(('head', 'neck', 'left_shoulder'), 6)
>>> tail = custom_skeleton(["nose", "tail"], [("nose", "tail")])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cv_core.i18n import N_, _

__all__ = [
    "COCO_JOINTS", "COCO_PERSON", "COCO_SIGMAS", "DEFAULT_SIGMA", "FACE_LANDMARKS", "JOINT_LABELS", "KNOWN_SIGMAS",
    "PEOPLE", "SKELETONS", "Skeleton", "custom_skeleton", "get_skeleton", "joint_label",
]

COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)

#: COCO's 17 per-joint OKS sigmas, computed exactly as pycocotools does
#: (``pycocotools/cocoeval.py``, ``Params.setKpParams``: ``np.array([.26, .25, ...]) / 10.0``;
#: also on https://cocodataset.org/#keypoints-eval). They are the spread of human annotators'
#: clicks on each joint, relative to the person's size: eyes are found precisely, hips are not.
COCO_SIGMAS = tuple(float(s) for s in np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0)

#: Sigmas of joints that outside benchmarks publish: COCO's 17, and CrowdPose's head and neck
#: (0.079 each: ``.79 / 10`` in CrowdPose's evaluation, ``xtcocoapi/demos/demo_crowdpose.py``).
KNOWN_SIGMAS = {**dict(zip(COCO_JOINTS, COCO_SIGMAS)), "head": 0.079, "neck": 0.079}

#: The sigma given to a joint that no benchmark publishes (a declaration of ours, not a
#: measurement): a point off by 10% of the object's scale (the square root of its area) keeps
#: an OKS term of exp(-0.5) = 0.61, one off by 5% keeps 0.88.
DEFAULT_SIGMA = 0.05

# COCO's person skeleton, as written in person_keypoints_*.json (1-based), made 0-based.
_COCO_EDGES_1 = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
                 (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))


@dataclass(frozen=True)
class Skeleton:
    """A named set of joints, checked when it is made.

    Attributes:
        name: a short name ("people").
        joints: joint names, unique, in the order of every ``(K, 2)`` keypoint array.
        edges: pairs of joint indices drawn as bones.
        flip_pairs: pairs of joint indices that trade places when the picture is mirrored
            (left and right wrist); a joint in no pair (the nose) keeps its index.
        sigmas: one OKS sigma per joint (see :data:`COCO_SIGMAS`), each > 0.
        reference: the two joints whose distance is PCK's reference length, or None for the
            diagonal of the object's box.
        description: where the joints and sigmas come from, for people.

    Raises:
        ValueError: duplicate or empty names, an edge or pair out of range or joining a joint
            to itself, a joint in two flip pairs, a wrong number of sigmas or one that is not
            a positive number, an unknown reference joint.
    """

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()
    flip_pairs: tuple[tuple[int, int], ...] = ()
    sigmas: tuple[float, ...] = ()
    reference: tuple[str, str] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        joints = tuple(self.joints)
        if not joints:
            raise ValueError("Expected at least one joint name. Received: joints=()")
        for joint in joints:
            if not isinstance(joint, str) or not joint.strip():
                raise ValueError(f"Expected every joint name to be a non-empty string. Received: {joint!r}")
        duplicates = sorted({j for j in joints if joints.count(j) > 1})
        if duplicates:
            raise ValueError(_("Expected unique joint names. Received these more than once: {names}").format(
                names=duplicates))
        object.__setattr__(self, "joints", joints)
        object.__setattr__(self, "edges", self._pairs(self.edges, "edge"))
        pairs = self._pairs(self.flip_pairs, "flip pair")
        paired = [j for pair in pairs for j in pair]
        if len(paired) != len(set(paired)):
            raise ValueError(f"Expected each joint in at most one flip pair. Received: flip_pairs={pairs}")
        object.__setattr__(self, "flip_pairs", pairs)
        sigmas = tuple(self.sigmas) if len(self.sigmas) else tuple(default_sigma(j) for j in joints)
        if len(sigmas) != len(joints):
            raise ValueError(f"Expected one sigma per joint ({len(joints)}). Received {len(sigmas)} sigmas.")
        for joint, sigma in zip(joints, sigmas):
            if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating)) \
                    or not np.isfinite(sigma) or sigma <= 0:
                raise ValueError(f"Expected a positive sigma for joint {joint!r}. Received: {sigma!r}")
        object.__setattr__(self, "sigmas", tuple(float(s) for s in sigmas))
        if self.reference is not None:
            reference = tuple(self.reference)
            if len(reference) != 2 or any(r not in joints for r in reference):
                raise ValueError(f"Expected `reference` to be two of the joints {joints}, or None for the box "
                                 f"diagonal. Received: reference={self.reference!r}")
            object.__setattr__(self, "reference", reference)

    def _pairs(self, pairs: Iterable, what: str) -> tuple[tuple[int, int], ...]:
        out = []
        k = len(self.joints)
        for pair in pairs:
            pair = tuple(pair)
            if len(pair) != 2 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                                         for i in pair):
                raise ValueError(f"Expected each {what} to be two joint indices. Received: {pair!r}")
            a, b = int(pair[0]), int(pair[1])
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"Expected {what} indices between 0 and {k - 1} (there are {k} joints). "
                                 f"Received: {pair!r}")
            if a == b:
                raise ValueError(f"Expected a {what} to join two different joints. Received: {pair!r} "
                                 f"({self.joints[a]!r} twice)")
            out.append((a, b))
        return tuple(out)

    @property
    def num_joints(self) -> int:
        """K, the number of joints."""
        return len(self.joints)

    @property
    def sigma_array(self) -> np.ndarray:
        """The sigmas as a float64 (K,) array, the form the metrics take."""
        return np.asarray(self.sigmas, dtype=np.float64)

    def index(self, joint: str) -> int:
        """The index of joint ``joint``; ValueError naming the joints when it is not one."""
        try:
            return self.joints.index(joint)
        except ValueError:
            raise ValueError(f"Expected a joint of the {self.name!r} skeleton {self.joints}. "
                             f"Received: {joint!r}") from None

    def flip_permutation(self) -> np.ndarray:
        """(K,) int: ``mirrored[i] = points[perm[i]]`` swaps every left joint with its right one."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def edge_names(self) -> list[tuple[str, str]]:
        """The edges as pairs of joint names."""
        return [(self.joints[a], self.joints[b]) for a, b in self.edges]

    def to_dict(self) -> dict:
        """A JSON-friendly description (edges and pairs by joint name); :meth:`from_dict` reads it back."""
        return {"name": self.name, "joints": list(self.joints), "edges": [list(e) for e in self.edge_names()],
                "flip_pairs": [[self.joints[a], self.joints[b]] for a, b in self.flip_pairs],
                "sigmas": list(self.sigmas), "reference": list(self.reference) if self.reference else None,
                "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping) -> Skeleton:
        """The skeleton that :meth:`to_dict` described; ValueError for anything malformed."""
        if not isinstance(data, Mapping) or "joints" not in data:
            raise ValueError("Expected a skeleton description with at least a `joints` list.")
        return custom_skeleton(data["joints"], data.get("edges", ()), flip_pairs=data.get("flip_pairs"),
                               sigmas=data.get("sigmas"), name=data.get("name", "custom"),
                               reference=data.get("reference"), description=data.get("description", ""))


def default_sigma(joint: str) -> float:
    """The published sigma of a joint named as COCO or CrowdPose name it, else :data:`DEFAULT_SIGMA`."""
    return KNOWN_SIGMAS.get(joint, DEFAULT_SIGMA)


def _mirror_name(joint: str) -> str | None:
    """"left_wrist" -> "right_wrist" (whole words "left"/"right", any case); None without one."""
    def swap(match: re.Match) -> str:
        word = match.group(1)
        other = "right" if word.lower() == "left" else "left"
        return other.upper() if word.isupper() else other.capitalize() if word[0].isupper() else other

    swapped = re.sub(r"(?i)(?<![a-z])(left|right)(?![a-z])", swap, joint)
    return swapped if swapped != joint else None


def _as_index(joints: Sequence[str], point, edge) -> int:
    if isinstance(point, str):
        if point not in joints:
            raise ValueError(_("Edge {edge!r} names an unknown joint {point!r}. The joints are: {joints}.").format(
                edge=tuple(edge), point=point, joints=", ".join(repr(j) for j in joints)))
        return joints.index(point)
    if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
        return int(point)
    raise ValueError(f"Expected an edge to join two joint names (or indices). Received: {tuple(edge)!r}")


def custom_skeleton(joints: Sequence[str], edges: Iterable = (), flip_pairs: Iterable | None = None,
                    sigmas: Sequence[float] | None = None, name: str = "custom",
                    reference: Sequence[str] | None = None, description: str = "") -> Skeleton:
    """A skeleton of your own from point names and edges, checked.

    Args:
        joints: the point names, in the order your keypoint arrays use.
        edges: pairs of joint names (or indices) to draw as bones.
        flip_pairs: pairs of joint names (or indices) that a mirror swaps; None finds them from
            the names ("left_eye" with "right_eye": the whole word left or right, any case).
        sigmas: one OKS sigma per joint; None uses COCO's (or CrowdPose's) published value for
            a joint named like theirs and :data:`DEFAULT_SIGMA` for the others.
        name: the skeleton's name.
        reference: two joint names whose distance is PCK's reference, or None for the box diagonal.
        description: free text.

    Raises:
        ValueError: an edge naming an unknown joint (the message names it and lists the joints),
            and everything :class:`Skeleton` refuses.
    """
    joints = tuple(joints) if not isinstance(joints, str) else (joints,)
    edge_list = [(_as_index(joints, a, e), _as_index(joints, b, e)) for e in edges for a, b in [_two(e, "edge")]]
    if flip_pairs is None:
        pairs = []
        for i, joint in enumerate(joints):
            mirror = _mirror_name(joint) if isinstance(joint, str) else None
            if mirror in joints and joints.index(mirror) > i:
                pairs.append((i, joints.index(mirror)))
    else:
        pairs = [(_as_index(joints, a, p), _as_index(joints, b, p))
                 for p in flip_pairs for a, b in [_two(p, "flip pair")]]
    return Skeleton(name=name, joints=joints, edges=tuple(edge_list), flip_pairs=tuple(pairs),
                    sigmas=tuple(sigmas) if sigmas is not None else (),
                    reference=tuple(reference) if reference is not None else None, description=description)


def _two(pair, what: str) -> tuple:
    pair = tuple(pair) if isinstance(pair, (list, tuple)) else (pair,)
    if len(pair) != 2:
        raise ValueError(f"Expected each {what} to name two joints. Received: {pair!r}")
    return pair


COCO_PERSON = Skeleton(
    name="coco", joints=COCO_JOINTS, edges=tuple((a - 1, b - 1) for a, b in _COCO_EDGES_1),
    flip_pairs=tuple((i, i + 1) for i in range(1, 17, 2)), sigmas=COCO_SIGMAS,
    reference=("left_shoulder", "right_hip"),
    description="COCO's 17 person keypoints, edges and published sigmas (cocodataset.org/#keypoints-eval).",
)

#: The generated people's joints. A head centre instead of COCO's nose, eyes and ears: a stick
#: figure's head is a plain disc, with no face to place a nose on at 64–128 px. A neck, which COCO
#: lacks: it is where the head, both shoulders and the spine meet, so it anchors the torso's
#: direction and the head even when a shoulder is hidden. Their sigmas are CrowdPose's for its
#: head and neck (0.079 each; CrowdPose's head is the top of the head, ours its centre, which a
#: disc defines at least as well). The other twelve are COCO's, with COCO's sigmas. PCK's
#: reference is the torso diameter (left shoulder to right hip), as in LSP and FLIC's PCK@0.2.
PEOPLE = custom_skeleton(
    ("head", "neck") + COCO_JOINTS[5:],
    [("head", "neck"), ("neck", "left_shoulder"), ("neck", "right_shoulder"), ("left_shoulder", "left_elbow"),
     ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
     ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"), ("left_hip", "right_hip"),
     ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
     ("right_knee", "right_ankle")],
    name="people", reference=("left_shoulder", "right_hip"),
    description="Head centre and neck (CrowdPose's sigmas), then COCO's twelve limb joints with COCO's sigmas.",
)

#: The generated cartoon faces' landmarks, scored against the face's own area. No benchmark
#: publishes sigmas for these points relative to a face (COCO's and COCO-WholeBody's are relative
#: to the whole person), so they are declared: :data:`DEFAULT_SIGMA` for the sharp points (eye
#: centres, nose tip, mouth corners) and 0.07 for the chin, whose place along the jaw line is
#: less defined. PCK's reference is the distance between the eye centres (the inter-ocular
#: normalisation of face-landmark benchmarks such as 300-W).
FACE_LANDMARKS = custom_skeleton(
    ("left_eye", "right_eye", "nose_tip", "left_mouth_corner", "right_mouth_corner", "chin"),
    [("left_eye", "right_eye"), ("left_eye", "nose_tip"), ("right_eye", "nose_tip"),
     ("nose_tip", "left_mouth_corner"), ("nose_tip", "right_mouth_corner"),
     ("left_mouth_corner", "right_mouth_corner"), ("left_mouth_corner", "chin"), ("right_mouth_corner", "chin")],
    sigmas=(DEFAULT_SIGMA,) * 5 + (0.07,), name="landmarks", reference=("left_eye", "right_eye"),
    description="Eye centres, nose tip, mouth corners and chin of a cartoon face; declared sigmas (see the docs).",
)

#: The lab's skeletons by name.
SKELETONS = {s.name: s for s in (COCO_PERSON, PEOPLE, FACE_LANDMARKS)}


def get_skeleton(name: str) -> Skeleton:
    """One of :data:`SKELETONS` by name ("coco", "people", "landmarks")."""
    if name not in SKELETONS:
        raise ValueError(f"Expected a skeleton name in {tuple(SKELETONS)}. Received: name={name!r}")
    return SKELETONS[name]


#: The names of the lab's joints as people read them (marked for translation). The joints' own names
#: (``left_ankle``) stay the keys of datasets, COCO files and URLs in every language.
JOINT_LABELS = {
    "nose": N_("nose"), "left_eye": N_("left_eye"), "right_eye": N_("right_eye"), "left_ear": N_("left_ear"),
    "right_ear": N_("right_ear"), "left_shoulder": N_("left_shoulder"), "right_shoulder": N_("right_shoulder"),
    "left_elbow": N_("left_elbow"), "right_elbow": N_("right_elbow"), "left_wrist": N_("left_wrist"),
    "right_wrist": N_("right_wrist"), "left_hip": N_("left_hip"), "right_hip": N_("right_hip"),
    "left_knee": N_("left_knee"), "right_knee": N_("right_knee"), "left_ankle": N_("left_ankle"),
    "right_ankle": N_("right_ankle"), "head": N_("head"), "neck": N_("neck"), "nose_tip": N_("nose_tip"),
    "left_mouth_corner": N_("left_mouth_corner"), "right_mouth_corner": N_("right_mouth_corner"),
    "chin": N_("chin"),
}


def joint_label(name: str) -> str:
    """A joint's name in the current language (``"left_ankle"`` in English, ``"左腳踝"`` in Chinese); a point
    of your own skeleton keeps the name you gave it."""
    return _(JOINT_LABELS[name]) if name in JOINT_LABELS else name
