"""What a run will cost before it starts: size, memory and time.

A width of 100,000 filters or a 4,000-pixel image would make TensorFlow try to allocate
tens of gigabytes, fail after seconds with ``ResourceExhaustedError``, or take the machine
down with it. :func:`check_resources` refuses such specs against a stated
:class:`ResourceBudget`, with a message naming the limit, in two steps:

1. **A coarse guard, before anything is built** (:func:`coarse_cost`): a rough size from the
   spec's widths and image size alone, knowing nothing of any architecture, refuses at once
   what is absurd: an estimate more than :data:`COARSE_MARGIN` times over a limit. The
   estimate stays within that factor of every model of the task table, both ways (a test
   checks it on each), so what it refuses is truly over the limit.
2. **The real model**, built on the CPU without training (:func:`architecture_cost`): its
   ``count_params()``, its multiply-adds and its activation sizes
   (:func:`cv_core.anatomy.model_size`), cached per architecture
   (:meth:`TrainSpec.architecture_key`) and class count, checked against the limits exactly.

So a model's size is written once, in its builder: adding a model adds nothing here.

:func:`estimate_seconds` is the expected wall time on this machine: a formula fitted on the
2-core CPU this lab was tuned on, its overhead and compute parts times this machine's two speed
factors (:func:`cv_core.runs.calibration.machine_speed`, timed once per machine).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

from cv_core.i18n import N_, TranslatedError
from cv_core.runs.spec import SpecError, TrainSpec

__all__ = [
    "COARSE_MARGIN",
    "MEMORY_BUDGET_ENV",
    "ArchitectureCost",
    "ResourceBudget",
    "architecture_cost",
    "check_resources",
    "clear_measurements",
    "coarse_cost",
    "estimate_epoch_seconds",
    "estimate_seconds",
    "memory_bytes",
    "mult_adds",
    "split_sizes",
]

MEMORY_BUDGET_ENV = "CONVNET_LAB_MEMORY_BUDGET_MB"
_BYTES_PER_FLOAT = 4
#: Optimizer state per weight, in floats: RMSprop keeps one average, Adam two moments,
#: SGD with momentum one velocity.
_OPTIMIZER_SLOTS = {"rmsprop": 1, "adam": 2, "sgd": 1}
#: How far :func:`coarse_cost` may be from the real model, either way: the guard refuses
#: before building only what its estimate puts this many times over a limit.
COARSE_MARGIN = 10
#: Feature maps the coarse estimate counts per width (a convolution unit is a conv, a batch
#: norm and an activation; two units a level).
_MAPS_PER_LEVEL = 8
#: Models whose coarse estimate is above this many parameters are measured in a short-lived
#: process (TensorFlow keeps the memory of a freed model for reuse in the one that built it).
IN_PROCESS_PARAMS = 5_000_000


@dataclass(frozen=True)
class ArchitectureCost:
    """Size and compute of the model a spec describes, for one image.

    Attributes:
        params: weights, trainable and not (batch-norm statistics included).
        mult_adds: multiply-adds of one forward pass (as :mod:`cv_core.anatomy` counts them).
        activations: floats of every layer's output summed (what training keeps per image
            for the backward pass).
        largest_map: floats of the largest single layer output.
        weight_tensors: the model's weight tensors (what a checkpoint writes one by one); 0
            from :func:`coarse_cost`, which does not know them.
    """

    params: int
    mult_adds: int
    activations: int
    largest_map: int
    weight_tensors: int = 0


def coarse_cost(spec: TrainSpec) -> ArchitectureCost:
    """A rough size of the spec's model from its widths and image size alone, without building it.

    Knows no architecture: it assumes what every convnet of the lab does, a pyramid with
    one level per entry of ``filters``, each level two 3x3 convolution units (``a -> b``
    then ``b -> b`` channels: ``9 (a + b) b`` weights) at half the side of the level before,
    the first at the input's side. Within :data:`COARSE_MARGIN` of the real models of the
    task table, both ways; exact for none. Integers throughout, so a width of 10**300 gives
    a number, not an overflow.

    Args:
        spec: a spec whose ``filters`` and ``image_size`` passed the type checks.
    """
    widths = (3, *(int(f) for f in spec.filters))
    side = int(spec.image_size)
    params = mult = 0
    maps = [side * side * 3] * 2  # the input, and its rescaling
    for level, (a, b) in enumerate(zip(widths, widths[1:])):
        level_side = -(-side // 2**level)
        weights = 9 * (a + b) * b
        params += weights
        mult += level_side * level_side * weights
        maps.append(_MAPS_PER_LEVEL * level_side * level_side * b)
    return ArchitectureCost(params, mult, sum(maps), max(maps) // _MAPS_PER_LEVEL)


def _measure_in_process(spec: TrainSpec, num_classes: int | None) -> dict:
    """Build the spec's model on the CPU and measure it, leaving the random state as it was.

    (A worker seeds Python's and numpy's generators before it builds its own model: measuring
    first must not change that model's initial weights.)
    """
    import random

    import numpy as np

    from cv_core._tf import tensorflow
    from cv_core.anatomy import summarise
    from cv_core.runs.model import build_model

    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        with tensorflow().device("/CPU:0"):
            model = build_model(spec, num_classes)
            return summarise(model)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


#: Measured models, by (architecture key, class count), oldest first; a few hundred numbers.
_MEASURED: dict[tuple, ArchitectureCost] = {}
_MEASURED_MAX = 256


def _measured(key: tuple, num_classes: int | None, keep_tensorflow_out: bool) -> ArchitectureCost:
    if (key, num_classes) in _MEASURED:
        return _MEASURED[key, num_classes]
    from cv_core import measurements
    from cv_core.runs.tasks import TASK_MODULES

    spec = TrainSpec.from_architecture_key(key)
    # A task registered from elsewhere (a notebook, a test) is unknown to a child process, and its
    # code is not the code measurements are kept for.
    known = spec.task in TASK_MODULES
    in_process = not known or coarse_cost(spec).params <= IN_PROCESS_PARAMS and (
        not keep_tensorflow_out or "tensorflow" in sys.modules)
    description = {"kind": "spec", "num_classes": num_classes,
                   "spec": {name: list(value) if name == "filters" else value for name, value in key}}
    try:
        size = measurements.recall(description) if known else None  # measured before, by this code: no TensorFlow
        if size is None and in_process:
            size = _measure_in_process(spec, num_classes)
            if known:
                measurements.remember(description, size)
        elif size is None:  # keep this process free of TensorFlow, or of a big model's memory
            from cv_core.anatomy import summarise_in_subprocess

            size = summarise_in_subprocess(description, cpu_only=True)
    except TranslatedError as exc:  # the builder's own checks (an output stride deeper than the backbone...)
        raise SpecError(exc.message, exc.fields) from None  # still read in the reader's language
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    cost = ArchitectureCost(**{name: int(size[name]) for name in ("params", "mult_adds", "activations",
                                                                   "largest_map", "weight_tensors")})
    while len(_MEASURED) >= _MEASURED_MAX:
        del _MEASURED[next(iter(_MEASURED))]
    _MEASURED[key, num_classes] = cost
    return cost


def clear_measurements() -> None:
    """Forget every measured model (tests that count builds start from here)."""
    _MEASURED.clear()


def _timing_cost(spec: TrainSpec) -> ArchitectureCost:
    """The spec's model's size for the time estimate: any class count will do (the head is a
    rounding error next to the body), so a model already measured is not built again, and a
    process without TensorFlow (the command line, before its worker) stays without it. The
    coarse guard runs first: an absurd spec is refused (SpecError) before anything is built."""
    key = spec.architecture_key()
    for (measured_key, _), cost in reversed(_MEASURED.items()):
        if measured_key == key:
            return cost
    check_resources(spec, train_images=split_sizes(spec)[0], measure=False)  # absurd: refused before building
    return architecture_cost(spec, keep_tensorflow_out=True)


def architecture_cost(spec: TrainSpec, num_classes: int | None = 2, *,
                      keep_tensorflow_out: bool = False) -> ArchitectureCost:
    """Parameters, multiply-adds and activation sizes of the spec's model, measured on the model.

    Builds the model :func:`cv_core.runs.model.build_model` builds (on the CPU, untrained) and
    measures it (:func:`cv_core.anatomy.model_size`); cached per architecture and class count.
    Call :func:`check_resources` first for a spec that may be absurd: this builds whatever
    it is given. A big model (a coarse estimate over :data:`IN_PROCESS_PARAMS`) is built in a
    short-lived child process, so the caller's memory stays as it was.

    Args:
        spec: a spec whose fields passed the type checks (filters a list of positive ints).
        num_classes: the width of the model's class output (``Task.num_classes``; 2 classes
            give one sigmoid unit), or None for a task whose model has no class output.
        keep_tensorflow_out: in a process that has not imported TensorFlow, build the model
            in a child process rather than import it here (:func:`~cv_core.runs.validate_spec`
            stays light for the command line; the same numbers either way).

    Returns:
        An :class:`ArchitectureCost`: ``params == model.count_params()`` and ``mult_adds ==
        cv_core.anatomy.total_mult_adds(model)``.

    Raises:
        SpecError: the builder refused the spec (its message).
    """
    return _measured(spec.architecture_key(), num_classes, keep_tensorflow_out)


def mult_adds(spec: TrainSpec, num_classes: int | None = 2) -> int:
    """Multiply-adds of one forward pass of the spec's model on one image (convs and dense)."""
    return architecture_cost(spec, num_classes).mult_adds


