"""Instance segmentation: every object's own mask, so two touching squares are two squares.

- ``metrics``: COCO mask AP (AP, AP50, AP75, per class) exactly as ``COCOeval(iouType="segm")``.
- ``coco``: read and write COCO instance annotations (polygons or RLE through pycocotools).
- ``data``: a sample's instances (masks, classes, boxes) from ``shapes`` or from an instance map
  beside a class mask.
- ``models``: the U-Net with Panoptic-DeepLab's heads (semantic classes, an instance-centre heatmap,
  per-pixel offsets to the centre); ``targets``: what it learns; ``decode``: from its outputs to
  objects; ``results``: one picture's objects against the truth (hits, misses, false positives),
  resized, as an instance map PNG or a COCO file; ``scores``: mask AP and touching pairs separated of found objects; ``evaluate``: a
  model's scores and connected components of its semantic head, the epoch callback.
- ``task``: the ``instances`` task's entry in the run pipeline's table.

>>> from cv_core.instances import mask_average_precision
>>> mask_average_precision(predictions, truths)["AP50"]

Importing the package loads nothing heavy: each name loads its module on first use.
"""

from __future__ import annotations

from cv_core._lazy import lazy_exports

_EXPORTS = {
    **{name: "cv_core.instances.metrics" for name in (
        "IOU_THRESHOLDS", "MAX_DETECTIONS", "RECALL_THRESHOLDS", "mask_average_precision", "mask_iou_matrix")},
    **{name: "cv_core.instances.data" for name in (
        "InstanceDataError", "InstanceMap", "instance_list", "instances_from_maps", "read_instance_map",
        "sample_instances", "touching_pairs")},
    **{name: "cv_core.instances.coco" for name in (
        "CocoFormatError", "CocoImage", "CocoInstances", "CocoOverlapError", "coco_instances_dict",
        "mask_to_polygons", "mask_to_rle", "read_coco_instances", "write_coco_instances")},
    **{name: "cv_core.instances.models" for name in (
        "INSTANCE_HEADS", "OFFSET_SCALE", "build_instance_unet", "compile_instance_model", "load_instance_model")},
    **{name: "cv_core.instances.targets" for name in (
        "centre_sigma", "check_instance_dataset", "encode_instance_targets", "instance_batches",
        "targets_as_outputs")},
    **{name: "cv_core.instances.decode" for name in (
        "connected_components", "decode_instances", "filter_instances", "predict_instances",
        "forward_function", "predict_raw_instances")},
    **{name: "cv_core.instances.scores" for name in (
        "instance_samples", "score_instances", "separated_pairs", "truth_objects")},
    **{name: "cv_core.instances.results" for name in (
        "InstanceOutcomes", "coco_json", "instance_map", "instance_map_png", "match_instances", "resize_objects")},
    **{name: "cv_core.instances.evaluate" for name in (
        "InstanceScoresCallback", "evaluate_instance_model", "evaluate_semantic_model")},
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
