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
['classification', 'segmentation', 'detection', 'similarity', 'keypoints']

A spec names its task in ``TrainSpec.task`` ("classification" when absent: older run
folders keep loading) and its model in ``TrainSpec.model``, a key of the task's
``architectures``. Nothing here imports TensorFlow: the functions in the table import what
they need when they are called.

**Adding a task** is one more entry: the task's package builds a :class:`Task` (with its
:class:`Architecture` entries) in its ``task`` module and passes it to :func:`register_task`;
that module's name goes in :data:`TASK_MODULES`, which this module imports at its bottom so
that every process (the app, a worker, the command line) sees the same table. ``targets`` may
yield any structure Keras fits on (a dict of targets for a multi-output model); the
monitored metric may be one that a callback of ``callbacks`` adds to the epoch logs (the
run's own callbacks come after them and see it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cv_core.i18n import N_, TranslatedError
from cv_core.runs.spec import SpecError, TrainSpec

__all__ = [
    "SPLIT_SIZE_OPTIONS", "TASKS", "TASK_MODULES", "Architecture", "Task", "architecture_of", "build_in_spec_words",
    "dataset_names", "dataset_split_defaults", "first_scored_images", "image_class_count", "image_class_names",
    "register_task", "task_of",
]

#: Every task's entry, by ``TrainSpec.task``: the module that registers it, in the order the
#: table lists them (classification first: the default). A new task adds one line here.
TASK_MODULES = {
    "classification": "cv_core.classification.task",
    "segmentation": "cv_core.segmentation.task",
    "detection": "cv_core.detection.task",
    "similarity": "cv_core.similarity.task",
    "keypoints": "cv_core.keypoints.task",
    "instances": "cv_core.instances.task",
}


def _one(spec: TrainSpec) -> int:
    return 1


def _no_callbacks(dataset, spec: TrainSpec, run_dir) -> list:
    return []


def _no_scored_images(spec: TrainSpec, validation_images: int) -> int:
    return 0


def build_in_spec_words(builder: Callable, arguments: Mapping):
    """``builder(**arguments)`` of a model on a backbone, its argument errors said in the spec's words.

    The builders name the backbone's widths ``backbone_filters``; a run's spec calls them ``filters``.
    """
    try:
        return builder(**arguments)
    except TranslatedError as exc:  # an output stride deeper than the backbone...: say it in the spec's words
        if "filters_name" not in exc.fields:
            raise
        raise type(exc)(exc.message, {**exc.fields, "filters_name": "filters"}) from None
    except ValueError as exc:
        raise ValueError(str(exc).replace("backbone_filters", "filters")) from None


def first_scored_images(limit: int) -> Callable[[TrainSpec, int], int]:
    """A task's ``epoch_scored_images`` when each epoch scores the first ``limit`` validation pictures."""
    return lambda spec, validation_images: min(limit, validation_images)


def _no_classes(dataset) -> None:
    return None


def _no_class_names(dataset) -> list[str]:
    return []


def image_class_count(dataset) -> int:
    """The number of the dataset's picture classes: a classifier's (or a detector's) output width."""
    return len(dataset.class_names)


def image_class_names(dataset) -> list[str]:
    """The names of the dataset's picture classes, in the order of the model's outputs."""
    return list(dataset.class_names)


@dataclass(frozen=True)
class Architecture:
    """One model a task can train: how to build it and what it accepts.

    Its size is not written here: the resource budget builds the model and measures it
    (:func:`cv_core.runs.cost.architecture_cost`).

    Attributes:
        name: the value of ``TrainSpec.model`` that selects it.
        label: its name for people ("U-Net").
        build: ``(spec, num_classes) -> keras.Model``, uncompiled, from the task's package
            (``num_classes`` is None for a task whose model has no class output).
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
            place (``learning_rate`` may be a Keras schedule; ``num_classes`` as
            ``num_classes`` gives it, None included).
        requires: dataset attributes that must be true for a dataset to qualify, e.g.
            ``("has_masks",)`` (see :func:`dataset_names`).
        missing_data: the sentence that refuses a dataset without them, for people, marked with
            ``N_`` and filled in with ``dataset`` (the spec's name) and ``choices`` (the datasets that
            qualify): ``N_("The {dataset!r} dataset has no boxes, which detection needs. Choose one of
            {choices}.")``. Empty: a general sentence.
        num_classes: ``dataset -> int | None``, the width of the model's class output
            (image classes, mask classes...), passed to ``build`` and ``compile``. None for
            a task whose model has no class output (an embedding, keypoints): the default.
        class_names: ``dataset -> list[str]``, what each output class is called; empty
            (the default) for a task without classes.
        targets: ``(dataset, split, spec, training) -> tf.data.Dataset`` of ``(images,
            targets)`` batches of ``spec.batch_size`` at ``spec.image_size``; ``training``
            shuffles (and augments, where the task augments in the pipeline). Built on the
            one pipeline, :func:`cv_core.pipeline.batches`.
        sample_targets: the :class:`~cv_core.pipeline.TargetEncoding` of a task whose target
            is a sample's own (a label, a mask), offered by
            :meth:`cv_core.datasets.Dataset.tf_dataset` under the task's name; None (the
            default) where the targets also depend on the model (detection's output stride).
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
        callbacks: ``(dataset, spec, run_dir) -> list`` of Keras callbacks that add epoch
            metrics (placed before the run's own callbacks, so these see the metrics), and may
            write what a page shows of each epoch into the run folder ``run_dir`` (a
            ``pathlib.Path``; similarity's embedding maps).
        epoch_scored_images: ``(spec, validation_images) -> int``, the pictures those
            callbacks score after every epoch (for the time estimate); 0 by default.
        seconds_per_scored_image: what scoring one of them costs beyond its forward pass
            (decoding, matching), in seconds on the 2-core CPU; it also prices
            ``final_scores``, which scores the validation and test pictures once at the end.
        seconds_per_training_image: what a training picture costs beyond the model's own
            compute (its target encoding in the pipeline, several heads' losses), in seconds
            on the 2-core CPU: for the time estimate; 0 by default.
        startup_seconds: seconds a run of this task spends before its first batch beyond
            a classifier's (tracing more outputs and losses, a heavier data pipeline), on the
            2-core CPU: for the time estimate.
        final_scores: ``(model, dataset, spec) -> dict`` computed with the best model after
            training and saved as ``scores.json`` (per-class scores...), or None.
        score_rows: ``scores -> list[dict]``, the rows of a table of ``scores.json`` for people
            (one per class...), or None.
        defaults: spec fields that a spec of this task gets unless it says otherwise
            (applied by :func:`cv_core.runs.preset_spec`).
        presets: per preset name, the fields that differ for this task (e.g. the book's
            segmentation data), applied on top of the preset.
        preset_captions: per preset name, what it means for this task, for people (the
            form's captions; a preset without one keeps the general caption).
        anatomy: ``(spec, num_classes) -> (title, caption)`` of the model drawing on the task
            page's **Train** tab, for people; None: the page shows the drawing untitled.
    """

    name: str
    label: str
    description: str
    architectures: Mapping[str, Architecture]
    compile: Callable
    targets: Callable
    monitor: str
    mode: str
    metric_label: str
    curves: tuple[tuple[str, str], ...]
    test_metric: str
    num_classes: Callable = _no_classes
    sample_targets: object | None = None
    class_names: Callable = _no_class_names
    requires: tuple[str, ...] = ()
    missing_data: str = ""
    augmentation: str = ""
    filters_label: str = "Filters"
    score_format: str = ".3f"
    callbacks: Callable = _no_callbacks
    epoch_scored_images: Callable = _no_scored_images
    seconds_per_scored_image: float = 0.0
    seconds_per_training_image: float = 0.0
    startup_seconds: float = 0.0
    final_scores: Callable | None = None
    score_rows: Callable | None = None
    defaults: Mapping = field(default_factory=dict)
    presets: Mapping[str, Mapping] = field(default_factory=dict)
    preset_captions: Mapping[str, str] = field(default_factory=dict)
    anatomy: Callable | None = None

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


#: Every task, by ``TrainSpec.task``, in the order of :data:`TASK_MODULES` (classification first:
#: the default), then any task registered from elsewhere.
TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Add ``task`` to :data:`TASKS` (replacing an entry of the same name) and return it.

    The table keeps the order of :data:`TASK_MODULES` whichever entry is imported first.
    """
    if not task.architectures:
        raise ValueError(f"Expected task {task.name!r} to have at least one architecture.")  # code only
    if task.mode not in ("max", "min"):
        raise ValueError(f"Expected `mode` to be 'max' or 'min'. Received: mode={task.mode!r}")  # code only
    TASKS[task.name] = task
    order = list(TASK_MODULES)
    ranked = sorted(TASKS.values(), key=lambda t: order.index(t.name) if t.name in order else len(order))
    TASKS.clear()
    TASKS.update((t.name, t) for t in ranked)
    return task


def task_of(spec_or_name: TrainSpec | str | None) -> Task:
    """The :class:`Task` of a spec (or a task name; None means classification).

    Raises:
        SpecError: an unknown task name.
    """
    name = spec_or_name if isinstance(spec_or_name, str) or spec_or_name is None else spec_or_name.task
    name = "classification" if name is None else name
    if name not in TASKS:
        raise SpecError(N_("Expected `task` to be one of {choices}. Received: task={value!r}"), choices=tuple(TASKS),
                        value=name)
    return TASKS[name]


def architecture_of(spec: TrainSpec) -> Architecture:
    """The :class:`Architecture` a spec names (its task's ``architectures[spec.model]``).

    Raises:
        SpecError: an unknown task, or a model that the task does not have.
    """
    task = task_of(spec)
    if spec.model not in task.architectures:
        raise SpecError(N_("Expected `model` to be one of {choices} for the {task} task. Received: model={value!r}"),
                        choices=tuple(task.architectures), task=task.name, value=spec.model)
    return task.architectures[spec.model]


def dataset_names(task: Task | str) -> list[str]:
    """The registered dataset names that qualify for ``task`` (by their classes' attributes).

    User mask datasets (``user:<name>``) are not in the registry; they qualify wherever a
    :class:`~cv_core.datasets.UserMaskDataset` does. The keypoint datasets
    (:data:`~cv_core.datasets.KEYPOINT_DATASETS`) are offered only to a task that needs keypoints:
    their labels, boxes and masks serve their keypoints, not the other tasks' pickers.
    """
    from cv_core.datasets import DATASETS, KEYPOINT_DATASETS

    task = task_of(task) if isinstance(task, str) else task
    registry = {**DATASETS, **(KEYPOINT_DATASETS if "has_keypoints" in task.requires else {})}
    return [name for name, (cls, _, _) in registry.items() if task.accepts(cls)]


#: The dataset options that size its splits, by split.
SPLIT_SIZE_OPTIONS = {"train": "train_size", "validation": "validation_size", "test": "test_size"}


def dataset_split_defaults(name: str) -> dict[str, int]:
    """The split sizes a dataset draws by default, as its options (``{"train_size": 2000, ...}``).

    Read from the dataset class's constructor defaults (the built-in shapes'), the one place
    they are written; empty for a dataset whose splits are the files of its folder.
    """
    import inspect

    from cv_core.datasets import DATASETS, KEYPOINT_DATASETS

    entry = DATASETS.get(name) or KEYPOINT_DATASETS.get(name)
    if entry is None:
        return {}
    parameters = inspect.signature(entry[0]).parameters
    return {option: parameters[option].default for option in SPLIT_SIZE_OPTIONS.values()
            if option in parameters and isinstance(parameters[option].default, int)}


# Every entry registers itself on import; importing them all here gives every process the same table.
for _module in TASK_MODULES.values():
    importlib.import_module(_module)
