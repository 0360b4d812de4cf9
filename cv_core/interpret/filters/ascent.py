"""Gradient ascent in input space: the compiled feature extractor, objective and ascent step,
the two image parameterisations, start images and the book's display of a pattern."""

from __future__ import annotations

import math
import threading

import numpy as np

from cv_core.interpret._graph import TapModel
from cv_core.interpret.base import _cached_function
from cv_core.interpret.filters.options import BORDER, CROP_FRACTION, FOURIER_INIT_SD

# Square root of ImageNet's colour correlation (Lucid's ``color_correlation_svd_sqrt``),
# normalised so that no column is longer than 1: maps decorrelated colours to RGB.
_COLOR_SQRT = np.asarray([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
_COLOR_SQRT = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
_ADAM = (0.9, 0.999, 1e-8)  # beta_1, beta_2, epsilon
_REGISTER_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------
# The compiled pieces: feature extractor, objective, one ascent step
# --------------------------------------------------------------------------------------


def _preprocess_key(taps: TapModel, preprocess) -> str:
    """A cache key for ``preprocess``: equal callables (the same function, or the same bound
    method of the same object, such as ``pretrained.preprocess_tensor``) share one key."""
    if preprocess is None:
        return "identity"
    known = _cached_function(taps, "filters:preprocessors", dict)  # {callable: number}, kept alive
    with _REGISTER_LOCK:
        try:
            number = known.setdefault(preprocess, len(known))
        except TypeError:  # an unhashable callable: one compile per object
            number = f"object{id(preprocess)}"
            known.setdefault(number, preprocess)
    return f"preprocess{number}"


def _extractor(taps: TapModel):
    """A model from the input to the tapped layer only (the rest of the network is not run)."""

    def make():
        from cv_core._tf import keras

        return keras().Model(taps.model.input, taps.model.outputs[0], name=f"{taps.model.name}_filters")

    return _cached_function(taps, "filters:extractor", make)


def _filter_means(tf, features, filter_indices):
    """Each image's mean activation of its own filter, leaving out a BORDER-pixel frame
    (the whole map when it is too small to have an inside)."""
    height, width, channels = features.shape[1:]
    features = tf.cast(features, tf.float32)
    if height is None or width is None:  # a size known only at run time: slice
        inside = features[:, BORDER:-BORDER, BORDER:-BORDER]
        per_channel = tf.reduce_mean(inside, axis=[1, 2])
    else:
        # A constant weight map rather than a slice: slicing's gradient is slow on a CPU.
        weights = np.zeros((height, width), np.float32)
        rows = slice(BORDER, height - BORDER) if height > 2 * BORDER else slice(None)
        cols = slice(BORDER, width - BORDER) if width > 2 * BORDER else slice(None)
        weights[rows, cols] = 1.0
        weights = tf.constant((weights / weights.sum())[None, :, :, None])
        per_channel = tf.reduce_sum(features * weights, axis=[1, 2])  # (n, channels)
    return tf.reduce_sum(per_channel * tf.one_hot(filter_indices, channels), axis=-1)


def _squared_frequencies(height: int, width: int) -> np.ndarray:
    """Squared spatial frequencies (cycles per pixel) of an rfft2d spectrum, (height, width // 2 + 1)."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    return (fx * fx + fy * fy).astype(np.float32)


def _fourier_scale(height: int, width: int) -> np.ndarray:
    """Lucid's spectrum scale: 1/frequency (floored at one cycle per image), made unitary."""
    frequencies = np.sqrt(_squared_frequencies(height, width))
    scale = 1.0 / np.maximum(frequencies, 1.0 / max(height, width))
    return (scale * np.sqrt(height * width)).astype(np.float32)


def _fourier_to_rgb(tf, spectrum, scale, size):
    """(n, 2, 3, fh, fw) real and imaginary parts -> (n, h, w, 3) RGB in [0, 255]."""
    complex_spectrum = tf.complex(spectrum[:, 0] * scale, spectrum[:, 1] * scale)
    image = tf.signal.irfft2d(complex_spectrum, fft_length=size)  # (n, 3, h, w)
    image = tf.transpose(image, (0, 2, 3, 1)) / 4.0
    image = tf.tensordot(image, tf.constant(_COLOR_SQRT.T), axes=1)
    return 255.0 * tf.sigmoid(image)


def _blur_pixels(tf, image, response, size):
    """Gaussian blur of (n, h, w, 3) images through the FFT (wrapping round, like the jitter)."""
    planes = tf.transpose(image, (0, 3, 1, 2))
    spectrum = tf.signal.rfft2d(planes, fft_length=size) * tf.cast(response, tf.complex64)
    return tf.transpose(tf.signal.irfft2d(spectrum, fft_length=size), (0, 2, 3, 1))


_REDIRECTED_RELU = "CvCoreFilterPatternsRedirectedRelu"
_REGISTERED: list = []


def _redirected_relu_gradient(op, grad):
    """Lucid's "redirected ReLU": a ReLU's gradient, except that for an image where the ReLU
    blocks every gradient (a filter that is silent on the start image), the gradient is let
    through wherever it would raise the ReLU's input. Without it a silent filter never wakes up.
    Costs one extra reduction per ReLU when no image is blocked.
    """
    from cv_core._tf import tensorflow

    tf = tensorflow()
    relu_grad = tf.raw_ops.ReluGrad(gradients=grad, features=op.outputs[0])
    rank = grad.shape.rank
    axes = list(range(1, rank)) if rank and rank > 1 else None
    blocked = tf.equal(tf.reduce_max(tf.abs(relu_grad), axis=axes, keepdims=True), 0.0)  # per image

    def redirect():
        pushing_down = tf.logical_and(op.inputs[0] <= 0, grad < 0)
        return tf.where(blocked, tf.where(pushing_down, tf.zeros_like(grad), grad), relu_grad)

    return tf.cond(tf.reduce_any(blocked), redirect, lambda: relu_grad)


def _register_gradient(tf) -> None:
    with _REGISTER_LOCK:
        if not _REGISTERED:
            try:
                tf.RegisterGradient(_REDIRECTED_RELU)(_redirected_relu_gradient)
            except KeyError:  # registered by an earlier import of this module
                pass
            _REGISTERED.append(True)


def _step_function(taps: TapModel, parameterization: str, size: tuple[int, int], preprocess,
                   redirect: bool = False):
    """The compiled ascent step for one (layer, parameterisation, size, preprocess); cached.

    With ``redirect`` the model's ReLUs get the redirected gradient (a little slower: used
    only once some image's gradient has come out zero).
    """
    from cv_core._tf import tensorflow

    tf = tensorflow()
    height, width = size
    key = f"filters:step:{parameterization}:{height}x{width}:{_preprocess_key(taps, preprocess)}"
    key += ":redirected-relu" if redirect else ""
    extractor = _extractor(taps)  # outside make(): the cache's lock is not re-entrant
    _register_gradient(tf)

    def make():
        squared_frequencies = tf.constant(_squared_frequencies(height, width))
        fourier = parameterization == "fourier"
        scale = tf.constant(_fourier_scale(height, width))
        if fourier:
            param_spec = tf.TensorSpec((None, 2, 3, *squared_frequencies.shape), tf.float32)
        else:
            param_spec = tf.TensorSpec((None, height, width, 3), tf.float32)
        scalar = tf.TensorSpec((), tf.float32)
        beta_1, beta_2, epsilon = _ADAM

        @tf.function(autograph=False, input_signature=[  # plain TF ops: nothing for AutoGraph to convert
            param_spec, param_spec, param_spec, tf.TensorSpec((None,), tf.int32),  # params, Adam m, v, filters
            tf.TensorSpec((), tf.int32), tf.TensorSpec((2,), tf.int32),  # step number, seed
            scalar, tf.TensorSpec((), tf.int32), scalar, tf.TensorSpec((), tf.int32), scalar,
        ])
        def step(params, m, v, filter_indices, step_number, seed, learning_rate, jitter, blur, blur_every, decay):
            shift = tf.random.stateless_uniform((2,), seed=seed + tf.stack([0, step_number]),
                                                minval=-jitter, maxval=jitter + 1, dtype=tf.int32)
            overrides = {"Relu": _REDIRECTED_RELU} if redirect else {}
            with tf.compat.v1.get_default_graph().gradient_override_map(overrides):
                rgb = _fourier_to_rgb(tf, params, scale, size) if fourier else 255.0 * params
                rgb = tf.roll(rgb, shift, axis=[1, 2])
                inputs = rgb if preprocess is None else preprocess(rgb)
                means = _filter_means(tf, extractor(inputs, training=False), filter_indices)
            objective = tf.reduce_sum(means)  # images are independent: one gradient each
            gradients = tf.gradients(objective, params, unconnected_gradients="zero")[0]
            gradients = tf.where(tf.math.is_finite(gradients), gradients, tf.zeros_like(gradients))
            norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=list(range(1, len(param_spec.shape)))))
            due = tf.logical_and(blur > 0, tf.equal((step_number + 1) % blur_every, 0))
            response = tf.exp(-2.0 * math.pi ** 2 * tf.square(blur) * squared_frequencies)
            if fourier:
                # Adam, climbing; bias-corrected with t = step_number + 1.
                m = beta_1 * m + (1.0 - beta_1) * gradients
                v = beta_2 * v + (1.0 - beta_2) * tf.square(gradients)
                t = tf.cast(step_number + 1, tf.float32)
                rate = learning_rate * tf.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
                params = (params + rate * m / (tf.sqrt(v) + epsilon)) * (1.0 - decay)
                params = tf.cond(due, lambda: params * response, lambda: params)
            else:
                # The book's step: the L2-normalised gradient (per image), times the learning rate.
                unit = gradients / tf.maximum(norms, 1e-12)[:, None, None, None]
                params = params + learning_rate * unit
                params = 0.5 + (params - 0.5) * (1.0 - decay)
                params = tf.cond(due, lambda: _blur_pixels(tf, params, response, size), lambda: params)
            return params, m, v, means, norms

        return step

    return _cached_function(taps, key, make)


