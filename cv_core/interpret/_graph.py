"""The plumbing every interpretation method shares: finding layers and tapping their outputs.

A Keras model hides its intermediate tensors. To read them (activations) or differentiate
with respect to them (class-activation maps), we *replay* the model's graph on a fresh
input and record what each layer returns, descending into nested models (a
``keras.applications`` model inside an outer model) and into Sequential models built
without an ``Input``. The replayed graph becomes one multi-output ``keras.Model`` — the
"tap model" — cached per model, so a page that explains many images builds it once.

The tap model also exposes the *class scores*: the input of the classifier's final softmax
or sigmoid (the logits), which is what Grad-CAM should differentiate. A two-class model
with one sigmoid unit ``z`` gets the scores ``[-z, z]`` (so class 0 can be explained too).

Nothing here imports TensorFlow at module level.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cv_core.i18n import _

__all__ = [
    "LAYER_KINDS",
    "TapModel",
    "as_batch",
    "feature_map_layers",
    "find_layer",
    "forget_taps",
    "iter_layers",
    "last_conv_layer",
    "layer_kind",
    "tap_model",
]

#: Layer classes grouped into the kinds that the activation viewer shows.
LAYER_KINDS = {
    "convolution": ("Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D",
                    "Conv2DTranspose", "Conv1DTranspose", "Conv3DTranspose"),
    "pooling": ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
                "GlobalMaxPooling2D"),
    "normalization": ("BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"),
    "activation": ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"),
}
_KIND_OF_CLASS = {cls: kind for kind, classes in LAYER_KINDS.items() for cls in classes}
_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


def as_batch(image) -> np.ndarray:
    """One picture as a float32 batch of one: (H, W, C) or (1, H, W, C) in, (1, H, W, C) out.

    Raises:
        ValueError: not one image of rank 3 (or a batch of exactly one).
    """
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(
            "Expected one image of shape (height, width, channels) or a batch of one. "
            f"Received: an array of shape {tuple(np.shape(image))}"
        )
    return array.astype(np.float32, copy=False)[None]


def _is_model(layer) -> bool:
    from cv_core._tf import keras

    return isinstance(layer, keras().Model)


def iter_layers(model) -> Iterable:
    """Every layer of ``model`` in graph order, nested models' layers included (not the models)."""
    for layer in model.layers:
        if _is_model(layer):
            yield from iter_layers(layer)
        else:
            yield layer


def find_layer(model, name: str):
    """The layer called ``name`` in ``model`` or any model nested inside it.

    Raises:
        ValueError: no such layer; the message lists a few of the names that exist.
    """
    for layer in iter_layers(model):
        if layer.name == name:
            return layer
    names = [layer.name for layer in iter_layers(model)]
    raise ValueError(
        f"Expected `layer_name` to be a layer of model {model.name!r} (e.g. {', '.join(names[-6:])}). "
        f"Received: layer_name={name!r}"
    )


def layer_kind(layer) -> str | None:
    """"convolution", "pooling", "normalization", "activation" or None for other layers."""
    return _KIND_OF_CLASS.get(type(layer).__name__)


def _output_rank(layer) -> int | None:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):
        return None


def feature_map_layers(model) -> list[str]:
    """Layers a class-activation map can target: 4-D outputs from the first convolution on."""
    names = []
    seen_conv = False
    for layer in iter_layers(model):
        kind = layer_kind(layer)
        seen_conv = seen_conv or kind == "convolution"
        if seen_conv and _output_rank(layer) == 4 and (
                kind is not None or type(layer).__name__ in ("Add", "Concatenate", "Multiply", "Maximum")):
            names.append(layer.name)
    return names


def last_conv_layer(model) -> str:
    """Name of the default target layer for class-activation maps.

    The last layer, in graph order, whose output is a 4-D feature map (batch, height, width,
    channels) and that comes after a convolution: typically the last convolution's
    activation (``block14_sepconv2_act`` in Xception, ``block5_add`` in the mini-Xception,
    ``conv10`` or its ReLU in SqueezeNet). Works for Functional, Sequential and nested models.

    Raises:
        ValueError: the model has no convolution with a 4-D output.
    """
    names = feature_map_layers(model)
    chosen = names[-1] if names else None
    if chosen is None:
        raise ValueError(_("Expected a model with a convolution layer. Received: model {name!r} has none.").format(
            name=model.name))
    return chosen


# --------------------------------------------------------------------------------------
# Replaying a model's graph
# --------------------------------------------------------------------------------------


def _head_layer(model):
    """The layer that produces the model's (first) output, looking through nested models."""
    from cv_core._keras_private import producing_operation

    outputs = getattr(model, "outputs", None)
    layer = producing_operation(outputs[0]) if outputs else None
    if layer is None:
        layer = model.layers[-1]
    return _head_layer(layer) if _is_model(layer) else layer


def _head_kind(layer) -> str:
    """How the head turns scores into probabilities: "softmax", "sigmoid" or "none"."""
    if type(layer).__name__ == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", "")
    return name if name in _PROBABILITY_ACTIVATIONS else "none"


