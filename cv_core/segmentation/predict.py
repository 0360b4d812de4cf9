"""A segmentation model's predictions: a class for every pixel of a picture of any size.

>>> from cv_core.segmentation import predict_mask
>>> prediction = predict_mask(model, picture)          # any (H, W, 3) uint8 picture
>>> prediction.mask, prediction.confidence              # (H, W) class indices and their probability

TensorFlow is imported when a function needs it, not with this module.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from cv_core.datasets.base import resize_image
from cv_core.images import resize_bilinear

__all__ = ["MaskPrediction", "model_input_size", "predict_mask", "predict_probabilities", "resize_probabilities"]

_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FORWARD_LOCK = threading.Lock()


def _forward(model):
    """A compiled forward pass of ``model`` (traced once per model and batch size, kept while the model lives)."""
    with _FORWARD_LOCK:
        function = _FORWARD.get(model)
        if function is None:
            from cv_core._tf import tensorflow

            tf = tensorflow()
            shape = tuple(model.input_shape[1:])

            @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32)])
            def function(x):
                return model(x, training=False)

            _FORWARD[model] = function
        return function


def model_input_size(model) -> tuple[int, int]:
    """(height, width) a segmentation model takes."""
    height, width = model.input_shape[1:3]
    return int(height), int(width)


def predict_probabilities(model, images, batch_size: int = 32) -> np.ndarray:
    """Per-pixel class probabilities of a batch of images at the model's input size.

    Args:
        model: a segmentation model (output (B, H, W, C) probabilities).
        images: (N, H, W, 3) at the model's input size, float or uint8 in [0, 255].
        batch_size: images per forward pass.

    Returns:
        (N, H, W, C) float32.
    """
    images = np.asarray(images, np.float32)
    forward = _forward(model)
    parts = [np.asarray(forward(images[start:start + batch_size])) for start in range(0, len(images), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]), np.float32)


@dataclass(frozen=True)
class MaskPrediction:
    """A model's reading of one picture, pixel by pixel.

    Attributes:
        probabilities: (H, W, C) float32, the class distribution of every pixel.
    """

    probabilities: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """(H, W) uint8 (int32 above 256 classes): the most probable class of each pixel."""
        mask = self.probabilities.argmax(axis=-1)
        return mask.astype(np.uint8 if self.probabilities.shape[-1] <= 256 else np.int32)

    @property
    def confidence(self) -> np.ndarray:
        """(H, W) float32 in [0, 1]: the probability of each pixel's predicted class."""
        return self.probabilities.max(axis=-1)


def resize_probabilities(probabilities: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (h, w, C) probabilities to ``size``, renormalised to sum to 1."""
    if probabilities.shape[:2] == tuple(size):
        return probabilities
    out = resize_bilinear(probabilities, size)
    return (out / np.maximum(out.sum(axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def predict_mask(model, picture: np.ndarray, output_size: tuple[int, int] | None = None) -> MaskPrediction:
    """The model's mask of one picture of any size.

    The picture is resized to the model's input (what it was trained on), and the
    probabilities are resized back, bilinearly, to ``output_size``.

    Args:
        model: a segmentation model.
        picture: (H, W, 3) uint8 RGB.
        output_size: (height, width) of the result; the picture's own size if None.

    Returns:
        A :class:`MaskPrediction` at ``output_size``.
    """
    picture = np.asarray(picture, np.uint8)
    size = model_input_size(model)
    view = resize_image(picture, size)
    probabilities = predict_probabilities(model, view[None])[0]
    return MaskPrediction(resize_probabilities(probabilities, output_size or picture.shape[:2]))
