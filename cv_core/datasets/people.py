"""The built-in "people" dataset: stick-figure people with their joints, for keypoints and pose.

Every picture is drawn on the fly from ``(seed, split, index)`` on the shapes' backgrounds and
clutter: one to four people, each posed (standing, walking, arms up, sitting or lying), sized,
rotated and coloured at random, with a limb thickness of its own, overlapping each other and
sometimes crossed by a bar in front of everything.

Each person is a :class:`~cv_core.keypoints.KeypointInstance` in ``Sample.keypoints``, in the
:data:`~cv_core.keypoints.PEOPLE` skeleton (head, neck, shoulders, elbows, wrists, hips, knees,
ankles): (14, 2) float32 joint positions in pixels, a COCO visibility per joint (2 visible,
1 hidden behind a later person or a bar, 0 outside the picture), its box and area (the pixels of
it that show, as COCO's segment area), its posture ("standing" for standing, walking and arms up;
"sitting"; "lying"), how it was posed (``articulation``) and its orientation (the torso's angle,
0° upright, counter-clockwise positive).

Every figure faces the viewer, so its left side is on the picture's right in its own upright
frame: the cue that tells left from right, as a face does in a photo. The margins between
postures are wide on purpose (a standing person's thighs stay within 28° of its torso axis,
a sitting person's are 70–100° from it; an upright torso is within 20° of vertical, a lying one
at least 70° from it), so that posture is a property of the joints, not of chance.

The image label is the posture of the tallest person, drawn in front of the others (as the
shapes' main object is), so it is known without drawing; ``Sample.boxes`` holds each
person's box with its posture as the class; the mask marks people's pixels (1) on background (0).
"""

from __future__ import annotations

import math

import numpy as np

from cv_core.datasets.base import Sample
from cv_core.datasets.drawing import (BAR, GeneratedDataset, bar_cover, composite, contrasting_colour,
                                      joint_visibility, owner_box, part_cover, split_rng)
from cv_core.keypoints.instance import KeypointInstance
from cv_core.keypoints.skeletons import PEOPLE

__all__ = ["ARTICULATIONS", "POSTURES", "PeopleDataset", "render_people"]

POSTURES = ["standing", "sitting", "lying"]
#: How a figure is posed -> its posture.
ARTICULATIONS = {"standing": "standing", "walking": "standing", "arms_up": "standing", "sitting": "sitting",
                 "lying": "lying"}
_ARTICULATION_ODDS = {"standing": 0.22, "walking": 0.22, "arms_up": 0.16, "sitting": 0.2, "lying": 0.2}

# Body proportions, as fractions of the figure's height H.
_TORSO, _NECK_TO_HEAD, _HEAD_RADIUS = 0.30, 0.10, 0.075
_SHOULDER_HALF, _SHOULDER_DROP, _HIP_HALF = 0.11, 0.02, 0.06
_UPPER_ARM, _FOREARM, _THIGH, _SHIN, _FOOT = 0.15, 0.14, 0.24, 0.23, 0.06
_SALT = 7  # keeps this dataset's random streams apart from the other generated sets'


def _angles(rng: np.random.Generator, articulation: str) -> dict:
    """Limb angles in degrees for each side, from the body's down axis, outwards positive."""
    u = rng.uniform
    sides = {}
    forward = rng.choice([-1, 1])  # walking: the side whose leg strides out
    for side in (1, -1):
        upper = u(5, 20)
        arm = (upper, upper + u(-5, 20))
        thigh = u(2, 8)
        leg = (thigh, thigh + u(-6, 2))
        if articulation == "walking":
            thigh = u(14, 28) if side == forward else u(-6, 4)
            leg = (thigh, thigh - u(0, 20))
            upper = u(15, 40) if side != forward else u(0, 12)
            arm = (upper, upper + u(10, 40))
        elif articulation == "arms_up":
            upper = u(140, 175)
            arm = (upper, upper + u(-20, 20))
        elif articulation == "sitting":
            leg = (u(70, 100), u(-10, 15))
            upper = u(5, 25)
            arm = (upper, u(30, 80))
        elif articulation == "lying":
            if rng.random() < 0.35:
                thigh = u(20, 45)
                leg = (thigh, thigh - u(40, 70))
            if rng.random() < 0.25:
                upper = u(140, 170)
                arm = (upper, upper + u(-15, 15))
        sides[side] = {"arm": arm, "leg": leg}
    return sides


