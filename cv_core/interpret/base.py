"""What every heatmap method shares: the target layer, compiled passes, batching, resizing,
normalising and test-time smoothing. A method is a small subclass that says how to weight
the target layer's activations (see ``grad_cam.py``, ``grad_cam_plus_plus.py``, ...).

The expensive parts run inside ``tf.function``: the forward pass of the cached tap model,
the gradient of the class score with respect to the target layer, the weighting and the
resize to the input's size. The class index is passed as a tensor, so explaining another
class never retraces.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from cv_core.interpret._graph import TapModel, as_batch, last_conv_layer, tap_model

__all__ = ["BaseCAM", "Explanation", "class_probabilities", "normalize_map", "compiled_forward"]

#: Zoom factor of the zoomed copies used by test-time smoothing.
AUGMENT_ZOOM = 1.2


@dataclass
class Explanation:
    """A heatmap and what it explains.

    Attributes:
        heatmap: (H, W) float32 in [0, 1], at the input image's height and width.
        class_index: the class explained.
        probabilities: (num_classes,) the model's probabilities for the image.
        method: the method's registry name, e.g. "grad_cam".
        layer_name: the target layer (None for pixel-level methods).
    """

    heatmap: np.ndarray
    class_index: int
    probabilities: np.ndarray
    method: str
    layer_name: str | None = None
    extras: dict = field(default_factory=dict)


def normalize_map(cam: np.ndarray) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its maximum (an all-zero map stays zero)."""
    cam = np.nan_to_num(np.maximum(np.asarray(cam, dtype=np.float32), 0.0))
    top = float(cam.max()) if cam.size else 0.0
    return (cam / top).astype(np.float32) if top > 0 else np.zeros_like(cam, dtype=np.float32)


_FUNCTIONS_LOCK = threading.Lock()


def _cached_function(taps: TapModel, key: str, make):
    """A compiled function per (tap model, key), built by ``make()`` on first use.

    Kept on the :class:`TapModel` itself: a function holds its tap model, so a cache keyed
    weakly on the tap model would keep it alive for ever.
    """
    with _FUNCTIONS_LOCK:
        if key not in taps.functions:
            taps.functions[key] = make()
        return taps.functions[key]


def _batch_signature(taps: TapModel):
    from cv_core._tf import tensorflow

    tf = tensorflow()
    return tf.TensorSpec((None, *taps.input_shape), tf.float32)


def _batch_and_class_signature(taps: TapModel):
    """The input signature of a compiled ``(image batch, class index)`` function."""
    from cv_core._tf import tensorflow

    tf = tensorflow()
    return [_batch_signature(taps), tf.TensorSpec((), tf.int32)]


def _compiled_on_batch_and_class(taps: TapModel, key: str, body):
    """``body(tf, model, x, class_index)`` compiled once per tap model and ``key`` as a ``tf.function``
    of an image batch (float32) and a class index (int32 scalar)."""
    from cv_core._tf import tensorflow

    tf = tensorflow()

    def make():
        model = taps.model

        @tf.function(input_signature=_batch_and_class_signature(taps))
        def run(x, class_index):
            return body(tf, model, x, class_index)

        return run

    return _cached_function(taps, key, make)


def compiled_forward(taps: TapModel):
    """A compiled forward pass of a tap model: batch in, ``[*taps, scores, probabilities]`` out."""
    from cv_core._tf import tensorflow

    tf = tensorflow()

    def make():
        model = taps.model

        @tf.function(input_signature=[_batch_signature(taps)])
        def forward(x):
            return model(x, training=False)

        return forward

    return _cached_function(taps, "forward", make)


def class_probabilities(model, image) -> np.ndarray:
    """The model's class probabilities for one image, (num_classes,).

    A one-unit sigmoid classifier gives two probabilities, ``[1 - p, p]``.
    """
    taps = tap_model(model)
    probabilities = np.asarray(compiled_forward(taps)(as_batch(image))[-1])[0]
    if probabilities.ndim > 1:  # a segmentation model: the mean over pixels
        probabilities = probabilities.reshape(-1, probabilities.shape[-1]).mean(axis=0)
    return probabilities


def _class_target(tf, scores, class_index, target_mask):
    """Per-image score of ``class_index``: the logit, or its sum over a region for dense outputs."""
    if len(scores.shape) == 2:
        return tf.gather(scores, class_index, axis=-1)
    plane = tf.gather(scores, class_index, axis=-1)  # (B, H, W)
    return tf.reduce_sum(plane * target_mask, axis=[1, 2])


def _default_class(tf, scores):
    first = scores[0]
    if len(first.shape) > 1:
        first = tf.reduce_mean(tf.reshape(first, (-1, first.shape[-1])), axis=0)
    return tf.cast(tf.argmax(first), tf.int32)


def _region_mask(tf, scores, class_index):
    """For dense (segmentation) outputs: where the model predicts ``class_index`` (or everywhere)."""
    predicted = tf.cast(tf.equal(tf.cast(tf.argmax(scores, axis=-1), tf.int32), class_index), tf.float32)
    any_pixel = tf.reduce_sum(predicted, axis=[1, 2], keepdims=True) > 0
    return tf.where(any_pixel, predicted, tf.ones_like(predicted))


def _summed_class_score(tf, scores, class_index):
    """The batch's total score of ``class_index`` (for dense outputs, over the predicted region)."""
    mask = _region_mask(tf, scores, class_index) if len(scores.shape) == 4 else None
    return tf.reduce_sum(_class_target(tf, scores, class_index, mask))


# --------------------------------------------------------------------------------------
# Test-time smoothing: flips and a zoom, undone on the heatmaps
# --------------------------------------------------------------------------------------


