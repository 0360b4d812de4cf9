"""The built-in "landmarks" dataset: one cartoon face a picture, turned and tilted, with 6 landmarks.

Keypoint detection on a single object, apart from people's pose: each picture, drawn on the fly
from ``(seed, split, index)`` on the shapes' backgrounds and clutter, holds one face whose
landmarks are the :data:`~cv_core.keypoints.FACE_LANDMARKS` skeleton: the eye centres, the nose
tip, the mouth corners and the chin.

The face is a small 3-D model seen from the front: an ellipsoid head, eyes and mouth on its
surface, a nose standing out of it. It is *turned* left or right (yaw, up to 55°: the far eye
moves towards the edge and is hidden past it) and *tilted* in the picture's plane (roll, up to
35°), then projected. Visibility follows COCO: 2 visible, 1 hidden (a far eye or mouth corner on
the other side of the head, or under an occluding bar), 0 outside the picture. The face's
``orientation`` is its roll (0° upright, counter-clockwise positive) and its ``turn`` its yaw
(positive when it turns towards the picture's right); :func:`cv_core.keypoints.pose.face_orientation`
reads both back from the landmarks.

The subject's left eye is on the picture's right, as in a photo of a face looking at you.
"""

from __future__ import annotations

import math

import numpy as np

from cv_core.datasets.base import Sample
from cv_core.datasets.drawing import (BAR, GeneratedDataset, bar_cover, composite, contrasting_colour,
                                      joint_visibility, owner_box, part_cover, split_rng)
from cv_core.keypoints.instance import KeypointInstance
from cv_core.keypoints.skeletons import FACE_LANDMARKS

__all__ = ["EYE_HALF_DISTANCE", "NOSE_DEPTH", "LandmarksDataset", "face_model", "render_landmarks"]

_SALT = 11
#: Half the distance between the eyes, and how far the nose tip stands in front of the eyes,
#: in units of the head's radius: the model that turns a nose's sideways shift into a yaw.
EYE_HALF_DISTANCE = 0.38
_EYE_HEIGHT, _MOUTH_HALF, _MOUTH_HEIGHT, _NOSE_HEIGHT = -0.18, 0.32, 0.45, 0.12
_EYE_DEPTH = math.sqrt(1 - EYE_HALF_DISTANCE ** 2 - _EYE_HEIGHT ** 2)
NOSE_DEPTH = 1.15 - _EYE_DEPTH
_HIDDEN_BELOW = 0.2  # a surface point facing away more than this is on the far side


def face_model(elongation: float) -> np.ndarray:
    """(6, 3) landmark positions on a head of radius 1 (x right, y down, z towards the viewer)."""
    def surface(x, y):
        return math.sqrt(max(0.0, 1 - x * x - y * y))

    e = elongation
    mouth_z = surface(_MOUTH_HALF, _MOUTH_HEIGHT)
    return np.array([
        [EYE_HALF_DISTANCE, _EYE_HEIGHT * e, _EYE_DEPTH],  # left eye (on the picture's right)
        [-EYE_HALF_DISTANCE, _EYE_HEIGHT * e, _EYE_DEPTH],
        [0.0, _NOSE_HEIGHT * e, _EYE_DEPTH + NOSE_DEPTH],  # nose tip
        [_MOUTH_HALF, _MOUTH_HEIGHT * e, mouth_z],
        [-_MOUTH_HALF, _MOUTH_HEIGHT * e, mouth_z],
        [0.0, 0.97 * e, surface(0.0, 0.97)],  # chin
    ])


class _Projection:
    """Yaw about the head's vertical axis, then roll in the picture's plane, then scale and shift."""

    def __init__(self, centre: np.ndarray, radius: float, yaw: float, roll: float) -> None:
        self.centre, self.radius = centre, radius
        self.cy, self.sy = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
        self.cr, self.sr = math.cos(math.radians(roll)), math.sin(math.radians(roll))

    def flat(self, p: np.ndarray) -> np.ndarray:
        """(..., 2) points of the picture-facing plane (the head's outline) -> picture points: roll only."""
        x, y = p[..., 0], p[..., 1]
        return self.centre + self.radius * np.stack([x * self.cr + y * self.sr, -x * self.sr + y * self.cr], axis=-1)

    def turn(self, p: np.ndarray) -> np.ndarray:
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        return np.stack([x * self.cy + z * self.sy, y, -x * self.sy + z * self.cy], axis=-1)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        """(..., 3) model points -> (..., 2) picture points."""
        t = self.turn(np.asarray(p, dtype=np.float64))
        return self.flat(t[..., :2])

    def depth(self, p: np.ndarray) -> np.ndarray:
        return self.turn(np.asarray(p, dtype=np.float64))[..., 2]


def _on_surface(x: float, y: float, e: float) -> np.ndarray:
    return np.array([x, y * e, math.sqrt(max(0.0, 1 - x * x - y * y))])


def _ellipse(project: _Projection, centre3: np.ndarray, rx: float, ry: float, n: int = 20) -> list:
    """A small ellipse drawn on the head's surface around ``centre3`` (shrinks as it turns away)."""
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    ring = np.stack([centre3[0] + rx * np.cos(t), centre3[1] + ry * np.sin(t), np.full(n, centre3[2])], axis=-1)
    return [tuple(q) for q in project(ring)]