def _rotate(v: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate (x, y) picture vectors counter-clockwise as seen (y points down) by ``degrees``."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    return np.stack([v[..., 0] * c + v[..., 1] * s, -v[..., 0] * s + v[..., 1] * c], axis=-1)


def pose_figure(articulation: str, height: float, orientation: float, rng: np.random.Generator,
                angles: dict | None = None) -> dict:
    """The joints of one figure with its pelvis at (0, 0): (14, 2) points and its drawing parts' sizes.

    ``angles`` gives the limbs' angles (``{side: {"arm": (upper, fore), "leg": (thigh, shin)}}``,
    side 1 the figure's left, -1 its right; degrees from the body's down axis, outwards positive)
    instead of drawing them for ``articulation``: a walking cycle sets them frame by frame.
    """
    sides = _angles(rng, articulation) if angles is None else angles
    up = _rotate(np.array([0.0, -1.0]), orientation)
    right = _rotate(np.array([1.0, 0.0]), orientation)  # the figure's left side, facing us
    down = -up

    def limb(side: int, degrees: float) -> np.ndarray:
        a = math.radians(degrees)
        return math.cos(a) * down + side * math.sin(a) * right

    h = height
    joints = {"neck": _TORSO * h * up}
    joints["head"] = joints["neck"] + _NECK_TO_HEAD * h * _rotate(up, rng.uniform(-15, 15))
    for side, name in ((1, "left"), (-1, "right")):
        shoulder = joints["neck"] - _SHOULDER_DROP * h * up + side * _SHOULDER_HALF * h * right
        hip = side * _HIP_HALF * h * right
        upper, fore = sides[side]["arm"]
        thigh, shin = sides[side]["leg"]
        joints[f"{name}_shoulder"], joints[f"{name}_hip"] = shoulder, hip
        joints[f"{name}_elbow"] = shoulder + _UPPER_ARM * h * limb(side, upper)
        joints[f"{name}_wrist"] = joints[f"{name}_elbow"] + _FOREARM * h * limb(side, fore)
        joints[f"{name}_knee"] = hip + _THIGH * h * limb(side, thigh)
        joints[f"{name}_ankle"] = joints[f"{name}_knee"] + _SHIN * h * limb(side, shin)
        joints[f"{name}_toe"] = joints[f"{name}_ankle"] + _FOOT * h * limb(side, shin + 90)
    points = np.array([joints[j] for j in PEOPLE.joints])
    return {"points": points, "toes": (joints["left_toe"], joints["right_toe"]), "up": up, "right": right}


def _figure_parts(figure: dict, at: np.ndarray, height: float, width: float) -> tuple[list, list, list]:
    """Drawing parts of one figure placed at ``at``: (legs, torso and arms, head)."""
    p = figure["points"] + at
    j = {name: p[i] for i, name in enumerate(PEOPLE.joints)}
    right = figure["right"]
    pad = width / 2 * right
    torso = [j["left_shoulder"] + pad, j["right_shoulder"] - pad, j["right_hip"] - pad, j["left_hip"] + pad]
    legs, top = [], [("polygon", [tuple(q) for q in torso]), ("line", [tuple(j["neck"]), tuple(j["head"])], width)]
    for k, name in enumerate(("left", "right")):
        toe = figure["toes"][k] + at
        legs.append(("line", [tuple(j[f"{name}_hip"]), tuple(j[f"{name}_knee"])], width))
        legs.append(("line", [tuple(j[f"{name}_knee"]), tuple(j[f"{name}_ankle"]), tuple(toe)], width * 0.8))
        top.append(("line", [tuple(j[f"{name}_shoulder"]), tuple(j[f"{name}_elbow"])], width))
        top.append(("line", [tuple(j[f"{name}_elbow"]), tuple(j[f"{name}_wrist"])], width * 0.8))
        top.append(("disc", tuple(j[f"{name}_wrist"]), width * 0.75))
    head = [("disc", tuple(j["head"]), _HEAD_RADIUS * height)]
    return legs, top, head


def _place(rng: np.random.Generator, figure: dict, height: float, size: int, placed: list) -> np.ndarray:
    """Where the pelvis goes: mostly fully inside, sometimes cut by the edge, often near another person."""
    lo = figure["points"].min(axis=0) - _HEAD_RADIUS * height
    hi = figure["points"].max(axis=0) + _HEAD_RADIUS * height
    slack = 0.25 * (hi - lo) if rng.random() < 0.12 else np.zeros(2)
    low, high = -lo - slack, size - hi + slack
    high = np.maximum(low, high)
    if placed and rng.random() < 0.35:
        near = placed[int(rng.integers(len(placed)))] + rng.normal(0, 0.3 * height, 2)
        return np.clip(near, low, high)
    return np.array([rng.uniform(low[i], high[i]) for i in range(2)])


def _cast(seed: int, split: str, index: int) -> list[tuple[str, float, float]]:
    """Who is in a picture: (articulation, height as a share of the picture, orientation) each, tallest last.

    Drawn from a stream of its own, so that a picture's label is known without drawing it.
    """
    rng = split_rng(seed, split, index, _SALT + 1)
    count = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15]))
    cast = []
    for _ in range(count):
        articulation = str(rng.choice(list(_ARTICULATION_ODDS), p=list(_ARTICULATION_ODDS.values())))
        height = rng.uniform(0.35, 0.7) if count == 1 else rng.uniform(0.28, 0.55)
        tilt = 15.0 if articulation == "sitting" else 20.0
        orientation = rng.uniform(-tilt, tilt) + (rng.choice([-90.0, 90.0]) if articulation == "lying" else 0.0)
        cast.append((articulation, float(height), float(orientation)))
    return sorted(cast, key=lambda person: person[1])


