"""From the detector's three maps to scored boxes, in two steps a page can keep apart.

1. :func:`raw_detections` (model-dependent, done once per image): the heatmap's peaks —
   cells that are the maximum of their 3x3 neighbourhood in their class's channel (a
   max-pool, CenterNet's cheap stand-in for NMS) — the ``max_candidates`` best of them over
   all classes, and a box for each from the size and offset at the peak: centre
   ``(cell + offset) × stride``, width and height ``size × stride``
   (``keras.utils.bounding_boxes.convert_format`` from ``center_xywh`` to ``xyxy``), clipped
   to the picture (``clip_to_image_size``).
2. :func:`filter_detections` (cheap, done per slider move): keep the candidates above the
   score threshold and remove, class by class, any box that overlaps a higher-scored box of
   its class by more than the IoU threshold (``tf.image.combined_non_max_suppression``;
   skipped when no two remaining boxes of a class overlap that much, as it would keep all).

:func:`decode_detections` does both; :func:`predict_raw` and :func:`detect` start from a
model and images. Boxes are ``(class_index, x0, y0, x1, y1, score)`` in input-image pixels
with x1/y1 exclusive, the format of :func:`cv_core.detection.mean_average_precision`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from cv_core.detection.metrics import box_iou

__all__ = [
    "RawDetections",
    "decode_detections",
    "detect",
    "filter_detections",
    "predict_raw",
    "raw_detections",
]

DEFAULT_MAX_CANDIDATES = 100
#: Above this many boxes in an image, filtering always goes through TensorFlow's NMS.
_SHORTCUT_MAX_BOXES = 32


@dataclass(frozen=True)
class RawDetections:
    """A batch's candidate boxes before the score threshold and NMS (plain numpy).

    Attributes:
        boxes: (B, K, 4) float32 ``x0, y0, x1, y1`` in input pixels, x1/y1 exclusive.
        scores: (B, K) float32 heatmap peaks in [0, 1], highest first in each image.
        classes: (B, K) int32 class indices; -1 for a candidate whose box has no area.
        image_size: ``(height, width)`` of the input images.
        num_classes: heatmap channels.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    image_size: tuple[int, int]
    num_classes: int

    def __len__(self) -> int:
        return len(self.scores)


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Expected `{name}` to be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _check_fraction(name: str, value, low_open: bool) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value)
    if not bad:
        bad = not (0 < value <= 1) if low_open else not (0 <= value <= 1)
    if bad:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"Expected `{name}` in {interval}. Received: {name}={value!r}")
    return float(value)


