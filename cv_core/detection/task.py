"""The detection task's entry in the task table: a box and a class for each object.

Its models are :func:`cv_core.detection.build_detector`'s two output strides, its targets
the heatmaps, sizes and offsets of :mod:`cv_core.detection.targets`, its metric mAP@0.5
(measured by a callback every epoch, on a fixed subset of the validation pictures).
Registered in :data:`cv_core.runs.tasks.TASKS` on import (the table imports every entry).
Importing it does not import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core.detection.model import build_detector, compile_detector
from cv_core.i18n import N_, _
from cv_core.runs.labels import dataset_id_label, variant_label
from cv_core.runs.scoring import json_number, score_each_split, score_row, scored_splits
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import (Architecture, Task, build_in_spec_words, first_scored_images, image_class_count,
                                 image_class_names, register_task)

__all__ = ["DETECTION_EPOCH_IMAGES", "DETECTOR_STRIDES", "TASK", "detector_arguments"]

#: The detector's output stride per architecture: input pixels per cell of its heatmap.
DETECTOR_STRIDES = {"centernet_s4": 4, "centernet_s8": 8}


def detector_arguments(spec: TrainSpec, num_classes: int) -> dict:
    """The keyword arguments of :func:`cv_core.detection.build_detector` that ``spec`` describes.

    ``filters`` is the backbone (the stem's width, then one mini-Xception block each), the
    architecture fixes the output stride, and each head is twice as wide as the stem (at
    most 64, CenterNet's head width).
    """
    return {"img_size": (spec.image_size, spec.image_size), "num_classes": num_classes,
            "backbone_filters": tuple(spec.filters), "output_stride": DETECTOR_STRIDES[spec.model],
            "conv_type": spec.conv_type, "head_width": min(64, 2 * spec.filters[0])}


def _build_detector(spec: TrainSpec, num_classes: int):
    return build_in_spec_words(build_detector, detector_arguments(spec, num_classes))


def _detection_targets(dataset, split: str, spec: TrainSpec, training: bool):
    from cv_core.detection import tf_dataset

    return tf_dataset(dataset, split, (spec.image_size, spec.image_size), batch_size=spec.batch_size,
                      shuffle=training, seed=spec.seed, augment=training and spec.augmentation,
                      output_stride=DETECTOR_STRIDES[spec.model])


#: Validation pictures the per-epoch mAP is measured on (the first ones of the split, the same
#: every epoch): enough for a curve that moves with the model, few enough that scoring them
#: costs a few percent of an epoch. The run's final scores use the whole split.
DETECTION_EPOCH_IMAGES = 64


def _detection_callbacks(dataset, spec: TrainSpec, run_dir) -> list:
    from cv_core.detection import MeanAveragePrecisionCallback

    return [MeanAveragePrecisionCallback(dataset, "validation", limit=DETECTION_EPOCH_IMAGES,
                                         batch_size=spec.batch_size)]



def _detection_scores(model, dataset, spec: TrainSpec) -> dict:
    """mAP@0.5, mAP@0.5:0.95 and AP@0.5 per class of the best model on the validation and test splits."""
    from cv_core.detection import detection_samples, evaluate_detector, precision_recall_curves

    def score(images, truths) -> dict:
        result = evaluate_detector(model, images, truths, batch_size=spec.batch_size)
        curves = precision_recall_curves(result.predictions, truths, 0.5)
        return {
            "map50": json_number(result.map50), "map50_95": json_number(result.map50_95),
            "ap50": [json_number(curves[c][2]) if c in curves else None for c in range(len(dataset.class_names))],
            "class_names": list(dataset.class_names), "images": len(images),
        }

    return score_each_split(dataset, spec.image_size, detection_samples, score)


def _detection_score_rows(scores: Mapping) -> list[dict]:
    """mAP@0.5 and mAP@0.5:0.95 over all classes, then AP@0.5 of each class: one column per split scored."""
    splits = scored_splits(scores)
    if not splits:
        return []

    rows = [score_row(_("mAP@0.5, all classes"), scores, splits, lambda s: s.get("map50")),
            score_row(_("mAP@0.5:0.95, all classes"), scores, splits, lambda s: s.get("map50_95"))]
    names = scores[splits[0]].get("class_names") or []
    for index, name in enumerate(names):
        rows.append(score_row(_("AP@0.5, {index} · {name}").format(index=index, name=name), scores, splits,
                              lambda s, i=index: (s.get("ap50") or [])[i] if i < len(s.get("ap50") or []) else None))
    return rows


#: What the Train tab calls each architecture (English, shown translated).
DETECTOR_LABELS = {
    "centernet_s4": N_("CenterNet-style detector, output stride 4 (CenterNet's)"),
    "centernet_s8": N_("CenterNet-style detector, output stride 8 (coarser, faster)"),
}


TASK = register_task(Task(
    name="detection",
    label=N_("Detection"),
    description=N_("A box and a class for each object."),
    architectures={
        name: Architecture(
            name=name, label=DETECTOR_LABELS[name],
            build=_build_detector,
            minimum_size=lambda spec: 2 ** len(spec.filters), size_multiple=lambda spec: 2 ** len(spec.filters),
            options=("conv_type",), continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64),
            variant=lambda spec: f"detector s{DETECTOR_STRIDES[spec.model]} / {spec.conv_type}",
            slug=lambda spec: f"det{DETECTOR_STRIDES[spec.model]}" + ("-sep" if spec.conv_type == "separable" else ""),
        )
        for name in DETECTOR_STRIDES
    },
    compile=compile_detector,
    requires=("has_boxes",),
    missing_data=N_("The {dataset!r} dataset has no boxes, which detection needs. Choose one of {choices}."),
    num_classes=image_class_count,
    class_names=image_class_names,
    targets=_detection_targets,
    monitor="val_map50",
    mode="max",
    metric_label="mAP@0.5",
    score_format=".3f",
    curves=(("map50", "mAP@0.5"), ("map50_95", "mAP@0.5:0.95"), ("loss", N_("Loss (the three heads, weighted)")),
            ("heatmap_loss", N_("Heatmap loss (focal: where the centres are)")),
            ("size_loss", N_("Size loss (L1: width and height)")),
            ("offset_loss", N_("Offset loss (L1: centre in its cell)"))),
    test_metric="map50",
    augmentation=N_("Random horizontal flips and shifts that move each picture's boxes with it (Keras preprocessing "
                    "layers, in the data pipeline)."),
    filters_label=N_("Filters (the stem's width, then one block each; the map halves at every block)"),
    callbacks=_detection_callbacks,
    epoch_scored_images=first_scored_images(DETECTION_EPOCH_IMAGES),
    seconds_per_scored_image=1.5e-3,  # peaks, NMS and matching at ten IoU thresholds (bench/detection.py)
    seconds_per_training_image=1.2e-3,  # box targets drawn per picture, three losses (tiny and Quick runs)
    startup_seconds=6.0,  # three heads and losses, box targets in the pipeline, the compiled decoding
    final_scores=_detection_scores,
    score_rows=_detection_score_rows,
    defaults={"model": "centernet_s4", "conv_type": "separable", "dropout_rate": 0.0, "optimizer": "adam",
              "learning_rate": 2e-3},
    preset_captions={"quick": N_("64 px easy shapes, one to two minutes on a CPU: the recommended start"),
                     "book": N_("Oxford pets' head boxes at 128 px: meant for a GPU")},
    presets={
        "tiny": {"filters": (8, 16), "epochs": 2,
                 "dataset_options": {"image_size": 32, "train_size": 64, "validation_size": 32, "test_size": 32,
                                     "difficulty": "easy"}},
        "quick": {"filters": (16, 32, 64), "image_size": 64, "epochs": 10, "batch_size": 16, "augmentation": True,
                  "lr_schedule": "constant",
                  "dataset_options": {"image_size": 64, "train_size": 1000, "validation_size": 200,
                                      "test_size": 200, "difficulty": "easy"}},
        # No detector in the book: Oxford-IIIT Pets' head boxes at 128 px, as a longer run for a GPU.
        "book": {"dataset": "oxford_pets", "dataset_options": {"boxes": "head"}, "filters": (32, 64, 128, 256),
                 "image_size": 128, "batch_size": 32, "epochs": 40, "augmentation": True},
    },
    anatomy=lambda spec, classes: (  # called where it is shown: in the page's language
        _("{variant}: backbone, neck, three heads").format(variant=variant_label(spec.variant)),
        _("Exactly the model **Train** builds: {size} × {size} px in; out, per cell of a grid {cells} cells wide: "
          "{classes} centre heatmaps (one per class), a box size and an offset ({dataset}).").format(
            size=spec.image_size, cells=spec.image_size // DETECTOR_STRIDES[spec.model], classes=classes,
            dataset=dataset_id_label(spec.dataset))),
))
