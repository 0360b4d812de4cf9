"""The segmentation task's entry in the task table: a class for every pixel.

Its models are :mod:`cv_core.segmentation.models`' (the book's model and a U-Net), its
targets the masks flipped and cropped with their pictures (:mod:`cv_core.segmentation.data`),
its metric the mean IoU, its final scores per-class IoU and Dice
(:mod:`cv_core.segmentation.evaluate`). Registered in :data:`cv_core.runs.tasks.TASKS` on
import (the table imports every entry). Importing it does not import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core.i18n import N_, _, ngettext
from cv_core.runs.labels import dataset_label, variant_label
from cv_core.runs.scoring import scored_splits, splits_with_pictures
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import Architecture, Task, register_task
from cv_core.segmentation.data import MASKS, segmentation_dataset
from cv_core.segmentation.evaluate import evaluate_segmenter
from cv_core.segmentation.models import build_segmentation_model, build_unet, compile_segmenter

__all__ = ["TASK"]


def _build_segmentation_model(spec: TrainSpec, num_classes: int):
    return build_segmentation_model(img_size=(spec.image_size, spec.image_size), num_classes=num_classes,
                                           filters=tuple(spec.filters))


def _build_unet(spec: TrainSpec, num_classes: int):
    return build_unet(img_size=(spec.image_size, spec.image_size), num_classes=num_classes,
                             filters=tuple(spec.filters), conv_type=spec.conv_type)


def _segmentation_targets(dataset, split: str, spec: TrainSpec, training: bool):
    return segmentation_dataset(dataset, split, (spec.image_size, spec.image_size), batch_size=spec.batch_size,
                                shuffle=training, seed=spec.seed, augment=training and spec.augmentation)


def _segmentation_scores(model, dataset, spec: TrainSpec) -> dict:
    size = (spec.image_size, spec.image_size)
    return {split: evaluate_segmenter(model, dataset, split, size, batch_size=spec.batch_size)
            for split in splits_with_pictures(dataset)}


def dataset_name(name: str) -> str:
    """A dataset as a person reads it, in the reader's language (:func:`cv_core.runs.labels.dataset_label`)."""
    return dataset_label(name)


def _segmentation_score_rows(scores: Mapping) -> list[dict]:
    """One row per mask class: IoU and Dice on each split that was scored."""
    splits = scored_splits(scores)
    if not splits:
        return []
    names = scores[splits[0]].get("class_names") or []
    rows = []
    for index, name in enumerate(names):
        row = {_("class"): _("{index} · {name}").format(index=index, name=name)}
        for split in splits:
            for measure in ("iou", "dice"):
                values = scores[split].get(measure) or []
                value = values[index] if index < len(values) else None
                column = (_("validation {measure}") if split == "validation" else _("test {measure}")).format(
                    measure="IoU" if measure == "iou" else "Dice")
                row[column] = None if value is None else round(value, 3)
        rows.append(row)
    return rows


TASK = register_task(Task(
    name="segmentation",
    label="Segmentation",
    description="A class for every pixel.",
    architectures={
        "segmentation_model": Architecture(
            name="segmentation_model", label=N_("The book's model (strided convs, transposed convs)"),
            build=_build_segmentation_model,
            minimum_size=lambda spec: 2 ** len(spec.filters), size_multiple=lambda spec: 2 ** len(spec.filters),
            default_filters=(64, 128, 256), variant=lambda spec: N_("book's model"), slug=lambda spec: "segbook",
        ),
        "unet": Architecture(
            name="unet", label=N_("U-Net (skip connections)"), build=_build_unet,
            minimum_size=lambda spec: 2 ** max(0, len(spec.filters) - 1),
            size_multiple=lambda spec: 2 ** max(0, len(spec.filters) - 1), options=("conv_type",),
            continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64),
            variant=lambda spec: f"U-Net / {spec.conv_type}",
            slug=lambda spec: "unet-sep" if spec.conv_type == "separable" else "unet",
        ),
    },
    compile=compile_segmenter,
    requires=("has_masks",),
    missing_data=N_("The {dataset!r} dataset has no masks, which segmentation needs. Choose one of {choices} or a "
                    "mask dataset of your own (user:<name>)."),
    num_classes=lambda dataset: len(dataset.mask_class_names),
    class_names=lambda dataset: list(dataset.mask_class_names),
    targets=_segmentation_targets,
    sample_targets=MASKS,
    monitor="val_mean_iou",
    mode="max",
    metric_label=N_("mean IoU"),
    score_format=".3f",
    curves=(("mean_iou", N_("Mean IoU")), ("accuracy", N_("Pixel accuracy")), ("loss", N_("Loss"))),
    test_metric="mean_iou",
    augmentation=N_("Random flips and crops that move each picture and its mask together (in the data pipeline)."),
    filters_label=N_("Filters (one level each: the map halves at every level, then grows back)"),
    seconds_per_scored_image=2e-4,  # the confusion matrix of one mask
    final_scores=_segmentation_scores,
    score_rows=_segmentation_score_rows,
    defaults={"model": "segmentation_model", "conv_type": "conv2d", "dropout_rate": 0.0},
    preset_captions={"quick": N_("a U-Net on shapes at 48 px, minutes on a CPU: the recommended start"),
                     "book": N_("the book's model on Oxford pets at 200 px: meant for a GPU")},
    presets={
        "tiny": {"filters": (8, 16)},
        "quick": {"model": "unet", "filters": (16, 32, 64), "epochs": 8,
                  "dataset_options": {"image_size": 48, "train_size": 2000, "validation_size": 300,
                                      "test_size": 300, "difficulty": "medium"}},
        # Chapter 9.1: Oxford-IIIT Pets trimaps at 200 px, RMSprop, batch 64, 50 epochs.
        "book": {"dataset": "oxford_pets", "dataset_options": {}, "filters": (64, 128, 256), "image_size": 200,
                 "batch_size": 64, "epochs": 50, "augmentation": False, "optimizer": "rmsprop",
                 "learning_rate": 1e-3},
    },
    anatomy=lambda spec, classes: (
        _("{variant}: the map shrinks, then grows back").format(variant=variant_label(spec.variant)),
        ngettext("Exactly the model **Train** builds: {size} × {size} px in, one probability per class and pixel out "
                 "({classes} class, {dataset}).",
                 "Exactly the model **Train** builds: {size} × {size} px in, one probability per class and pixel out "
                 "({classes} classes, {dataset}).", classes or 0).format(
            size=spec.image_size, classes=classes, dataset=dataset_name(spec.dataset))),
))
