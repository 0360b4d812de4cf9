"""A single-shot, anchor-free detector in the style of CenterNet ("Objects as Points").

Every object is a point: the centre of its box. The detector looks at the picture once and,
for every cell of a grid ``output_stride`` times smaller than the picture, predicts

- **heatmap**: for each class, how likely it is that an object of that class has its centre
  in this cell (a sigmoid per class, so two classes can share a cell);
- **size**: the box's width and height, in grid cells;
- **offset**: where in the cell the centre lies, ``(dx, dy)`` in [0, 1), which recovers the
  precision the coarse grid loses.

No anchors, no proposals: :mod:`cv_core.detection.decode` turns the three maps into boxes
(peaks of the heatmap, then the size and offset at each peak), and
:mod:`cv_core.detection.targets` turns true boxes into the maps the model learns to predict.

The backbone is the mini-Xception's stem and residual blocks (the same layers, with the same
names, as :func:`cv_core.classification.build_mini_xception`), so the architecture lab's choices carry
over; a small U-Net-like neck climbs back from the last block to the output stride.
"""

from __future__ import annotations

from cv_core.blocks import (check_backbone_filters, check_backbone_img_size, check_choice, check_learning_rate,
                            check_name, check_output_stride, check_positive_int, is_int, make_optimizer,
                            pyramid_backbone)

__all__ = [
    "DETECTOR_CONV_TYPES",
    "DETECTOR_OPTIMIZERS",
    "OUTPUT_NAMES",
    "build_detector",
    "compile_detector",
    "detector_geometry",
    "load_detector",
]

DETECTOR_CONV_TYPES = ("separable", "conv2d")
DETECTOR_OPTIMIZERS = ("adam", "rmsprop", "sgd")
#: The model's outputs, in this order: a dict with these keys.
OUTPUT_NAMES = ("heatmap", "size", "offset")

#: The heatmap's bias starts at log(0.1 / 0.9): every cell first says "10% object", as in
#: CenterNet (focal loss with a near-zero start would push the rare positives down at once).
_HEATMAP_PRIOR_BIAS = -2.19
#: Batch norm's moving statistics follow the batches faster than Keras' default (0.99): 0.9
#: is PyTorch's default, CenterNet's. A short detection run has only a few hundred steps, and
#: at 0.99 its moving statistics would still be a third made of their initial (0, 1) values,
#: so the model would predict nothing at inference.
_BATCHNORM_MOMENTUM = 0.9


def _check_detector_classes(num_classes) -> None:
    if not is_int(num_classes) or num_classes < 1:
        raise ValueError(
            f"Expected `num_classes` to be an integer >= 1. Received: num_classes={num_classes!r}"
        )


def build_detector(
    img_size=(128, 128),
    num_classes=5,
    backbone_filters=(16, 32, 64, 128),
    output_stride=4,
    conv_type="separable",
    head_width=64,
    name="detector",
):
    """Build a CenterNet-style detector on the mini-Xception's blocks.

    Layers, in order (all names stable):

    - ``image`` (input, float32 pixels in [0, 255]) -> ``rescaling`` (1/255);
    - the backbone: ``stem_conv`` (5x5, ``padding="same"``, so block ``i`` has stride exactly
      ``2 ** i``), then per entry of ``backbone_filters`` the mini-Xception block
      ``blocki_bn1 -> blocki_act1 -> blocki_sepconv1 -> blocki_bn2 -> blocki_act2 ->
      blocki_sepconv2 -> blocki_pool`` plus ``blocki_residual`` and ``blocki_add``
      (``conv`` instead of ``sepconv`` with ``conv_type="conv2d"``);
    - the neck, from the last block up to ``output_stride``: for each level ``j`` on the way
      (the block whose output has that stride), ``neckj_upsample`` (nearest, 2x) ->
      ``neckj_concat`` (with block ``j``'s output: the fine detail the deep blocks pooled
      away) -> ``neckj_sepconv`` (3x3, as wide as block ``j``) -> ``neckj_bn`` -> ``neckj_act``;
    - three heads, each ``<head>_conv`` (3x3 ``Conv2D(head_width)``) -> ``<head>_act`` (ReLU)
      -> ``<head>`` (1x1 ``Conv2D``): ``heatmap`` (``num_classes`` sigmoids, bias -2.19),
      ``size`` (2, linear: width, height in grid cells) and ``offset`` (2, linear: dx, dy).

    The three outputs come as a dict, so ``model.fit(images, {"heatmap": ..., "size": ...,
    "offset": ...})`` trains it with one loss per output
    (:func:`cv_core.detection.compile_detector`) and Keras logs each loss. No Lambda or custom
    layers: the model saves and loads with ``safe_mode=True``.

    Args:
        img_size: ``(height, width)`` of the RGB input; each a multiple of
            ``2 ** len(backbone_filters)``.
        num_classes: object classes (one heatmap channel each), >= 1.
        backbone_filters: the stem's width (``backbone_filters[0]``) and one block per entry.
        output_stride: input pixels per output cell: a power of two from 2 up to
            ``2 ** len(backbone_filters)``. 4 (CenterNet's) keeps small objects apart.
        conv_type: ``"separable"`` (SeparableConv2D, the mini-Xception's) or ``"conv2d"``, in
            the backbone and the neck.
        head_width: channels of each head's 3x3 convolution.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` mapping float32 images ``(batch, H, W, 3)`` in [0, 255]
        to ``{"heatmap": (batch, H/s, W/s, num_classes) in (0, 1), "size": (batch, H/s, W/s, 2),
        "offset": (batch, H/s, W/s, 2)}`` with ``s = output_stride``.

    Raises:
        ValueError: if an argument is out of range.
    """
    _check_detector_classes(num_classes)
    filters = check_backbone_filters(backbone_filters)
    stride = check_output_stride(output_stride, len(filters))
    check_choice("conv_type", conv_type, DETECTOR_CONV_TYPES)
    check_positive_int("head_width", head_width)
    check_name(name)
    img_size = check_backbone_img_size(img_size, 2 ** len(filters))

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers
    inputs, x = pyramid_backbone(keras, img_size, filters, conv_type, stride, _BATCHNORM_MOMENTUM)

    outputs = {}
    for head, units in zip(OUTPUT_NAMES, (num_classes, 2, 2)):
        y = layers.Conv2D(head_width, 3, padding="same", name=f"{head}_conv")(x)
        y = layers.Activation("relu", name=f"{head}_act")(y)
        if head == "heatmap":
            y = layers.Conv2D(
                units,
                1,
                activation="sigmoid",
                bias_initializer=keras.initializers.Constant(_HEATMAP_PRIOR_BIAS),
                name=head,
            )(y)
        else:
            y = layers.Conv2D(units, 1, name=head)(y)
        outputs[head] = y
    return keras.Model(inputs, outputs, name=name)


