"""Keypoint models on the detector's backbone: multi-person pose, and one object's landmarks two ways.

Three builders, each returning an uncompiled ``keras.Model`` whose outputs are a dict with stable
names (the targets in :mod:`cv_core.keypoints.targets` and the decoding in
:mod:`cv_core.keypoints.decode` use the same names):

- :func:`build_pose_model` — several people a picture, in the spirit of CenterNet ("Objects as
  Points", its multi-person pose variant). Every person is a point, the centre of its box; per
  cell of a grid ``output_stride`` times smaller than the picture it predicts ``centre`` (how
  likely a person's centre is here), ``size`` (the box), ``offset`` (where in the cell the centre
  lies), ``joint_offsets`` (each joint's position relative to the centre's cell: these group the
  joints into people), ``joint_heatmap`` (one heatmap per joint, for every person at once) and
  ``joint_refine`` (where in its cell a joint lies). Decoding reads each person's joints from the
  offsets, then snaps each to the nearest peak of that joint's heatmap, which is more precise.
- :func:`build_keypoint_heatmap_model` — one object: a heatmap per joint and its in-cell offset;
  a joint is the heatmap's argmax, refined to below a cell by the offset.
- :func:`build_keypoint_regression_model` — one object: the joints' coordinates straight from the
  backbone's last features through a dense layer (the keras-io "Keypoint Detection with Transfer
  Learning" approach). Fewer outputs, but the layer must learn where things are from features
  that pooled position away: the comparison shows why heatmaps localise better.

The backbone and neck are the detector's (:func:`cv_core.detection.build_detector`): the
mini-Xception's stem and blocks with the same layer names, then a neck climbing back to the output
stride, so the architecture lab's choices (``conv_type``, ``filters``) carry over. No Lambda or
custom layers: every model saves and loads with ``safe_mode=True``.
"""

from __future__ import annotations

from typing import NamedTuple

from cv_core.blocks import (check_backbone_filters, check_backbone_img_size, check_choice, check_learning_rate,
                            check_name, check_output_stride, check_positive_int, make_optimizer, pyramid_backbone)

__all__ = [
    "HEATMAP_OUTPUTS", "KEYPOINT_CONV_TYPES", "KEYPOINT_KINDS", "KEYPOINT_OPTIMIZERS", "POSE_OUTPUTS",
    "REGRESSION_OUTPUTS", "KeypointGeometry", "build_keypoint_heatmap_model", "build_keypoint_regression_model",
    "build_pose_model", "compile_keypoint_model", "keypoint_model_geometry", "load_keypoint_model",
]

KEYPOINT_CONV_TYPES = ("separable", "conv2d")
KEYPOINT_OPTIMIZERS = ("adam", "rmsprop", "sgd")
#: Each kind of model's outputs, in order (a dict with these keys).
POSE_OUTPUTS = ("centre", "size", "offset", "joint_offsets", "joint_heatmap", "joint_refine")
HEATMAP_OUTPUTS = ("joint_heatmap", "joint_refine")
REGRESSION_OUTPUTS = ("joints",)
KEYPOINT_KINDS = {"pose": POSE_OUTPUTS, "heatmap": HEATMAP_OUTPUTS, "regression": REGRESSION_OUTPUTS}

#: Heatmap biases start at log(0.1 / 0.9), and batch norm follows the batches at 0.9: the
#: detector's choices, for the same reasons (a focal loss, short runs).
_HEATMAP_PRIOR_BIAS = -2.19
_BATCHNORM_MOMENTUM = 0.9


def _check_common(img_size, num_joints, backbone_filters, conv_type, head_width, name):
    check_positive_int("num_joints", num_joints)
    filters = check_backbone_filters(backbone_filters)
    check_choice("conv_type", conv_type, KEYPOINT_CONV_TYPES)
    check_positive_int("head_width", head_width)
    check_name(name)
    return check_backbone_img_size(img_size, 2 ** len(filters)), filters


def _head(keras, x, head: str, units: int, head_width: int, heatmap: bool):
    """``<head>_conv`` (3x3) -> ``<head>_act`` -> ``<head>`` (1x1; sigmoids with the prior bias for a heatmap)."""
    layers = keras.layers
    y = layers.Conv2D(head_width, 3, padding="same", name=f"{head}_conv")(x)
    y = layers.Activation("relu", name=f"{head}_act")(y)
    if heatmap:
        return layers.Conv2D(units, 1, activation="sigmoid", name=head,
                             bias_initializer=keras.initializers.Constant(_HEATMAP_PRIOR_BIAS))(y)
    return layers.Conv2D(units, 1, name=head)(y)