def _scores_function(taps: TapModel, size: tuple[int, int], preprocess):
    from cv_core._tf import tensorflow

    tf = tensorflow()
    key = f"filters:scores:{size[0]}x{size[1]}:{_preprocess_key(taps, preprocess)}"
    extractor = _extractor(taps)

    def make():

        @tf.function(autograph=False,
                     input_signature=[tf.TensorSpec((None, *size, 3), tf.float32), tf.TensorSpec((None,), tf.int32)])
        def scores(rgb, filter_indices):
            inputs = rgb if preprocess is None else preprocess(rgb)
            return _filter_means(tf, extractor(inputs, training=False), filter_indices)

        return scores

    return _cached_function(taps, key, make)


# --------------------------------------------------------------------------------------
# Start images and display
# --------------------------------------------------------------------------------------


def _initial_params(parameterization: str, size: tuple[int, int], indices: np.ndarray, seed: int) -> np.ndarray:
    """Start images, each drawn from (seed, filter index): a filter's pattern does not depend
    on which other filters share its batch."""
    height, width = size
    out = []
    for index in indices:
        rng = np.random.default_rng([seed, int(index)])
        if parameterization == "fourier":
            out.append(rng.normal(0.0, FOURIER_INIT_SD, (2, 3, height, width // 2 + 1)))
        else:
            out.append(rng.uniform(0.4, 0.6, (height, width, 3)))  # the book's start, in [0, 1] units
    return np.stack(out).astype(np.float32)


def _crop_border(size: tuple[int, int]) -> tuple[int, int]:
    return round(size[0] * CROP_FRACTION), round(size[1] * CROP_FRACTION)


def _display_pixels(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The book's deprocessing, per image: crop the border, centre, scale to a standard
    deviation of 64 around 128 and clip; the cropped border becomes mid-grey (128), so the
    pattern stays where it was optimised and keeps the image's size."""
    top, left = _crop_border(size)
    centre = images[:, top:size[0] - top, left:size[1] - left]
    centre = centre - centre.mean(axis=(1, 2, 3), keepdims=True)
    centre = centre / (centre.std(axis=(1, 2, 3), keepdims=True) + 1e-5)
    out = np.full(images.shape, 128, np.uint8)
    out[:, top:size[0] - top, left:size[1] - left] = np.clip(np.round(centre * 64.0 + 128.0), 0, 255)
    return out
