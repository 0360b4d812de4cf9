"""What differs between vision tasks in a training run: one table, one entry per task.

The run pipeline (spec validation, the resource budget, the worker, its callbacks, the run
folders, the comparison and the pages) is the same for every task; everything that is not
lives in a :class:`Task` entry of :data:`TASKS`:

>>> from cv_core.runs.tasks import TASKS, task_of
>>> task = TASKS["segmentation"]
>>> task.monitor, task.mode                 # the metric that picks the best epoch
('val_mean_iou', 'max')
>>> list(task.architectures)                # the models a spec may name
['segmentation_model', 'unet']
>>> list(TASKS)
['classification', 'segmentation', 'detection']

A spec names its task in ``TrainSpec.task`` ("classification" when absent: older run
folders keep loading) and its model in ``TrainSpec.model``, a key of the task's
``architectures``. Nothing here imports TensorFlow: the functions in the table import what
they need when they are called.

**Adding a task** is one more entry: build a :class:`Task` (with its :class:`Architecture`
entries) and pass it to :func:`register_task`, here at the bottom of this module, so that
every process (the app, a worker, the command line) sees the same table. ``targets`` may
yield any structure Keras fits on (a dict of targets for a multi-output model); the
monitored metric may be one that a callback of ``callbacks`` adds to the epoch logs (the
run's own callbacks come after them and see it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cv_core.runs import cost
from cv_core.runs.spec import SpecError, TrainSpec

__all__ = [
    "TASKS", "Architecture", "Task", "architecture_of", "dataset_names", "register_task", "task_of",
]


def _one(spec: TrainSpec) -> int:
    return 1


def _no_callbacks(dataset, spec: TrainSpec) -> list:
    return []


@dataclass(frozen=True)
class Architecture:
    """One model a task can train: how to build it, what it costs, what it accepts.

    Attributes:
        name: the value of ``TrainSpec.model`` that selects it.
        label: its name for people ("U-Net").
        build: ``(spec, num_classes) -> keras.Model``, uncompiled, from :mod:`cv_core.models`.
        cost: ``(spec, num_classes) -> ArchitectureCost`` worked out without building the
            model (the resource budget's guard; a test checks it against the built model).
        minimum_size: ``spec -> int``, the smallest ``image_size`` the model takes.
        size_multiple: ``spec -> int``, ``image_size`` must be a multiple of it (1: any).
        options: the spec fields besides ``filters`` that change this model (the forms
            enable only these), e.g. ``("conv_type",)``.
        continue_fields: the spec fields a run that starts from this model's weights
            (continue, fine-tune) must keep; ``task`` and ``model`` are always kept.
        default_filters: ``filters`` when a spec switches to this model.
        variant: ``spec -> str``, a short name of the variant for legends and titles.
        slug: ``spec -> str``, a few characters for run folder names.
    """

    name: str
    label: str
    build: Callable
    cost: Callable
    minimum_size: Callable
    size_multiple: Callable = _one
    options: tuple[str, ...] = ()
    continue_fields: tuple[str, ...] = ("filters",)
    default_filters: tuple[int, ...] = (16, 32, 64)
    variant: Callable | None = None
    slug: Callable | None = None

    def describe(self, spec: TrainSpec) -> str:
        """The variant's short name, e.g. "separable / before_activation" or "U-Net, conv2d"."""
        return self.variant(spec) if self.variant else self.label


@dataclass(frozen=True)
class Task:
    """Everything a training run needs to know about one vision task.

    Attributes:
        name: the value of ``TrainSpec.task``.
        label: its name for people ("Segmentation").
        description: one sentence for people.
        architectures: the models a spec of this task may name, by ``TrainSpec.model``;
            the first is the default.
        compile: ``(model, num_classes, learning_rate, optimizer) -> model``, compiled in
            place (``learning_rate`` may be a Keras schedule).
        requires: dataset attributes that must be true for a dataset to qualify, e.g.
            ``("has_masks",)`` (see :func:`dataset_names`).
        num_classes: ``dataset -> int``, the width of the model's output.
        class_names: ``dataset -> list[str]``, what each output class is called.
        targets: ``(dataset, split, spec, training) -> tf.data.Dataset`` of ``(images,
            targets)`` batches of ``spec.batch_size`` at ``spec.image_size``; ``training``
            shuffles (and augments, where the task augments in the pipeline).
        monitor, mode: the epoch-log key that picks the best epoch (the checkpoint, the
            comparison) and whether higher ("max") or lower ("min") is better.
        metric_label: the monitored metric's name for people ("accuracy", "mean IoU").
        score_format: how its values are written (``".1%"`` or ``".3f"``).
        curves: ``(metric, title)`` per live chart, e.g. ``("mean_iou", "Mean IoU")``; the
            chart draws ``metric`` (training) and ``val_<metric>`` (validation).
        test_metric: the key of ``test_metrics.json`` shown as the run's test score: one of
            ``model.evaluate``'s, else the same key of ``final_scores``' ``"test"`` entry
            (detection's mAP, which no Keras metric computes).
        augmentation: what ``TrainSpec.augmentation`` does for this task, for people.
        filters_label: what ``TrainSpec.filters`` means for this task's models, for people.
        callbacks: ``(dataset, spec) -> list`` of Keras callbacks that add epoch metrics
            (placed before the run's own callbacks, so these see the metrics).
        final_scores: ``(model, dataset, spec) -> dict`` computed with the best model after
            training and saved as ``scores.json`` (per-class scores...), or None.
        score_rows: ``scores -> list[dict]``, the rows of a table of ``scores.json`` for people
            (one per class...), or None.
        defaults: spec fields that a spec of this task gets unless it says otherwise
            (applied by :func:`cv_core.runs.preset_spec`).
        presets: per preset name, the fields that differ for this task (e.g. the book's
            segmentation data), applied on top of the preset.
    """

    name: str
    label: str
    description: str
    architectures: Mapping[str, Architecture]
    compile: Callable
    num_classes: Callable
    class_names: Callable
    targets: Callable
    monitor: str
    mode: str
    metric_label: str
    curves: tuple[tuple[str, str], ...]
    test_metric: str
    requires: tuple[str, ...] = ()
    augmentation: str = ""
    filters_label: str = "Filters"
    score_format: str = ".3f"
    callbacks: Callable = _no_callbacks
    final_scores: Callable | None = None
    score_rows: Callable | None = None
    defaults: Mapping = field(default_factory=dict)
    presets: Mapping[str, Mapping] = field(default_factory=dict)

    def accepts(self, dataset) -> bool:
        """Whether a dataset (an instance or its class) offers what this task needs."""
        return all(bool(getattr(dataset, attribute, False)) for attribute in self.requires)

    def format_score(self, value) -> str:
        """A value of the monitored metric for people ("91.4%", "0.731"); "—" for None."""
        return "—" if value is None else format(value, self.score_format)

    @property
    def metric(self) -> str:
        """The monitored metric without its ``val_`` prefix (the training-side log key)."""
        return self.monitor.removeprefix("val_")


#: Every task, by ``TrainSpec.task``; classification first (the default).
TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Add ``task`` to :data:`TASKS` (replacing an entry of the same name) and return it."""
    if not task.architectures:
        raise ValueError(f"Expected task {task.name!r} to have at least one architecture.")
    if task.mode not in ("max", "min"):
        raise ValueError(f"Expected `mode` to be 'max' or 'min'. Received: mode={task.mode!r}")
    TASKS[task.name] = task
    return task


def task_of(spec_or_name: TrainSpec | str | None) -> Task:
    """The :class:`Task` of a spec (or a task name; None means classification).

    Raises:
        SpecError: an unknown task name.
    """
    name = spec_or_name if isinstance(spec_or_name, str) or spec_or_name is None else spec_or_name.task
    name = "classification" if name is None else name
    if name not in TASKS:
        raise SpecError(f"Expected `task` to be one of {tuple(TASKS)}. Received: task={name!r}")
    return TASKS[name]


def architecture_of(spec: TrainSpec) -> Architecture:
    """The :class:`Architecture` a spec names (its task's ``architectures[spec.model]``).

    Raises:
        SpecError: an unknown task, or a model that the task does not have.
    """
    task = task_of(spec)
    if spec.model not in task.architectures:
        raise SpecError(f"Expected `model` to be one of {tuple(task.architectures)} for the {task.name} task. "
                        f"Received: model={spec.model!r}")
    return task.architectures[spec.model]


def dataset_names(task: Task | str) -> list[str]:
    """The registered dataset names that qualify for ``task`` (by their classes' attributes).

    User mask datasets (``user:<name>``) are not in the registry; they qualify wherever a
    :class:`~cv_core.datasets.UserMaskDataset` does.
    """
    from cv_core.datasets import DATASETS

    task = task_of(task) if isinstance(task, str) else task
    return [name for name, (cls, _, _) in DATASETS.items() if task.accepts(cls)]


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------


def _build_mini_xception(spec: TrainSpec, num_classes: int):
    from cv_core import models

    return models.build_mini_xception(
        input_shape=(spec.image_size, spec.image_size, 3), num_classes=num_classes, conv_type=spec.conv_type,
        batchnorm=spec.batchnorm, residual=spec.residual, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def _build_small_convnet(spec: TrainSpec, num_classes: int):
    from cv_core import models

    return models.build_small_convnet(
        input_shape=(spec.image_size, spec.image_size, 3), num_classes=num_classes, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def _mini_xception_minimum(spec: TrainSpec) -> int:
    from cv_core import models

    return models.minimum_input_size(spec.filters)


def _small_convnet_minimum(spec: TrainSpec) -> int:
    from cv_core import models

    return models.minimum_small_convnet_size(spec.filters)


def _xception_variant(spec: TrainSpec) -> str:
    return f"{spec.conv_type} / {spec.batchnorm}" + ("" if spec.residual else " / no residual")


def _xception_slug(spec: TrainSpec) -> str:
    conv = "sep" if spec.conv_type == "separable" else "conv"
    bn = {"before_activation": "bnpre", "after_activation": "bnpost", "none": "nobn"}.get(spec.batchnorm, "bn")
    return f"{conv}-{bn}"


def _compile_classifier(model, num_classes, learning_rate, optimizer):
    from cv_core import models

    return models.compile_classifier(model, num_classes, learning_rate=learning_rate, optimizer=optimizer)


def _classification_targets(dataset, split: str, spec: TrainSpec, training: bool):
    return dataset.tf_dataset(split, task="classification", image_size=(spec.image_size, spec.image_size),
                              batch_size=spec.batch_size, shuffle=training, seed=spec.seed)


#: The fields a continued classification run must keep (the weights, and what they were trained to see).
_CLASSIFIER_CONTINUE = ("conv_type", "batchnorm", "residual", "filters", "image_size", "augmentation", "dropout_rate",
                        "dataset")

register_task(Task(
    name="classification",
    label="Classification",
    description="One label for the whole picture.",
    architectures={
        "mini_xception": Architecture(
            name="mini_xception", label="Mini-Xception (chapter 9)", build=_build_mini_xception,
            cost=cost.mini_xception_cost, minimum_size=_mini_xception_minimum,
            options=("conv_type", "batchnorm", "residual", "augmentation", "dropout_rate"),
            continue_fields=_CLASSIFIER_CONTINUE, default_filters=(32, 64, 128, 256, 512),
            variant=_xception_variant, slug=_xception_slug,
        ),
        "small_convnet": Architecture(
            name="small_convnet", label="Plain convnet (chapter 8)", build=_build_small_convnet,
            cost=cost.small_convnet_cost, minimum_size=_small_convnet_minimum,
            options=("augmentation", "dropout_rate"), continue_fields=_CLASSIFIER_CONTINUE,
            default_filters=(32, 64, 128, 256, 256), variant=lambda spec: "small_convnet",
            slug=lambda spec: "small",
        ),
    },
    compile=_compile_classifier,
    num_classes=lambda dataset: len(dataset.class_names),
    class_names=lambda dataset: list(dataset.class_names),
    targets=_classification_targets,
    monitor="val_accuracy",
    mode="max",
    metric_label="accuracy",
    score_format=".1%",
    curves=(("accuracy", "Accuracy"), ("loss", "Loss")),
    test_metric="accuracy",
    augmentation="Random flips, rotations and zooms, as in the book (layers of the model, active in training).",
    filters_label="Filters (the stem's width, then one block each)",
))


# --------------------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------------------


def _build_segmentation_model(spec: TrainSpec, num_classes: int):
    from cv_core import models

    return models.build_segmentation_model(img_size=(spec.image_size, spec.image_size), num_classes=num_classes,
                                           filters=tuple(spec.filters))


def _build_unet(spec: TrainSpec, num_classes: int):
    from cv_core import models

    return models.build_unet(img_size=(spec.image_size, spec.image_size), num_classes=num_classes,
                             filters=tuple(spec.filters), conv_type=spec.conv_type)


def _compile_segmenter(model, num_classes, learning_rate, optimizer):
    from cv_core import models

    return models.compile_segmenter(model, num_classes, learning_rate=learning_rate, optimizer=optimizer)


def _segmentation_targets(dataset, split: str, spec: TrainSpec, training: bool):
    from cv_core.segmenter import segmentation_dataset

    return segmentation_dataset(dataset, split, (spec.image_size, spec.image_size), batch_size=spec.batch_size,
                                shuffle=training, seed=spec.seed, augment=training and spec.augmentation)


def _segmentation_scores(model, dataset, spec: TrainSpec) -> dict:
    from cv_core.segmenter import evaluate_segmenter

    size = (spec.image_size, spec.image_size)
    return {split: evaluate_segmenter(model, dataset, split, size, batch_size=spec.batch_size)
            for split in ("validation", "test") if dataset.count(split)}


def _segmentation_score_rows(scores: Mapping) -> list[dict]:
    """One row per mask class: IoU and Dice on each split that was scored."""
    splits = [split for split in ("validation", "test") if isinstance(scores.get(split), Mapping)]
    if not splits:
        return []
    names = scores[splits[0]].get("class_names") or []
    rows = []
    for index, name in enumerate(names):
        row = {"class": f"{index} · {name}"}
        for split in splits:
            for measure in ("iou", "dice"):
                values = scores[split].get(measure) or []
                value = values[index] if index < len(values) else None
                row[f"{split} {'IoU' if measure == 'iou' else 'Dice'}"] = None if value is None else round(value, 3)
        rows.append(row)
    return rows


register_task(Task(
    name="segmentation",
    label="Segmentation",
    description="A class for every pixel.",
    architectures={
        "segmentation_model": Architecture(
            name="segmentation_model", label="The book's model (strided convs, transposed convs)",
            build=_build_segmentation_model, cost=cost.segmentation_model_cost,
            minimum_size=lambda spec: 2 ** len(spec.filters), size_multiple=lambda spec: 2 ** len(spec.filters),
            default_filters=(64, 128, 256), variant=lambda spec: "book's model", slug=lambda spec: "segbook",
        ),
        "unet": Architecture(
            name="unet", label="U-Net (skip connections)", build=_build_unet, cost=cost.unet_cost,
            minimum_size=lambda spec: 2 ** max(0, len(spec.filters) - 1),
            size_multiple=lambda spec: 2 ** max(0, len(spec.filters) - 1), options=("conv_type",),
            continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64),
            variant=lambda spec: f"U-Net / {spec.conv_type}",
            slug=lambda spec: "unet-sep" if spec.conv_type == "separable" else "unet",
        ),
    },
    compile=_compile_segmenter,
    requires=("has_masks",),
    num_classes=lambda dataset: len(dataset.mask_class_names),
    class_names=lambda dataset: list(dataset.mask_class_names),
    targets=_segmentation_targets,
    monitor="val_mean_iou",
    mode="max",
    metric_label="mean IoU",
    score_format=".3f",
    curves=(("mean_iou", "Mean IoU"), ("accuracy", "Pixel accuracy"), ("loss", "Loss")),
    test_metric="mean_iou",
    augmentation="Random flips and crops that move each picture and its mask together (in the data pipeline).",
    filters_label="Filters (one level each: the map halves at every level, then grows back)",
    final_scores=_segmentation_scores,
    score_rows=_segmentation_score_rows,
    defaults={"model": "segmentation_model", "conv_type": "conv2d", "dropout_rate": 0.0},
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
))


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------

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
    from cv_core.detection import build_detector

    return build_detector(**detector_arguments(spec, num_classes))


def _detector_cost(spec: TrainSpec, num_classes: int) -> cost.ArchitectureCost:
    from cv_core.detection.model import detector_cost

    try:
        walked = detector_cost(**detector_arguments(spec, num_classes))
    except ValueError as exc:  # an output stride deeper than the backbone, ...
        raise SpecError(str(exc).replace("`backbone_filters`", "`filters`")) from None
    return cost.ArchitectureCost(**walked)


def _compile_detector(model, num_classes, learning_rate, optimizer):
    from cv_core.detection import compile_detector

    return compile_detector(model, num_classes, learning_rate=learning_rate, optimizer=optimizer)


def _detection_targets(dataset, split: str, spec: TrainSpec, training: bool):
    from cv_core.detection import tf_dataset

    return tf_dataset(dataset, split, (spec.image_size, spec.image_size), batch_size=spec.batch_size,
                      shuffle=training, seed=spec.seed, augment=training and spec.augmentation,
                      output_stride=DETECTOR_STRIDES[spec.model])


#: Validation pictures the per-epoch mAP is measured on (the first ones of the split).
DETECTION_EPOCH_IMAGES = 200


def _detection_callbacks(dataset, spec: TrainSpec) -> list:
    from cv_core.detection import MeanAveragePrecisionCallback

    return [MeanAveragePrecisionCallback(dataset, "validation", limit=DETECTION_EPOCH_IMAGES,
                                         batch_size=spec.batch_size)]


def _number(value) -> float | None:
    return None if value is None or value != value else float(value)  # NaN (no true box) -> None


def _detection_scores(model, dataset, spec: TrainSpec) -> dict:
    """mAP@0.5, mAP@0.5:0.95 and AP@0.5 per class of the best model on the validation and test splits."""
    from cv_core.detection import detection_samples, evaluate_detector, precision_recall_curves

    size = (spec.image_size, spec.image_size)
    scores = {}
    for split in ("validation", "test"):
        if not dataset.count(split):
            continue
        images, truths = detection_samples(dataset, split, size)
        result = evaluate_detector(model, images, truths, batch_size=spec.batch_size)
        curves = precision_recall_curves(result.predictions, truths, 0.5)
        scores[split] = {
            "map50": _number(result.map50), "map50_95": _number(result.map50_95),
            "ap50": [_number(curves[c][2]) if c in curves else None for c in range(len(dataset.class_names))],
            "class_names": list(dataset.class_names), "images": len(images),
        }
    return scores


def _detection_score_rows(scores: Mapping) -> list[dict]:
    """mAP@0.5 and mAP@0.5:0.95 over all classes, then AP@0.5 of each class: one column per split scored."""
    splits = [split for split in ("validation", "test") if isinstance(scores.get(split), Mapping)]
    if not splits:
        return []

    def row(label: str, value) -> dict:
        values = {split: value(scores[split]) for split in splits}
        return {"score": label, **{split: None if v is None else round(v, 3) for split, v in values.items()}}

    rows = [row("mAP@0.5, all classes", lambda s: s.get("map50")),
            row("mAP@0.5:0.95, all classes", lambda s: s.get("map50_95"))]
    names = scores[splits[0]].get("class_names") or []
    for index, name in enumerate(names):
        rows.append(row(f"AP@0.5, {index} · {name}",
                        lambda s, i=index: (s.get("ap50") or [])[i] if i < len(s.get("ap50") or []) else None))
    return rows


def _detector_label(model: str) -> str:
    return f"CenterNet-style detector, output stride {DETECTOR_STRIDES[model]}"


register_task(Task(
    name="detection",
    label="Detection",
    description="A box and a class for each object.",
    architectures={
        name: Architecture(
            name=name, label=_detector_label(name) + (" (CenterNet's)" if stride == 4 else " (coarser, faster)"),
            build=_build_detector, cost=_detector_cost,
            minimum_size=lambda spec: 2 ** len(spec.filters), size_multiple=lambda spec: 2 ** len(spec.filters),
            options=("conv_type",), continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64),
            variant=lambda spec: f"detector s{DETECTOR_STRIDES[spec.model]} / {spec.conv_type}",
            slug=lambda spec: f"det{DETECTOR_STRIDES[spec.model]}" + ("-sep" if spec.conv_type == "separable" else ""),
        )
        for name, stride in DETECTOR_STRIDES.items()
    },
    compile=_compile_detector,
    requires=("has_boxes",),
    num_classes=lambda dataset: len(dataset.class_names),
    class_names=lambda dataset: list(dataset.class_names),
    targets=_detection_targets,
    monitor="val_map50",
    mode="max",
    metric_label="mAP@0.5",
    score_format=".3f",
    curves=(("map50", "mAP@0.5"), ("map50_95", "mAP@0.5:0.95"), ("loss", "Loss (the three heads, weighted)"),
            ("heatmap_loss", "Heatmap loss (focal: where the centres are)"),
            ("size_loss", "Size loss (L1: width and height)"), ("offset_loss", "Offset loss (L1: centre in its cell)")),
    test_metric="map50",
    augmentation="Random horizontal flips and shifts that move each picture's boxes with it (Keras preprocessing "
                 "layers, in the data pipeline).",
    filters_label="Filters (the stem's width, then one block each; the map halves at every block)",
    callbacks=_detection_callbacks,
    final_scores=_detection_scores,
    score_rows=_detection_score_rows,
    defaults={"model": "centernet_s4", "conv_type": "separable", "dropout_rate": 0.0, "optimizer": "adam",
              "learning_rate": 2e-3},
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
))