def detector_geometry(model) -> tuple[tuple[int, int], int, int]:
    """The input size, output stride and number of classes of a detector built here.

    Read from the model itself (its input and heatmap shapes), so decoding never needs a
    second, hand-written description of the model.

    Returns:
        ``((height, width), output_stride, num_classes)``.

    Raises:
        ValueError: the model does not have this module's outputs.
    """
    outputs = model.output
    if not isinstance(outputs, dict) or set(outputs) != set(OUTPUT_NAMES):
        raise ValueError(
            f"Expected a detector with outputs {OUTPUT_NAMES}. Received: a model with outputs "
            f"{list(outputs) if isinstance(outputs, dict) else type(outputs).__name__}"
        )
    height, width = model.input.shape[1:3]
    grid_height, grid_width, num_classes = outputs["heatmap"].shape[1:4]
    if height % grid_height or width % grid_width or height // grid_height != width // grid_width:
        raise ValueError(
            f"Expected the heatmap to divide the input evenly. Received: input {height}x{width}, "
            f"heatmap {grid_height}x{grid_width}"
        )
    return (int(height), int(width)), int(height // grid_height), int(num_classes)


def load_detector(path, compile=True):
    """Load a detector saved with ``model.save(path)`` (a ``.keras`` file), in safe mode.

    Importing :mod:`cv_core.detection.losses` first registers the detector's losses, so a
    compiled model loads with its losses; ``compile=False`` skips them (enough to predict).
    """
    from cv_core._tf import keras as _keras
    from cv_core.detection import losses  # noqa: F401  (registers the custom losses)

    return _keras().models.load_model(path, compile=compile, safe_mode=True)


def compile_detector(model, num_classes, learning_rate=1e-3, optimizer="adam"):
    """Compile a detector from :func:`cv_core.detection.build_detector` with its three losses.

    One loss per output (``heatmap``: :class:`~cv_core.detection.losses.HeatmapFocalLoss`;
    ``size`` and ``offset``: :class:`~cv_core.detection.losses.CenterL1Loss`), weighted by
    :data:`~cv_core.detection.losses.LOSS_WEIGHTS`. Keras logs ``loss`` (the
    weighted total) and ``heatmap_loss``, ``size_loss``, ``offset_loss`` (and ``val_...``).
    No accuracy-like metric: detection is scored with mAP on decoded boxes
    (:func:`cv_core.detection.evaluate_detector`).

    Args:
        model: a detector whose heatmap has ``num_classes`` channels.
        num_classes: object classes, >= 1.
        learning_rate: a positive number or a ``keras.optimizers.schedules.LearningRateSchedule``.
        optimizer: ``"adam"`` (the default: CenterNet trains with Adam), ``"rmsprop"`` or ``"sgd"``.

    Returns:
        The same model, compiled in place.

    Raises:
        ValueError: a bad argument, or a model that is not such a detector or whose heatmap
            has another number of classes.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"Expected `num_classes` to be an integer >= 1. Received: num_classes={num_classes!r}")
    if optimizer not in DETECTOR_OPTIMIZERS:
        raise ValueError(f"Expected `optimizer` to be one of {DETECTOR_OPTIMIZERS}. Received: optimizer={optimizer!r}")
    from cv_core._tf import keras as _keras
    from cv_core.detection.losses import LOSS_WEIGHTS, CenterL1Loss, HeatmapFocalLoss

    keras = _keras()
    check_learning_rate(learning_rate)
    _, _, classes = detector_geometry(model)
    if classes != num_classes:
        raise ValueError(
            f"Expected a detector with {num_classes} heatmap channels for num_classes={num_classes}. "
            f"Received: a heatmap with {classes} channels"
        )
    model.compile(
        optimizer=make_optimizer(keras, optimizer, learning_rate),
        loss={"heatmap": HeatmapFocalLoss(), "size": CenterL1Loss(), "offset": CenterL1Loss()},
        loss_weights=dict(LOSS_WEIGHTS),
    )
    return model
