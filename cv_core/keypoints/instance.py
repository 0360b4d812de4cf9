"""One object's keypoints: the structure that datasets give, files hold and metrics read.

Coordinates are continuous pixels: pixel ``(col, row)`` covers ``[col, col + 1) × [row, row + 1)``,
so its centre is ``(col + 0.5, row + 0.5)`` and a picture W pixels wide spans x in ``[0, W]``;
mirroring maps x to ``W - x``. Visibility follows COCO: 0 not labelled (its position means
nothing, e.g. outside the picture), 1 labelled but hidden (behind a bar or another person),
2 labelled and visible. The metrics count every *labelled* joint (``visibility > 0``), as COCO does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cv_core.i18n import N_, LazyText, TranslatedError

__all__ = ["KeypointError", "KeypointInstance", "check_keypoints"]


class KeypointError(TranslatedError, ValueError):
    """Keypoints that cannot be used (a wrong shape, NaN, a point outside its picture); read in the
    reader's language."""


def check_keypoints(points, visibility, num_joints: int | None = None,
                    image_size: tuple[int, int] | None = None,
                    what: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check one object's keypoints and return them as (K, 2) float32 and (K,) uint8 arrays.

    Args:
        points: (K, 2) ``(x, y)`` in pixels.
        visibility: (K,) values in {0, 1, 2} (booleans read as 0 and 2).
        num_joints: the skeleton's K, when known.
        image_size: ``(height, width)``: labelled points must lie inside ``[0, W] × [0, H]``.
        what: how messages name the object ("person 2"); None: "keypoints".

    Raises:
        KeypointError: (a ValueError) a wrong shape or number of joints, NaN or infinite coordinates of a labelled
            joint, a visibility outside {0, 1, 2}, a labelled point outside the picture.
    """
    what = LazyText(N_("keypoints")) if what is None else what
    points = np.asarray(points, dtype=np.float64)
    visibility = np.asarray(visibility)
    if visibility.dtype == bool:
        visibility = np.where(visibility, 2, 0)
    if points.ndim != 2 or points.shape[1] != 2:
        raise KeypointError(N_("Expected {what} as a (K, 2) array of (x, y). Received shape {shape}."), what=what,
                            shape=points.shape)
    k = points.shape[0]
    if num_joints is not None and k != num_joints:
        raise KeypointError(N_("Expected {count} joints in {what} (one per joint of the skeleton). Received {k}."),
                            count=num_joints, what=what, k=k)
    if visibility.shape != (k,):
        raise KeypointError(N_("Expected one visibility flag per joint ({k}) in {what}. Received shape {shape}."),
                            k=k, what=what, shape=visibility.shape)
    if not np.all(np.isin(visibility, (0, 1, 2))):
        raise KeypointError(N_("Expected visibility flags 0 (not labelled), 1 (hidden) or 2 (visible) in {what}. "
                               "Received: {values}"), what=what,
                            values=sorted(set(np.asarray(visibility).ravel().tolist())))
    visibility = visibility.astype(np.uint8)
    labelled = visibility > 0
    bad = labelled & ~np.all(np.isfinite(points), axis=1)
    if bad.any():
        raise KeypointError(N_("Expected finite coordinates for every labelled joint of {what}. Joint {joint} is "
                               "{point}."), what=what, joint=int(np.argmax(bad)), point=points[np.argmax(bad)].tolist())
    points = np.where(labelled[:, None], points, 0.0)
    if image_size is not None:
        height, width = image_size
        x, y = points[:, 0], points[:, 1]
        outside = labelled & ((x < 0) | (x > width) | (y < 0) | (y > height))
        if outside.any():
            j = int(np.argmax(outside))
            raise KeypointError(N_("Expected the labelled joints of {what} inside the {width}×{height} picture. "
                                   "Joint {joint} is at ({x}, {y})."), what=what, width=width, height=height, joint=j,
                                x=f"{points[j, 0]:g}", y=f"{points[j, 1]:g}")
    return points.astype(np.float32), visibility


@dataclass
class KeypointInstance:
    """One object (a person, a face) with its keypoints, as datasets and files give it.

    Attributes:
        points: (K, 2) float32 ``(x, y)`` in continuous pixels, in the skeleton's joint order;
            rows of unlabelled joints are 0.
        visibility: (K,) uint8, COCO's 0 / 1 / 2 (see the module docstring).
        box: ``(x0, y0, x1, y1)`` in pixels around the object's visible pixels (x1, y1 exclusive).
        area: the object's area in pixels² (its visible pixels, as COCO's segment area): the
            scale that OKS measures errors against.
        posture: "standing", "sitting" or "lying" where the dataset knows it, else None.
        articulation: how the generator posed it ("walking", "arms_up", ...), else None.
        orientation: in-plane angle in degrees, 0 = upright, counter-clockwise positive, in
            (-180, 180] (a person's torso, a face's eye line), where known.
        turn: a face's turn left or right (yaw) in degrees, positive when it turns towards the
            picture's right, where known.
        crowd: COCO's ``iscrowd`` (a region of many people, never matched one to one).
        score: a prediction's confidence in [0, 1]; None for a truth.
    """

    points: np.ndarray
    visibility: np.ndarray
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    area: float = 0.0
    posture: str | None = None
    articulation: str | None = None
    orientation: float | None = None
    turn: float | None = None
    crowd: bool = False
    score: float | None = None

    @property
    def labelled(self) -> np.ndarray:
        """(K,) bool: joints with a position (visibility 1 or 2), the ones the metrics count."""
        return np.asarray(self.visibility) > 0

    @property
    def num_labelled(self) -> int:
        """COCO's ``num_keypoints``."""
        return int(self.labelled.sum())

    def as_truth(self) -> dict:
        """The truth dict that :func:`~cv_core.keypoints.keypoint_average_precision` reads."""
        return {"keypoints": np.asarray(self.points, np.float64), "visible": self.labelled,
                "area": float(self.area), "box": tuple(float(v) for v in self.box), "crowd": bool(self.crowd)}

    def as_prediction(self) -> dict:
        """The prediction dict that :func:`~cv_core.keypoints.keypoint_average_precision` reads."""
        return {"keypoints": np.asarray(self.points, np.float64),
                "score": float(self.score if self.score is not None else 1.0)}
