"""Building blocks shared by every task's models: argument checks, the book's augmentation,
the mini-Xception's stem and blocks, the classifier head and the optimizers.

The classifiers (:mod:`cv_core.classification`), the segmentation models
(:mod:`cv_core.segmentation.models`) and the detector (:mod:`cv_core.detection.model`) build
on these, so a layer keeps its name whichever task uses it. Keras is passed in (or imported on
first use), so importing this module does not import TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cv_core.i18n import N_, TranslatedError

CONV_TYPES = ("separable", "conv2d")
BATCHNORM_PLACEMENTS = ("before_activation", "after_activation", "none")
OPTIMIZERS = ("rmsprop", "adam", "sgd")

#: The mini-Xception stem's kernel size.
STEM_KERNEL = 5


# --------------------------------------------------------------------------------------
# Argument checks (each raises ModelArgumentError, a ValueError, saying what was expected and received)
# --------------------------------------------------------------------------------------


class ModelArgumentError(TranslatedError, ValueError):
    """A model builder's refusal of its arguments (filters, sizes, strides), read in the reader's
    language: the training form passes it on when a spec's model cannot be built."""


def is_int(value) -> bool:
    """Whether ``value`` is an int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_positive_int_sequence(value) -> bool:
    """Whether ``value`` is a non-empty sequence (not a string) of positive ints."""
    return (
        not isinstance(value, (str, bytes))
        and isinstance(value, Sequence)
        and len(value) > 0
        and all(is_int(v) and v > 0 for v in value)
    )


def check_choice(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ModelArgumentError(N_("Expected `{name}` to be one of {choices}. Received: {name}={value!r}"),
                                 name=name, choices=choices, value=value)


def check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ModelArgumentError(N_("Expected `{name}` to be True or False. Received: {name}={value!r}"), name=name,
                                 value=value)


def check_filters(filters) -> tuple[int, ...]:
    if not is_positive_int_sequence(filters):
        raise ModelArgumentError(N_("Expected `filters` to be a non-empty sequence of positive integers. Received: "
                                    "filters={value!r}"), value=filters)
    return tuple(filters)


def check_name(name) -> None:
    if not isinstance(name, str) or not name:
        raise ModelArgumentError(N_("Expected `name` to be a non-empty string. Received: name={value!r}"), value=name)


def check_positive_int(name: str, value) -> int:
    if not is_int(value) or value < 1:
        raise ModelArgumentError(N_("Expected `{name}` to be a positive integer. Received: {name}={value!r}"),
                                 name=name, value=value)
    return value


def check_backbone_filters(backbone_filters) -> tuple[int, ...]:
    """The widths of a :func:`pyramid_backbone`'s blocks: a non-empty sequence of positive ints."""
    if not is_positive_int_sequence(backbone_filters):
        raise ModelArgumentError(N_("Expected `{filters_name}` to be a non-empty sequence of positive integers. "
                                    "Received: {filters_name}={value!r}"), value=backbone_filters,
                                 filters_name="backbone_filters")
    return tuple(backbone_filters)


def check_backbone_img_size(img_size, divisor: int) -> tuple[int, int]:
    """``(height, width)`` of a :func:`pyramid_backbone` model: each a positive multiple of
    ``divisor``, ``2 ** len(backbone_filters)``, so every block halves the map exactly."""
    if (isinstance(img_size, (str, bytes)) or not isinstance(img_size, Sequence) or len(img_size) != 2
            or not all(is_int(d) and d > 0 and d % divisor == 0 for d in img_size)):
        raise ModelArgumentError(N_("Expected `img_size` to be (height, width), each a positive multiple of {divisor} "
                                    "(2 ** len({filters_name}), so every block halves the map exactly). Received: "
                                    "img_size={value!r}"), divisor=divisor, value=img_size,
                                 filters_name="backbone_filters")
    return tuple(img_size)


def check_output_stride(output_stride, num_blocks: int) -> int:
    """An output stride of a :func:`pyramid_backbone` of ``num_blocks`` blocks: a power of two from 2 to
    ``2 ** num_blocks``."""
    allowed = tuple(2 ** i for i in range(1, num_blocks + 1))
    if not is_int(output_stride) or output_stride not in allowed:
        raise ModelArgumentError(N_("Expected `output_stride` to be one of {allowed} (a power of two no larger than the "
                                    "backbone's stride, 2 ** len({filters_name})). Received: output_stride={value!r}"),
                                 allowed=allowed, value=output_stride, filters_name="backbone_filters")
    return output_stride


def check_learning_rate(learning_rate) -> None:
    """A positive finite number, or a ``keras.optimizers.schedules.LearningRateSchedule``."""
    if type(learning_rate).__module__.startswith("keras") and callable(learning_rate):
        return  # a LearningRateSchedule
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, (int, float))
        or not math.isfinite(learning_rate)
        or learning_rate <= 0
    ):
        raise ModelArgumentError(N_("Expected `learning_rate` to be a positive number. Received: learning_rate={value!r}"),
                                 value=learning_rate)


