"""What to train: the :class:`TrainSpec` of a run, its validation, presets and time estimate.

A spec is plain data (it is saved as ``spec.json`` in the run directory), so this module
imports neither TensorFlow nor the model code at import time. :func:`validate_spec` refuses
impossible specs with a :class:`SpecError` *before* anything starts: it checks every field,
opens the dataset to count its splits and asks the spec's architecture (its task's entry) how small an
image the network can take.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ARCHITECTURE_FIELDS",
    "BATCHNORMS",
    "CONV_TYPES",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "PRESETS",
    "SpecError",
    "TrainSpec",
    "minimum_image_size",
    "preset_spec",
    "validate_spec",
]

from cv_core.blocks import BATCHNORM_PLACEMENTS as BATCHNORMS
from cv_core.blocks import CONV_TYPES, OPTIMIZERS, is_positive_int_sequence
from cv_core.blocks import is_int as _is_int
from cv_core.i18n import N_, LazyText, TranslatedError

#: "constant": the learning rate as given. "cosine": one warm-up epoch from a tenth of it,
#: then cosine decay to zero at the last step (smooth, and the same total for any epochs).
LR_SCHEDULES = ("constant", "cosine")
#: The spec fields that decide which model is built (with the dataset's class count): the one
#: list of them. :meth:`TrainSpec.architecture_key` keys every cache of a model's size or
#: anatomy on them, and a continued classification run keeps them (with its data). A new spec
#: field that changes a model goes here, and every cache keyed on models follows.
ARCHITECTURE_FIELDS = ("task", "model", "conv_type", "batchnorm", "residual", "filters", "image_size", "augmentation",
                       "dropout_rate")


class SpecError(TranslatedError, ValueError):
    """A training spec that cannot run; the message says what was expected and received.

    The messages a person meets in the lab (an image too small, a dataset that cannot train) are marked
    and read in the reader's language (:class:`cv_core.i18n.TranslatedError`), those only code can cause
    ("Expected `seed` to be a whole number...") too: a spec file, a link or the command line can hold
    anything."""


@dataclass(frozen=True)
class TrainSpec:
    """Everything needed to train one run, as JSON-friendly values.

    The defaults are the book's chapter 9 settings (mini-Xception at 180 px, batch 32,
    RMSprop, 100 epochs). ``conv_type``, ``batchnorm`` and ``residual`` only apply to the
    models that use them (see each architecture's ``options`` in
    :data:`cv_core.runs.tasks.TASKS`); ``small_convnet`` is chapter 8's plain baseline.

    Attributes:
        task: "classification" (the default; a ``spec.json`` without ``task`` is one) or
            "segmentation": a key of :data:`cv_core.runs.tasks.TASKS`.
        dataset: a name known to :func:`cv_core.datasets.open_dataset`.
        dataset_root: the dataset's folder (None for the built-in "shapes").
        dataset_options: keyword options for ``open_dataset`` (e.g. ``train_size``).
        model: one of the task's architectures: "mini_xception" or "small_convnet" for
            classification, "segmentation_model" (the book's) or "unet" for segmentation.
        conv_type: "separable" or "conv2d".
        batchnorm: "before_activation", "after_activation" or "none".
        residual: whether each block has the strided 1x1 shortcut.
        filters: stem width and one block per entry.
        image_size: side of the square images the model is trained on, in pixels.
        augmentation: classification: include the random flip/rotation/zoom layers;
            segmentation: random flips and crops that move each image and its mask together.
        dropout_rate: dropout before the classifier, in [0, 1).
        epochs, batch_size, learning_rate, optimizer, seed: the training settings.
        lr_schedule: "constant" or "cosine" (see ``LR_SCHEDULES``).
        continues: the folder of a completed run whose final weights this run starts from
            (set by :func:`cv_core.runs.continue_run`, or to fine-tune a segmentation run on
            other data), or None to start from scratch.
        preset: the preset the spec came from, if any.
        experiment_id, experiment_label: set by :func:`cv_core.runs.submit_grid` to group
            the runs of one grid and name their variant.
        notes: free text.
    """

    task: str = "classification"
    dataset: str = "shapes"
    dataset_root: str | None = None
    dataset_options: dict = field(default_factory=dict)
    model: str = "mini_xception"
    conv_type: str = "separable"
    batchnorm: str = "before_activation"
    residual: bool = True
    filters: tuple[int, ...] = (32, 64, 128, 256, 512)
    image_size: int = 180
    augmentation: bool = True
    dropout_rate: float = 0.5
    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "rmsprop"
    lr_schedule: str = "constant"
    seed: int = 0
    continues: str | None = None
    preset: str | None = None
    experiment_id: str | None = None
    experiment_label: str | None = None
    notes: str = ""

    def to_dict(self) -> dict:
        """The spec as a JSON-serialisable dict (``filters`` as a list)."""
        data = dataclasses.asdict(self)
        data["filters"] = list(self.filters)
        data["dataset_options"] = dict(self.dataset_options)
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> TrainSpec:
        """Build a spec from a dict such as ``spec.json``; unknown keys raise SpecError."""
        if not isinstance(data, Mapping):
            raise SpecError(N_("Expected a spec as a dict. Received: {received}"), received=type(data).__name__)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(N_("Expected spec fields among {known}. Received unknown: {unknown}"), known=sorted(known),
                            unknown=unknown)
        values = dict(data)
        if isinstance(values.get("filters"), list):
            values["filters"] = tuple(values["filters"])
        return cls(**values)

    def replace(self, **changes) -> TrainSpec:
        """A copy of this spec with some fields changed (not validated)."""
        return dataclasses.replace(self, **changes)

    def architecture_key(self) -> tuple[tuple[str, object], ...]:
        """``(field, value)`` for each of :data:`ARCHITECTURE_FIELDS`: hashable, and equal for two
        specs exactly when they build the same model (for the same class count)."""
        return tuple((name, tuple(self.filters) if name == "filters" else getattr(self, name))
                     for name in ARCHITECTURE_FIELDS)

    @classmethod
    def from_architecture_key(cls, key) -> TrainSpec:
        """A spec (default training settings) that builds the model ``key`` describes."""
        fields = dict(key)
        fields["filters"] = tuple(fields["filters"])
        return cls().replace(**fields)

    @property
    def variant(self) -> str:
        """Short name of the architecture variant, e.g. "separable / before_activation", "U-Net / conv2d"."""
        from cv_core.runs.tasks import architecture_of

        try:
            return architecture_of(self).describe(self)
        except SpecError:  # an unknown task or model: still a name to show
            return str(self.model)


# --------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------

#: Named starting points; :func:`preset_spec` applies overrides on top.
#: "tiny": a few seconds, for tests. "quick": the built-in shapes ("medium" difficulty) at
#: 48 px with Adam and a warm-up + cosine schedule: about 2 minutes end to end on 2 CPU
#: cores and above 0.85 validation accuracy (chance is 0.20; README, "Speed of training").
#: "book": chapter 9's mini-Xception on cats vs dogs at 180 px (needs ``dataset_root``;
#: meant for a GPU).
PRESETS: dict[str, dict] = {
    "tiny": dict(
        dataset="shapes",
        dataset_options={"image_size": 32, "train_size": 64, "validation_size": 32, "test_size": 32},
        filters=(8, 16),
        image_size=32,
        augmentation=False,
        epochs=2,
        batch_size=16,
    ),
    "quick": dict(
        dataset="shapes",
        dataset_options={"image_size": 48, "train_size": 6000, "validation_size": 500, "test_size": 500,
                         "difficulty": "medium"},
        filters=(16, 32, 64, 128),
        image_size=48,
        augmentation=False,
        epochs=12,
        batch_size=32,
        learning_rate=3e-3,
        optimizer="adam",
        lr_schedule="cosine",
    ),
    "book": dict(
        dataset="cats_vs_dogs",
        filters=(32, 64, 128, 256, 512),
        image_size=180,
        augmentation=True,
        dropout_rate=0.5,
        epochs=100,
        batch_size=32,
        learning_rate=1e-3,
        optimizer="rmsprop",
    ),
}


def preset_spec(name: str = "quick", **overrides) -> TrainSpec:
    """The spec of preset ``name`` ("tiny", "quick" or "book") with ``overrides`` applied.

    Presets apply to every task: ``preset_spec("tiny", task="segmentation")`` is the tiny
    preset with the segmentation task's defaults and its own changes for that preset
    (``Task.defaults`` and ``Task.presets``), then ``overrides``.

    Raises:
        SpecError: unknown preset name, unknown task, or unknown field in ``overrides``.
    """
    from cv_core.runs.tasks import task_of

    if name not in PRESETS:
        raise SpecError(N_("Expected `preset` to be one of {choices}. Received: preset={value!r}"), choices=tuple(PRESETS),
                        value=name)
    task = task_of(overrides.get("task"))
    values = {**PRESETS[name], **task.defaults, **task.presets.get(name, {}), "task": task.name, "preset": name,
              **overrides}
    return TrainSpec.from_dict(values)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(name: str, value) -> int:
    if not _is_int(value) or value <= 0:
        raise SpecError(N_("Expected `{name}` to be a positive whole number. Received: {name}={value!r}"), name=name,
                        value=value)
    return value


def _choice(name: str, value, choices: tuple) -> str:
    if value not in choices:
        raise SpecError(N_("Expected `{name}` to be one of {choices}. Received: {name}={value!r}"), name=name,
                        choices=choices, value=value)
    return value


def _boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise SpecError(N_("Expected `{name}` to be True or False. Received: {name}={value!r}"), name=name, value=value)
    return value


def _optional_str(name: str, value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SpecError(N_("Expected `{name}` to be text or None. Received: {name}={value!r}"), name=name, value=value)
    return value


def _check_fields(spec: TrainSpec) -> TrainSpec:
    """Type and range checks that need neither the dataset nor the model code."""
    if not isinstance(spec.dataset, str) or not spec.dataset:
        raise SpecError(N_("Expected `dataset` to be a dataset name. Received: dataset={value!r}"), value=spec.dataset)
    _optional_str("dataset_root", spec.dataset_root)
    if not isinstance(spec.dataset_options, Mapping):
        raise SpecError(N_("Expected `dataset_options` to be a dict. Received: dataset_options={value!r}"),
                        value=spec.dataset_options)
    from cv_core.runs.tasks import TASKS

    if not isinstance(spec.task, str) or spec.task not in TASKS:
        raise SpecError(N_("Expected `task` to be one of {choices}. Received: task={value!r}"), choices=tuple(TASKS),
                        value=spec.task)
    _choice("model", spec.model, tuple(TASKS[spec.task].architectures))
    _choice("conv_type", spec.conv_type, CONV_TYPES)
    _choice("batchnorm", spec.batchnorm, BATCHNORMS)
    _choice("optimizer", spec.optimizer, OPTIMIZERS)
    _choice("lr_schedule", spec.lr_schedule, LR_SCHEDULES)
    _optional_str("continues", spec.continues)
    _boolean("residual", spec.residual)
    _boolean("augmentation", spec.augmentation)
    filters = spec.filters
    if not is_positive_int_sequence(filters):
        raise SpecError(N_("Expected `filters` to be a non-empty list of positive whole numbers. Received: filters={value!r}"),
                        value=filters)
    _positive_int("image_size", spec.image_size)
    _positive_int("epochs", spec.epochs)
    _positive_int("batch_size", spec.batch_size)
    if not _is_real(spec.learning_rate) or not math.isfinite(spec.learning_rate) or spec.learning_rate <= 0:
        raise SpecError(N_("Expected `learning_rate` to be a finite number > 0. Received: learning_rate={value!r}"),
                        value=spec.learning_rate)
    if not _is_real(spec.dropout_rate) or not 0 <= spec.dropout_rate < 1:
        raise SpecError(N_("Expected `dropout_rate` in [0, 1). Received: dropout_rate={value!r}"), value=spec.dropout_rate)
    if not _is_int(spec.seed) or spec.seed < 0:
        raise SpecError(N_("Expected `seed` to be a whole number >= 0. Received: seed={value!r}"), value=spec.seed)
    if spec.preset is not None and spec.preset not in PRESETS:
        raise SpecError(N_("Expected `preset` to be one of {choices} or None. Received: preset={value!r}"),
                        choices=tuple(PRESETS), value=spec.preset)
    _optional_str("experiment_id", spec.experiment_id)
    _optional_str("experiment_label", spec.experiment_label)
    if not isinstance(spec.notes, str):
        raise SpecError(N_("Expected `notes` to be text. Received: notes={value!r}"), value=spec.notes)
    return spec.replace(
        filters=tuple(filters),
        dataset_options=dict(spec.dataset_options),
        learning_rate=float(spec.learning_rate),
        dropout_rate=float(spec.dropout_rate),
    )


_MIN_IMAGE_SIZE = 8  # Dataset.tf_dataset refuses smaller images


def minimum_image_size(spec: TrainSpec) -> int:
    """Smallest ``image_size`` the spec's model accepts with its ``filters``."""
    from cv_core.runs.tasks import architecture_of

    return architecture_of(spec).minimum_size(spec)


def validate_spec(spec: TrainSpec | Mapping, *, dataset=None) -> TrainSpec:
    """Check that ``spec`` can train, and return it normalised (tuples, floats).

    Args:
        spec: a :class:`TrainSpec` or a dict of its fields.
        dataset: an already opened :class:`cv_core.datasets.Dataset` to check against,
            instead of opening ``spec.dataset`` (saves re-scanning a folder for a grid).

    Returns:
        The validated :class:`TrainSpec`.

    Raises:
        SpecError: with a message that names the field, what was expected and what was
            received: non-positive or non-integer epochs/batch size, a batch larger than the
            training split, a learning rate <= 0 or not finite, an unknown dataset, model,
            conv type, batch norm placement or optimizer, an image too small for the depth,
            an empty training or validation split, a model or run over the resource budget
            (:func:`cv_core.runs.check_resources`: absurd sizes at once, before the dataset is
            opened; then the real model's sizes, measured in a child process when this one has
            not imported TensorFlow), ...
    """
    from cv_core.runs.cost import check_resources
    from cv_core.runs.tasks import architecture_of, dataset_names, task_of

    if not isinstance(spec, TrainSpec):
        spec = TrainSpec.from_dict(spec)
    spec = _check_fields(spec)
    task, architecture = task_of(spec), architecture_of(spec)

    minimum = max(_MIN_IMAGE_SIZE, minimum_image_size(spec))
    if spec.image_size < minimum:
        raise SpecError(N_("Expected `image_size` of at least {minimum} px for a {model} with {blocks} blocks (each one "
                           "shrinks the image). Received: image_size={size}. Use a larger image or fewer filters."),
                        minimum=minimum, model=spec.model, blocks=len(spec.filters), size=spec.image_size)
    multiple = architecture.size_multiple(spec)
    if spec.image_size % multiple:
        raise SpecError(N_("Expected `image_size` to be a multiple of {multiple} px for {model} with {levels} levels "
                           "(each one halves the image, and the mask must come back at the image's size). Received: "
                           "image_size={size}."),
                        multiple=multiple, model=LazyText(architecture.label), levels=len(spec.filters),
                        size=spec.image_size)
    check_resources(spec, measure=False)  # absurd sizes, at once: before a folder is scanned or a model built
    if spec.continues is not None:
        _check_continues(spec)

    if dataset is None:
        from cv_core.datasets import open_dataset

        try:
            dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
        except ValueError as exc:  # DatasetError is a ValueError
            raise SpecError(N_("The dataset cannot be used: {reason}"), reason=exc) from None
        except OSError as exc:  # a path too long for the file system, a folder we may not read...
            raise SpecError(N_("The dataset's folder cannot be read: {reason}."), reason=exc.strerror or exc) from None
    if not task.accepts(dataset):
        if task.missing_data:  # each task's own sentence, translated whole
            raise SpecError(task.missing_data, dataset=spec.dataset, choices=dataset_names(task))
        raise SpecError(N_("The {dataset!r} dataset lacks what the {task} task needs ({needs}). Choose one of "
                           "{choices}."), dataset=spec.dataset, task=spec.task, needs=", ".join(task.requires),
                        choices=dataset_names(task))
    train_count = dataset.count("train")
    if train_count == 0:
        raise SpecError(N_("The training split of {dataset!r} is empty: there is nothing to train on."),
                        dataset=spec.dataset)
    if dataset.count("validation") == 0:
        raise SpecError(N_("The validation split of {dataset!r} is empty: a run needs validation images to pick its "
                           "best epoch."), dataset=spec.dataset)
    if spec.batch_size > train_count:
        raise SpecError(N_("Expected `batch_size` to be at most the {count} training images of {dataset!r}. Received: "
                           "batch_size={batch_size}"),
                        count=train_count, dataset=spec.dataset, batch_size=spec.batch_size)
    classes = task.num_classes(dataset)  # None: a model without class outputs (an embedding, keypoints)
    check_resources(spec, num_classes=None if classes is None else max(2, classes), train_images=train_count,
                    cached_images=train_count + dataset.count("validation"), keep_tensorflow_out=True)
    return spec


def _check_continues(spec: TrainSpec) -> None:
    """A continued run starts from a completed run's saved model with the same architecture.

    What "the same" means is the architecture's ``continue_fields`` (plus the task and the
    model): a classifier keeps its data and image size too; a segmentation model is fully
    convolutional, so it may continue on other data at another size (fine-tuning).
    """
    from pathlib import Path

    from cv_core.runs.files import BEST_MODEL_FILE, LAST_MODEL_FILE, read_spec
    from cv_core.runs.tasks import architecture_of

    parent = Path(spec.continues)
    if not any((parent / name).is_file() for name in (LAST_MODEL_FILE, BEST_MODEL_FILE)):
        raise SpecError(N_("Expected `continues` to be a run folder with a saved model ({last} or {best}). Received: "
                           "continues={value!r}"), last=LAST_MODEL_FILE, best=BEST_MODEL_FILE, value=spec.continues)
    earlier = read_spec(parent)
    if earlier is None:
        raise SpecError(N_("The run to continue has no readable spec: {value!r}"), value=spec.continues)
    kept = ("task", "model", *architecture_of(spec).continue_fields)
    changed = [name for name in kept
               if getattr(earlier, name) != getattr(spec, name) and not (
                   name == "filters" and tuple(earlier.filters) == tuple(spec.filters))]
    if changed:
        raise SpecError(N_("A continued run must keep the architecture of the run it continues. Received changes to: "
                           "{changed}"), changed=changed)
