"""Model builders for chapter 9: the book's mini-Xception, its variants, and the chapter 8 baseline.

Every builder validates its arguments first and returns an uncompiled functional
``keras.Model`` whose layers all have stable names (``block3_sepconv1``, ``block3_bn2``...):
interpretation code and UI pickers look layers up by these names.

Models take float32 images with pixel values in [0, 255] (they rescale themselves) and are
trained on int32 class indices; :func:`compile_classifier` picks the matching loss.

Keras is imported inside the builders, so importing this module does not import TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

CONV_TYPES = ("separable", "conv2d")
BATCHNORM_PLACEMENTS = ("before_activation", "after_activation", "none")
OPTIMIZERS = ("rmsprop", "adam", "sgd")

_STEM_KERNEL = 5


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_choice(name: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"Expected `{name}` to be one of {choices}. Received: {name}={value!r}")


def _check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"Expected `{name}` to be True or False. Received: {name}={value!r}")


def _check_filters(filters) -> tuple[int, ...]:
    if (
        isinstance(filters, (str, bytes))
        or not isinstance(filters, Sequence)
        or len(filters) == 0
        or not all(_is_int(f) and f > 0 for f in filters)
    ):
        raise ValueError(
            "Expected `filters` to be a non-empty sequence of positive integers. "
            f"Received: filters={filters!r}"
        )
    return tuple(filters)


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or not all(_is_int(d) and d > 0 for d in input_shape)
        or input_shape[2] not in (1, 3)
    ):
        raise ValueError(
            "Expected `input_shape` to be (height, width, channels) with positive integer sizes "
            f"and 1 or 3 channels. Received: input_shape={input_shape!r}"
        )
    return tuple(input_shape)


def _check_num_classes(num_classes) -> None:
    if not _is_int(num_classes) or num_classes < 2:
        raise ValueError(
            f"Expected `num_classes` to be an integer >= 2. Received: num_classes={num_classes!r}"
        )


def _check_dropout_rate(dropout_rate) -> None:
    if (
        isinstance(dropout_rate, bool)
        or not isinstance(dropout_rate, (int, float))
        or not 0 <= dropout_rate < 1
    ):
        raise ValueError(
            f"Expected `dropout_rate` to be a number in [0, 1). Received: dropout_rate={dropout_rate!r}"
        )


def _check_name(name) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"Expected `name` to be a non-empty string. Received: name={name!r}")


def _check_input_size(input_shape, minimum: int, model: str) -> None:
    height, width, _ = input_shape
    if min(height, width) < minimum:
        raise ValueError(
            f"Expected `input_shape` height and width of at least {minimum} pixels for {model} "
            f"with these filters. Received: input_shape={input_shape!r}"
        )


# --------------------------------------------------------------------------------------
# Minimum input sizes
# --------------------------------------------------------------------------------------


def minimum_input_size(filters=(32, 64, 128, 256, 512)) -> int:
    """Smallest image side that :func:`build_mini_xception` accepts for these filters.

    The 5x5 stem convolution (no padding) removes 4 pixels, then each of the
    ``len(filters)`` blocks halves the map with ``MaxPooling2D(3, strides=2, padding="same")``.
    The minimum is the smallest side for which every block still pools a map of at least
    2x2 (so each block really halves something, and the map before global pooling is at
    least 1x1): ``2 ** (len(filters) - 1) + 5``, i.e. 21 pixels for the book's 5 blocks.

    Args:
        filters: the builder's ``filters`` (one block per entry).

    Returns:
        The minimum height and width in pixels, as an int.

    Raises:
        ValueError: if ``filters`` is not a non-empty sequence of positive ints.
    """
    filters = _check_filters(filters)
    return 2 ** (len(filters) - 1) + 1 + (_STEM_KERNEL - 1)


def minimum_small_convnet_size(filters=(32, 64, 128, 256, 256)) -> int:
    """Smallest image side that :func:`build_small_convnet` accepts for these filters.

    One valid 3x3 convolution per entry with a 2x2 max-pool between them; the last
    convolution needs a 3x3 input to give a 1x1 output.
    """
    num_blocks = len(_check_filters(filters))
    size = 3  # the last conv needs a 3x3 input to give a 1x1 output
    for _ in range(num_blocks - 1):
        size = 2 * size + 2  # undo a pool (floor) then a valid 3x3 conv
    return size


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------


def _augmentation_layers(layers) -> list:
    """The book's augmentation stack, as separately named layers."""
    return [
        layers.RandomFlip("horizontal", name="augment_flip"),
        layers.RandomRotation(0.1, name="augment_rotation"),
        layers.RandomZoom(0.2, name="augment_zoom"),
    ]


