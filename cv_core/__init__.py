"""Convnet Lab's library: data, models, training jobs and interpretation for chapter 9 of
*Deep Learning with Python*. It never imports Streamlit, and importing it does not import
TensorFlow: the names below load their module on first use.

>>> from cv_core import open_dataset, decode_image, build_mini_xception, submit_run
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "decode_image": "cv_core.images",
    "decode_label_map": "cv_core.images",
    "ImageInputError": "cv_core.images",
    "open_dataset": "cv_core.datasets",
    "Dataset": "cv_core.datasets",
    "DatasetError": "cv_core.datasets",
    "Sample": "cv_core.datasets",
    "download_oxford_pets": "cv_core.datasets",
    "DownloadError": "cv_core.download",
    "download_file": "cv_core.download",
    "build_mini_xception": "cv_core.models",
    "build_small_convnet": "cv_core.models",
    "compile_classifier": "cv_core.models",
    "minimum_input_size": "cv_core.models",
    "build_segmentation_model": "cv_core.models",
    "build_unet": "cv_core.models",
    "compile_segmenter": "cv_core.models",
    "iou": "cv_core.segmentation",
    "dice": "cv_core.segmentation",
    "mask_to_instances": "cv_core.segmentation",
    "instances_to_boxes": "cv_core.segmentation",
    "mask_to_objects": "cv_core.segmentation",
    "mask_to_boxes": "cv_core.segmentation",
    "score_boxes": "cv_core.segmentation",
    "mean_average_precision": "cv_core.detection",
    "coco_map": "cv_core.detection",
    "precision_recall_curves": "cv_core.detection",
    "build_detector": "cv_core.detection",
    "compile_detector": "cv_core.detection",
    "decode_detections": "cv_core.detection",
    "detect": "cv_core.detection",
    "UserMaskStore": "cv_core.datasets.user_masks",
    "UserMaskDataset": "cv_core.datasets.user_masks",
    "read_pet_head_box": "cv_core.datasets.pets_xml",
    "read_pet_head_boxes": "cv_core.datasets.pets_xml",
    "layer_table": "cv_core.anatomy",
    "block_table": "cv_core.anatomy",
    "total_mult_adds": "cv_core.anatomy",
    "compare_anatomy": "cv_core.anatomy",
    "gradient_norms_by_layer": "cv_core.concepts",
    "batchnorm_training_trace": "cv_core.concepts",
    "TrainSpec": "cv_core.runs",
    "preset_spec": "cv_core.runs",
    "validate_spec": "cv_core.runs",
    "submit_run": "cv_core.runs",
    "submit_grid": "cv_core.runs",
    "list_runs": "cv_core.runs",
    "summarise_experiment": "cv_core.runs",
    "load_pretrained": "cv_core.pretrained",
    "Pretrained": "cv_core.pretrained",
    "sample_photos": "cv_core.pretrained",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cv_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
