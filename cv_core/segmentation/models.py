"""Segmentation models (chapter 9.1): the book's model and a small U-Net, and their compile step.

Both map float32 images in [0, 255] (they rescale themselves) to a class distribution per
pixel and train on int class-index masks; :func:`compile_segmenter` picks the loss and the
mean IoU metric. Keras is imported inside the builders, so importing this module does not
import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from cv_core.blocks import (OPTIMIZERS, ModelArgumentError, check_choice, check_filters, check_learning_rate,
                            check_name, is_int, make_optimizer)
from cv_core.i18n import N_, LazyText

__all__ = ["SEGMENTATION_CONV_TYPES", "build_segmentation_model", "build_unet", "compile_segmenter"]

SEGMENTATION_CONV_TYPES = ("conv2d", "separable")


def _check_img_size(img_size, divisor: int, model: str) -> tuple[int, int]:
    if (
        isinstance(img_size, (str, bytes))
        or not isinstance(img_size, Sequence)
        or len(img_size) != 2
        or not all(is_int(d) and d > 0 for d in img_size)
    ):
        raise ModelArgumentError(N_("Expected `img_size` to be (height, width) with positive integer sizes. Received: "
                                    "img_size={value!r}"), value=img_size)
    if any(d % divisor for d in img_size):
        raise ModelArgumentError(N_("Expected `img_size` height and width to be multiples of {divisor} for {model} with "
                                    "these filters (so the output mask has the input's size). Received: "
                                    "img_size={value!r}"), divisor=divisor, model=model, value=img_size)
    return tuple(img_size)


def _check_mask_classes(num_classes) -> None:
    if not is_int(num_classes) or not 2 <= num_classes <= 256:
        raise ValueError(
            "Expected `num_classes` to be an integer in [2, 256] (a mask stores one byte per pixel). "
            f"Received: num_classes={num_classes!r}"
        )


def build_segmentation_model(
    img_size=(200, 200), num_classes=3, filters=(64, 128, 256), name="segmentation_model"
):
    """Build the book's image segmentation model (chapter 9.1, Oxford-IIIT Pets).

    With the defaults this is exactly the book's model (2,880,643 parameters at 200x200x3
    with 3 classes): ``Rescaling(1/255)``, then for each entry of ``filters`` a strided
    ``Conv2D(size, 3, strides=2)`` that halves the map and a ``Conv2D(size, 3)`` of the same
    width; then the mirror image with ``Conv2DTranspose``: for each size in reverse a
    ``Conv2DTranspose(size, 3)`` and a ``Conv2DTranspose(size, 3, strides=2)`` that doubles
    the map; finally ``Conv2D(num_classes, 3, activation="softmax")``, a class distribution
    per pixel. Every convolution uses ``padding="same"`` and ReLU (but the last). The book
    uses strides rather than max pooling because a segmentation model must keep track of
    *where* things are.

    Layer names: ``image`` (input), ``rescaling``, ``downN_conv1`` (strided) and
    ``downN_conv2`` for N = 1..len(filters), ``upN_deconv1`` and ``upN_deconv2`` (strided)
    for N = 1..len(filters) (``up1`` is the widest, mirroring the last ``down``), and
    ``predictions``.

    Args:
        img_size: ``(height, width)`` of the RGB input; each a multiple of
            ``2 ** len(filters)`` (8 for the book's three stages).
        num_classes: classes per pixel, 2 to 256 (3 for the pets trimaps).
        filters: width of each down-sampling stage (the up-sampling stages mirror it).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping float32 images ``(batch, H, W, 3)`` in [0, 255]
        to per-pixel probabilities ``(batch, H, W, num_classes)``.

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_mask_classes(num_classes)
    filters = check_filters(filters)
    img_size = _check_img_size(img_size, 2 ** len(filters), LazyText(N_("the segmentation model")))
    check_name(name)

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers

    inputs = keras.Input(shape=(*img_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    for stage, size in enumerate(filters, start=1):
        x = layers.Conv2D(size, 3, strides=2, activation="relu", padding="same",
                          name=f"down{stage}_conv1")(x)
        x = layers.Conv2D(size, 3, activation="relu", padding="same", name=f"down{stage}_conv2")(x)
    for stage, size in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(size, 3, activation="relu", padding="same",
                                   name=f"up{stage}_deconv1")(x)
        x = layers.Conv2DTranspose(size, 3, strides=2, activation="relu", padding="same",
                                   name=f"up{stage}_deconv2")(x)
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def build_unet(
    img_size=(200, 200), num_classes=3, filters=(16, 32, 64), conv_type="conv2d", name="unet"
):
    """Build a small U-Net: the segmentation model with skip connections.

    The encoder has one level per entry of ``filters``; every level but the last (the
    bottleneck) is followed by a 2x2 max-pool, and its output is kept. The decoder climbs
    back: a strided ``Conv2DTranspose(size, 2, strides=2)`` doubles the map, the kept
    encoder output of the same size is concatenated (the skip connection: fine detail the
    bottleneck had to throw away), and two convolutions mix both. Each level's unit is
    ``conv (no bias) -> BatchNormalization -> ReLU``, twice; ``conv_type="separable"``
    makes every 3x3 convolution a ``SeparableConv2D`` (far fewer parameters). A 1x1
    ``Conv2D(num_classes, activation="softmax")`` gives a class distribution per pixel.

    Layer names (with ``conv`` replaced by ``sepconv`` for separable convolutions):
    ``image``, ``rescaling``; encoder level N: ``encN_conv1``, ``encN_bn1``, ``encN_act1``,
    ``encN_conv2``, ``encN_bn2``, ``encN_act2``, ``encN_pool``; the bottleneck is the last
    ``encN`` (no pool); decoder level N (same N as the encoder level it joins):
    ``decN_upsample``, ``decN_concat``, ``decN_conv1`` ... ``decN_act2``; ``predictions``.

    Args:
        img_size: ``(height, width)`` of the RGB input; each a multiple of
            ``2 ** (len(filters) - 1)``.
        num_classes: classes per pixel, 2 to 256.
        filters: width of each encoder level, at least two levels; the last is the bottleneck.
        conv_type: ``"conv2d"`` or ``"separable"``.
        name: the model's name.

    Returns and raises as :func:`build_segmentation_model`: an uncompiled ``keras.Model`` from
    float32 images in [0, 255] to per-pixel probabilities; ValueError for an argument out of range.
    """
    _check_mask_classes(num_classes)
    filters = check_filters(filters)
    if len(filters) < 2:
        raise ModelArgumentError(N_("Expected `filters` to have at least two levels (one encoder level and the "
                                    "bottleneck). Received: filters={value!r}"), value=filters)
    check_choice("conv_type", conv_type, SEGMENTATION_CONV_TYPES)
    img_size = _check_img_size(img_size, 2 ** (len(filters) - 1), LazyText(N_("the U-Net")))
    check_name(name)

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers
    conv_layer = layers.SeparableConv2D if conv_type == "separable" else layers.Conv2D
    conv_name = "sepconv" if conv_type == "separable" else "conv"

    def units(x, size, prefix):
        for unit in (1, 2):
            x = conv_layer(size, 3, padding="same", use_bias=False, name=f"{prefix}_{conv_name}{unit}")(x)
            x = layers.BatchNormalization(name=f"{prefix}_bn{unit}")(x)
            x = layers.Activation("relu", name=f"{prefix}_act{unit}")(x)
        return x

    inputs = keras.Input(shape=(*img_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    skips = []
    for level, size in enumerate(filters, start=1):
        x = units(x, size, f"enc{level}")
        if level < len(filters):
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    for level in range(len(filters) - 1, 0, -1):
        size = filters[level - 1]
        x = layers.Conv2DTranspose(size, 2, strides=2, padding="same", name=f"dec{level}_upsample")(x)
        x = layers.Concatenate(name=f"dec{level}_concat")([x, skips[level - 1]])
        x = units(x, size, f"dec{level}")
    outputs = layers.Conv2D(num_classes, 1, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def compile_segmenter(model, num_classes, learning_rate=1e-3, optimizer="rmsprop"):
    """Compile a segmentation model built here for int class-index masks.

    Loss ``sparse_categorical_crossentropy`` (the book's choice) on masks ``(batch, H, W)``;
    metrics ``accuracy`` (pixel accuracy) and ``mean_iou`` (``keras.metrics.MeanIoU`` with
    ``sparse_y_pred=False``: it takes the arg-max of the predicted probabilities itself).
    Logged as ``accuracy``/``mean_iou`` and ``val_accuracy``/``val_mean_iou``.

    Args:
        model: a ``keras.Model`` whose output is ``(batch, H, W, num_classes)``.
        num_classes: classes per pixel, 2 to 256.
        learning_rate, optimizer: as :func:`cv_core.classification.compile_classifier`'s.

    Returns:
        The same model, compiled in place.

    Raises:
        ValueError: if an argument is out of range or the model's output does not match.
    """
    _check_mask_classes(num_classes)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_learning_rate(learning_rate)
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 4 or output_shape[-1] != num_classes:
        raise ValueError(
            f"Expected a model with output shape (batch, H, W, {num_classes}) for "
            f"num_classes={num_classes}. Received: a model with output shape {output_shape}"
        )

    from cv_core._tf import keras as _keras

    keras = _keras()
    model.compile(
        optimizer=make_optimizer(keras, optimizer, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", keras.metrics.MeanIoU(num_classes, name="mean_iou", sparse_y_pred=False)],
    )
    return model
