"""Intermediate activations (the book's first interpretation technique): what every
convolution, pooling, normalisation and activation layer outputs for one picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cv_core.i18n import N_, _
from cv_core.interpret._graph import as_batch, iter_layers, layer_kind, tap_model
from cv_core.interpret.base import compiled_forward

__all__ = ["ACTIVE_SHARE_OF_PEAK", "LayerInfo", "active_share", "activation_layers", "activations", "describe_layer"]


@dataclass(frozen=True)
class LayerInfo:
    """One layer the activation viewer can show.

    Attributes:
        name: the layer's name (stable across builds for the lab's models).
        kind: "convolution", "pooling", "normalization" or "activation".
        class_name: the Keras class, e.g. "SeparableConv2D".
        output_shape: per image, e.g. (62, 62, 32).
        description: one sentence on what the layer does, for people.
    """

    name: str
    kind: str
    class_name: str
    output_shape: tuple
    description: str


def _pair(value) -> str:
    if isinstance(value, (tuple, list)):
        return " × ".join(str(v) for v in value)
    return f"{value} × {value}"


def _detailed(stride: str, activation: str | None, plain: str, strided: str, activated: str, both: str,
              **values) -> str:
    """The one of four whole sentences that fits: with or without a stride, with or without an activation."""
    if stride and activation:
        return _(both).format(stride=stride, activation=activation, **values)
    if stride:
        return _(strided).format(stride=stride, **values)
    if activation:
        return _(activated).format(activation=activation, **values)
    return _(plain).format(**values)


def describe_layer(layer) -> str:
    """One plain sentence on what ``layer`` does (filters, window, stride, activation), in the current language."""
    cls = type(layer).__name__
    config = layer.get_config()
    activation = config.get("activation")
    activation = activation if activation not in (None, "linear") else None
    strides = config.get("strides")
    stride = "" if strides in (None, 1, (1, 1), [1, 1]) else _pair(strides)
    if cls in ("SeparableConv2D", "SeparableConv1D"):
        return _detailed(
            stride, activation,
            N_("Depthwise separable convolution: one {kernel} filter per input channel, then {filters} 1 × 1 "
               "filters mixing the channels."),
            N_("Depthwise separable convolution: one {kernel} filter per input channel, then {filters} 1 × 1 "
               "filters mixing the channels, stride {stride}."),
            N_("Depthwise separable convolution: one {kernel} filter per input channel, then {filters} 1 × 1 "
               "filters mixing the channels, then {activation}."),
            N_("Depthwise separable convolution: one {kernel} filter per input channel, then {filters} 1 × 1 "
               "filters mixing the channels, stride {stride}, then {activation}."),
            kernel=_pair(config["kernel_size"]), filters=config["filters"])
    if cls == "DepthwiseConv2D":
        return _detailed(
            stride, activation,
            N_("Depthwise convolution: one {kernel} filter per channel."),
            N_("Depthwise convolution: one {kernel} filter per channel, stride {stride}."),
            N_("Depthwise convolution: one {kernel} filter per channel, then {activation}."),
            N_("Depthwise convolution: one {kernel} filter per channel, stride {stride}, then {activation}."),
            kernel=_pair(config["kernel_size"]))
    if cls.endswith("Transpose"):
        return _detailed(
            stride, activation,
            N_("Transposed convolution (upsampling): {filters} filters of {kernel}."),
            N_("Transposed convolution (upsampling): {filters} filters of {kernel}, stride {stride}."),
            N_("Transposed convolution (upsampling): {filters} filters of {kernel}, then {activation}."),
            N_("Transposed convolution (upsampling): {filters} filters of {kernel}, stride {stride}, then "
               "{activation}."),
            kernel=_pair(config["kernel_size"]), filters=config["filters"])
    if layer_kind(layer) == "convolution":
        return _detailed(
            stride, activation,
            N_("Convolution: {filters} filters of {kernel}."),
            N_("Convolution: {filters} filters of {kernel}, stride {stride}."),
            N_("Convolution: {filters} filters of {kernel}, then {activation}."),
            N_("Convolution: {filters} filters of {kernel}, stride {stride}, then {activation}."),
            kernel=_pair(config["kernel_size"]), filters=config["filters"])
    if cls.startswith("Global"):
        if "Average" in cls:
            return _("Global pooling: averages each channel over the whole map, one number per channel.")
        return _("Global pooling: takes the maximum of each channel over the whole map, one number per channel.")
    if layer_kind(layer) == "pooling":
        window = _pair(config["pool_size"])
        if "Max" in cls:
            return _detailed(stride, None,
                             N_("Pooling: the maximum of each {window} window, which shrinks the map."),
                             N_("Pooling: the maximum of each {window} window, stride {stride}, which shrinks the map."),
                             "", "", window=window)
        return _detailed(stride, None,
                         N_("Pooling: the average of each {window} window, which shrinks the map."),
                         N_("Pooling: the average of each {window} window, stride {stride}, which shrinks the map."),
                         "", "", window=window)
    if cls == "BatchNormalization":
        return _("Batch normalisation: rescales each channel to zero mean and unit variance "
                 "(batch statistics in training, moving averages at inference), then a learned scale and shift.")
    if layer_kind(layer) == "normalization":
        return _("{layer}: rescales activations to a standard range.").format(layer=cls)
    if layer_kind(layer) == "activation":
        name = config.get("activation") or cls.lower()
        if name == "relu":
            return _("Activation: {name} applied to every value (negative values become 0).").format(name=name)
        return _("Activation: {name} applied to every value.").format(name=name)
    return _("{layer} layer.").format(layer=cls)


def _shape(layer) -> tuple:
    try:
        return tuple(layer.output.shape[1:])
    except (AttributeError, ValueError):
        return ()


def activation_layers(model) -> list[LayerInfo]:
    """The layers :func:`activations` reports, in graph order (nested models included)."""
    out = []
    for layer in iter_layers(model):
        kind = layer_kind(layer)
        if kind is not None:
            out.append(LayerInfo(layer.name, kind, type(layer).__name__, _shape(layer), describe_layer(layer)))
    return out


def activations(model, image, layer_names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Outputs of every convolution, pooling, normalisation and activation layer for one image.

    One forward pass of a cached multi-output model (built once per model and set of layers).

    Args:
        model: a built Keras model (Functional, Sequential or nested).
        image: one picture as the model takes it, (H, W, C) or a batch of one, already
            preprocessed for models that need it.
        layer_names: only these layers (any layer of the model, in this order); every
            convolution, pooling, normalisation and activation layer when None.

    Returns:
        ``{layer name: float32 array}``, each with a batch axis of 1 like a Keras output,
        e.g. ``(1, 62, 62, 32)`` for a convolution, ``(1, 64)`` for global pooling.

    Raises:
        ValueError: an unknown layer name or an image that is not one picture.
    """
    names = tuple(layer_names) if layer_names is not None else tuple(info.name for info in activation_layers(model))
    batch = as_batch(image)
    taps = tap_model(model, names)
    outputs = compiled_forward(taps)(batch)
    return {name: np.asarray(value) for name, value in zip(names, outputs[: len(names)])}


