"""What to train: the :class:`TrainSpec` of a run, its validation, presets and time estimate.

A spec is plain data (it is saved as ``spec.json`` in the run directory), so this module
imports neither TensorFlow nor the model code at import time. :func:`validate_spec` refuses
impossible specs with a :class:`SpecError` *before* anything starts: it checks every field,
opens the dataset to count its splits and asks :mod:`cv_core.models` how small an image the
network can take.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "BATCHNORMS",
    "CONV_TYPES",
    "MODEL_KINDS",
    "OPTIMIZERS",
    "PRESETS",
    "SpecError",
    "TrainSpec",
    "estimate_seconds",
    "minimum_image_size",
    "mult_adds",
    "preset_spec",
    "validate_spec",
]

from cv_core.models import BATCHNORM_PLACEMENTS as BATCHNORMS
from cv_core.models import CONV_TYPES, OPTIMIZERS

MODEL_KINDS = ("mini_xception", "small_convnet")


class SpecError(ValueError):
    """A training spec that cannot run; the message says what was expected and received."""


@dataclass(frozen=True)
class TrainSpec:
    """Everything needed to train one run, as JSON-friendly values.

    The defaults are the book's chapter 9 settings (mini-Xception at 180 px, batch 32,
    RMSprop, 100 epochs). ``conv_type``, ``batchnorm`` and ``residual`` only apply to the
    mini-Xception; ``small_convnet`` is chapter 8's plain baseline.

    Attributes:
        dataset: a name known to :func:`cv_core.datasets.open_dataset`.
        dataset_root: the dataset's folder (None for the built-in "shapes").
        dataset_options: keyword options for ``open_dataset`` (e.g. ``train_size``).
        model: "mini_xception" or "small_convnet".
        conv_type: "separable" or "conv2d".
        batchnorm: "before_activation", "after_activation" or "none".
        residual: whether each block has the strided 1x1 shortcut.
        filters: stem width and one block per entry.
        image_size: side of the square images the model is trained on, in pixels.
        augmentation: include the random flip/rotation/zoom layers.
        dropout_rate: dropout before the classifier, in [0, 1).
        epochs, batch_size, learning_rate, optimizer, seed: the training settings.
        preset: the preset the spec came from, if any.
        experiment_id, experiment_label: set by :func:`cv_core.runs.submit_grid` to group
            the runs of one grid and name their variant.
        notes: free text.
    """

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
    seed: int = 0
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
            raise SpecError(f"Expected a spec as a dict. Received: {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"Expected spec fields among {sorted(known)}. Received unknown: {unknown}")
        values = dict(data)
        if isinstance(values.get("filters"), list):
            values["filters"] = tuple(values["filters"])
        return cls(**values)

    def replace(self, **changes) -> TrainSpec:
        """A copy of this spec with some fields changed (not validated)."""
        return dataclasses.replace(self, **changes)

    @property
    def variant(self) -> str:
        """Short name of the architecture variant, e.g. "separable / before_activation"."""
        if self.model == "small_convnet":
            return "small_convnet"
        return f"{self.conv_type} / {self.batchnorm}" + ("" if self.residual else " / no residual")


# --------------------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------------------

#: Named starting points; :func:`preset_spec` applies overrides on top.
#: "tiny": a few seconds, for tests. "quick": the built-in shapes at 64 px, about two
#: minutes on 2 CPU cores, well above chance (20 %) on validation. "book": chapter 9's
#: mini-Xception on cats vs dogs at 180 px (needs ``dataset_root``; meant for a GPU).
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
        dataset_options={"image_size": 64, "train_size": 4000, "validation_size": 400, "test_size": 400},
        filters=(16, 32, 64, 128),
        image_size=64,
        augmentation=False,
        epochs=15,
        batch_size=32,
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

    Raises:
        SpecError: unknown preset name or unknown field in ``overrides``.
    """
    if name not in PRESETS:
        raise SpecError(f"Expected `preset` to be one of {tuple(PRESETS)}. Received: preset={name!r}")
    values = {**PRESETS[name], "preset": name, **overrides}
    return TrainSpec.from_dict(values)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_int(name: str, value) -> int:
    if not _is_int(value) or value <= 0:
        raise SpecError(f"Expected `{name}` to be a positive whole number. Received: {name}={value!r}")
    return value


def _choice(name: str, value, choices: tuple) -> str:
    if value not in choices:
        raise SpecError(f"Expected `{name}` to be one of {choices}. Received: {name}={value!r}")
    return value


def _boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"Expected `{name}` to be True or False. Received: {name}={value!r}")
    return value


