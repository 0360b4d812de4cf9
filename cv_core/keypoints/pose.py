"""A pose's geometry: mirrored keypoints, which way a person or a face is turned, and a posture.

Angles are in degrees in the picture's plane, 0 = upright (head up), counter-clockwise as seen
positive, in (-180, 180]: a person lying with the head on the picture's left is at +90.

>>> from cv_core.keypoints import PEOPLE
>>> from cv_core.keypoints.pose import flip_keypoints, person_orientation, posture
>>> points, visibility = flip_keypoints(points, visibility, width=128, skeleton=PEOPLE)
>>> person_orientation(points, visibility > 0, PEOPLE), posture(points, visibility > 0, PEOPLE)
(12.5, 'standing')
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

__all__ = ["LYING_TILT", "SITTING_HIP_ANGLE", "face_orientation", "flip_instances", "flip_keypoints",
           "person_orientation", "posture", "scale_instances", "up_vector_angle"]

#: A torso more than this many degrees from vertical is lying.
LYING_TILT = 45.0
#: Thighs more than this many degrees from the torso's downward axis (mean of both) are sitting.
SITTING_HIP_ANGLE = 45.0


def flip_keypoints(points, visibility, width: float, skeleton) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints of the horizontally mirrored picture, left and right joints swapped.

    Args:
        points: (K, 2) or (N, K, 2) ``(x, y)`` in continuous pixels.
        visibility: (K,) or (N, K), moved with the points.
        width: the picture's width W: x becomes ``W - x``.
        skeleton: gives the left/right pairs (``flip_pairs``).

    Returns:
        ``(points, visibility)`` of the same shapes: the mirrored picture's "left_wrist" row is the
        original's right wrist, mirrored.
    """
    points = np.array(points, dtype=np.float32, copy=True)
    visibility = np.asarray(visibility)
    if points.shape[-2:] != (skeleton.num_joints, 2):
        raise ValueError(f"Expected keypoints of {skeleton.num_joints} joints, shape (..., "
                         f"{skeleton.num_joints}, 2). Received shape {points.shape}.")
    perm = skeleton.flip_permutation()
    points[..., 0] = width - points[..., 0]
    labelled = np.asarray(visibility) > 0
    points = np.where(labelled[..., None], points, 0.0).astype(np.float32)  # unlabelled rows stay 0
    return points[..., perm, :], visibility[..., perm]


def flip_instances(instances: list, width: float, skeleton) -> list:
    """:class:`~cv_core.keypoints.KeypointInstance` objects of the mirrored picture (boxes and angles mirrored too)."""
    out = []
    for item in instances:
        points, visibility = flip_keypoints(item.points, item.visibility, width, skeleton)
        x0, y0, x1, y1 = item.box
        mirror = (lambda a: None if a is None else (180.0 if -a == -180.0 else -a))
        out.append(replace(item, points=points, visibility=visibility, box=(width - x1, y0, width - x0, y1),
                           orientation=mirror(item.orientation), turn=mirror(item.turn)))
    return out


def scale_instances(instances: list, from_size: tuple[int, int], to_size: tuple[int, int]) -> list:
    """The instances of a picture resized from ``(height, width)`` to another: points, boxes and areas scaled."""
    sy, sx = to_size[0] / from_size[0], to_size[1] / from_size[1]
    out = []
    for item in instances:
        points = np.asarray(item.points, np.float32) * np.array([sx, sy], np.float32)
        x0, y0, x1, y1 = item.box
        out.append(replace(item, points=points, box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy), area=item.area * sx * sy))
    return out


def up_vector_angle(dx: float, dy: float) -> float:
    """The angle of a picture vector pointing to an object's top: 0 when it points up, +90 to the left."""
    angle = math.degrees(math.atan2(-dx, -dy))
    return 180.0 if angle == -180.0 else angle


def _mid(points, labelled, a: int, b: int):
    if labelled[a] and labelled[b]:
        return (points[a] + points[b]) / 2
    if labelled[a]:
        return points[a]
    if labelled[b]:
        return points[b]
    return None


def _torso(points, labelled, skeleton):
    """(top, bottom) of the torso: mid-shoulders (else neck, else head) and mid-hips; None when unknown."""
    names = skeleton.joints
    if not {"left_hip", "right_hip"} <= set(names):
        return None
    bottom = _mid(points, labelled, names.index("left_hip"), names.index("right_hip"))
    top = None
    if {"left_shoulder", "right_shoulder"} <= set(names):
        top = _mid(points, labelled, names.index("left_shoulder"), names.index("right_shoulder"))
    for name in ("neck", "head", "nose"):
        if top is None and name in names and labelled[names.index(name)]:
            top = points[names.index(name)]
    if top is None or bottom is None or np.allclose(top, bottom):
        return None
    return top, bottom