#: A value counts as active when its size is at least this share of the layer's largest value.
ACTIVE_SHARE_OF_PEAK = 0.01


def active_share(values, share_of_peak: float = ACTIVE_SHARE_OF_PEAK) -> float:
    """The share of a layer's outputs that are active: at least ``share_of_peak`` of its largest size.

    "Above zero" means nothing for a softmax (every output is positive) or a convolution
    before its ReLU (about half are negative); measured against the layer's own peak, a ReLU
    layer's zeros, a softmax's classes with next to no probability and a convolution's
    near-silent positions all count as inactive, so the number means the same for every layer.

    Args:
        values: one layer's output for one picture, any shape.
        share_of_peak: in (0, 1]; 0.01 counts values within 1% of the peak's size as inactive.

    Returns:
        A float in [0, 1]; 0 for an all-zero (or empty) output.

    Raises:
        ValueError: ``share_of_peak`` outside (0, 1].
    """
    if isinstance(share_of_peak, bool) or not isinstance(share_of_peak, (int, float)) or not 0 < share_of_peak <= 1:
        raise ValueError(f"Expected `share_of_peak` in (0, 1]. Received: share_of_peak={share_of_peak!r}")
    size = np.abs(np.nan_to_num(np.asarray(values, dtype=np.float32)))
    peak = float(size.max()) if size.size else 0.0
    if peak <= 0:
        return 0.0
    return float((size >= share_of_peak * peak).mean())