def build_pose_model(img_size=(128, 128), num_joints=14, backbone_filters=(16, 32, 64, 128), output_stride=4,
                     conv_type="separable", head_width=64, name="pose_model"):
    """Build the multi-person pose model (see the module docstring).

    Layers: the detector's ``image``, ``rescaling``, ``stem_conv``, ``block<i>_*`` and
    ``neck<j>_*`` (see :func:`cv_core.detection.build_detector`), then six heads, each
    ``<head>_conv`` (3x3, ``head_width``) -> ``<head>_act`` -> ``<head>`` (1x1).

    Args:
        img_size: ``(height, width)``, each a multiple of ``2 ** len(backbone_filters)``.
        num_joints: K, the skeleton's joints.
        backbone_filters: the stem's width and one block per entry.
        output_stride: input pixels per output cell (2 up to ``2 ** len(backbone_filters)``).
        conv_type: ``"separable"`` or ``"conv2d"`` in the backbone and neck.
        head_width: channels of each head's 3x3 convolution.
        name: the model's name.

    Returns:
        A ``keras.Model`` from float32 images (B, H, W, 3) in [0, 255] to, with ``h, w = H/s, W/s``:
        ``centre`` (B, h, w, 1) in (0, 1); ``size`` (B, h, w, 2) box width and height in cells;
        ``offset`` (B, h, w, 2) the centre in its cell; ``joint_offsets`` (B, h, w, 2K) each
        joint's ``(dx, dy)`` in cells from the centre's cell; ``joint_heatmap`` (B, h, w, K) in
        (0, 1); ``joint_refine`` (B, h, w, 2K) each joint's ``(dx, dy)`` in its own cell.

    Raises:
        ValueError: an argument out of range.
    """
    img_size, filters = _check_common(img_size, num_joints, backbone_filters, conv_type, head_width, name)
    stride = check_output_stride(output_stride, len(filters))
    from cv_core._tf import keras as _keras

    keras = _keras()
    inputs, x = pyramid_backbone(keras, img_size, filters, conv_type, stride, _BATCHNORM_MOMENTUM)
    units = {"centre": 1, "size": 2, "offset": 2, "joint_offsets": 2 * num_joints, "joint_heatmap": num_joints,
             "joint_refine": 2 * num_joints}
    outputs = {head: _head(keras, x, head, units[head], head_width, head in ("centre", "joint_heatmap"))
               for head in POSE_OUTPUTS}
    return keras.Model(inputs, outputs, name=name)


def build_keypoint_heatmap_model(img_size=(128, 128), num_joints=6, backbone_filters=(16, 32, 64, 128),
                                 output_stride=4, conv_type="separable", head_width=64,
                                 name="keypoint_heatmap_model"):
    """Build the single-object heatmap model: :func:`build_pose_model`'s backbone and two of its heads.

    Returns:
        A ``keras.Model`` to ``joint_heatmap`` (B, H/s, W/s, K) in (0, 1) and ``joint_refine``
        (B, H/s, W/s, 2K), each joint's ``(dx, dy)`` in its cell.

    Raises:
        ValueError: an argument out of range (as :func:`build_pose_model`).
    """
    img_size, filters = _check_common(img_size, num_joints, backbone_filters, conv_type, head_width, name)
    stride = check_output_stride(output_stride, len(filters))
    from cv_core._tf import keras as _keras

    keras = _keras()
    inputs, x = pyramid_backbone(keras, img_size, filters, conv_type, stride, _BATCHNORM_MOMENTUM)
    outputs = {"joint_heatmap": _head(keras, x, "joint_heatmap", num_joints, head_width, True),
               "joint_refine": _head(keras, x, "joint_refine", 2 * num_joints, head_width, False)}
    return keras.Model(inputs, outputs, name=name)


def build_keypoint_regression_model(img_size=(128, 128), num_joints=6, backbone_filters=(16, 32, 64, 128),
                                    conv_type="separable", head_width=64, name="keypoint_regression_model"):
    """Build the single-object regression model: the backbone, then the coordinates from a dense layer.

    Layers after the backbone's last block: ``joints_conv`` (3x3, ``head_width``) ->
    ``joints_act`` -> ``joints_flatten`` (keeps where each feature is, which a global pooling
    would lose) -> ``joints`` (``Dense(2K)``, sigmoid: coordinates as fractions of the picture).

    Returns:
        A ``keras.Model`` to ``joints`` (B, 2K): ``(x / W, y / H)`` of each joint, in (0, 1).

    Raises:
        ValueError: an argument out of range (as :func:`build_pose_model`).
    """
    img_size, filters = _check_common(img_size, num_joints, backbone_filters, conv_type, head_width, name)
    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers
    inputs, x = pyramid_backbone(keras, img_size, filters, conv_type, None, _BATCHNORM_MOMENTUM)
    x = layers.Conv2D(head_width, 3, padding="same", name="joints_conv")(x)
    x = layers.Activation("relu", name="joints_act")(x)
    x = layers.Flatten(name="joints_flatten")(x)
    outputs = {"joints": layers.Dense(2 * num_joints, activation="sigmoid", name="joints")(x)}
    return keras.Model(inputs, outputs, name=name)