def render_people(seed: int, split: str, index: int, image_size: int = 128, difficulty: str = "hard") -> Sample:
    """Draw one picture of the people dataset (see the module docstring).

    Args:
        seed: dataset seed; the same (seed, split, index, image_size, difficulty) always gives
            the same picture.
        split: "train", "validation" or "test".
        index: picture number within the split.
        image_size: side of the square picture in pixels.
        difficulty: "easy", "medium" or "hard": how much clutter, noise, texture and how many bars.

    Returns:
        A :class:`Sample`: image (S, S, 3) uint8, label (a posture index), mask, boxes and
        ``keypoints`` (one :class:`~cv_core.keypoints.KeypointInstance` per person).
    """
    from cv_core.datasets.shapes import DIFFICULTIES, _background, draw_clutter

    level = DIFFICULTIES[difficulty]
    rng = split_rng(seed, split, index, _SALT)
    size = image_size
    image = draw_clutter(rng, _background(rng, size, level), level)
    instance = np.full((size, size), -1, np.int32)
    people, placed = [], []
    for k, (articulation, fraction, orientation) in enumerate(_cast(seed, split, index)):
        height = size * fraction
        figure = pose_figure(articulation, height, orientation, rng)
        at = _place(rng, figure, height, size, placed)
        placed.append(at)
        width = max(1.2, height * rng.uniform(0.035, 0.065))
        background = image[int(np.clip(at[1], 0, size - 1)), int(np.clip(at[0], 0, size - 1))]
        own = np.zeros((size, size), np.float32)
        for parts in _figure_parts(figure, at, height, width):
            cover = part_cover(size, parts)
            image = composite(image, cover, contrasting_colour(rng, background))
            own = np.maximum(own, cover)
        instance[own >= 0.5] = k
        people.append({"points": figure["points"] + at, "own": own >= 0.5, "articulation": articulation,
                       "orientation": float(orientation)})
    bars = int(rng.random() < level.bar_probability) + int(rng.random() < level.bar_probability / 3)
    for _ in range(bars):
        target = people[int(rng.integers(len(people)))]["points"].mean(axis=0)
        cover = bar_cover(rng, size, tuple(target), 0.1 * size)
        image = composite(image, cover, rng.integers(0, 256, 3))
        instance[cover >= 0.5] = BAR
    image = image + rng.normal(0, rng.uniform(*level.noise), size=image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)

    keypoints, boxes = [], []
    for k, person in enumerate(people):
        box, area = owner_box(instance, k, person["own"])
        posture = ARTICULATIONS[person["articulation"]]
        angle = (person["orientation"] + 180.0) % 360.0 - 180.0
        keypoints.append(KeypointInstance(
            points=person["points"].astype(np.float32),
            visibility=joint_visibility(person["points"], instance, k), box=box, area=area, posture=posture,
            articulation=person["articulation"], orientation=180.0 if angle == -180.0 else angle))
        boxes.append((POSTURES.index(posture), *box))
    mask = ((instance >= 0) & (instance != BAR)).astype(np.uint8)
    return Sample(image=image, label=POSTURES.index(keypoints[-1].posture), mask=mask, boxes=boxes,
                  source=f"people/{split}/{index}", keypoints=keypoints)


class PeopleDataset(GeneratedDataset):
    """Stick-figure people with joints, generated from a seed (see the module docstring).

    The arguments are :class:`~cv_core.datasets.drawing.GeneratedDataset`'s: seed, picture size, split
    sizes and difficulty.
    """

    name = "people"
    skeleton = PEOPLE
    render = staticmethod(render_people)
    CLASS_NAMES = tuple(POSTURES)
    MASK_CLASS_NAMES = ("background", "person")
    description = (
        "Built-in stick-figure people (one to four a picture) standing, walking, with arms up, sitting or "
        "lying, on the shapes' cluttered backgrounds, with 14 joints each, a visibility per joint, a box, an "
        "area and a posture. No files, no download.")

    def _labels(self, split: str) -> np.ndarray:
        """The tallest person's posture of each picture, read from the cast without drawing."""
        return np.array([POSTURES.index(ARTICULATIONS[_cast(self.seed, split, i)[-1][0]])
                         for i in range(self._count(split))], dtype=np.int64)
