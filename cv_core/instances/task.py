"""The instance segmentation task's entry in the task table: every object's own mask.

One architecture, ``instance_unet``: the segmentation task's U-Net with Panoptic-DeepLab's centre
and offset heads (:mod:`cv_core.instances.models`). It trains on any dataset with instance maps
(``has_instances``: the built-in shapes, whose ``crowded`` difficulty is made for it), is scored
every epoch by COCO mask AP on the first validation pictures (``val_mask_ap``, monitored,
``val_mask_ap50``, ``val_mask_ap75``) and, at the end, on the whole validation and test splits two
ways: its instances, and connected components of its own semantic head (the semantic route), with
the touching same-class pairs each separates. The output classes are the mask classes
(background first). Registered in :data:`cv_core.runs.tasks.TASKS` on import; importing it does
not import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core.i18n import N_, _
from cv_core.runs.labels import variant_label
from cv_core.runs.scoring import json_number, score_each_split, score_row, scored_splits
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import Architecture, Task, first_scored_images, register_task
from cv_core.segmentation.task import dataset_name

__all__ = ["INSTANCE_EPOCH_IMAGES", "TASK", "instance_model_arguments"]

#: Validation pictures scored after every epoch (the first of the split, the same every epoch).
INSTANCE_EPOCH_IMAGES = 64


def instance_model_arguments(spec: TrainSpec, num_classes: int) -> dict:
    """The keyword arguments of :func:`cv_core.instances.build_instance_unet` that ``spec`` describes."""
    return {"img_size": (spec.image_size, spec.image_size), "num_classes": num_classes,
            "filters": tuple(spec.filters), "conv_type": spec.conv_type, "head_width": min(64, 2 * spec.filters[0])}


def _build(spec: TrainSpec, num_classes: int):
    from cv_core.instances.models import build_instance_unet

    return build_instance_unet(**instance_model_arguments(spec, num_classes))


def _compile(model, num_classes, learning_rate, optimizer):
    from cv_core.instances.models import compile_instance_model

    return compile_instance_model(model, num_classes, learning_rate, optimizer)


def _targets(dataset, split: str, spec: TrainSpec, training: bool):
    from cv_core.instances.targets import instance_batches

    return instance_batches(dataset, split, (spec.image_size, spec.image_size), batch_size=spec.batch_size,
                            shuffle=training, seed=spec.seed, augment=training and spec.augmentation)


def _callbacks(dataset, spec: TrainSpec, run_dir) -> list:
    from cv_core.instances.evaluate import InstanceScoresCallback

    return [InstanceScoresCallback(dataset, "validation", (spec.image_size, spec.image_size),
                                   limit=INSTANCE_EPOCH_IMAGES, batch_size=spec.batch_size)]



def _clean(scores: Mapping) -> dict:
    return {"mask_ap": json_number(scores["mask_ap"]), "mask_ap50": json_number(scores["mask_ap50"]),
            "mask_ap75": json_number(scores["mask_ap75"]),
            "per_class": {str(c): {k: json_number(v) if k != "truths" else int(v) for k, v in s.items()}
                          for c, s in scores["per_class"].items()},
            "pairs_separated": int(scores["pairs_separated"]), "touching_pairs": int(scores["touching_pairs"])}


def _scores(model, dataset, spec: TrainSpec) -> dict:
    """Mask AP (and per class) and touching pairs separated: the instances, and connected components, per split."""
    from cv_core.instances.evaluate import evaluate_instance_model
    from cv_core.instances.scores import instance_samples

    def score(images, truths) -> dict:
        result = evaluate_instance_model(model, images, truths, dataset.mask_background, batch_size=spec.batch_size)
        return {**_clean(result["instances"]), "components": _clean(result["components"]), "images": result["images"]}

    return {**score_each_split(dataset, spec.image_size, instance_samples, score),
            "class_names": list(dataset.mask_class_names)}


#: The architecture's variant names (marked: the pages show them with ``_()``).
_VARIANTS = {"conv2d": N_("instance U-Net / conv2d"), "separable": N_("instance U-Net / separable")}


def _score_rows(scores: Mapping) -> list[dict]:
    """Mask AP, AP50, AP75 and pairs separated, instances then connected components; then AP50 per class."""
    splits = scored_splits(scores)
    if not splits:
        return []

    def row(label: str, value) -> dict:
        return score_row(label, scores, splits, value)

    rows = []
    for route, pick, name in (("instances", lambda s: s, _("Instance model")),
                              ("components", lambda s: s.get("components") or {}, _("Connected components"))):
        rows += [row(_("{name}: mask AP (IoU 0.50:0.95)").format(name=name), lambda s, p=pick: p(s).get("mask_ap")),
                 row(_("{name}: mask AP at IoU 0.50").format(name=name), lambda s, p=pick: p(s).get("mask_ap50")),
                 row(_("{name}: mask AP at IoU 0.75").format(name=name), lambda s, p=pick: p(s).get("mask_ap75")),
                 row(_("{name}: touching same-class pairs separated").format(name=name),
                     lambda s, p=pick: _("{separated} of {pairs}").format(separated=p(s).get("pairs_separated", 0),
                                                                         pairs=p(s).get("touching_pairs", 0)))]
    names = scores.get("class_names") or []
    for index, class_name in enumerate(names):
        if any(str(index) in (scores[split].get("per_class") or {}) for split in splits):
            rows.append(row(_("Instance model: mask AP at IoU 0.50, {name}").format(name=class_name),
                            lambda s, i=index: ((s.get("per_class") or {}).get(str(i)) or {}).get("AP50")))
    return rows


TASK = register_task(Task(
    name="instances",
    label=N_("Instance segmentation"),
    description=N_("Every object's own mask: touching objects of one class apart, an occluded object whole."),
    architectures={
        "instance_unet": Architecture(
            name="instance_unet", label=N_("U-Net with centre and offset heads (Panoptic-DeepLab)"), build=_build,
            minimum_size=lambda spec: 2 ** max(0, len(spec.filters) - 1),
            size_multiple=lambda spec: 2 ** max(0, len(spec.filters) - 1), options=("conv_type",),
            continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64),
            variant=lambda spec: _VARIANTS.get(spec.conv_type, f"instance U-Net / {spec.conv_type}"),
            slug=lambda spec: "inst-sep" if spec.conv_type == "separable" else "inst",
        ),
    },
    compile=_compile,
    requires=("has_instances",),
    missing_data=N_("The {dataset!r} dataset has no instances, which instance segmentation needs. "
                    "Choose one of {choices}."),
    num_classes=lambda dataset: len(dataset.mask_class_names),
    class_names=lambda dataset: list(dataset.mask_class_names),
    targets=_targets,
    monitor="val_mask_ap",
    mode="max",
    metric_label=N_("mask AP"),
    score_format=".3f",
    curves=(("mask_ap", N_("Mask AP (IoU 0.50:0.95)")), ("mask_ap50", N_("Mask AP at IoU 0.50")),
            ("mask_ap75", N_("Mask AP at IoU 0.75")), ("loss", N_("Loss (three heads, weighted)"))),
    test_metric="mask_ap",
    augmentation=N_("Random left-right mirroring of each picture with its masks, centres and offsets (in the data "
                    "pipeline)."),
    filters_label=N_("Filters (one level each: the map halves at every level, then grows back)"),
    callbacks=_callbacks,
    epoch_scored_images=first_scored_images(INSTANCE_EPOCH_IMAGES),
    seconds_per_scored_image=3.0e-3,  # decoding and matching beyond the forward pass (quiet Tiny epochs, 32 px)
    seconds_per_training_image=0.0,  # targets are computed once per picture and cached: the model cost is all (quiet Tiny epochs)
    startup_seconds=5.0,
    final_scores=_scores,
    score_rows=_score_rows,
    defaults={"dataset": "shapes", "model": "instance_unet", "conv_type": "conv2d", "dropout_rate": 0.0,
              "optimizer": "adam", "learning_rate": 2e-3, "augmentation": True},
    preset_captions={"tiny": N_("32 px crowded shapes, seconds: for tests"),
                     "quick": N_("64 px crowded shapes, a few minutes on a CPU: the recommended start"),
                     "book": N_("96 px crowded shapes with a wider U-Net and 40 epochs: meant for a GPU")},
    presets={
        "tiny": {"filters": (8, 16), "image_size": 32, "epochs": 2, "augmentation": False,
                 "dataset_options": {"image_size": 32, "train_size": 64, "validation_size": 32, "test_size": 32,
                                     "difficulty": "crowded"}},
        "quick": {"filters": (16, 32, 64), "image_size": 64, "epochs": 10, "batch_size": 16, "augmentation": True,
                  "learning_rate": 3e-3, "lr_schedule": "cosine",
                  "dataset_options": {"image_size": 64, "train_size": 1200, "validation_size": 200,
                                      "test_size": 200, "difficulty": "crowded"}},
        "book": {"filters": (32, 64, 128, 256), "image_size": 96, "epochs": 40, "batch_size": 32,
                 "augmentation": True, "lr_schedule": "cosine",
                 "dataset_options": {"image_size": 96, "train_size": 10000, "validation_size": 500,
                                     "test_size": 500, "difficulty": "crowded"}},
    },
    anatomy=lambda spec, classes: (
        _("{variant}: the U-Net, then three heads").format(variant=variant_label(spec.variant)),
        _("Exactly the model **Train** builds: {size} × {size} px in; out, per pixel: {classes} class probabilities, "
          "{classes} heatmaps of object centres (one per class), and the offset to the centre of the object this "
          "pixel belongs to ({dataset}).").format(size=spec.image_size, classes=classes,
                                                  dataset=dataset_name(spec.dataset))),
))
