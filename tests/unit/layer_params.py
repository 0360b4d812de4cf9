"""A model's parameter count worked out from its layers' shapes and settings, by the textbook
formulas, independently of Keras' own ``count_params()``.

Tests compare the two where no outside source (the book, Keras' documented application sizes)
gives the count: a number copied from a previous run would only say that nothing changed. A layer
type that holds weights and is not listed here fails loudly rather than counting as zero.
"""

from __future__ import annotations

from math import prod

#: Layer types that hold no weights.
WEIGHTLESS = {
    "InputLayer", "Rescaling", "Activation", "ReLU", "Add", "Concatenate", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dropout", "SpatialDropout2D", "Flatten", "Reshape",
    "UpSampling2D", "ZeroPadding2D", "Cropping2D", "Multiply", "Softmax", "Identity",
    "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomCrop",
}


def _channels_in(layer) -> int:
    return int(layer.input.shape[-1])


def layer_params(layer) -> int:
    """Weights of one layer (trainable or not) from its input shape and configuration."""
    kind = type(layer).__name__
    config = layer.get_config()
    if hasattr(layer, "layers") and kind not in WEIGHTLESS:  # a nested model or sequential block
        return sum(layer_params(inner) for inner in layer.layers)
    if kind in WEIGHTLESS:
        return 0
    bias = lambda n: n if config.get("use_bias", True) else 0  # noqa: E731 - one line per formula
    if kind in ("Conv2D", "Conv2DTranspose"):
        cin, cout, k = _channels_in(layer), config["filters"], prod(config["kernel_size"])
        return k * cin // config.get("groups", 1) * cout + bias(cout)
    if kind == "SeparableConv2D":
        cin, cout, k, dm = _channels_in(layer), config["filters"], prod(config["kernel_size"]), config["depth_multiplier"]
        return k * cin * dm + cin * dm * cout + bias(cout)
    if kind == "DepthwiseConv2D":
        cin, k, dm = _channels_in(layer), prod(config["kernel_size"]), config["depth_multiplier"]
        return k * cin * dm + bias(cin * dm)
    if kind == "Dense":
        return _channels_in(layer) * config["units"] + bias(config["units"])
    if kind == "BatchNormalization":  # gamma, beta (if used), moving mean and variance
        return _channels_in(layer) * (2 + bool(config["center"]) + bool(config["scale"]))
    raise AssertionError(f"layer_params does not know {kind} ({layer.name}), which holds weights")


def params_from_shapes(model) -> int:
    """A model's parameters summed layer by layer with :func:`layer_params`."""
    return sum(layer_params(layer) for layer in model.layers)