def _optional_str(name: str, value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SpecError(f"Expected `{name}` to be text or None. Received: {name}={value!r}")
    return value


def _check_fields(spec: TrainSpec) -> TrainSpec:
    """Type and range checks that need neither the dataset nor the model code."""
    if not isinstance(spec.dataset, str) or not spec.dataset:
        raise SpecError(f"Expected `dataset` to be a dataset name. Received: dataset={spec.dataset!r}")
    _optional_str("dataset_root", spec.dataset_root)
    if not isinstance(spec.dataset_options, Mapping):
        raise SpecError(
            f"Expected `dataset_options` to be a dict. Received: dataset_options={spec.dataset_options!r}"
        )
    _choice("model", spec.model, MODEL_KINDS)
    _choice("conv_type", spec.conv_type, CONV_TYPES)
    _choice("batchnorm", spec.batchnorm, BATCHNORMS)
    _choice("optimizer", spec.optimizer, OPTIMIZERS)
    _boolean("residual", spec.residual)
    _boolean("augmentation", spec.augmentation)
    filters = spec.filters
    if (
        isinstance(filters, (str, bytes))
        or not isinstance(filters, Sequence)
        or len(filters) == 0
        or not all(_is_int(f) and f > 0 for f in filters)
    ):
        raise SpecError(
            f"Expected `filters` to be a non-empty list of positive whole numbers. Received: filters={filters!r}"
        )
    _positive_int("image_size", spec.image_size)
    _positive_int("epochs", spec.epochs)
    _positive_int("batch_size", spec.batch_size)
    if not _is_real(spec.learning_rate) or not math.isfinite(spec.learning_rate) or spec.learning_rate <= 0:
        raise SpecError(
            "Expected `learning_rate` to be a finite number > 0. "
            f"Received: learning_rate={spec.learning_rate!r}"
        )
    if not _is_real(spec.dropout_rate) or not 0 <= spec.dropout_rate < 1:
        raise SpecError(f"Expected `dropout_rate` in [0, 1). Received: dropout_rate={spec.dropout_rate!r}")
    if not _is_int(spec.seed) or spec.seed < 0:
        raise SpecError(f"Expected `seed` to be a whole number >= 0. Received: seed={spec.seed!r}")
    if spec.preset is not None and spec.preset not in PRESETS:
        raise SpecError(f"Expected `preset` to be one of {tuple(PRESETS)} or None. Received: preset={spec.preset!r}")
    _optional_str("experiment_id", spec.experiment_id)
    _optional_str("experiment_label", spec.experiment_label)
    if not isinstance(spec.notes, str):
        raise SpecError(f"Expected `notes` to be text. Received: notes={spec.notes!r}")
    return spec.replace(
        filters=tuple(filters),
        dataset_options=dict(spec.dataset_options),
        learning_rate=float(spec.learning_rate),
        dropout_rate=float(spec.dropout_rate),
    )


_MIN_IMAGE_SIZE = 8  # Dataset.tf_dataset refuses smaller images


def minimum_image_size(spec: TrainSpec) -> int:
    """Smallest ``image_size`` the spec's model accepts with its ``filters``."""
    from cv_core import models

    if spec.model == "small_convnet":
        return models.minimum_small_convnet_size(spec.filters)
    return models.minimum_input_size(spec.filters)


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
            an empty training or validation split, ...
    """
    if not isinstance(spec, TrainSpec):
        spec = TrainSpec.from_dict(spec)
    spec = _check_fields(spec)

    minimum = max(_MIN_IMAGE_SIZE, minimum_image_size(spec))
    if spec.image_size < minimum:
        raise SpecError(
            f"Expected `image_size` of at least {minimum} px for a {spec.model} with "
            f"{len(spec.filters)} blocks (each one shrinks the image). Received: "
            f"image_size={spec.image_size}. Use a larger image or fewer filters."
        )

    if dataset is None:
        from cv_core.datasets import open_dataset

        try:
            dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
        except ValueError as exc:  # DatasetError is a ValueError
            raise SpecError(f"The dataset cannot be used: {exc}") from None
    train_count = dataset.count("train")
    if train_count == 0:
        raise SpecError(f"The training split of {spec.dataset!r} is empty: there is nothing to train on.")
    if dataset.count("validation") == 0:
        raise SpecError(
            f"The validation split of {spec.dataset!r} is empty: a run needs validation images "
            "to pick its best epoch."
        )
    if spec.batch_size > train_count:
        raise SpecError(
            f"Expected `batch_size` to be at most the {train_count} training images of "
            f"{spec.dataset!r}. Received: batch_size={spec.batch_size}"
        )
    return spec


# --------------------------------------------------------------------------------------
# Time estimate
# --------------------------------------------------------------------------------------


def mult_adds(spec: TrainSpec) -> int:
    """Multiply-adds of one forward pass of the spec's model on one image (convs and dense).

    Counted analytically from the architecture in :mod:`cv_core.models`, so it needs no
    TensorFlow. Batch norm, activations and pooling are left out (they are cheap next to
    the convolutions, and the per-variant calibration in :func:`estimate_seconds` absorbs
    them).
    """
    filters = tuple(spec.filters)
    size = spec.image_size
    if spec.model == "small_convnet":
        total, channels = 0, 3
        for block, width in enumerate(filters, start=1):
            size -= 2
            total += size * size * 9 * channels * width
            channels = width
            if block < len(filters):
                size //= 2
        return total + size * size * channels  # the dense layer on the flattened map
    size -= 4  # the 5x5 stem, no padding
    total = size * size * 25 * 3 * filters[0]
    channels = filters[0]
    for width in filters:
        if spec.conv_type == "separable":
            total += size * size * (9 * channels + channels * width)
            total += size * size * (9 * width + width * width)
        else:
            total += size * size * 9 * (channels * width + width * width)
        size = -(-size // 2)
        if spec.residual:
            total += size * size * channels * width
        channels = width
    return total + channels


# Calibration, measured on the 2-core development machine (TF 2.21, CPU only): the quick
# preset (separable, 64 px, 12.8 M multiply-adds) trains at ~1.16 ms per image, the book's
# mini-Xception (180 px, 383 M, augmented) at ~37 ms and its Conv2D variant (2,383 M) at
# ~91 ms per image (the project field notes' speed baselines). Solving ``per_image + mult_adds *
# per_mult_add`` through those points gives the coefficients below; separable convs cost
# more per multiply-add than dense 3x3 convs (the depthwise part is memory bound).
_STEP_COST = {
    # variant: (seconds per training image of fixed overhead, seconds per forward multiply-add)
    "separable": (3.5e-5, 8.8e-11),
    "conv2d": (3.5e-5, 3.5e-11),
    "small_convnet": (3.5e-5, 3.5e-11),
}
_STARTUP_SECONDS = 6.0  # import TensorFlow, build the model, trace the train and eval steps
_EPOCH_SECONDS = 0.3  # per-epoch overhead: iterators, callbacks, checkpoint writes
_DECODE_SECONDS = 2.0e-3  # first epoch: draw or decode and resize each image once (then cached)
_EVAL_FRACTION = 1.0 / 3.0  # a forward pass costs about a third of a training step
_AUGMENTATION_FACTOR = 1.1


def estimate_seconds(spec: TrainSpec, *, train_images: int | None = None,
                     validation_images: int | None = None, test_images: int | None = None) -> float:
    """Expected wall time of a run on the 2-core CPU this lab was tuned on, in seconds.

    A simple model, calibrated on this machine::

        startup + images * decode                      # TF import, tracing; fill the cache
        + epochs * (epoch_overhead + train * t_train + validation * t_eval)
        + test * t_eval

    where ``t_train = per_image + mult_adds(spec) * per_mult_add`` for the spec's variant
    (separable or regular convs: :func:`mult_adds` grows with the pixels and the filters),
    ``t_eval = t_train / 3`` (forward pass only), and augmentation adds 10 %. For the quick
    preset it predicts about 95 s (measured: see ``PRESETS``). A GPU is far faster: treat
    the estimate as an upper bound there.

    Args:
        spec: the run's spec (validated or not).
        train_images, validation_images, test_images: split sizes; read from
            ``spec.dataset_options`` (shapes) when not given, else the shapes defaults.

    Returns:
        Estimated seconds, as a float.
    """
    options = spec.dataset_options or {}
    train = train_images if train_images is not None else int(options.get("train_size", 2000))
    val = validation_images if validation_images is not None else int(options.get("validation_size", 500))
    test = test_images if test_images is not None else int(options.get("test_size", 500))
    key = "small_convnet" if spec.model == "small_convnet" else spec.conv_type
    per_image, per_mult_add = _STEP_COST.get(key, _STEP_COST["conv2d"])
    t_train = per_image + mult_adds(spec) * per_mult_add
    if spec.augmentation:
        t_train *= _AUGMENTATION_FACTOR
    t_eval = t_train * _EVAL_FRACTION
    epoch = _EPOCH_SECONDS + train * t_train + val * t_eval
    return float(_STARTUP_SECONDS + (train + val + test) * _DECODE_SECONDS + spec.epochs * epoch + test * t_eval)