def render_landmarks(seed: int, split: str, index: int, image_size: int = 128, difficulty: str = "hard") -> Sample:
    """Draw one picture of the landmarks dataset (see the module docstring).

    Returns:
        A :class:`Sample`: image (S, S, 3) uint8, label 0 ("face"), the face's mask and box, and
        ``keypoints`` holding one :class:`~cv_core.keypoints.KeypointInstance` with its
        ``orientation`` (roll) and ``turn`` (yaw) in degrees.
    """
    from cv_core.datasets.shapes import DIFFICULTIES, _background, draw_clutter

    level = DIFFICULTIES[difficulty]
    rng = split_rng(seed, split, index, _SALT)
    size = image_size
    image = draw_clutter(rng, _background(rng, size, level), level)
    radius = size * rng.uniform(0.2, 0.33)
    e = rng.uniform(1.05, 1.25)
    margin = radius * (0.75 if rng.random() < 0.1 else 1.05)
    centre = np.array([rng.uniform(margin, size - margin), rng.uniform(margin * e, size - margin * e)])
    yaw, roll = rng.uniform(-55, 55), rng.uniform(-35, 35)
    project = _Projection(centre, radius, yaw, roll)
    model = face_model(e)
    points = project(model)
    hidden = project.depth(model) < _HIDDEN_BELOW

    skin = contrasting_colour(rng, image[int(centre[1]), int(centre[0])])
    dark = rng.uniform(0, 90, 3)
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    # A head whose width and depth are equal keeps its outline when it turns about its vertical axis.
    outline = project.flat(np.stack([np.cos(t), e * np.sin(t)], axis=-1))
    head_parts = [("polygon", [tuple(q) for q in outline])]
    head_parts += [("disc", tuple(project(np.array([side * 0.97, 0.05 * e, 0.0]))), 0.2 * radius) for side in (1, -1)]
    own = part_cover(size, head_parts)
    image = composite(image, own, skin)
    if rng.random() < 0.7:  # hair: the top of the head, above a line across the forehead
        top = np.linspace(math.pi * 1.08, math.pi * 1.92, 24)
        cap = project.flat(np.stack([1.04 * np.cos(top), 1.04 * e * np.sin(top)], axis=-1))
        hair = part_cover(size, [("polygon", [tuple(q) for q in cap])])
        image = composite(image, hair, contrasting_colour(rng, skin))
        own = np.maximum(own, hair)

    features = []
    for k in (0, 1):  # eyes: a white, a pupil near its centre, a brow above
        if hidden[k]:
            continue
        eye = model[k]
        features.append(("white", [("polygon", _ellipse(project, eye, 0.15, 0.1 * e))]))
        gaze = eye + np.array([rng.uniform(-0.04, 0.04), rng.uniform(-0.02, 0.02), 0.0])
        features.append(("dark", [("polygon", _ellipse(project, gaze, 0.06, 0.06))]))
        brow = [project(_on_surface(eye[0] + dx, _EYE_HEIGHT - 0.2, e)) for dx in (-0.14, 0.0, 0.14)]
        features.append(("dark", [("line", [tuple(q) for q in brow], 0.05 * radius)]))
    bridge = project(_on_surface(0.0, -0.02, e))
    base = project(_on_surface(0.0, _NOSE_HEIGHT + 0.12, e))
    features.append(("dark", [("line", [tuple(bridge), tuple(points[2]), tuple(base)], 0.06 * radius),
                              ("disc", tuple(points[2]), 0.05 * radius)]))
    smile = rng.uniform(-0.05, 0.15)
    mouth = [model[4], _on_surface(0.0, _MOUTH_HEIGHT + smile, e), model[3]]
    mouth = [m for m, h in zip(mouth, (hidden[4], False, hidden[3])) if not h]
    features.append(("mouth", [("line", [tuple(q) for q in project(np.array(mouth))], 0.06 * radius)]))
    colours = {"white": rng.uniform(215, 255, 3), "dark": dark, "mouth": rng.uniform([120, 0, 0], [230, 80, 90])}
    for kind, parts in features:
        image = composite(image, part_cover(size, parts), colours[kind])

    instance = np.where(own >= 0.5, 0, -1).astype(np.int32)
    if rng.random() < level.bar_probability:
        cover = bar_cover(rng, size, tuple(centre), 0.5 * radius)
        image = composite(image, cover, rng.integers(0, 256, 3))
        instance[cover >= 0.5] = BAR
    image = image + rng.normal(0, rng.uniform(*level.noise), size=image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)

    box, area = owner_box(instance, 0, own >= 0.5)
    face = KeypointInstance(points=points.astype(np.float32), visibility=joint_visibility(points, instance, 0, hidden),
                            box=box, area=area, orientation=float(roll), turn=float(yaw))
    return Sample(image=image, label=0, mask=(instance == 0).astype(np.uint8), boxes=[(0, *box)],
                  source=f"landmarks/{split}/{index}", keypoints=[face])


class LandmarksDataset(GeneratedDataset):
    """One cartoon face a picture with 6 landmarks, generated from a seed (see the module docstring).

    The arguments are :class:`~cv_core.datasets.drawing.GeneratedDataset`'s: seed, picture size, split
    sizes and difficulty.
    """

    name = "landmarks"
    skeleton = FACE_LANDMARKS
    render = staticmethod(render_landmarks)
    CLASS_NAMES = ("face",)
    MASK_CLASS_NAMES = ("background", "face")
    description = (
        "Built-in cartoon faces, one a picture, turned up to 55° and tilted up to 35°, with their eye centres, "
        "nose tip, mouth corners and chin as landmarks, on the shapes' cluttered backgrounds. No files, "
        "no download.")

    def _labels(self, split: str) -> np.ndarray:
        return np.zeros(self._count(split), dtype=np.int64)