def _zoom_in(image: np.ndarray, factor: float) -> np.ndarray:
    """The central 1/factor of ``image`` (H, W, C) resized back to (H, W)."""
    from cv_core.images import resize_bilinear

    height, width = image.shape[:2]
    crop_h, crop_w = round(height / factor), round(width / factor)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return resize_bilinear(image[top:top + crop_h, left:left + crop_w], (height, width))


def _unzoom_map(cam: np.ndarray, factor: float) -> np.ndarray:
    """Put the heatmap of a zoomed copy back where it belongs; NaN outside the crop."""
    from cv_core.images import resize_bilinear

    height, width = cam.shape
    crop_h, crop_w = round(height / factor), round(width / factor)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    small = resize_bilinear(cam, (crop_h, crop_w))
    out = np.full((height, width), np.nan, np.float32)
    out[top:top + crop_h, left:left + crop_w] = small
    return out


def augmented_batch(batch: np.ndarray) -> np.ndarray:
    """The image, its mirror, a zoomed copy and the zoomed mirror, as one batch of four."""
    image = batch[0]
    zoomed = _zoom_in(image, AUGMENT_ZOOM)
    return np.stack([image, image[:, ::-1], zoomed, zoomed[:, ::-1]]).astype(np.float32)


def merge_augmented(cams: np.ndarray) -> np.ndarray:
    """Undo :func:`augmented_batch`'s transforms on four heatmaps and average them."""
    restored = [cams[0], cams[1][:, ::-1], _unzoom_map(cams[2], AUGMENT_ZOOM),
                _unzoom_map(cams[3][:, ::-1], AUGMENT_ZOOM)]
    return np.nanmean(np.stack(restored), axis=0)


# --------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------


class BaseCAM:
    """A class-activation-map method on one model and target layer.

    Subclasses override :meth:`weight_activations` (a gradient-weighted method) or
    :meth:`compute` (a method that needs something else, such as masked forward passes).

    Args:
        model: a built Keras classifier (Functional, Sequential, or with a nested model); a
            segmentation model works too (the target is the class's scores in its region).
        layer_name: the target layer; :func:`last_conv_layer` by default.
        augment: test-time smoothing — average the maps of the image, its mirror image and
            a zoomed copy of both (four passes in one batch).

    Raises:
        ValueError: an unknown layer name, or a model this cannot read (several inputs).
    """

    #: Registry name and the label people see (English, marked where it has words to translate;
    #: shown through ``_()``).
    name = "base"
    label = "Base"
    #: Whether the method needs a target layer (False for pixel-level methods).
    uses_layer = True

    def __init__(self, model, layer_name: str | None = None, augment: bool = False) -> None:
        self.model = model
        self.layer_name = (layer_name or last_conv_layer(model)) if self.uses_layer else None
        self.augment = bool(augment)
        self.taps = tap_model(model, (self.layer_name,) if self.layer_name else ())

    # -- what a method provides ------------------------------------------------------------
    @staticmethod
    def weight_activations(tf, activations, gradients):
        """(B, h, w, C) activations and gradients of the class score -> (B, h, w) raw map."""
        raise NotImplementedError

    # -- plumbing ------------------------------------------------------------------------------
    def _gradient_function(self):
        weight = self.weight_activations
        height, width = self.taps.input_shape[:2]

        def body(tf, model, x, class_index):
            with tf.GradientTape() as tape:
                tape.watch(x)
                activations, scores, probabilities = model(x, training=False)
                chosen = tf.where(class_index < 0, _default_class(tf, scores), class_index)
                target = _summed_class_score(tf, scores, chosen)
            gradients = tape.gradient(target, activations)
            cam = tf.nn.relu(weight(tf, activations, gradients))
            cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
            return cam, probabilities[0], chosen

        return _compiled_on_batch_and_class(self.taps, f"gradients:{type(self).__name__}", body)

    def compute(self, batch: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Raw maps for a batch (the first image decides the default class).

        Returns:
            (maps (B, H, W) float32, probabilities of the first image, class index used).
        """
        cams, probabilities, chosen = self._gradient_function()(batch, np.int32(class_index))
        return np.asarray(cams), np.asarray(probabilities), int(chosen)

    def _check_class(self, class_index) -> int:
        if class_index is None:
            return -1
        if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) or \
                not 0 <= int(class_index) < self.taps.num_classes:
            raise ValueError(
                f"Expected `class_index` in [0, {self.taps.num_classes}) or None. Received: class_index={class_index!r}"
            )
        return int(class_index)

    def _check_image(self, image) -> np.ndarray:
        batch = as_batch(image)
        expected = tuple(self.taps.input_shape)
        if tuple(batch.shape[1:]) != expected and None not in expected:
            raise ValueError(
                f"Expected an image of shape {expected} for model {self.model.name!r}. "
                f"Received: {tuple(batch.shape[1:])}. Resize (and preprocess) it first."
            )
        return batch

    # -- public API ----------------------------------------------------------------------------
    def explain(self, image, class_index: int | None = None) -> Explanation:
        """The heatmap of ``class_index`` (the top class when None) for one image, with context."""
        index = self._check_class(class_index)
        batch = self._check_image(image)
        if self.augment:
            batch = augmented_batch(batch)
        cams, probabilities, chosen = self.compute(batch, index)
        cam = merge_augmented(cams) if self.augment else cams[0]
        if probabilities.ndim > 1:
            probabilities = probabilities.reshape(-1, probabilities.shape[-1]).mean(axis=0)
        return Explanation(heatmap=normalize_map(cam), class_index=chosen, probabilities=probabilities,
                           method=self.name, layer_name=self.layer_name)

    def __call__(self, image, class_index: int | None = None) -> np.ndarray:
        """The (H, W) float32 heatmap in [0, 1] of ``class_index`` (the top class when None)."""
        return self.explain(image, class_index).heatmap
