"""Object detection: boxes around objects, each with a class, scored as the field scores them.

>>> from cv_core.detection import mean_average_precision
>>> predictions = [[(0, 10, 10, 50, 50, 0.9), (0, 60, 60, 70, 70, 0.3)]]   # one image
>>> truths = [[(0, 12, 10, 50, 52)]]
>>> mean_average_precision(predictions, truths)
1.0

Importing this package does not import TensorFlow: the metrics are pure numpy.
"""

from cv_core.detection.metrics import (
    COCO_IOU_THRESHOLDS,
    ClassMatches,
    average_precision,
    box_iou,
    coco_map,
    match_detections,
    mean_average_precision,
    precision_recall_curves,
)

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "ClassMatches",
    "average_precision",
    "box_iou",
    "coco_map",
    "match_detections",
    "mean_average_precision",
    "precision_recall_curves",
]
