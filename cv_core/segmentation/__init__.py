"""Semantic segmentation (chapter 9.1): a class for every pixel, and from masks to objects.

One module per part of the task:

- :mod:`~cv_core.segmentation.models`: the book's model and a small U-Net, and their compile step;
- :mod:`~cv_core.segmentation.data`: training batches, pictures and masks flipped and cropped together;
- :mod:`~cv_core.segmentation.metrics`: per-class IoU and Dice;
- :mod:`~cv_core.segmentation.predict`: a trained model's mask for a picture of any size;
- :mod:`~cv_core.segmentation.objects`: instances and boxes from a mask, scored as a detector's;
- :mod:`~cv_core.segmentation.evaluate`: a model's scores over a split;
- :mod:`~cv_core.segmentation.task`: the task's entry in :data:`cv_core.runs.tasks.TASKS`.

>>> from cv_core.segmentation import iou, mask_to_instances, instances_to_boxes
>>> iou(true_mask, predicted_mask, num_classes=3)          # per-class IoU, NaN if absent
>>> cats = mask_to_instances(predicted_mask, class_index=1, min_area=20)
>>> instances_to_boxes(cats)                                # [(x0, y0, x1, y1), ...]

Importing this package imports neither TensorFlow nor scikit-image: each function loads
what it needs on first use.
"""

from __future__ import annotations

from cv_core.segmentation.data import MIN_CROP_SCALE, augment_pairs, segmentation_dataset
from cv_core.segmentation.evaluate import box_predictions, evaluate_segmenter, score_predicted_boxes
from cv_core.segmentation.metrics import class_confusion, dice, dice_from_confusion, iou, iou_from_confusion
from cv_core.segmentation.models import SEGMENTATION_CONV_TYPES, build_segmentation_model, build_unet, compile_segmenter
from cv_core.segmentation.objects import (
    DEFAULT_MIN_AREA,
    box_class_map,
    instances_to_boxes,
    mask_to_boxes,
    mask_to_instances,
    mask_to_objects,
    region_sizes,
    score_boxes,
)
from cv_core.segmentation.predict import MaskPrediction, model_input_size, predict_mask, predict_probabilities

__all__ = [
    "DEFAULT_MIN_AREA",
    "MIN_CROP_SCALE",
    "SEGMENTATION_CONV_TYPES",
    "MaskPrediction",
    "augment_pairs",
    "box_class_map",
    "box_predictions",
    "build_segmentation_model",
    "build_unet",
    "class_confusion",
    "compile_segmenter",
    "dice",
    "dice_from_confusion",
    "evaluate_segmenter",
    "instances_to_boxes",
    "iou",
    "iou_from_confusion",
    "mask_to_boxes",
    "mask_to_instances",
    "mask_to_objects",
    "model_input_size",
    "predict_mask",
    "predict_probabilities",
    "region_sizes",
    "score_boxes",
    "score_predicted_boxes",
    "segmentation_dataset",
]