def _classifier_head(layers, x, num_classes: int):
    if num_classes == 2:
        return layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return layers.Dense(num_classes, activation="softmax", name="predictions")(x)


def _xception_blocks(
    layers, x, filters, conv_type, batchnorm, residual, stem_padding="valid", batchnorm_momentum=0.99
) -> list:
    """The mini-Xception's stem and residual blocks applied to ``x`` (see :func:`build_mini_xception`).

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
        filters[0], _STEM_KERNEL, padding=stem_padding, use_bias=not bn_first, name="stem_conv"
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


def build_mini_xception(
    input_shape=(180, 180, 3),
    num_classes=2,
    conv_type="separable",
    batchnorm="before_activation",
    residual=True,
    filters=(32, 64, 128, 256, 512),
    augmentation=True,
    dropout_rate=0.5,
    name="mini_xception",
):
    """Build the book's mini-Xception for cats vs dogs (chapter 9), or one of its variants.

    With the defaults this is exactly the book's model (721,857 parameters at 180x180x3):
    augmentation (flip, rotation 0.1, zoom 0.2) -> ``Rescaling(1/255)`` ->
    ``Conv2D(filters[0], 5, use_bias=False)`` -> one residual block per entry of ``filters``
    -> ``GlobalAveragePooling2D`` -> ``Dropout(0.5)`` -> ``Dense(1, "sigmoid")``.
    Block ``i`` (1-based) with ``size = filters[i - 1]`` is built as follows, by placement:

    - ``"before_activation"`` (the book's model and recommended layout, conv without bias,
      batch norm before ReLU)::

          blocki_bn1 -> blocki_act1 -> blocki_sepconv1 (no bias)
          -> blocki_bn2 -> blocki_act2 -> blocki_sepconv2 (no bias) -> blocki_pool

      The stem is ``stem_conv`` (no bias); block 1's ``bn1``/``act1`` normalise and activate it.
    - ``"after_activation"`` (listing 9.4's "conv with bias, ReLU, then batch norm")::

          blocki_sepconv1 (bias) -> blocki_act1 -> blocki_bn1
          -> blocki_sepconv2 (bias) -> blocki_act2 -> blocki_bn2 -> blocki_pool

      The stem is ``stem_conv`` (bias) -> ``stem_act`` (ReLU).
    - ``"none"`` (no batch normalisation; convs keep their bias)::

          blocki_sepconv1 (bias) -> blocki_act1 -> blocki_sepconv2 (bias) -> blocki_act2
          -> blocki_pool

      The stem is ``stem_conv`` (bias) -> ``stem_act`` (ReLU).

    ``pool`` is ``MaxPooling2D(3, strides=2, padding="same")``. With ``residual=True`` the
    block input also goes through ``blocki_residual`` (``Conv2D(size, 1, strides=2,
    padding="same", use_bias=False)``) and ``blocki_add`` sums both paths. With
    ``conv_type="conv2d"`` every separable conv becomes a regular 3x3 ``Conv2D`` named
    ``blocki_conv1``/``blocki_conv2`` (4,902,625 parameters with the other defaults).
    Other layer names: ``image`` (input), ``augment_flip``, ``augment_rotation``,
    ``augment_zoom``, ``rescaling``, ``global_pool``, ``dropout``, ``predictions``.

    Args:
        input_shape: ``(height, width, channels)``, channels 1 or 3; height and width at
            least :func:`minimum_input_size` ``(filters)``.
        num_classes: number of classes, >= 2. Two classes give one sigmoid unit
            (probability of class 1); more give a softmax over ``num_classes`` units.
        conv_type: ``"separable"`` (SeparableConv2D) or ``"conv2d"`` (regular Conv2D).
        batchnorm: ``"before_activation"``, ``"after_activation"`` or ``"none"`` (see above).
        residual: add the strided 1x1 shortcut around each block.
        filters: stem width (``filters[0]``) and one block per entry, with that many filters.
        augmentation: include the random flip/rotation/zoom layers (active only in training).
        dropout_rate: rate of the dropout before the classifier; 0 leaves the layer out.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping float32 images ``(batch, H, W, C)`` in [0, 255]
        to probabilities ``(batch, 1)`` (2 classes) or ``(batch, num_classes)``.

    Raises:
        ValueError: if an argument is out of range, or the image is too small for the depth.
    """
    _check_choice("conv_type", conv_type, CONV_TYPES)
    _check_choice("batchnorm", batchnorm, BATCHNORM_PLACEMENTS)
    _check_num_classes(num_classes)
    filters = _check_filters(filters)
    input_shape = _check_input_shape(input_shape)
    _check_bool("residual", residual)
    _check_bool("augmentation", augmentation)
    _check_dropout_rate(dropout_rate)
    _check_name(name)
    _check_input_size(input_shape, minimum_input_size(filters), "the mini-Xception")

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if augmentation:
        for layer in _augmentation_layers(layers):
            x = layer(x)
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    x = _xception_blocks(layers, x, filters, conv_type, batchnorm, residual)[-1]

    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = _classifier_head(layers, x, num_classes)
    return keras.Model(inputs, outputs, name=name)


def build_small_convnet(
    input_shape=(180, 180, 3),
    num_classes=2,
    filters=(32, 64, 128, 256, 256),
    augmentation=False,
    dropout_rate=0.0,
    name="small_convnet",
):
    """Build chapter 8's plain convnet, the baseline chapter 9 improves on.

    ``image`` -> [augmentation] -> ``rescaling`` -> for block ``i``:
    ``blocki_conv`` (``Conv2D(filters[i - 1], 3, activation="relu")``, no padding) then
    ``blocki_pool`` (``MaxPooling2D(2)``) for every block but the last -> ``flatten`` ->
    [``dropout``] -> ``predictions``. With the defaults this is the book's cats-vs-dogs
    model from scratch (991,041 parameters at 180x180x3); ``augmentation=True,
    dropout_rate=0.5`` gives its augmented version.

    Args:
        input_shape: ``(height, width, channels)``, channels 1 or 3; large enough that the
            last conv still sees a 3x3 map (78 pixels for 5 blocks).
        num_classes: number of classes, >= 2 (one sigmoid unit for 2, else a softmax).
        filters: one conv block per entry, with that many 3x3 filters.
        augmentation: include the random flip/rotation/zoom layers.
        dropout_rate: dropout before the classifier; 0 leaves the layer out.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping float32 images ``(batch, H, W, C)`` in [0, 255]
        to probabilities ``(batch, 1)`` (2 classes) or ``(batch, num_classes)``.

    Raises:
        ValueError: if an argument is out of range, or the image is too small for the depth.
    """
    _check_num_classes(num_classes)
    filters = _check_filters(filters)
    input_shape = _check_input_shape(input_shape)
    _check_bool("augmentation", augmentation)
    _check_dropout_rate(dropout_rate)
    _check_name(name)
    _check_input_size(input_shape, minimum_small_convnet_size(filters), "the small convnet")

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if augmentation:
        for layer in _augmentation_layers(layers):
            x = layer(x)
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    for block, size in enumerate(filters, start=1):
        x = layers.Conv2D(size, 3, activation="relu", name=f"block{block}_conv")(x)
        if block < len(filters):
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = _classifier_head(layers, x, num_classes)
    return keras.Model(inputs, outputs, name=name)


def compile_classifier(model, num_classes, learning_rate=1e-3, optimizer="rmsprop"):
    """Compile a classifier built here with the loss that matches its output layer.

    Two classes (one sigmoid unit) use ``binary_crossentropy``; more classes (softmax) use
    ``sparse_categorical_crossentropy``. Both take int32 class indices as labels, and both
    report ``accuracy``.

    Args:
        model: a ``keras.Model`` whose output is ``(batch, 1)`` for 2 classes or
            ``(batch, num_classes)`` otherwise.
        num_classes: number of classes, >= 2.
        learning_rate: positive learning rate, or a ``keras.optimizers.schedules``
            ``LearningRateSchedule``.
        optimizer: ``"rmsprop"`` (the book's choice), ``"adam"`` or ``"sgd"``.

    Returns:
        The same model, compiled in place.

    Raises:
        ValueError: if an argument is out of range or the model's output width does not
            match ``num_classes``.
    """
    _check_num_classes(num_classes)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    if type(learning_rate).__module__.startswith("keras") and callable(learning_rate):
        pass  # a LearningRateSchedule
    elif (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, (int, float))
        or not math.isfinite(learning_rate)
        or learning_rate <= 0
    ):
        raise ValueError(
            "Expected `learning_rate` to be a positive number. "
            f"Received: learning_rate={learning_rate!r}"
        )
    expected_units = 1 if num_classes == 2 else num_classes
    output_units = model.outputs[0].shape[-1]
    if output_units != expected_units:
        raise ValueError(
            f"Expected a model with {expected_units} output unit(s) for num_classes={num_classes}. "
            f"Received: a model with output shape {tuple(model.outputs[0].shape)}"
        )

    from cv_core._tf import keras as _keras

    keras = _keras()
    optimizer_class = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }[optimizer]
    loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(
        optimizer=optimizer_class(learning_rate=learning_rate), loss=loss, metrics=["accuracy"]
    )
    return model


# --------------------------------------------------------------------------------------
# Segmentation (chapter 9.1): the book's model and a small U-Net
# --------------------------------------------------------------------------------------

SEGMENTATION_CONV_TYPES = ("conv2d", "separable")


def _check_img_size(img_size, divisor: int, model: str) -> tuple[int, int]:
    if (
        isinstance(img_size, (str, bytes))
        or not isinstance(img_size, Sequence)
        or len(img_size) != 2
        or not all(_is_int(d) and d > 0 for d in img_size)
    ):
        raise ValueError(
            "Expected `img_size` to be (height, width) with positive integer sizes. "
            f"Received: img_size={img_size!r}"
        )
    if any(d % divisor for d in img_size):
        raise ValueError(
            f"Expected `img_size` height and width to be multiples of {divisor} for {model} with "
            f"these filters (so the output mask has the input's size). Received: img_size={img_size!r}"
        )
    return tuple(img_size)


def _check_mask_classes(num_classes) -> None:
    if not _is_int(num_classes) or not 2 <= num_classes <= 256:
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
    filters = _check_filters(filters)
    img_size = _check_img_size(img_size, 2 ** len(filters), "the segmentation model")
    _check_name(name)

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

    Returns:
        An uncompiled ``keras.Model`` mapping float32 images ``(batch, H, W, 3)`` in [0, 255]
        to per-pixel probabilities ``(batch, H, W, num_classes)``.

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_mask_classes(num_classes)
    filters = _check_filters(filters)
    if len(filters) < 2:
        raise ValueError(
            "Expected `filters` to have at least two levels (one encoder level and the bottleneck). "
            f"Received: filters={filters!r}"
        )
    _check_choice("conv_type", conv_type, SEGMENTATION_CONV_TYPES)
    img_size = _check_img_size(img_size, 2 ** (len(filters) - 1), "the U-Net")
    _check_name(name)

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
        learning_rate: positive learning rate, or a ``keras.optimizers.schedules``
            ``LearningRateSchedule``.
        optimizer: ``"rmsprop"`` (the book's choice), ``"adam"`` or ``"sgd"``.

    Returns:
        The same model, compiled in place.

    Raises:
        ValueError: if an argument is out of range or the model's output does not match.
    """
    _check_mask_classes(num_classes)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    if type(learning_rate).__module__.startswith("keras") and callable(learning_rate):
        pass  # a LearningRateSchedule
    elif (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, (int, float))
        or not math.isfinite(learning_rate)
        or learning_rate <= 0
    ):
        raise ValueError(
            "Expected `learning_rate` to be a positive number. "
            f"Received: learning_rate={learning_rate!r}"
        )
    output_shape = tuple(model.outputs[0].shape)
    if len(output_shape) != 4 or output_shape[-1] != num_classes:
        raise ValueError(
            f"Expected a model with output shape (batch, H, W, {num_classes}) for "
            f"num_classes={num_classes}. Received: a model with output shape {output_shape}"
        )

    from cv_core._tf import keras as _keras

    keras = _keras()
    optimizer_class = {
        "rmsprop": keras.optimizers.RMSprop,
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
    }[optimizer]
    model.compile(
        optimizer=optimizer_class(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", keras.metrics.MeanIoU(num_classes, name="mean_iou", sparse_y_pred=False)],
    )
    return model
