"""Convnet Lab's library: data, models, training jobs and interpretation for chapter 9 of
*Deep Learning with Python*. It never imports Streamlit, and importing it does not import
TensorFlow: the names below load their module on first use.

>>> from cv_core import open_dataset, decode_image, build_mini_xception, submit_run
>>> from cv_core import grad_cam, overlay
>>> heatmap = grad_cam(model, image)                  # (H, W) float32 in [0, 1]
>>> picture = overlay(photo, heatmap, alpha=0.45)     # (H, W, 3) uint8

The names are one flat list (``__all__``); each lives in the module named in ``_EXPORTS``.
"""

from __future__ import annotations

from cv_core._lazy import lazy_exports

_EXPORTS = {
    "decode_image": "cv_core.images",
    "decode_label_map": "cv_core.images",
    "ImageInputError": "cv_core.images",
    "resize_image": "cv_core.images",
    "resize_bilinear": "cv_core.images",
    "resize_nearest": "cv_core.images",
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
    "UserKeypointStore": "cv_core.datasets.user_keypoints",
    "UserKeypointDataset": "cv_core.datasets.user_keypoints",
    "KeypointAnnotation": "cv_core.datasets.user_keypoints",
    "read_pet_head_box": "cv_core.datasets.pets_xml",
    "read_pet_head_boxes": "cv_core.datasets.pets_xml",
    "layer_table": "cv_core.anatomy",
    "block_table": "cv_core.anatomy",
    "total_mult_adds": "cv_core.anatomy",
    "compare_anatomy": "cv_core.anatomy",
    "gradient_norms_by_layer": "cv_core.concepts",
    "batchnorm_training_trace": "cv_core.concepts",
    "three_tasks": "cv_core.tour",
    "instance_picture": "cv_core.tour",
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
    # What convnets learn
    "METHODS": "cv_core.interpret",
    "BaseCAM": "cv_core.interpret",
    "Explanation": "cv_core.interpret",
    "explain": "cv_core.interpret",
    "grad_cam": "cv_core.interpret",
    "grad_cam_plus_plus": "cv_core.interpret",
    "hires_cam": "cv_core.interpret",
    "score_cam": "cv_core.interpret",
    "smoothgrad": "cv_core.interpret",
    "last_conv_layer": "cv_core.interpret",
    "feature_map_layers": "cv_core.interpret",
    "activations": "cv_core.interpret",
    "activation_layers": "cv_core.interpret",
    "filter_patterns": "cv_core.interpret",
    "overlay": "cv_core.overlays",
    "colorize": "cv_core.interpret",
    "sanity_check": "cv_core.interpret",
    "deletion_curve": "cv_core.interpret",
    "insertion_curve": "cv_core.interpret",
    "localisation": "cv_core.interpret",
    # Masks and boxes as pictures, and a segmentation model's masks
    "overlay_mask": "cv_core.overlays",
    "colorize_mask": "cv_core.overlays",
    "draw_boxes": "cv_core.overlays",
    "class_palette": "cv_core.overlays",
    "predict_mask": "cv_core.segmentation",
    "MaskPrediction": "cv_core.segmentation",
    "evaluate_segmenter": "cv_core.segmentation",
    # Image similarity
    "cosine_similarity": "cv_core.similarity",
    "retrieval_scores": "cv_core.similarity",
    "pair_auc": "cv_core.similarity",
    "pair_threshold": "cv_core.similarity",
    "embed_images": "cv_core.similarity",
    "why_similar": "cv_core.similarity",
    "embed_dataset": "cv_core.similarity",
    "pca_2d": "cv_core.similarity",
    "build_embedding_net": "cv_core.similarity",
    "embedding_snapshots": "cv_core.similarity",
    # Keypoints and pose
    "Skeleton": "cv_core.keypoints",
    "custom_skeleton": "cv_core.keypoints",
    "object_keypoint_similarity": "cv_core.keypoints",
    "keypoint_average_precision": "cv_core.keypoints",
    "pck": "cv_core.keypoints",
    "read_coco_keypoints": "cv_core.keypoints",
    "write_coco_keypoints": "cv_core.keypoints",
    "build_pose_model": "cv_core.keypoints",
    "predict_keypoints": "cv_core.keypoints",
    # Instance segmentation
    "mask_average_precision": "cv_core.instances",
    "build_instance_unet": "cv_core.instances",
    "predict_instances": "cv_core.instances",
    "read_coco_instances": "cv_core.instances",
    "write_coco_instances": "cv_core.instances",
    # A finished run
    "read_metrics": "cv_core.runs",
    "load_best_model": "cv_core.runs",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
