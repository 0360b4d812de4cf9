"""What a run will cost, known from its spec before anything is built: size, memory and time.

A width of 100,000 filters or a 4,000-pixel image would make TensorFlow try to allocate
tens of gigabytes, fail after seconds with ``ResourceExhaustedError``, or take the machine
down with it. :func:`check_resources` refuses such specs at once, against a stated
:class:`ResourceBudget`, with a message naming the limit. It needs no TensorFlow: the
model's parameters, multiply-adds and activation sizes are walked from the spec by
:func:`architecture_cost`, which mirrors :mod:`cv_core.models` layer by layer (a test
checks it against the built models, so the two cannot drift apart). What the app *shows*
about a model still comes from building it (:mod:`cv_core.anatomy`); this is the guard
that runs first.

:func:`estimate_seconds` is the expected wall time on the 2-core CPU this lab was tuned on.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from cv_core.runs.spec import SpecError, TrainSpec

__all__ = [
    "MEMORY_BUDGET_ENV",
    "ArchitectureCost",
    "ResourceBudget",
    "architecture_cost",
    "check_resources",
    "estimate_seconds",
    "memory_bytes",
    "mini_xception_cost",
    "mult_adds",
    "segmentation_model_cost",
    "small_convnet_cost",
    "unet_cost",
]

MEMORY_BUDGET_ENV = "CONVNET_LAB_MEMORY_BUDGET_MB"
_BYTES_PER_FLOAT = 4
#: Optimizer state per weight, in floats: RMSprop keeps one average, Adam two moments,
#: SGD with momentum one velocity.
_OPTIMIZER_SLOTS = {"rmsprop": 1, "adam": 2, "sgd": 1}


@dataclass(frozen=True)
class ArchitectureCost:
    """Size and compute of the model a spec describes, for one image.

    Attributes:
        params: weights, trainable and not (batch-norm statistics included).
        mult_adds: multiply-adds of one forward pass (as :mod:`cv_core.anatomy` counts them).
        activations: floats of every layer's output summed (what training keeps per image
            for the backward pass).
        largest_map: floats of the largest single layer output.
    """

    params: int
    mult_adds: int
    activations: int
    largest_map: int


def _head_units(num_classes: int) -> int:
    return 1 if num_classes == 2 else num_classes


def mini_xception_cost(spec: TrainSpec, num_classes: int) -> ArchitectureCost:
    """The cost of :func:`cv_core.models.build_mini_xception` for ``spec``."""
    filters, size = tuple(spec.filters), spec.image_size
    bn_first = spec.batchnorm == "before_activation"
    params = mult = 0
    maps = [size * size * 3] * (2 + (3 if spec.augmentation else 0))  # input, [augmentation], rescaling

    # Stem: 5x5 convolution without padding.
    size -= 4
    params += 25 * 3 * filters[0] + (0 if bn_first else filters[0])
    mult += size * size * 25 * 3 * filters[0]
    maps.append(size * size * filters[0])
    if not bn_first:
        maps.append(size * size * filters[0])  # stem_act
    channels = filters[0]
    for width in filters:
        block_in = channels
        for unit_in in (channels, width):
            if spec.conv_type == "separable":
                conv_params = 9 * unit_in + unit_in * width
            else:
                conv_params = 9 * unit_in * width
            params += conv_params + (0 if bn_first else width)
            mult += size * size * conv_params
            maps.append(size * size * width)  # the convolution
            maps.append(size * size * (unit_in if bn_first else width))  # its activation
            if spec.batchnorm != "none":
                params += 4 * (unit_in if bn_first else width)
                maps.append(size * size * (unit_in if bn_first else width))
        size = -(-size // 2)  # MaxPooling2D(3, strides=2, padding="same")
        maps.append(size * size * width)
        if spec.residual:
            params += block_in * width
            mult += size * size * block_in * width
            maps += [size * size * width] * 2  # the strided 1x1 shortcut and the sum
        channels = width
    units = _head_units(num_classes)
    params += channels * units + units
    mult += channels * units
    maps += [channels, units] + ([channels] if spec.dropout_rate > 0 else [])  # pool, predictions, dropout
    return ArchitectureCost(params, mult, sum(maps), max(maps))


def small_convnet_cost(spec: TrainSpec, num_classes: int) -> ArchitectureCost:
    """The cost of :func:`cv_core.models.build_small_convnet` for ``spec``."""
    filters, size = tuple(spec.filters), spec.image_size
    params = mult = 0
    maps = [size * size * 3] * (2 + (3 if spec.augmentation else 0))
    channels = 3
    for block, width in enumerate(filters, start=1):
        size -= 2  # 3x3 convolution without padding
        params += 9 * channels * width + width
        mult += size * size * 9 * channels * width
        maps.append(size * size * width)
        channels = width
        if block < len(filters):
            size //= 2
            maps.append(size * size * width)
    flat = size * size * channels
    units = _head_units(num_classes)
    params += flat * units + units
    mult += flat * units
    maps += [flat, units] + ([flat] if spec.dropout_rate > 0 else [])  # flatten, predictions, dropout
    return ArchitectureCost(params, mult, sum(maps), max(maps))


def segmentation_model_cost(spec: TrainSpec, num_classes: int) -> ArchitectureCost:
    """The cost of :func:`cv_core.models.build_segmentation_model` for ``spec``.

    Per stage a strided and a plain 3x3 convolution down, then per stage (widest first) a
    plain and a strided 3x3 transposed convolution up (counted over their input positions,
    as :mod:`cv_core.anatomy` does), and a 3x3 softmax convolution per pixel.
    """
    size, channels = spec.image_size, 3
    params = mult = 0
    maps = [size * size * 3] * 2  # input, rescaling
    for width in spec.filters:
        size = -(-size // 2)  # strides=2, padding="same"
        for unit_in in (channels, width):
            params += 9 * unit_in * width + width
            mult += size * size * 9 * unit_in * width
            maps.append(size * size * width)
        channels = width
    for width in reversed(tuple(spec.filters)):
        for stride in (1, 2):
            params += 9 * channels * width + width
            mult += size * size * 9 * channels * width
            size *= stride
            maps.append(size * size * width)
            channels = width
    params += 9 * channels * num_classes + num_classes
    mult += size * size * 9 * channels * num_classes
    maps.append(size * size * num_classes)
    return ArchitectureCost(params, mult, sum(maps), max(maps))


def unet_cost(spec: TrainSpec, num_classes: int) -> ArchitectureCost:
    """The cost of :func:`cv_core.models.build_unet` for ``spec``.

    Each level is two ``conv (no bias) -> BatchNormalization -> ReLU`` units; the encoder
    pools 2x2 between levels, the decoder doubles with a 2x2 strided transposed convolution
    and concatenates the encoder's output of the same size; a 1x1 softmax convolution ends it.
    """
    filters, size = tuple(spec.filters), spec.image_size
    separable = spec.conv_type == "separable"
    params = mult = 0
    maps = [size * size * 3] * 2  # input, rescaling

    def units(size: int, channels: int, width: int) -> None:
        nonlocal params, mult
        for unit_in in (channels, width):
            conv = 9 * unit_in + unit_in * width if separable else 9 * unit_in * width
            params += conv + 4 * width  # no bias; BN gamma, beta, moving mean and variance
            mult += size * size * conv
            maps.extend([size * size * width] * 3)  # conv, bn, act

    channels = 3
    for level, width in enumerate(filters, start=1):
        units(size, channels, width)
        channels = width
        if level < len(filters):
            size //= 2
            maps.append(size * size * width)  # pool
    for level in range(len(filters) - 1, 0, -1):
        width = filters[level - 1]
        params += 4 * channels * width + width
        mult += size * size * 4 * channels * width
        size *= 2
        maps += [size * size * width, size * size * 2 * width]  # upsample, concat
        units(size, 2 * width, width)
        channels = width
    params += channels * num_classes + num_classes
    mult += size * size * channels * num_classes
    maps.append(size * size * num_classes)
    return ArchitectureCost(params, mult, sum(maps), max(maps))


def architecture_cost(spec: TrainSpec, num_classes: int = 2) -> ArchitectureCost:
    """Parameters, multiply-adds and activation sizes of the spec's model, without building it.

    Args:
        spec: a spec whose fields passed the type checks (filters a list of positive ints).
        num_classes: the dataset's class count (2 classes give one sigmoid unit).

    Returns:
        An :class:`ArchitectureCost`; exact for the models :func:`cv_core.runs.model.build_model`
        builds (parameters and multiply-adds equal ``model.count_params()`` and
        ``cv_core.anatomy.total_mult_adds(model)``).
    """
    from cv_core.runs.tasks import architecture_of

    return architecture_of(spec).cost(spec, num_classes)


def mult_adds(spec: TrainSpec, num_classes: int = 2) -> int:
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
                raise SpecError(f"Expected ${MEMORY_BUDGET_ENV} to be a number of megabytes > 0. Received: {text!r}")
            return cls(memory_bytes=int(megabytes * 1024**2))
        physical = _physical_memory()
        return cls(memory_bytes=physical // 2) if physical else cls()


def memory_bytes(spec: TrainSpec, num_classes: int = 2, train_images: int = 0, cached_images: int | None = None,
                 training: bool = True) -> int:
    """Memory a run of ``spec`` needs, roughly, in bytes (TensorFlow's own ~0.5 GB not included).

    Training keeps weights, gradients and optimizer slots (``params * (2 + slots)`` floats),
    and per image of a batch every layer's output plus its gradient (``2 * activations``
    floats); the data pipeline caches every decoded image as uint8. Inference (``training=False``)
    needs the weights and one image's activations.
    """
    cost = architecture_cost(spec, num_classes)
    if not training:
        return _BYTES_PER_FLOAT * (cost.params + cost.activations)
    slots = _OPTIMIZER_SLOTS.get(spec.optimizer, 2)
    weights = cost.params * (2 + slots)
    batch = 2 * cost.activations * spec.batch_size
    cached = train_images if cached_images is None else cached_images
    return _BYTES_PER_FLOAT * (weights + batch) + cached * spec.image_size * spec.image_size * 3


def _gigabytes(n: float) -> str:
    return f"{n / 1024**3:,.1f} GB" if n >= 1024**3 else f"{n / 1024**2:,.0f} MB"


def check_resources(spec: TrainSpec, *, num_classes: int = 2, train_images: int = 0, cached_images: int | None = None,
                    budget: ResourceBudget | None = None, training: bool = True) -> ArchitectureCost:
    """Refuse a spec whose model or run would not fit the budget; return its cost otherwise.

    Args:
        spec: a spec whose fields passed the type checks.
        num_classes: the dataset's class count.
        train_images: training images (cached in memory by the data pipeline).
        cached_images: images cached in all (train + validation); ``train_images`` if None.
        budget: the limits; :meth:`ResourceBudget.for_this_machine` if None.
        training: check a training run (True) or only building the model (False).

    Raises:
        SpecError: naming what is too big, by how much, and the limit.
    """
    budget = budget or ResourceBudget.for_this_machine()
    cost = architecture_cost(spec, num_classes)
    if cost.params > budget.max_params:
        raise SpecError(
            f"This model would have {cost.params:,} parameters; the lab's limit is {budget.max_params:,}. "
            f"Use fewer or narrower filters (received filters={list(spec.filters)})."
        )
    need = memory_bytes(spec, num_classes, train_images, cached_images, training=training)
    if need > budget.memory_bytes:
        what = "to train" if training else "to build"
        raise SpecError(
            f"This run would need about {_gigabytes(need)} of memory {what} "
            f"({cost.activations:,} activations per image at {spec.image_size} px, batch {spec.batch_size}, "
            f"{cost.params:,} parameters); the limit on this machine is {_gigabytes(budget.memory_bytes)} "
            f"(set ${MEMORY_BUDGET_ENV} to change it). Use smaller images, a smaller batch or fewer filters."
        )
    return cost


# --------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------

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
    ``t_eval = t_train / 3`` (forward pass only), and augmentation adds 10 %. A GPU is far
    faster: treat the estimate as an upper bound there.

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
    from cv_core.runs.tasks import architecture_of

    uses_conv_type = "conv_type" in architecture_of(spec).options
    key = spec.conv_type if uses_conv_type else "conv2d"
    per_image, per_mult_add = _STEP_COST.get(key, _STEP_COST["conv2d"])
    t_train = per_image + mult_adds(spec) * per_mult_add
    if spec.augmentation:
        t_train *= _AUGMENTATION_FACTOR
    t_eval = t_train * _EVAL_FRACTION
    epoch = _EPOCH_SECONDS + train * t_train + val * t_eval
    return float(_STARTUP_SECONDS + (train + val + test) * _DECODE_SECONDS + spec.epochs * epoch + test * t_eval)
