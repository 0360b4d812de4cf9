"""Scoring a trained detector on a dataset split: boxes predicted, then mAP as the field does.

:func:`detection_samples` loads a split's pictures at the detector's input size with their
true boxes rescaled alike; :func:`evaluate_detector` predicts boxes with a low score
threshold (as detection benchmarks do: the precision-recall curve needs the low-scored
boxes too) and scores them with :func:`cv_core.detection.mean_average_precision` at IoU 0.5
and COCO's 0.5:0.95. :class:`MeanAveragePrecisionCallback` logs both after every epoch, so
they can be plotted beside the losses: on a fixed handful of validation pictures, loaded once,
so that scoring costs a few percent of an epoch (the matching runs all ten IoU thresholds in
one pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cv_core._tf import keras as _keras
from cv_core.datasets.base import Dataset, check_split, resize_image
from cv_core.detection.decode import filter_detections, predict_raw
from cv_core.detection.metrics import COCO_IOU_THRESHOLDS, mean_average_precisions
from cv_core.detection.model import detector_geometry
from cv_core.detection.targets import check_detection_dataset
from cv_core.runs.epoch_scores import SampledScoresCallback

keras = _keras()

__all__ = ["DetectionEvaluation", "MeanAveragePrecisionCallback", "detection_samples", "evaluate_detector"]

#: Score threshold for evaluation: low, so the precision-recall curve reaches high recall.
EVALUATION_SCORE_THRESHOLD = 0.01


@dataclass
class DetectionEvaluation:
    """A detector's scores on a set of images.

    Attributes:
        map50: mAP at IoU 0.5 (PASCAL VOC's).
        map50_95: COCO-style mAP averaged over IoU 0.50:0.95.
        predictions: per image, ``(class_index, x0, y0, x1, y1, score)`` in input pixels.
        truths: per image, ``(class_index, x0, y0, x1, y1)`` in input pixels.
    """

    map50: float
    map50_95: float
    predictions: list = field(repr=False)
    truths: list = field(repr=False)


def detection_samples(dataset: Dataset, split: str, image_size, limit: int | None = None):
    """A split's images resized to ``image_size``, with their boxes resized alike.

    Boxes go to relative corners and back with ``keras.utils.bounding_boxes.convert_format``.
    Unreadable files are skipped (and counted in ``dataset.skipped``).

    Returns:
        ``(images, truths)``: uint8 (N, H, W, 3) and one list of
        ``(class_index, x0, y0, x1, y1)`` (floats) per image.
    """
    check_detection_dataset(dataset)
    check_split(split)
    height, width = image_size
    count = dataset.count(split) if limit is None else min(limit, dataset.count(split))
    convert = keras.utils.bounding_boxes.convert_format
    images, truths = [], []
    for sample in dataset.samples(split, count=count):
        images.append(resize_image(sample.image, (height, width)))
        rows = np.asarray(sample.boxes, np.float32).reshape(-1, 5)
        if len(rows) and sample.image.shape[:2] != (height, width):
            source_h, source_w = sample.image.shape[:2]
            relative = convert(rows[:, 1:], source="xyxy", target="rel_xyxy", height=source_h, width=source_w)
            rows[:, 1:] = np.asarray(convert(relative, source="rel_xyxy", target="xyxy", height=height, width=width))
        truths.append([(int(r[0]), *(float(v) for v in r[1:])) for r in rows])
    stacked = np.stack(images) if images else np.zeros((0, height, width, 3), np.uint8)
    return stacked, truths


def evaluate_detector(
    model,
    images,
    truths,
    batch_size: int = 32,
    score_threshold: float = EVALUATION_SCORE_THRESHOLD,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> DetectionEvaluation:
    """Predict boxes on ``images`` and score them against ``truths``.

    Args:
        model: a detector (:func:`cv_core.detection.build_detector`).
        images: (N, H, W, 3) at the model's input size, pixels in [0, 255].
        truths: one list of ``(class_index, x0, y0, x1, y1)`` per image (input pixels).
        batch_size: images per forward pass.
        score_threshold, iou_threshold, max_detections: decoding settings
            (:func:`cv_core.detection.filter_detections`).

    Returns:
        :class:`DetectionEvaluation`; NaN mAPs when there is no true box.
    """
    predictions = []
    for start in range(0, len(images), batch_size):
        raw = predict_raw(model, np.asarray(images[start:start + batch_size], np.float32),
                          max_candidates=max(max_detections, 100))
        predictions.extend(filter_detections(raw, score_threshold, iou_threshold, max_detections))
    maps = mean_average_precisions(predictions, truths, COCO_IOU_THRESHOLDS)  # 0.50 first; one matching pass
    return DetectionEvaluation(
        map50=maps[0],
        map50_95=float(np.mean(maps)),
        predictions=predictions,
        truths=truths,
    )


class MeanAveragePrecisionCallback(SampledScoresCallback):
    """Adds ``val_map50`` and ``val_map50_95`` to the epoch logs (for curves and checkpoints).

    ``dataset`` has boxes; the other arguments are :class:`~cv_core.runs.epoch_scores.SampledScoresCallback`'s
    (the first ``limit`` images of ``split``, the same every epoch). Place it before callbacks that
    read the logs (history, CSV, checkpoints monitoring mAP).
    """

    def load_sample(self, model):
        image_size, _, _ = detector_geometry(model)
        return detection_samples(self.dataset, self.split, image_size, self.limit)

    def score(self, model, data) -> dict:
        result = evaluate_detector(model, *data, batch_size=self.batch_size)
        return {"map50": result.map50, "map50_95": result.map50_95}
