"""The classifiers of chapters 8 and 9: the book's mini-Xception, its variants, and the plain convnet.

Every builder validates its arguments first and returns an uncompiled functional
``keras.Model`` whose layers all have stable names (``block3_sepconv1``, ``block3_bn2``...):
interpretation code and UI pickers look layers up by these names.

Models take float32 images with pixel values in [0, 255] (they rescale themselves) and are
trained on int32 class indices; :func:`compile_classifier` picks the matching loss.

Keras is imported inside the builders, so importing this module does not import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

from cv_core.blocks import (BATCHNORM_PLACEMENTS, CONV_TYPES, OPTIMIZERS, STEM_KERNEL, ModelArgumentError,
                            augmentation_layers, check_bool, check_choice, check_filters, check_learning_rate,
                            check_name, classifier_head, is_int, make_optimizer, xception_blocks)
from cv_core.i18n import N_, LazyText

__all__ = [
    "build_mini_xception",
    "build_small_convnet",
    "compile_classifier",
    "minimum_input_size",
    "minimum_small_convnet_size",
]


def _check_input_shape(input_shape) -> tuple[int, int, int]:
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or not all(is_int(d) and d > 0 for d in input_shape)
        or input_shape[2] not in (1, 3)
    ):
        raise ModelArgumentError(N_("Expected `input_shape` to be (height, width, channels) with positive integer sizes "
                                    "and 1 or 3 channels. Received: input_shape={value!r}"), value=input_shape)
    return tuple(input_shape)


def _check_num_classes(num_classes) -> None:
    if not is_int(num_classes) or num_classes < 2:
        raise ValueError(
            f"Expected `num_classes` to be an integer >= 2. Received: num_classes={num_classes!r}"
        )


def _check_dropout_rate(dropout_rate) -> None:
    if (
        isinstance(dropout_rate, bool)
        or not isinstance(dropout_rate, (int, float))
        or not 0 <= dropout_rate < 1
    ):
        raise ModelArgumentError(N_("Expected `dropout_rate` to be a number in [0, 1). Received: dropout_rate={value!r}"),
                                 value=dropout_rate)


def _check_input_size(input_shape, minimum: int, model: str) -> None:
    height, width, _ = input_shape
    if min(height, width) < minimum:
        raise ModelArgumentError(N_("Expected `input_shape` height and width of at least {minimum} pixels for {model} "
                                    "with these filters. Received: input_shape={value!r}"), minimum=minimum, model=model,
                                 value=input_shape)


def _check_classifier(input_shape, num_classes, filters, augmentation, dropout_rate, name, minimum, model: str):
    """The checks both classifiers share; returns ``(input_shape, filters)`` as tuples."""
    _check_num_classes(num_classes)
    filters = check_filters(filters)
    input_shape = _check_input_shape(input_shape)
    check_bool("augmentation", augmentation)
    _check_dropout_rate(dropout_rate)
    check_name(name)
    _check_input_size(input_shape, minimum(filters), model)
    return input_shape, filters


def _image_input(input_shape, augmentation: bool):
    """``(keras, inputs, x)``: the ``image`` input, the book's augmentation if asked, then ``rescaling``."""
    from cv_core._tf import keras as _keras

    keras = _keras()
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if augmentation:
        for layer in augmentation_layers(keras.layers):
            x = layer(x)
    return keras, inputs, keras.layers.Rescaling(1.0 / 255, name="rescaling")(x)


def _head(layers, x, num_classes: int, dropout_rate: float):
    """``dropout`` (left out at rate 0), then ``predictions``."""
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="dropout")(x)
    return classifier_head(layers, x, num_classes)


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
    filters = check_filters(filters)
    return 2 ** (len(filters) - 1) + 1 + (STEM_KERNEL - 1)


def minimum_small_convnet_size(filters=(32, 64, 128, 256, 256)) -> int:
    """Smallest image side that :func:`build_small_convnet` accepts for these filters.

    One valid 3x3 convolution per entry with a 2x2 max-pool between them; the last
    convolution needs a 3x3 input to give a 1x1 output.
    """
    num_blocks = len(check_filters(filters))
    size = 3  # the last conv needs a 3x3 input to give a 1x1 output
    for _ in range(num_blocks - 1):
        size = 2 * size + 2  # undo a pool (floor) then a valid 3x3 conv
    return size


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------



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
    check_choice("conv_type", conv_type, CONV_TYPES)
    check_choice("batchnorm", batchnorm, BATCHNORM_PLACEMENTS)
    check_bool("residual", residual)
    input_shape, filters = _check_classifier(input_shape, num_classes, filters, augmentation, dropout_rate, name,
                                             minimum_input_size, LazyText(N_("the mini-Xception")))
    keras, inputs, x = _image_input(input_shape, augmentation)
    x = xception_blocks(keras.layers, x, filters, conv_type, batchnorm, residual)[-1]
    x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    return keras.Model(inputs, _head(keras.layers, x, num_classes, dropout_rate), name=name)


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

    Returns and raises as :func:`build_mini_xception`: an uncompiled ``keras.Model`` from float32
    images in [0, 255] to class probabilities; ValueError for an argument out of range.
    """
    input_shape, filters = _check_classifier(input_shape, num_classes, filters, augmentation, dropout_rate, name,
                                             minimum_small_convnet_size, LazyText(N_("the small convnet")))
    keras, inputs, x = _image_input(input_shape, augmentation)
    layers = keras.layers
    for block, size in enumerate(filters, start=1):
        x = layers.Conv2D(size, 3, activation="relu", name=f"block{block}_conv")(x)
        if block < len(filters):
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(layers, x, num_classes, dropout_rate), name=name)


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
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_learning_rate(learning_rate)
    expected_units = 1 if num_classes == 2 else num_classes
    output_units = model.outputs[0].shape[-1]
    if output_units != expected_units:
        raise ValueError(
            f"Expected a model with {expected_units} output unit(s) for num_classes={num_classes}. "
            f"Received: a model with output shape {tuple(model.outputs[0].shape)}"
        )

    from cv_core._tf import keras as _keras

    keras = _keras()
    loss = "binary_crossentropy" if num_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(
        optimizer=make_optimizer(keras, optimizer, learning_rate), loss=loss, metrics=["accuracy"]
    )
    return model