def _peak_boxes(tf, bounding_boxes, heatmap, size, offset, stride: float, max_candidates: int):
    """The graph of the raw step: peaks, top-k, boxes in pixels (see the module docstring)."""
    shape = tf.shape(heatmap)
    batch, height, width, classes = shape[0], shape[1], shape[2], shape[3]
    pooled = tf.nn.max_pool2d(heatmap, ksize=3, strides=1, padding="SAME")
    peaks = tf.where(heatmap >= pooled, heatmap, tf.zeros_like(heatmap))
    k = tf.minimum(max_candidates, height * width * classes)
    scores, index = tf.math.top_k(tf.reshape(peaks, (batch, -1)), k=k)
    cell = index // classes
    labels = index % classes
    size_at = tf.gather(tf.reshape(size, (batch, -1, 2)), cell, batch_dims=1)
    offset_at = tf.gather(tf.reshape(offset, (batch, -1, 2)), cell, batch_dims=1)
    xs = tf.cast(cell % width, tf.float32)
    ys = tf.cast(cell // width, tf.float32)
    centre_xywh = tf.stack(
        [
            (xs + offset_at[..., 0]) * stride,
            (ys + offset_at[..., 1]) * stride,
            tf.maximum(size_at[..., 0], 0.0) * stride,
            tf.maximum(size_at[..., 1], 0.0) * stride,
        ],
        axis=-1,
    )
    boxes = bounding_boxes.convert_format(centre_xywh, source="center_xywh", target="xyxy")
    clipped = bounding_boxes.clip_to_image_size(
        {"boxes": boxes, "labels": labels},
        height=tf.cast(height, tf.float32) * stride,
        width=tf.cast(width, tf.float32) * stride,
        bounding_box_format="xyxy",
    )
    return clipped["boxes"], scores, tf.cast(clipped["labels"], tf.int32)


@functools.lru_cache(maxsize=None)
def _raw_function(output_stride: int, max_candidates: int):
    """A compiled raw step for one stride and candidate count (traced per shape)."""
    from cv_core._tf import keras as _keras
    from cv_core._tf import tensorflow

    tf = tensorflow()
    bounding_boxes = _keras().utils.bounding_boxes

    @tf.function(reduce_retracing=True)
    def raw(heatmap, size, offset):
        return _peak_boxes(tf, bounding_boxes, heatmap, size, offset, float(output_stride), max_candidates)

    return raw


_MODEL_FUNCTIONS = "_cv_core_detection_functions"


def _predict_raw_function(model, max_candidates: int):
    """The forward pass and the raw step in one compiled call, kept on the model itself.

    One call instead of two saves a dispatch and a round trip through numpy: on a CPU the
    raw step then adds a fraction of a millisecond to the forward pass. The function lives
    in an attribute of the model (not in a cache keyed by the model, which would keep every
    model alive), so it goes when the model goes.
    """
    from cv_core._tf import keras as _keras
    from cv_core._tf import tensorflow
    from cv_core.detection.model import detector_geometry

    functions = model.__dict__.get(_MODEL_FUNCTIONS)
    if functions is None:
        functions = {}
        object.__setattr__(model, _MODEL_FUNCTIONS, functions)
    if max_candidates not in functions:
        tf = tensorflow()
        bounding_boxes = _keras().utils.bounding_boxes
        (height, width), stride, _ = detector_geometry(model)

        @tf.function(input_signature=[tf.TensorSpec((None, height, width, 3), tf.float32)])
        def predict(images):
            outputs = model(images, training=False)
            return _peak_boxes(tf, bounding_boxes, outputs["heatmap"], outputs["size"], outputs["offset"],
                               float(stride), max_candidates)

        functions[max_candidates] = predict
    return functions[max_candidates]


def raw_detections(outputs, output_stride: int = 4, max_candidates: int = DEFAULT_MAX_CANDIDATES) -> RawDetections:
    """Candidate boxes from a detector's outputs: heatmap peaks, with their sizes and offsets.

    Args:
        outputs: ``{"heatmap": (B, h, w, C), "size": (B, h, w, 2), "offset": (B, h, w, 2)}``
            as the model returns them (tensors or numpy; one image without the batch axis
            also works).
        output_stride: input pixels per output cell (the detector's ``output_stride``).
        max_candidates: peaks kept per image, best first, over all classes.

    Returns:
        :class:`RawDetections` with ``K = min(max_candidates, h × w × C)`` candidates per image.

    Raises:
        ValueError: missing outputs or inconsistent shapes, bad stride or count.
    """
    stride = _check_int("output_stride", output_stride)
    count = _check_int("max_candidates", max_candidates)
    if not isinstance(outputs, dict) or not {"heatmap", "size", "offset"} <= set(outputs):
        raise ValueError(
            "Expected `outputs` to be a dict with 'heatmap', 'size' and 'offset'. "
            f"Received: {sorted(outputs) if isinstance(outputs, dict) else type(outputs).__name__}"
        )
    heatmap, size, offset = (np.asarray(outputs[key], np.float32) for key in ("heatmap", "size", "offset"))
    if heatmap.ndim == 3:
        heatmap, size, offset = heatmap[None], size[None], offset[None]
    if heatmap.ndim != 4 or size.shape != (*heatmap.shape[:3], 2) or offset.shape != size.shape:
        raise ValueError(
            "Expected heatmap (B, h, w, C) with size and offset (B, h, w, 2). Received: "
            f"heatmap {heatmap.shape}, size {size.shape}, offset {offset.shape}"
        )
    boxes, scores, classes = _raw_function(stride, count)(heatmap, size, offset)
    height, width = heatmap.shape[1] * stride, heatmap.shape[2] * stride
    return RawDetections(
        boxes=boxes.numpy(),
        scores=scores.numpy(),
        classes=classes.numpy(),
        image_size=(height, width),
        num_classes=int(heatmap.shape[3]),
    )


def _when_nothing_overlaps(raw: RawDetections, keep: np.ndarray, iou_threshold: float, limit: int):
    """The result of NMS when it has nothing to remove, without calling TensorFlow; else None.

    A slider move on a trained detector usually leaves a few boxes above the threshold, none
    of them overlapping another of its class: NMS would keep them all, and asking TensorFlow
    to confirm costs more than everything else the move does. When any two boxes of a class
    overlap by (nearly) the IoU threshold, or there are many boxes, NMS runs as usual.
    """
    results = []
    for b in range(len(raw)):
        index = np.flatnonzero(keep[b])
        if len(index) > _SHORTCUT_MAX_BOXES:
            return None
        classes = raw.classes[b, index]
        for cls in np.unique(classes):
            same = raw.boxes[b, index[classes == cls]]
            if len(same) > 1:
                overlaps = box_iou(same, same)
                np.fill_diagonal(overlaps, 0.0)
                if overlaps.max() >= iou_threshold - 1e-6:
                    return None
        order = index[np.argsort(-raw.scores[b, index], kind="stable")][:limit]
        results.append([(int(raw.classes[b, i]), *(float(v) for v in raw.boxes[b, i]), float(raw.scores[b, i]))
                         for i in order])
    return results


def filter_detections(
    raw: RawDetections, score_threshold: float = 0.3, iou_threshold: float = 0.5, max_detections: int = 100
) -> list[list[tuple[int, float, float, float, float, float]]]:
    """Score threshold and per-class non-maximum suppression on candidates. No model involved.

    Args:
        raw: :func:`raw_detections`' candidates.
        score_threshold: keep candidates scoring above this (strictly), in [0, 1].
        iou_threshold: drop a box overlapping a better box of its class by more than this
            IoU, in (0, 1]; 1 keeps every box.
        max_detections: at most this many boxes per image, best first.

    Returns:
        One list per image of ``(class_index, x0, y0, x1, y1, score)``, highest score first;
        boxes in input pixels, x1/y1 exclusive.

    Raises:
        ValueError: a threshold or count out of range.
    """
    score_threshold = _check_fraction("score_threshold", score_threshold, low_open=False)
    iou_threshold = _check_fraction("iou_threshold", iou_threshold, low_open=True)
    limit = _check_int("max_detections", max_detections)
    if len(raw) == 0:
        return []
    keep = (raw.scores > score_threshold) & (raw.classes >= 0)
    shortcut = _when_nothing_overlaps(raw, keep, iou_threshold, limit)
    if shortcut is not None:
        return shortcut

    from cv_core._tf import tensorflow

    tf = tensorflow()
    boxes_yxyx = raw.boxes[..., [1, 0, 3, 2]][:, :, None, :]
    per_class = raw.classes[..., None] == np.arange(raw.num_classes)
    scores = np.where(per_class, raw.scores[..., None], np.float32(0)).astype(np.float32)
    nms = tf.image.combined_non_max_suppression(
        boxes_yxyx,
        scores,
        max_output_size_per_class=limit,
        max_total_size=limit,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        clip_boxes=False,
    )
    kept_boxes = nms.nmsed_boxes.numpy()
    kept_scores = nms.nmsed_scores.numpy()
    kept_classes = nms.nmsed_classes.numpy()
    counts = nms.valid_detections.numpy()
    results = []
    for b, count in enumerate(counts):
        results.append([
            (int(kept_classes[b, i]), float(kept_boxes[b, i, 1]), float(kept_boxes[b, i, 0]),
             float(kept_boxes[b, i, 3]), float(kept_boxes[b, i, 2]), float(kept_scores[b, i]))
            for i in range(int(count))
        ])
    return results


def decode_detections(
    outputs, score_threshold: float = 0.3, iou_threshold: float = 0.5, max_detections: int = 100,
    output_stride: int = 4,
) -> list[list[tuple[int, float, float, float, float, float]]]:
    """Boxes from a detector's outputs: :func:`raw_detections` then :func:`filter_detections`.

    Args:
        outputs: the model's output dict (see :func:`raw_detections`).
        score_threshold, iou_threshold, max_detections: as :func:`filter_detections`.
        output_stride: the detector's ``output_stride``.

    Returns:
        One list per image of ``(class_index, x0, y0, x1, y1, score)`` in input pixels.
    """
    limit = _check_int("max_detections", max_detections)
    raw = raw_detections(outputs, output_stride, max_candidates=max(limit, DEFAULT_MAX_CANDIDATES))
    return filter_detections(raw, score_threshold, iou_threshold, limit)


def predict_raw(model, images, max_candidates: int = DEFAULT_MAX_CANDIDATES) -> RawDetections:
    """Run a detector once on ``images`` and keep its candidates, for filtering many times.

    The forward pass and :func:`raw_detections`' step run as one compiled function (kept on
    the model), so the candidates cost next to nothing beyond the forward pass itself.

    Args:
        model: a detector from :func:`cv_core.detection.build_detector` (or loaded).
        images: float (B, H, W, 3) or one (H, W, 3) image in [0, 255], at the model's input size.
        max_candidates: peaks kept per image.

    Returns:
        :class:`RawDetections`.
    """
    from cv_core.detection.model import detector_geometry

    (height, width), _, num_classes = detector_geometry(model)
    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != (height, width, 3):
        raise ValueError(
            f"Expected images of shape (B, {height}, {width}, 3) for this detector. Received: {images.shape}"
        )
    count = _check_int("max_candidates", max_candidates)
    boxes, scores, classes = _predict_raw_function(model, count)(images)
    return RawDetections(
        boxes=boxes.numpy(),
        scores=scores.numpy(),
        classes=classes.numpy(),
        image_size=(height, width),
        num_classes=num_classes,
    )


def detect(model, images, score_threshold: float = 0.3, iou_threshold: float = 0.5, max_detections: int = 100):
    """Boxes on ``images`` from a detector: :func:`predict_raw` then :func:`filter_detections`."""
    limit = _check_int("max_detections", max_detections)
    raw = predict_raw(model, images, max_candidates=max(limit, DEFAULT_MAX_CANDIDATES))
    return filter_detections(raw, score_threshold, iou_threshold, limit)
