"""The classification task's entry in the task table: one label for the whole picture.

Its models are :mod:`cv_core.classification.models`' (the mini-Xception and the plain
convnet), its targets the dataset's class indices (:mod:`cv_core.classification.data`),
its metric accuracy. Registered in :data:`cv_core.runs.tasks.TASKS` on import (the table
imports every entry). Importing it does not import TensorFlow.
"""

from __future__ import annotations

from cv_core.classification.data import LABELS
from cv_core.classification.models import (
    build_mini_xception,
    build_small_convnet,
    compile_classifier,
    minimum_input_size,
    minimum_small_convnet_size,
)
from cv_core.i18n import N_
from cv_core.pipeline import batches
from cv_core.runs.spec import ARCHITECTURE_FIELDS, TrainSpec
from cv_core.runs.tasks import Architecture, Task, image_class_count, image_class_names, register_task

__all__ = ["TASK"]


def _build_mini_xception(spec: TrainSpec, num_classes: int):
    return build_mini_xception(
        input_shape=(spec.image_size, spec.image_size, 3), num_classes=num_classes, conv_type=spec.conv_type,
        batchnorm=spec.batchnorm, residual=spec.residual, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def _build_small_convnet(spec: TrainSpec, num_classes: int):
    return build_small_convnet(
        input_shape=(spec.image_size, spec.image_size, 3), num_classes=num_classes, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def _mini_xception_minimum(spec: TrainSpec) -> int:
    return minimum_input_size(spec.filters)


def _small_convnet_minimum(spec: TrainSpec) -> int:
    return minimum_small_convnet_size(spec.filters)


def _xception_variant(spec: TrainSpec) -> str:
    return f"{spec.conv_type} / {spec.batchnorm}" + ("" if spec.residual else " / no residual")


def _xception_slug(spec: TrainSpec) -> str:
    conv = "sep" if spec.conv_type == "separable" else "conv"
    bn = {"before_activation": "bnpre", "after_activation": "bnpost", "none": "nobn"}.get(spec.batchnorm, "bn")
    return f"{conv}-{bn}"


def _classification_targets(dataset, split: str, spec: TrainSpec, training: bool):
    return batches(dataset, split, LABELS, image_size=(spec.image_size, spec.image_size), batch_size=spec.batch_size,
                   shuffle=training, seed=spec.seed)


#: The fields a continued classification run must keep: its whole architecture, and the data it learnt to see.
_CLASSIFIER_CONTINUE = (*ARCHITECTURE_FIELDS, "dataset")

TASK = register_task(Task(
    name="classification",
    label="Classification",
    description="One label for the whole picture.",
    architectures={
        "mini_xception": Architecture(
            name="mini_xception", label=N_("Mini-Xception (chapter 9)"), build=_build_mini_xception,
            minimum_size=_mini_xception_minimum,
            options=("conv_type", "batchnorm", "residual", "augmentation", "dropout_rate"),
            continue_fields=_CLASSIFIER_CONTINUE, default_filters=(32, 64, 128, 256, 512),
            variant=_xception_variant, slug=_xception_slug,
        ),
        "small_convnet": Architecture(
            name="small_convnet", label=N_("Plain convnet (chapter 8)"), build=_build_small_convnet,
            minimum_size=_small_convnet_minimum,
            options=("augmentation", "dropout_rate"), continue_fields=_CLASSIFIER_CONTINUE,
            default_filters=(32, 64, 128, 256, 256), variant=lambda spec: "small_convnet",
            slug=lambda spec: "small",
        ),
    },
    compile=compile_classifier,
    num_classes=image_class_count,
    class_names=image_class_names,
    targets=_classification_targets,
    sample_targets=LABELS,
    monitor="val_accuracy",
    mode="max",
    metric_label=N_("accuracy"),
    score_format=".1%",
    curves=(("accuracy", N_("Accuracy")), ("loss", N_("Loss"))),
    test_metric="accuracy",
    augmentation=N_("Random flips, rotations and zooms, as in the book (layers of the model, active in training)."),
    filters_label=N_("Filters (the stem's width, then one block each)"),
))