def make_optimizer(keras, optimizer: str, learning_rate):
    """The Keras optimizer called ``optimizer`` (one of :data:`OPTIMIZERS`) at ``learning_rate``."""
    optimizer_class = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }[optimizer]
    return optimizer_class(learning_rate=learning_rate)


# --------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------


def augmentation_layers(layers) -> list:
    """The book's augmentation stack, as separately named layers."""
    return [
        layers.RandomFlip("horizontal", name="augment_flip"),
        layers.RandomRotation(0.1, name="augment_rotation"),
        layers.RandomZoom(0.2, name="augment_zoom"),
    ]


def classifier_head(layers, x, num_classes: int):
    """``predictions``: one sigmoid unit for two classes, else a softmax over ``num_classes``."""
    if num_classes == 2:
        return layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return layers.Dense(num_classes, activation="softmax", name="predictions")(x)


def xception_blocks(
    layers, x, filters, conv_type, batchnorm, residual, stem_padding="valid", batchnorm_momentum=0.99
) -> list:
    """The mini-Xception's stem and residual blocks applied to ``x``
    (see :func:`cv_core.classification.build_mini_xception`).

    Shared by the classifier and the detector (:func:`cv_core.detection.build_detector`, which
    pads the stem with ``"same"`` so that block ``i`` has stride exactly ``2 ** i``, and uses
    a faster batch-norm momentum). The defaults give the classifier's layers, unchanged.

    Returns:
        The output of every block, in order (block ``i``'s at index ``i - 1``).
    """
    bn_first = batchnorm == "before_activation"
    conv_prefix = "sepconv" if conv_type == "separable" else "conv"
    conv_layer = layers.SeparableConv2D if conv_type == "separable" else layers.Conv2D

    x = layers.Conv2D(
        filters[0], STEM_KERNEL, padding=stem_padding, use_bias=not bn_first, name="stem_conv"
    )(x)
    if not bn_first:
        x = layers.Activation("relu", name="stem_act")(x)

    outputs = []
    for block, size in enumerate(filters, start=1):
        prefix = f"block{block}"
        shortcut = x
        for unit in (1, 2):
            conv = conv_layer(
                size, 3, padding="same", use_bias=not bn_first, name=f"{prefix}_{conv_prefix}{unit}"
            )
            bn = layers.BatchNormalization(momentum=batchnorm_momentum, name=f"{prefix}_bn{unit}")
            act = layers.Activation("relu", name=f"{prefix}_act{unit}")
            if batchnorm == "before_activation":
                x = conv(act(bn(x)))
            elif batchnorm == "after_activation":
                x = bn(act(conv(x)))
            else:
                x = act(conv(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(x)
        if residual:
            shortcut = layers.Conv2D(
                size, 1, strides=2, padding="same", use_bias=False, name=f"{prefix}_residual"
            )(shortcut)
            x = layers.Add(name=f"{prefix}_add")([x, shortcut])
        outputs.append(x)
    return outputs


def pyramid_backbone(keras, img_size, filters, conv_type, stride: int | None, batchnorm_momentum: float = 0.9):
    """``image`` -> ``rescaling`` -> the mini-Xception's blocks -> a neck that climbs back to ``stride``.

    The backbone shared by the detector (:func:`cv_core.detection.build_detector`) and the pose
    models (:mod:`cv_core.keypoints.models`): the stem padded ``"same"`` so that block ``i`` has
    stride exactly ``2 ** i``, batch normalization before each activation, residual shortcuts;
    then, while the map is coarser than ``stride``, one neck level each: upsample by 2,
    concatenate the block of that stride, a 3x3 convolution of that block's width, batch
    normalization and ReLU (layers ``neck{level}_*``). ``stride=None`` leaves the neck out.

    Returns:
        ``(inputs, x)``: the ``keras.Input`` named ``image`` and the last feature map.
    """
    layers = keras.layers
    conv_layer = layers.SeparableConv2D if conv_type == "separable" else layers.Conv2D
    conv_name = "sepconv" if conv_type == "separable" else "conv"
    inputs = keras.Input(shape=(*img_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    blocks = xception_blocks(layers, x, filters, conv_type, "before_activation", True, stem_padding="same",
                             batchnorm_momentum=batchnorm_momentum)
    x = blocks[-1]
    level = len(filters)
    while stride is not None and 2 ** level > stride:
        level -= 1  # the block whose output has the stride we climb to
        prefix = f"neck{level}"
        x = layers.UpSampling2D(2, name=f"{prefix}_upsample")(x)
        x = layers.Concatenate(name=f"{prefix}_concat")([x, blocks[level - 1]])
        x = conv_layer(filters[level - 1], 3, padding="same", use_bias=False, name=f"{prefix}_{conv_name}")(x)
        x = layers.BatchNormalization(momentum=batchnorm_momentum, name=f"{prefix}_bn")(x)
        x = layers.Activation("relu", name=f"{prefix}_act")(x)
    return inputs, x