# --------------------------------------------------------------------------------------
# The budget
# --------------------------------------------------------------------------------------


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class ResourceBudget:
    """The largest run the lab agrees to start.

    Attributes:
        max_params: the most parameters a model may have (100 million: twenty times the
            book's Conv2D mini-Xception, which has 4.9 million).
        memory_bytes: the most memory a run may need by :func:`memory_bytes`: by default half
            of this machine's physical memory, or ``$CONVNET_LAB_MEMORY_BUDGET_MB``.
    """

    max_params: int = 100_000_000
    memory_bytes: int = 8 * 1024**3

    @classmethod
    def for_this_machine(cls) -> ResourceBudget:
        """The default budget: ``$CONVNET_LAB_MEMORY_BUDGET_MB``, else half the physical memory."""
        text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
        if text:
            try:
                megabytes = float(text)
            except ValueError:
                megabytes = -1.0
            if not math.isfinite(megabytes) or megabytes <= 0:
                raise SpecError(N_("Expected ${variable} to be a number of megabytes > 0. Received: {text!r}"),
                                variable=MEMORY_BUDGET_ENV, text=text)
            return cls(memory_bytes=int(megabytes * 1024**2))
        physical = _physical_memory()
        return cls(memory_bytes=physical // 2) if physical else cls()


def _memory_of(cost: ArchitectureCost, spec: TrainSpec, train_images: int, cached_images: int | None,
               training: bool) -> int:
    if not training:
        return _BYTES_PER_FLOAT * (cost.params + cost.activations)
    slots = _OPTIMIZER_SLOTS.get(spec.optimizer, 2)
    weights = cost.params * (2 + slots)
    batch = 2 * cost.activations * spec.batch_size
    cached = train_images if cached_images is None else cached_images
    return _BYTES_PER_FLOAT * (weights + batch) + cached * spec.image_size * spec.image_size * 3


def memory_bytes(spec: TrainSpec, num_classes: int | None = 2, train_images: int = 0,
                 cached_images: int | None = None, training: bool = True) -> int:
    """Memory a run of ``spec`` needs, roughly, in bytes (TensorFlow's own ~0.5 GB not included).

    Training keeps weights, gradients and optimizer slots (``params * (2 + slots)`` floats),
    and per image of a batch every layer's output plus its gradient (``2 * activations``
    floats); the data pipeline caches every decoded image as uint8. Inference (``training=False``)
    needs the weights and one image's activations. Sizes from :func:`architecture_cost`.
    """
    return _memory_of(architecture_cost(spec, num_classes), spec, train_images, cached_images, training)


def _gigabytes(n: int) -> str:
    n = int(n)  # integer arithmetic: an absurd spec's need does not fit a float
    if n >= 1024**3:
        tenths = (10 * n + 1024**3 // 2) // 1024**3
        return f"{tenths // 10:,}.{tenths % 10} GB"
    return f"{(n + 1024**2 // 2) // 1024**2:,} MB"


def _refuse(cost: ArchitectureCost, spec: TrainSpec, budget: ResourceBudget, need: int, training: bool,
            margin: int) -> None:
    """Raise the budget's message when ``cost`` (or ``need``) is over ``margin`` times a limit."""
    rough = margin > 1
    if cost.params > margin * budget.max_params:
        message = (N_("This model would have roughly {params} parameters; the lab's limit is {limit}. Use fewer or "
                      "narrower filters (received filters={filters}).") if rough else
                   N_("This model would have {params} parameters; the lab's limit is {limit}. Use fewer or narrower "
                      "filters (received filters={filters})."))
        raise SpecError(message, params=f"{cost.params:,}", limit=f"{budget.max_params:,}",
                        filters=list(spec.filters))
    if need > margin * budget.memory_bytes:
        if training:
            message = (N_("This run would need roughly {need} of memory to train ({activations} activations per "
                          "image at {size} px, batch {batch}, roughly {params} parameters); the limit on this machine "
                          "is {limit} (set ${variable} to change it). Use smaller images, a smaller batch or fewer "
                          "filters.") if rough else
                       N_("This run would need about {need} of memory to train ({activations} activations per image "
                          "at {size} px, batch {batch}, {params} parameters); the limit on this machine is {limit} "
                          "(set ${variable} to change it). Use smaller images, a smaller batch or fewer filters."))
        else:
            message = (N_("This run would need roughly {need} of memory to build ({activations} activations per "
                          "image at {size} px, batch {batch}, roughly {params} parameters); the limit on this machine "
                          "is {limit} (set ${variable} to change it). Use smaller images, a smaller batch or fewer "
                          "filters.") if rough else
                       N_("This run would need about {need} of memory to build ({activations} activations per image "
                          "at {size} px, batch {batch}, {params} parameters); the limit on this machine is {limit} "
                          "(set ${variable} to change it). Use smaller images, a smaller batch or fewer filters."))
        raise SpecError(message, need=_gigabytes(need), activations=f"{cost.activations:,}", size=spec.image_size,
                        batch=spec.batch_size, params=f"{cost.params:,}", limit=_gigabytes(budget.memory_bytes),
                        variable=MEMORY_BUDGET_ENV)


def check_resources(spec: TrainSpec, *, num_classes: int | None = 2, train_images: int = 0,
                    cached_images: int | None = None, budget: ResourceBudget | None = None, training: bool = True,
                    measure: bool = True, keep_tensorflow_out: bool = False) -> ArchitectureCost:
    """Refuse a spec whose model or run would not fit the budget; return its cost otherwise.

    First the coarse guard (:func:`coarse_cost`, nothing built): a spec whose estimate is more
    than :data:`COARSE_MARGIN` times over a limit is refused at once. Then, with ``measure``,
    the real model's sizes (:func:`architecture_cost`) against the limits themselves.

    Args:
        spec: a spec whose fields passed the type checks.
        num_classes: the width of the model's class output (None: a model without one).
        train_images: training images (cached in memory by the data pipeline).
        cached_images: images cached in all (train + validation); ``train_images`` if None.
        budget: the limits; :meth:`ResourceBudget.for_this_machine` if None.
        training: check a training run (True) or only building the model (False).
        measure: build the model and check its real sizes (True), or apply only the coarse
            guard (False: no model is built, no TensorFlow is imported).
        keep_tensorflow_out: as :func:`architecture_cost`.

    Returns:
        The model's :class:`ArchitectureCost`; the coarse estimate when ``measure`` is False.

    Raises:
        SpecError: naming what is too big, by how much, and the limit.
    """
    budget = budget or ResourceBudget.for_this_machine()
    coarse = coarse_cost(spec)
    _refuse(coarse, spec, budget, _memory_of(coarse, spec, train_images, cached_images, training), training,
            COARSE_MARGIN)
    if not measure:
        return coarse
    cost = architecture_cost(spec, num_classes, keep_tensorflow_out=keep_tensorflow_out)
    _refuse(cost, spec, budget, _memory_of(cost, spec, train_images, cached_images, training), training, 1)
    return cost


# --------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------

# Calibration on the 2-core development machine (TF 2.21, CPU only). A training step costs
# per image its multiply-adds (dense 3x3 convolutions about 2.5e-11 s each, separable ones
# 1e-11 s: far fewer, but the depthwise part is memory bound) plus its activations (every
# layer's output written and read back: 2.5e-9 s per float; at the lab's small sizes batch
# norm, activations and merges cost more than the convolutions), and per batch a fixed
# dispatch and callback cost. Fitted on per-image times of eleven models of the three tasks
# (tiny to 96 px, measured interleaved in one process) and anchored on the field notes' quiet
# baselines: the book's mini-Xception at 180 px ~37 ms per image, its Conv2D variant ~91 ms,
# the book's segmentation model at 200 px ~167 ms. Within 1.5x of real runs of every task's
# Tiny preset (tests/unit/test_time_estimate.py) and of the Quick presets (README, Speed).
_MULT_ADD_SECONDS = {"separable": 1.0e-11, "conv2d": 2.5e-11}
_ACTIVATION_SECONDS = 2.5e-9  # per float of every layer's output, per training image
_BATCH_SECONDS = 6e-3  # per batch, training or validation: dispatch, the run's batch callbacks
_EPOCH_SECONDS = 0.03  # per epoch: iterators, the epoch callbacks' own work
_WEIGHT_TENSOR_SECONDS = 1e-3  # per weight tensor, per epoch: the backup (BackupAndRestore) writes each
_BEST_SAVE_SECONDS = 0.05  # one save of the best model (a .keras archive), on the epochs that improve
_IMPROVING_SHARE = 0.25  # epochs that beat the best so far and save it: most early in a run, few later
_STARTUP_SECONDS = 6.0  # import TensorFlow, build the model, trace the train and eval steps
_DECODE_SECONDS = 2.0e-3  # first epoch: draw or decode and resize each image once (then cached)
_EVAL_FRACTION = 1.0 / 3.0  # a forward pass costs about a third of a training step
_AUGMENTATION_FACTOR = 1.25  # random flips, rotations, zooms, crops on every training picture


def split_sizes(spec: TrainSpec) -> tuple[int, int, int]:
    """Training, validation and test images of the spec's data, without opening it.

    ``spec.dataset_options``' sizes, else the dataset class's own defaults
    (:func:`~cv_core.runs.tasks.dataset_split_defaults`); a folder's size is unknown until it
    is scanned, and the built-in dataset's defaults stand in for it.
    """
    from cv_core.runs.tasks import SPLIT_SIZE_OPTIONS, dataset_split_defaults

    options = spec.dataset_options or {}
    defaults = dataset_split_defaults(spec.dataset) or dataset_split_defaults("shapes")
    train, validation, test = (int(options.get(option, defaults.get(option, 0)))
                               for option in SPLIT_SIZE_OPTIONS.values())
    return train, validation, test


def _image_seconds(spec: TrainSpec) -> tuple[float, float]:
    """Seconds per image of a training step and of a forward pass, for the spec's model."""
    from cv_core.runs.tasks import architecture_of

    uses_conv_type = "conv_type" in architecture_of(spec).options
    cost = _timing_cost(spec)
    t_train = (cost.mult_adds * _MULT_ADD_SECONDS[spec.conv_type if uses_conv_type else "conv2d"]
               + cost.activations * _ACTIVATION_SECONDS)
    if spec.augmentation:
        t_train *= _AUGMENTATION_FACTOR
    return t_train, t_train * _EVAL_FRACTION


def _batches(images: int, batch_size: int) -> int:
    return -(-images // batch_size)


def _epoch_parts(spec: TrainSpec, train: int, validation: int) -> tuple[float, float]:
    """One epoch's formula seconds at speed 1, split into (overhead, compute): compute is the model's
    multiply-adds and activations (``t_train``, ``t_eval``), overhead everything else."""
    from cv_core.runs.tasks import task_of

    task = task_of(spec)
    t_train, t_eval = _image_seconds(spec)
    scored = task.epoch_scored_images(spec, validation)
    batches = _batches(train, spec.batch_size) + _batches(validation, spec.batch_size)
    checkpoints = _timing_cost(spec).weight_tensors * _WEIGHT_TENSOR_SECONDS + _IMPROVING_SHARE * _BEST_SAVE_SECONDS
    overhead = (_EPOCH_SECONDS + checkpoints + batches * _BATCH_SECONDS + train * task.seconds_per_training_image
                + scored * task.seconds_per_scored_image)
    compute = train * t_train + validation * t_eval + scored * t_eval
    return float(overhead), float(compute)


def estimate_epoch_seconds(spec: TrainSpec, *, train_images: int | None = None,
                           validation_images: int | None = None, speed=None) -> float:
    """Expected wall time of one epoch after the first, in seconds, on this machine::

        speed.overhead * (epoch_overhead + weight_tensors * t_backup + improving * t_best
                          + batches * t_batch + train * t_task + scored * t_score)
        + speed.compute * (train * t_train + validation * t_eval + scored * t_eval)

    ``speed`` is this machine's speed (:func:`~cv_core.runs.calibration.machine_speed`: factors of
    1 on the 2-core machine the constants were fitted on, 2 on one that does that part half as fast;
    a number applies to both parts). ``t_train = mult_adds * t_mult_add + activations * t_activation``
    of the spec's model (:func:`architecture_cost`; ``t_mult_add`` for separable or regular
    convolutions), ``t_eval = t_train / 3`` (forward pass only), augmentation adds 25 %; the backup
    writes every weight tensor each epoch, the best model is saved (``t_best``) on the ``improving``
    quarter of the epochs that beat the best so far; ``scored`` are the pictures the task's own
    callbacks score after the epoch (``Task.epoch_scored_images``: detection's mAP) at ``t_score =
    Task.seconds_per_scored_image`` each beyond their forward pass; ``t_task =
    Task.seconds_per_training_image`` (a task's target encoding and losses).

    Args:
        spec: the run's spec (its fields type-checked).
        train_images, validation_images: split sizes; :func:`split_sizes` when not given.
        speed: a number, an ``(overhead, compute)`` pair, or None for
            :func:`~cv_core.runs.calibration.machine_speed` (which times this machine the first
            time, 15 to 50 s).
    """
    overhead_speed, compute_speed = _speed(spec, speed)
    sizes = split_sizes(spec)
    train = sizes[0] if train_images is None else train_images
    validation = sizes[1] if validation_images is None else validation_images
    overhead, compute = _epoch_parts(spec, train, validation)
    return float(overhead_speed * overhead + compute_speed * compute)


def estimate_seconds(spec: TrainSpec, *, train_images: int | None = None,
                     validation_images: int | None = None, test_images: int | None = None,
                     speed=None) -> float:
    """Expected wall time of a run on this machine, in seconds.

    A simple model fitted on the 2-core CPU this lab was tuned on, times this machine's speed
    factors (``speed``, as :func:`estimate_epoch_seconds`)::

        startup + images * decode                 # TF import, tracing (Task.startup_seconds); the cache
        + epochs * epoch                          # estimate_epoch_seconds: its evaluation included
        + test * t_eval                           # the best model on the test split
        + (validation + test) * (t_eval + t_score)  # the task's final scores, if it has any

    with the model's compute (``t_train``, ``t_eval``) times ``speed.compute`` and the rest times
    ``speed.overhead``.

    A GPU is far faster: treat the estimate as an upper bound there.

    Args:
        spec: the run's spec (its fields type-checked).
        train_images, validation_images, test_images: split sizes; :func:`split_sizes` when
            not given.
        speed: as :func:`estimate_epoch_seconds`.

    Returns:
        Estimated seconds, as a float.

    Raises:
        SpecError: the spec is refused (absurd sizes, a builder's refusal), or
            ``$CONVNET_LAB_MACHINE_SPEED`` is not a number > 0.
    """
    from cv_core.runs.tasks import task_of

    overhead_speed, compute_speed = _speed(spec, speed)
    sizes = split_sizes(spec)
    train, validation, test = (size if given is None else given
                               for size, given in zip(sizes, (train_images, validation_images, test_images)))
    task = task_of(spec)
    _, t_eval = _image_seconds(spec)
    overhead, compute = _epoch_parts(spec, train, validation)
    scored = validation + test if task.final_scores else 0
    overhead = (_STARTUP_SECONDS + task.startup_seconds + (train + validation + test) * _DECODE_SECONDS
                + spec.epochs * overhead + scored * task.seconds_per_scored_image)
    compute = spec.epochs * compute + test * t_eval + scored * t_eval
    return float(overhead_speed * overhead + compute_speed * compute)


def _speed(spec: TrainSpec, speed) -> tuple[float, float]:
    """``(overhead, compute)`` factors: ``speed`` (a number for both, or a pair), else this machine's;
    the spec's model is measured first, so an absurd spec is refused before the machine is timed."""
    if speed is None:
        from cv_core.runs.calibration import machine_speed

        _timing_cost(spec)
        speed = machine_speed()
    if isinstance(speed, (int, float)):
        return float(speed), float(speed)
    overhead, compute = speed
    return float(overhead), float(compute)