def _linear_call(layer, *args, **kwargs):
    """Call a copy of ``layer`` with a linear activation and the same weights: the logits."""
    config = dict(layer.get_config())
    config["activation"] = "linear"
    config["name"] = f"{layer.name}_logits"
    copy = type(layer).from_config(config)
    out = copy(*args, **kwargs)  # builds it
    copy.set_weights(layer.get_weights())
    return out


def _replay(model, x, record: dict, head, head_out: dict):
    """Run ``model``'s layers on symbolic ``x``, recording each layer's output by name."""
    from cv_core._tf import keras

    def call(layer, *args, **kwargs):
        if _is_model(layer):
            out = _replay(layer, args[0], record, head, head_out)
        elif layer is head and head_out.get("kind", "none") != "none":
            if type(layer).__name__ in ("Activation", "Softmax"):
                scores = args[0]
            else:
                scores = _linear_call(layer, *args, **kwargs)
            head_out["scores"] = scores
            out = layer(*args, **kwargs)
        else:
            out = layer(*args, **kwargs)
        if hasattr(layer, "name"):
            record[layer.name] = out
        return out

    if isinstance(model, keras().Sequential):
        for layer in model.layers:
            x = call(layer, x)
        return x
    # A Functional model: Keras' own graph walker, with our call wrapped around each operation.
    from cv_core._keras_private import run_through_graph

    return run_through_graph(model, x, operation_fn=lambda op: (lambda *a, **k: call(op, *a, **k)))


def _input_shape(model) -> tuple:
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(_("Expected a built model. Received: model {name!r} has never been called.").format(
            name=model.name))
    if len(inputs) != 1:
        raise ValueError(_("Expected a model with one input. Received: model {name!r} has {count}.").format(
            name=model.name, count=len(inputs)))
    return tuple(inputs[0].shape[1:])


@dataclass
class TapModel:
    """A model's intermediate outputs, class scores and probabilities from one forward pass.

    Attributes:
        model: ``keras.Model`` mapping the input batch to ``[*taps, scores, probabilities]``.
        layer_names: the tapped layers, in the order of the outputs.
        head: "softmax", "sigmoid" or "none" — how scores become probabilities.
        input_shape: (H, W, C) of one input image.
        num_classes: width of ``scores`` (2 for a one-unit sigmoid head).
    """

    model: object
    layer_names: tuple[str, ...]
    head: str
    input_shape: tuple
    num_classes: int
    #: Compiled functions over this tap model (see ``base.py``); they live exactly as long as it does.
    functions: dict = field(default_factory=dict, repr=False, compare=False)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def tap_model(model, layer_names: Sequence[str] = ()) -> TapModel:
    """A cached :class:`TapModel` of ``model`` that outputs ``layer_names``' activations.

    The cache lives as long as ``model`` (weakly keyed); the model itself is never changed.

    Args:
        model: a built single-input Keras classifier (Functional, Sequential or nested).
        layer_names: layers to expose, anywhere in the model (nested models included).

    Raises:
        ValueError: an unknown layer name, a model with several inputs, or an unbuilt model.
    """
    names = tuple(layer_names)
    key = names
    with _CACHE_LOCK:
        cached = _CACHE.setdefault(model, {}).get(key)
    if cached is not None:
        return cached
    for name in names:
        find_layer(model, name)
    from cv_core._tf import keras as _keras

    keras = _keras()
    ops = keras.ops
    shape = _input_shape(model)
    head = _head_layer(model)
    head_out: dict = {"kind": _head_kind(head)}
    record: dict = {}
    inputs = keras.Input(shape=shape, name="tap_input")
    output = _replay(model, inputs, record, head, head_out)
    if isinstance(output, (list, tuple)):
        output = output[0]
    kind = head_out["kind"]
    scores = head_out.get("scores", output)
    if kind == "sigmoid" and scores.shape[-1] == 1:
        scores = ops.concatenate([-scores, scores], axis=-1)
        probabilities = ops.concatenate([1.0 - output, output], axis=-1)
    else:
        probabilities = output
    taps = [record[name] for name in names]
    tapped = keras.Model(inputs, [*taps, scores, probabilities], name=f"{model.name}_taps")
    result = TapModel(model=tapped, layer_names=names, head=kind, input_shape=shape,
                      num_classes=int(scores.shape[-1]))
    with _CACHE_LOCK:
        _CACHE.setdefault(model, {})[key] = result
    return result


def forget_taps(model) -> list[TapModel]:
    """Drop ``model``'s cached tap models and return them (an empty list if there were none).

    Needed after ``model``'s weights change in place: a tap model snapshots the classifier
    head's weights for the logits, so it must be rebuilt. The caller can then release the
    compiled functions that the returned tap models hold.
    """
    with _CACHE_LOCK:
        cached = _CACHE.pop(model, None) or {}
    return list(cached.values())
