"""Object detection: boxes around objects, each with a class, scored as the field scores them.

>>> from cv_core.detection import mean_average_precision
>>> predictions = [[(0, 10, 10, 50, 50, 0.9), (0, 60, 60, 70, 70, 0.3)]]   # one image
>>> truths = [[(0, 12, 10, 50, 52)]]
>>> mean_average_precision(predictions, truths)
1.0

A trainable single-shot detector (CenterNet-style: heatmaps of object centres, sizes and
offsets) lives beside the metrics::

    from cv_core.detection import build_detector, compile_detector, tf_dataset, detect
    model = compile_detector(build_detector((64, 64), num_classes=5), num_classes=5)
    model.fit(tf_dataset(ds, "train", (64, 64), shuffle=True, augment=True), epochs=10)
    boxes = detect(model, images, score_threshold=0.3, iou_threshold=0.5)

Importing this package does not import TensorFlow: the metrics are pure numpy, and the
detector's names (model, targets, losses, decoding, evaluation) load their module on first use.
"""

from __future__ import annotations

from cv_core._lazy import lazy_exports
from cv_core.detection import metrics
from cv_core.detection.metrics import (
    COCO_IOU_THRESHOLDS,
    ClassMatches,
    average_precision,
    box_iou,
    coco_map,
    match_detections,
    mean_average_precision,
    mean_average_precisions,
    precision_recall_curves,
)

_LAZY = {
    "build_detector": "cv_core.detection.model",
    "detector_geometry": "cv_core.detection.model",
    "load_detector": "cv_core.detection.model",
    "compile_detector": "cv_core.detection.model",
    "HeatmapFocalLoss": "cv_core.detection.losses",
    "CenterL1Loss": "cv_core.detection.losses",
    "LOSS_WEIGHTS": "cv_core.detection.losses",
    "encode_targets": "cv_core.detection.targets",
    "gaussian_radius": "cv_core.detection.targets",
    "targets_as_outputs": "cv_core.detection.targets",
    "check_detection_dataset": "cv_core.detection.targets",
    "augmentation_layers": "cv_core.detection.targets",
    "tf_dataset": "cv_core.detection.targets",
    "RawDetections": "cv_core.detection.decode",
    "raw_detections": "cv_core.detection.decode",
    "filter_detections": "cv_core.detection.decode",
    "decode_detections": "cv_core.detection.decode",
    "predict_raw": "cv_core.detection.decode",
    "detect": "cv_core.detection.decode",
    "DetectionEvaluation": "cv_core.detection.evaluate",
    "MeanAveragePrecisionCallback": "cv_core.detection.evaluate",
    "detection_samples": "cv_core.detection.evaluate",
    "evaluate_detector": "cv_core.detection.evaluate",
    "BoxScores": "cv_core.detection.review",
    "box_outcomes": "cv_core.detection.review",
    "box_scores": "cv_core.detection.review",
    "candidates_from_boxes": "cv_core.detection.review",
    "curve_gaps": "cv_core.detection.review",
    "drop_tiny_boxes": "cv_core.detection.review",
    "MIN_BOX_SIDE": "cv_core.detection.review",
    "rescale_boxes": "cv_core.detection.review",
}

__all__ = sorted([*metrics.__all__, *_LAZY])


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
