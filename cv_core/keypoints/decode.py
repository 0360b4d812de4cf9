"""From a keypoint model's outputs to objects with joints, in two steps a page can keep apart.

1. :func:`raw_keypoints` / :func:`predict_raw_keypoints` (once per picture): the candidates.

   - **Pose** (several people): the ``centre`` heatmap's peaks (cells that are the maximum of
     their 3x3 neighbourhood, CenterNet's stand-in for NMS), the best ``max_people`` of them;
     each gives a box (``size``, ``offset``) and its joints read from ``joint_offsets``: this is
     what groups joints into people. Then each joint is **snapped** to the nearest peak of its
     own heatmap (``joint_heatmap``, refined in its cell by ``joint_refine``) that scores above
     ``peak_threshold`` and lies within ``snap_fraction`` of the person's longer box side (at
     least one cell): the heatmap places a joint more precisely than an offset read from the
     centre, and the offset says whose joint it is. A joint with no peak near keeps its offset.
   - **Heatmap** (one object): each joint at its heatmap's argmax, refined within the cell by
     ``joint_refine`` (sub-cell precision from a grid ``s`` times coarser than the picture);
     the object's score is the mean of its joints' peaks.
   - **Regression** (one object): the coordinates, scaled to the picture; score 1.

2. :func:`filter_keypoints` (cheap, per slider move): the candidates above a score threshold,
   best first, as :class:`~cv_core.keypoints.KeypointInstance` objects (``visibility`` 2 for a
   joint its heatmap confirmed, 1 for one only regressed or whose peak is faint; a regression
   model's joints are all 2).

The forward pass is one compiled TensorFlow function kept on the model; everything after it is
numpy on small arrays (a 3x3 max-pool by shifted maxima, partial sorts for the top candidates, the
snapping on (B, N, K, P) distances): for one picture, a fraction of a millisecond, where a second
TensorFlow graph for the same steps cost about a millisecond of dispatch on this CPU. Decoding
outputs already in numpy needs no TensorFlow at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cv_core.keypoints.instance import KeypointInstance

__all__ = ["DEFAULT_MAX_PEAKS", "DEFAULT_MAX_PEOPLE", "PEAK_THRESHOLD", "SNAP_FRACTION", "RawKeypoints",
           "decode_keypoints", "filter_keypoints", "predict_keypoint_outputs", "predict_keypoints",
           "predict_raw_keypoints", "raw_keypoints", "snap_joints"]

#: Person candidates kept per picture (COCO scores at most 20 a picture).
DEFAULT_MAX_PEOPLE = 20
#: Peaks kept per joint heatmap and picture, for snapping.
DEFAULT_MAX_PEAKS = 20
#: A joint heatmap's peak must score above this to attract a joint (CenterNet's 0.1).
PEAK_THRESHOLD = 0.1
#: How far a joint may move to its heatmap's peak, as a fraction of the person's longer box side (CenterNet's 0.3).
SNAP_FRACTION = 0.3


@dataclass(frozen=True)
class RawKeypoints:
    """A batch's candidate objects before the score threshold (plain numpy).

    Attributes:
        points: (B, N, K, 2) float32 joints ``(x, y)`` in input pixels (snapped where a peak was near),
            inside the picture.
        joint_scores: (B, N, K) float32: the heatmap peak each joint sits on (0 for a joint no
            peak confirmed; 1 for a regression model's joints).
        snapped: (B, N, K) bool: the joint sits on a peak of its heatmap scoring above the peak
            threshold (always False for a regression model, which has no heatmap).
        regressed: (B, N, K, 2) float32: the joints before snapping (pose: from the centre).
        scores: (B, N) float32 object scores, highest first in each picture.
        boxes: (B, N, 4) float32 ``x0, y0, x1, y1`` (pose: from ``size``; one object: around its joints).
        image_size: ``(height, width)`` of the input pictures.
        kind: "pose", "heatmap" or "regression".
    """

    points: np.ndarray
    joint_scores: np.ndarray
    snapped: np.ndarray
    regressed: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray
    image_size: tuple[int, int]
    kind: str

    def __len__(self) -> int:
        return len(self.scores)


def _peaks(heatmap: np.ndarray) -> np.ndarray:
    """``heatmap`` (B, h, w, C) where a cell is the maximum of its 3x3 neighbourhood, else 0 (a max-pool NMS)."""
    padded = np.pad(heatmap, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    rows = np.maximum(np.maximum(padded[:, :, :-2], padded[:, :, 1:-1]), padded[:, :, 2:])
    pooled = np.maximum(np.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])
    return np.where(heatmap >= pooled, heatmap, np.float32(0))


def _top(scores: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` best of the last axis, best first (ties: the lower index first, as ``tf.math.top_k``)."""
    count = min(count, scores.shape[-1])
    index = np.argpartition(-scores, count - 1, axis=-1)[..., :count]
    index = np.sort(index, axis=-1)
    order = np.argsort(-np.take_along_axis(scores, index, axis=-1), axis=-1, kind="stable")
    index = np.take_along_axis(index, order, axis=-1)
    return np.take_along_axis(scores, index, axis=-1), index


def _cells(index: np.ndarray, width: int) -> np.ndarray:
    return np.stack([index % width, index // width], axis=-1).astype(np.float32)


def _joint_peaks(heatmap, refine, stride: float, count: int):
    """The best ``count`` cells of each joint's heatmap (pass it through :func:`_peaks` first for its local
    maxima; as it is, ``count=1`` is its argmax), refined within their cell by ``refine``.

    Returns:
        ``(scores (B, K, count), points (B, K, count, 2))`` in input pixels.
    """
    batch, height, width, joints = heatmap.shape
    scores, cell = _top(heatmap.reshape(batch, height * width, joints).transpose(0, 2, 1), count)
    offsets = refine.reshape(batch, height * width, joints, 2)
    at = offsets[np.arange(batch)[:, None, None], cell, np.arange(joints)[None, :, None]]  # (B, K, count, 2)
    return scores, (_cells(cell, width) + at) * np.float32(stride)


def _pose_candidates(outputs, stride: float, max_people: int, max_peaks: int):
    """Centre peaks, their boxes and regressed joints, and each joint heatmap's peaks (see the module docstring)."""
    centre, heatmap = outputs["centre"], outputs["joint_heatmap"]
    batch, height, width, joints = heatmap.shape
    stride = np.float32(stride)
    peaks = _peaks(np.concatenate([centre, heatmap], axis=-1))  # one max-pool for all the heatmaps
    scores, cell = _top(peaks[..., 0].reshape(batch, -1), max_people)
    rows = np.arange(batch)[:, None]

    def at(name, channels):
        return outputs[name].reshape(batch, height * width, channels)[rows, cell]

    xy = _cells(cell, width)
    centre_xy = (xy + at("offset", 2)) * stride
    half = np.maximum(at("size", 2), 0.0) * stride / 2
    limit = np.array([width, height, width, height], np.float32) * stride
    boxes = np.clip(np.concatenate([centre_xy - half, centre_xy + half], axis=-1), 0.0, limit)
    offsets = at("joint_offsets", 2 * joints).reshape(batch, -1, joints, 2)
    regressed = (xy[:, :, None, :] + offsets) * stride
    peak_scores, peak_points = _joint_peaks(peaks[..., 1:], outputs["joint_refine"], stride, max_peaks)
    return scores, boxes, regressed, peak_scores, peak_points


def _candidates(kind: str, outputs, stride: float, max_people: int, max_peaks: int):
    if kind == "pose":
        return _pose_candidates(outputs, stride, max_people, max_peaks)
    if kind == "heatmap":
        return _joint_peaks(outputs["joint_heatmap"], outputs["joint_refine"], stride, 1)
    return (outputs["joints"],)


def snap_joints(regressed, boxes, peak_scores, peak_points, peak_threshold: float = PEAK_THRESHOLD,
                snap_fraction: float = SNAP_FRACTION, min_radius: float = 0.0):
    """Move each regressed joint to the nearest peak of its heatmap within reach (see the module docstring).

    Args:
        regressed: (B, N, K, 2) joints read from each person's centre.
        boxes: (B, N, 4) the people's boxes (their longer side sets the reach).
        peak_scores: (B, K, P) each joint heatmap's peaks; peak_points: (B, K, P, 2) where they are.
        peak_threshold: peaks scoring at most this attract nothing.
        snap_fraction: the reach, as a fraction of the box's longer side; at least ``min_radius``.

    Returns:
        ``(points (B, N, K, 2), joint_scores (B, N, K), snapped (B, N, K) bool)``.
    """
    regressed = np.asarray(regressed, np.float32)
    boxes, peak_scores, peak_points = (np.asarray(a, np.float32) for a in (boxes, peak_scores, peak_points))
    batch, people, joints = regressed.shape[:3]
    difference = regressed[:, :, :, None, :] - peak_points[:, None]  # (B, N, K, P, 2)
    squared = difference[..., 0] ** 2 + difference[..., 1] ** 2
    side = np.maximum(boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1])
    reach = np.maximum(snap_fraction * side, min_radius)[:, :, None, None]
    squared = np.where((peak_scores[:, None] > peak_threshold) & (squared <= reach * reach), squared, np.inf)
    best = np.argmin(squared, axis=-1)  # (B, N, K)
    b, k = np.arange(batch)[:, None, None], np.arange(joints)[None, None, :]
    snapped = np.isfinite(squared[b, np.arange(people)[None, :, None], k, best])
    points = np.where(snapped[..., None], peak_points[b, k, best], regressed).astype(np.float32)
    return points, np.where(snapped, peak_scores[b, k, best], 0.0).astype(np.float32), snapped


def _joint_box(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points.min(axis=-2), points.max(axis=-2)], axis=-1)


def _finish(kind: str, parts, image_size, stride, peak_threshold, snap_fraction) -> RawKeypoints:
    """Numpy arrays of the compiled step -> :class:`RawKeypoints` (snapping, for pose)."""
    parts = [np.asarray(p) for p in parts]
    height, width = image_size
    if kind == "pose":
        scores, boxes, regressed, peak_scores, peak_points = parts
        points, joint_scores, snapped = snap_joints(regressed, boxes, peak_scores, peak_points, peak_threshold,
                                                    snap_fraction, min_radius=float(stride))
    elif kind == "heatmap":
        peak_scores, peak_points = parts  # (B, K, 1), (B, K, 1, 2)
        points = regressed = peak_points[:, None, :, 0, :].astype(np.float32)
        joint_scores = peak_scores[:, None, :, 0].astype(np.float32)
        snapped = joint_scores > peak_threshold  # the joint's heatmap is sure of it
        scores, boxes = joint_scores.mean(axis=-1), _joint_box(points)
    else:
        (joints,) = parts
        points = regressed = (joints.reshape(len(joints), 1, -1, 2) * np.array([width, height], np.float32))
        points = regressed = points.astype(np.float32)
        joint_scores = np.ones(points.shape[:3], np.float32)
        snapped = np.zeros(points.shape[:3], bool)
        scores, boxes = np.ones((len(joints), 1), np.float32), _joint_box(points)
    limit = np.array([width, height], np.float32)
    points = np.clip(points, 0.0, limit)  # an offset may point past the edge: the joint is at the edge
    return RawKeypoints(points=points, joint_scores=joint_scores, snapped=snapped,
                        regressed=np.asarray(regressed, np.float32), scores=np.asarray(scores, np.float32),
                        boxes=np.asarray(boxes, np.float32), image_size=(int(height), int(width)), kind=kind)


def _kind_of(outputs) -> str:
    from cv_core.keypoints.models import KEYPOINT_KINDS

    names = set(outputs) if isinstance(outputs, dict) else None
    for kind, heads in KEYPOINT_KINDS.items():
        if names is not None and set(heads) <= names and (kind != "heatmap" or "centre" not in names):
            return kind
    raise ValueError(f"Expected the outputs of a keypoint model (a dict with {KEYPOINT_KINDS['pose']}, "
                     f"{KEYPOINT_KINDS['heatmap']} or {KEYPOINT_KINDS['regression']}). "
                     f"Received: {sorted(outputs) if isinstance(outputs, dict) else type(outputs).__name__}")


def raw_keypoints(outputs, output_stride: int = 4, image_size: tuple[int, int] | None = None,
                  max_people: int = DEFAULT_MAX_PEOPLE, max_peaks: int = DEFAULT_MAX_PEAKS,
                  peak_threshold: float = PEAK_THRESHOLD, snap_fraction: float = SNAP_FRACTION) -> RawKeypoints:
    """Candidates from a keypoint model's outputs (tensors or numpy; one picture without the batch axis works).

    Args:
        outputs: the model's output dict (its names tell the kind of model).
        output_stride: input pixels per output cell (ignored for a regression model).
        image_size: ``(height, width)`` of the input: needed for a regression model (its
            outputs are fractions of it); else the heatmap's size times the stride.
        max_people, max_peaks, peak_threshold, snap_fraction: the pose decoding's settings.

    Returns:
        :class:`RawKeypoints`.
    """
    kind = _kind_of(outputs)
    arrays = {name: np.asarray(value, np.float32) for name, value in outputs.items()}
    single = arrays["joints"].ndim == 1 if kind == "regression" else arrays["joint_heatmap"].ndim == 3
    if single:
        arrays = {name: value[None] for name, value in arrays.items()}
    if kind == "regression":
        if image_size is None:
            raise ValueError("Expected `image_size` for a regression model's outputs (they are fractions of it).")
        stride = 1
    else:
        stride = output_stride
        image_size = (arrays["joint_heatmap"].shape[1] * stride, arrays["joint_heatmap"].shape[2] * stride)
    parts = _candidates(kind, arrays, float(stride), int(max_people), int(max_peaks))
    return _finish(kind, parts, image_size, stride, peak_threshold, snap_fraction)


_MODEL_FUNCTIONS = "_cv_core_keypoint_functions"


def _forward_function(model):
    """The model's forward pass as one compiled call, kept on the model itself (it goes when the model goes)."""
    from cv_core._tf import tensorflow
    from cv_core.keypoints.models import keypoint_model_geometry

    forward = model.__dict__.get(_MODEL_FUNCTIONS)
    if forward is None:
        tf = tensorflow()
        height, width = keypoint_model_geometry(model).image_size

        @tf.function(input_signature=[tf.TensorSpec((None, height, width, 3), tf.float32)])
        def forward(images):
            return model(images, training=False)

        object.__setattr__(model, _MODEL_FUNCTIONS, forward)
    return forward


def predict_keypoint_outputs(model, images) -> dict[str, np.ndarray]:
    """The model's outputs on ``images`` as numpy, from the same compiled forward pass decoding uses.

    For a page that shows a joint's heatmap beside the skeletons: decode these outputs with
    :func:`raw_keypoints` (the same candidates as :func:`predict_raw_keypoints`) and keep
    ``outputs["joint_heatmap"]`` (B, H/s, W/s, K) to draw, with one forward pass for both.

    Args:
        model: a model from :mod:`cv_core.keypoints.models`.
        images: float (B, H, W, 3) or one (H, W, 3) picture in [0, 255], at the model's input size.

    Raises:
        ValueError: pictures of another size than the model's input.
    """
    from cv_core.keypoints.models import keypoint_model_geometry

    height, width = keypoint_model_geometry(model).image_size
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (height, width, 3):
        raise ValueError(f"Expected images of shape (B, {height}, {width}, 3) for this model. "
                         f"Received: {images.shape}")
    return {name: value.numpy() for name, value in _forward_function(model)(images).items()}


def predict_raw_keypoints(model, images, max_people: int = DEFAULT_MAX_PEOPLE, max_peaks: int = DEFAULT_MAX_PEAKS,
                          peak_threshold: float = PEAK_THRESHOLD, snap_fraction: float = SNAP_FRACTION):
    """Run a keypoint model once on ``images`` and keep its candidates, for filtering many times.

    Args:
        model: a model from :mod:`cv_core.keypoints.models` (built or loaded).
        images: float (B, H, W, 3) or one (H, W, 3) picture in [0, 255], at the model's input size.

    Returns:
        :class:`RawKeypoints`.

    Raises:
        ValueError: pictures of another size than the model's input.
    """
    from cv_core.keypoints.models import keypoint_model_geometry

    (height, width), stride, _, kind = keypoint_model_geometry(model)
    outputs = predict_keypoint_outputs(model, images)
    parts = _candidates(kind, outputs, float(stride or 1), int(max_people), int(max_peaks))
    return _finish(kind, parts, (height, width), stride or 1, peak_threshold, snap_fraction)


def filter_keypoints(raw: RawKeypoints, score_threshold: float = 0.3,
                     max_objects: int = DEFAULT_MAX_PEOPLE) -> list[list[KeypointInstance]]:
    """The candidates scoring above ``score_threshold`` (strictly), best first, at most ``max_objects`` a picture.

    Returns:
        One list per picture of :class:`~cv_core.keypoints.KeypointInstance` (``score`` set;
        ``visibility`` 2 where the joint's heatmap confirmed it, else 1; ``area`` the box's).

    Raises:
        ValueError: a threshold outside [0, 1] or a count below 1.
    """
    if isinstance(score_threshold, bool) or not isinstance(score_threshold, (int, float)) \
            or not 0 <= score_threshold <= 1:
        raise ValueError(f"Expected `score_threshold` in [0, 1]. Received: score_threshold={score_threshold!r}")
    if isinstance(max_objects, bool) or not isinstance(max_objects, int) or max_objects < 1:
        raise ValueError(f"Expected `max_objects` to be an integer >= 1. Received: max_objects={max_objects!r}")
    confirmed = raw.snapped if raw.kind != "regression" else np.ones(raw.snapped.shape, bool)
    pictures = []
    for b in range(len(raw)):
        order = np.argsort(-raw.scores[b], kind="stable")
        kept = [n for n in order if raw.scores[b, n] > score_threshold][:max_objects]
        pictures.append([
            KeypointInstance(points=raw.points[b, n].copy(),
                             visibility=np.where(confirmed[b, n], 2, 1).astype(np.uint8),
                             box=tuple(float(v) for v in raw.boxes[b, n]),
                             area=float(max(raw.boxes[b, n, 2] - raw.boxes[b, n, 0], 0)
                                        * max(raw.boxes[b, n, 3] - raw.boxes[b, n, 1], 0)),
                             score=float(raw.scores[b, n]))
            for n in kept])
    return pictures


def decode_keypoints(outputs, score_threshold: float = 0.3, output_stride: int = 4,
                     image_size: tuple[int, int] | None = None, max_objects: int = DEFAULT_MAX_PEOPLE):
    """Objects from a model's outputs: :func:`raw_keypoints` then :func:`filter_keypoints`."""
    raw = raw_keypoints(outputs, output_stride, image_size, max_people=max(max_objects, DEFAULT_MAX_PEOPLE))
    return filter_keypoints(raw, score_threshold, max_objects)


def predict_keypoints(model, images, score_threshold: float = 0.3, max_objects: int = DEFAULT_MAX_PEOPLE):
    """Objects on ``images`` from a model: :func:`predict_raw_keypoints` then :func:`filter_keypoints`."""
    raw = predict_raw_keypoints(model, images, max_people=max(max_objects, DEFAULT_MAX_PEOPLE))
    return filter_keypoints(raw, score_threshold, max_objects)