def person_orientation(points, visible, skeleton) -> float | None:
    """The in-plane angle of a person's torso, from mid-hips to mid-shoulders (degrees, 0 upright).

    Falls back on one shoulder (or hip), then the neck or head, for a hidden joint. Returns None
    when the torso's two ends are not both known (no hip labelled, nothing above it).
    """
    points, labelled = np.asarray(points, np.float64), np.asarray(visible, bool)
    torso = _torso(points, labelled, skeleton)
    if torso is None:
        return None
    (tx, ty), (bx, by) = torso
    return up_vector_angle(tx - bx, ty - by)


def face_orientation(points, visible, skeleton=None, eye_half_distance: float | None = None,
                     nose_depth: float | None = None) -> dict | None:
    """A face's roll (tilt in the picture) and yaw (turn) from its eyes and nose tip, in degrees.

    Roll is the angle of the eye line (the subject's right eye to its left eye points to the
    picture's right on an upright face). Yaw comes from how far the nose tip stands off the
    eyes' midpoint along that line: with eyes ``2·a`` apart and the tip ``d`` in front of them
    (in head radii), ``tan(yaw) = shift / eye distance · 2a / d``. The defaults are the
    generated faces' model (:data:`cv_core.datasets.landmarks.EYE_HALF_DISTANCE` and
    ``NOSE_DEPTH``); a real face is close to it, but the yaw is then an estimate.

    Args:
        points: (K, 2) landmarks in a skeleton with "left_eye", "right_eye" and "nose_tip" (or "nose").
        visible: (K,) bool, labelled landmarks.
        skeleton: the landmarks' skeleton (default: :data:`~cv_core.keypoints.FACE_LANDMARKS`).

    Returns:
        ``{"roll": degrees, "yaw": degrees or None}``, or None without both eyes.
    """
    from cv_core.datasets.landmarks import EYE_HALF_DISTANCE, NOSE_DEPTH
    from cv_core.keypoints.skeletons import FACE_LANDMARKS

    skeleton = skeleton or FACE_LANDMARKS
    a = EYE_HALF_DISTANCE if eye_half_distance is None else eye_half_distance
    d = NOSE_DEPTH if nose_depth is None else nose_depth
    points, labelled = np.asarray(points, np.float64), np.asarray(visible, bool)
    names = skeleton.joints
    if not {"left_eye", "right_eye"} <= set(names):
        raise ValueError(f"Expected a face skeleton with 'left_eye' and 'right_eye'. Received joints {names}.")
    left, right = names.index("left_eye"), names.index("right_eye")
    if not (labelled[left] and labelled[right]):
        return None
    across = points[left] - points[right]
    distance = float(np.hypot(*across))
    if distance == 0:
        return None
    roll = up_vector_angle(across[1], -across[0])
    nose = next((names.index(n) for n in ("nose_tip", "nose") if n in names), None)
    yaw = None
    if nose is not None and labelled[nose]:
        shift = float(np.dot(points[nose] - (points[left] + points[right]) / 2, across / distance))
        yaw = math.degrees(math.atan(shift / distance * 2 * a / d))
    return {"roll": roll, "yaw": yaw}


def _angle_between(u: np.ndarray, v: np.ndarray) -> float:
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def posture(points, visible, skeleton) -> str | None:
    """"standing", "sitting" or "lying" from a person's joints; None when the torso is unknown.

    Lying: the torso is more than :data:`LYING_TILT` degrees from vertical (either way up).
    Sitting: otherwise, the thighs (hip to knee) make on average more than
    :data:`SITTING_HIP_ANGLE` degrees with the torso's downward axis. Standing: the rest,
    including a person whose knees are both unknown.
    """
    points, labelled = np.asarray(points, np.float64), np.asarray(visible, bool)
    torso = _torso(points, labelled, skeleton)
    if torso is None:
        return None
    top, bottom = torso
    tilt = abs(up_vector_angle(*(top - bottom)))
    if min(tilt, 180.0 - tilt) > LYING_TILT:
        return "lying"
    names = skeleton.joints
    angles = []
    for side in ("left", "right"):
        hip, knee = f"{side}_hip", f"{side}_knee"
        if hip in names and knee in names and labelled[names.index(hip)] and labelled[names.index(knee)]:
            thigh = points[names.index(knee)] - points[names.index(hip)]
            if np.any(thigh):
                angles.append(_angle_between(thigh, bottom - top))
    if angles and float(np.mean(angles)) > SITTING_HIP_ANGLE:
        return "sitting"
    return "standing"