class KeypointGeometry(NamedTuple):
    """What decoding needs to know about a keypoint model, read from the model itself."""

    image_size: tuple[int, int]  #: (height, width) of the input
    output_stride: int | None  #: input pixels per output cell (None: a regression model has no grid)
    num_joints: int  #: K
    kind: str  #: "pose", "heatmap" or "regression"


def keypoint_model_geometry(model) -> KeypointGeometry:
    """The input size, output stride (None for regression), joints and kind of a model built here.

    Read from the model's input and output shapes, so decoding never needs a second description.

    Raises:
        ValueError: the model has none of this module's output sets.
    """
    outputs = model.output
    names = set(outputs) if isinstance(outputs, dict) else None
    kind = next((k for k, heads in KEYPOINT_KINDS.items() if names == set(heads)), None)
    if kind is None:
        raise ValueError(f"Expected a keypoint model with outputs {POSE_OUTPUTS}, {HEATMAP_OUTPUTS} or "
                         f"{REGRESSION_OUTPUTS}. Received: a model with outputs "
                         f"{sorted(names) if names is not None else type(outputs).__name__}")
    height, width = (int(d) for d in model.input.shape[1:3])
    if kind == "regression":
        return KeypointGeometry((height, width), None, int(outputs["joints"].shape[-1]) // 2, kind)
    grid_h, grid_w, joints = (int(d) for d in outputs["joint_heatmap"].shape[1:4])
    if height % grid_h or width % grid_w or height // grid_h != width // grid_w:
        raise ValueError(f"Expected the heatmaps to divide the input evenly. Received: input {height}x{width}, "
                         f"heatmap {grid_h}x{grid_w}")
    return KeypointGeometry((height, width), height // grid_h, joints, kind)


def compile_keypoint_model(model, num_joints, learning_rate=1e-3, optimizer="adam"):
    """Compile a model built here with its losses (:mod:`cv_core.keypoints.losses`), in place.

    Heatmaps (``centre``, ``joint_heatmap``) learn with the detector's focal loss; sizes, offsets,
    joint offsets and coordinates with an L1 loss over the labelled joints only, weighted by
    :data:`~cv_core.keypoints.losses.LOSS_WEIGHTS`. Keras logs ``loss`` and one ``<output>_loss``
    per output of a model with several.

    Args:
        model: a model from this module.
        num_joints: K; must match the model's outputs.
        learning_rate: a positive number or a Keras ``LearningRateSchedule``.
        optimizer: ``"adam"`` (the default), ``"rmsprop"`` or ``"sgd"``.

    Returns:
        The same model, compiled.

    Raises:
        ValueError: a bad argument, or a model of another number of joints.
    """
    check_positive_int("num_joints", num_joints)
    check_choice("optimizer", optimizer, KEYPOINT_OPTIMIZERS)
    check_learning_rate(learning_rate)
    from cv_core._tf import keras as _keras
    from cv_core.keypoints.losses import keypoint_losses

    geometry = keypoint_model_geometry(model)
    if geometry.num_joints != num_joints:
        raise ValueError(f"Expected a model with {num_joints} joints for num_joints={num_joints}. "
                         f"Received: a model with {geometry.num_joints}")
    losses, weights = keypoint_losses(geometry.kind)
    model.compile(optimizer=make_optimizer(_keras(), optimizer, learning_rate), loss=losses, loss_weights=weights)
    return model


def load_keypoint_model(path, compile=True):
    """Load a keypoint model saved with ``model.save(path)`` (a ``.keras`` file), in safe mode.

    Importing :mod:`cv_core.keypoints.losses` first registers the losses, so a compiled model
    loads with them; ``compile=False`` skips them (enough to predict).
    """
    from cv_core._tf import keras as _keras
    from cv_core.keypoints import losses  # noqa: F401  (registers the custom losses)

    return _keras().models.load_model(path, compile=compile, safe_mode=True)
