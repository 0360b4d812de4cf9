"""Filter patterns (the book's second interpretation technique): the picture each filter of a
layer responds to most, found by gradient ascent in input space.

Start from a noisy grey image and repeatedly nudge its pixels in the direction that raises
one filter's mean activation (leaving out a 2-pixel border of the feature map, as the book
does). What comes out shows what the filter looks for: edges and colours early in the
network, textures deeper in.

Every requested filter is optimised at once, as one batch (image ``i`` climbs filter
``filter_indices[i]``), by a compiled ``tf.function`` that takes the filter indices as a
tensor: a layer compiles once per parameterisation, image size and ``preprocess``, and later
calls with other filters, other batch sizes or other regulariser settings reuse it.

Two parameterisations of the image:

* ``"pixels"`` (the book's): the raw pixels, moved along the L2-normalised gradient by
  ``learning_rate`` per step, then displayed the book's way (centred, scaled to a standard
  deviation of 64 around grey, the border cropped to grey).
* ``"fourier"`` (Lucid's, Olah et al., 2017, "Feature Visualization"): the image is a
  spectrum scaled by 1/frequency, turned into pixels by an inverse real FFT, mixed from a
  decorrelated colour space into RGB and squashed into [0, 255] by a sigmoid; Adam climbs
  the spectrum. A step changes every scale of the image in proportion to natural images'
  spectrum, where a raw-pixel step mostly adds high-frequency noise: the patterns come out
  far cleaner.

A filter that is silent on the start image would get no gradient at all and stay grey. Once
an image's gradient comes out zero, the rest of its batch runs with Lucid's "redirected
ReLU": a ReLU that blocks every gradient of an image lets through the part that would raise
its input, until the filter wakes up. (Kept off otherwise: it costs about a tenth of a step.)

Optional regularisers (Yosinski et al., 2015; Mordvintsev et al., 2015): random ``jitter``
(the image is rolled a few pixels each step before the model sees it), Gaussian ``blur``
every few steps, and L2 ``decay`` towards grey.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable, Sequence

import numpy as np

from cv_core.interpret._graph import TapModel, tap_model
from cv_core.interpret.base import _cached_function

__all__ = ["MAX_FILTERS", "PARAMETERIZATIONS", "filter_count", "filter_patterns", "pattern_scores"]

#: Image parameterisations :func:`filter_patterns` offers.
PARAMETERIZATIONS = ("pixels", "fourier")
#: Most filters one call optimises (they share one batch).
MAX_FILTERS = 256
#: Image size used for models that accept any size, when ``image_size`` is None (the book's).
DEFAULT_IMAGE_SIZE = (200, 200)
#: Feature-map border left out of the loss, in pixels of the feature map (the book's 2).
BORDER = 2
#: Share of each side cropped from "pixels" patterns for display (the book's 25 of 200 px).
CROP_FRACTION = 0.125
#: The Adam step of the "fourier" parameterisation is ``learning_rate * FOURIER_STEP_SCALE``:
#: 0.1 for the default 10.0. Lucid uses 0.05 over hundreds of steps; in the book's 30 steps
#: twice that gets further (sharper patterns, higher activations) without instability.
FOURIER_STEP_SCALE = 0.01
#: Standard deviation of the start spectrum of "fourier" (Lucid's is 0.01).
FOURIER_INIT_SD = 0.01
#: Pixels per batch: filters are optimised in slices of ``slice_size(h, w)`` images (4 at
#: 224 x 224, 5 at 200 x 200, 196 at 32 x 32). On a CPU a big model costs no less per image
#: in bigger batches (slightly more: 4 measured best for Xception at 200 px), while small
#: models gain a lot from them.
SLICE_PIXELS = 4 * 224 * 224

# Square root of ImageNet's colour correlation (Lucid's ``color_correlation_svd_sqrt``),
# normalised so that no column is longer than 1: maps decorrelated colours to RGB.
_COLOR_SQRT = np.asarray([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
_COLOR_SQRT = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
_ADAM = (0.9, 0.999, 1e-8)  # beta_1, beta_2, epsilon
_REGISTER_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------
# Checking arguments
# --------------------------------------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _layer_taps(model, layer_name: str) -> tuple[TapModel, int]:
    """The tap model of ``layer_name`` and its number of channels; the layer must be 4-D."""
    if not isinstance(layer_name, str):
        raise ValueError(f"Expected `layer_name` to be a layer name (str). Received: layer_name={layer_name!r}")
    taps = tap_model(model, (layer_name,))
    shape = tuple(taps.model.outputs[0].shape)
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(
            "Expected a layer whose output is a 4-D feature map (batch, height, width, channels). "
            f"Received: layer_name={layer_name!r} with output shape {shape}"
        )
    return taps, int(shape[-1])


def _check_indices(filter_indices, channels: int, layer_name: str, limit: int | None = MAX_FILTERS) -> np.ndarray:
    if _is_int(filter_indices):
        filter_indices = [filter_indices]
    if isinstance(filter_indices, (str, bytes)) or not isinstance(filter_indices, (Sequence, np.ndarray, range)):
        raise ValueError(f"Expected `filter_indices` to be a list of integers. Received: {filter_indices!r}")
    indices = list(filter_indices)
    if not indices:
        raise ValueError("Expected at least one filter index. Received: filter_indices=[]")
    if limit is not None and len(indices) > limit:
        raise ValueError(
            f"Expected at most {limit} filters per call (ask for more in several calls). "
            f"Received: {len(indices)} filter indices"
        )
    bad = [index for index in indices if not _is_int(index) or not 0 <= int(index) < channels]
    if bad:
        raise ValueError(
            f"Expected filter indices in [0, {channels}) for layer {layer_name!r} ({channels} filters). "
            f"Received: {bad[:5]!r}"
        )
    return np.asarray(indices, np.int32)


def _model_size(taps: TapModel) -> tuple:
    return tuple(taps.input_shape[:2])


def _check_image_size(taps: TapModel, image_size) -> tuple[int, int]:
    fixed = _model_size(taps)
    if image_size is None:
        return tuple(int(v) for v in fixed) if None not in fixed else DEFAULT_IMAGE_SIZE
    size = (image_size, image_size) if _is_int(image_size) else image_size
    if not isinstance(size, (tuple, list)) or len(size) != 2 or not all(_is_int(v) and v >= 8 for v in size):
        raise ValueError(
            "Expected `image_size` to be an integer or (height, width), each at least 8. "
            f"Received: image_size={image_size!r}"
        )
    size = (int(size[0]), int(size[1]))
    if None not in fixed and size != tuple(fixed):
        raise ValueError(
            f"Expected `image_size` to match the model's input size {tuple(fixed)} (or None). "
            f"Received: image_size={image_size!r}"
        )
    return size


def _check_options(steps, learning_rate, jitter, blur, blur_every, decay, parameterization, seed,
                   preprocess, progress, size, channels_in) -> None:
    if not _is_int(steps) or steps < 1:
        raise ValueError(f"Expected `steps` to be a positive integer. Received: steps={steps!r}")
    if not _is_real(learning_rate) or not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"Expected `learning_rate` to be a finite number > 0. Received: learning_rate={learning_rate!r}")
    if not _is_int(jitter) or not 0 <= jitter < min(size) // 2:
        raise ValueError(
            f"Expected `jitter` to be an integer number of pixels in [0, {min(size) // 2}). Received: jitter={jitter!r}"
        )
    if not _is_real(blur) or not math.isfinite(blur) or blur < 0:
        raise ValueError(f"Expected `blur` to be a Gaussian sigma in pixels >= 0 (0 = off). Received: blur={blur!r}")
    if not _is_int(blur_every) or blur_every < 1:
        raise ValueError(f"Expected `blur_every` to be a positive integer. Received: blur_every={blur_every!r}")
    if not _is_real(decay) or not 0 <= decay < 1:
        raise ValueError(f"Expected `decay` in [0, 1) (0 = off). Received: decay={decay!r}")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"Expected `parameterization` to be one of {PARAMETERIZATIONS}. Received: parameterization={parameterization!r}"
        )
    if seed is not None and not _is_int(seed):
        raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
    if preprocess is not None and not callable(preprocess):
        raise ValueError(f"Expected `preprocess` to be a callable or None. Received: preprocess={preprocess!r}")
    if progress is not None and not callable(progress):
        raise ValueError(f"Expected `progress` to be a callable(done, total) or None. Received: progress={progress!r}")
    if preprocess is None and channels_in not in (None, 3):
        raise ValueError(
            "Expected a model that takes RGB images (3 channels), or a `preprocess` that maps RGB to its input. "
            f"Received: a model input with {channels_in} channels"
        )


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


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def slice_size(height: int, width: int) -> int:
    """Images per batch at this size: :data:`SLICE_PIXELS` worth, between 1 and :data:`MAX_FILTERS`."""
    return max(1, min(MAX_FILTERS, SLICE_PIXELS // (height * width)))


def filter_count(model, layer_name: str) -> int:
    """Number of filters (channels) of ``layer_name``'s output.

    Raises:
        ValueError: an unknown layer, or one whose output is not a 4-D feature map.
    """
    return _layer_taps(model, layer_name)[1]


def filter_patterns(model, layer_name: str, filter_indices, steps: int = 30, learning_rate: float = 10.0,
                    image_size=None, progress: Callable[[int, int], object] | None = None, *,
                    jitter: int = 0, blur: float = 0.0, blur_every: int = 4, decay: float = 0.0,
                    parameterization: str = "pixels", seed: int | None = 0,
                    preprocess: Callable | None = None) -> np.ndarray:
    """The input pattern each filter responds to most, by gradient ascent in input space.

    The filters are optimised together, as one batch (up to :func:`slice_size` images per
    pass). The compiled step is cached per (model, layer, parameterisation, image size,
    ``preprocess`` object): other filters, batch sizes, step counts, learning rates and
    regulariser settings reuse it without retracing. Pass the same ``preprocess`` each time
    (a function, or a bound method such as ``Pretrained.preprocess_tensor``; not a fresh
    lambda per call, which compiles again).

    Args:
        model: a built Keras model (Functional, Sequential or nested).
        layer_name: a layer with a 4-D output (batch, height, width, channels).
        filter_indices: filters (channels) of that layer, at most :data:`MAX_FILTERS`.
        steps: gradient-ascent steps.
        learning_rate: for "pixels", the length of each step along the L2-normalised gradient,
            in units where the start image is grey noise in [0.4, 0.6] (the book's 10.0); for
            "fourier", Adam's step is ``learning_rate * 0.01`` (0.1 by default).
        image_size: (height, width) or an int; None means the model's input size, or
            :data:`DEFAULT_IMAGE_SIZE` (200, 200) for a model that accepts any size. A model
            with a fixed input size accepts only that size.
        progress: called as ``progress(done_steps, total_steps)`` after every step (an
            exception it raises stops the optimisation), ending at
            ``(total_steps, total_steps)``; ``total_steps`` is ``steps`` times the number of
            slices (one unless there are more than ``slice_size(h, w)`` filters: 5 at 200 px).
        jitter: each step, roll the image by a random shift of up to this many pixels in each
            direction before the model sees it (0 = off).
        blur: Gaussian blur of the image every ``blur_every`` steps, sigma in pixels (0 = off).
            For "fourier" the blur acts on the image before the sigmoid.
        blur_every: steps between blurs.
        decay: L2 decay: each step shrinks the image towards grey by this fraction (0 = off).
        parameterization: "pixels" (the book's raw pixels) or "fourier" (Lucid's
            decorrelated Fourier parameterisation: far cleaner patterns).
        seed: seed of the start images and the jitter; each filter's start image depends
            only on (seed, filter index), so chunked calls give the same patterns. None draws
            a fresh seed.
        preprocess: maps a float tensor (n, H, W, 3) of RGB values in [0, 255] to the model's
            input with differentiable TensorFlow ops (e.g. BGR minus the ImageNet means for a
            pretrained model). None (the default) feeds RGB in [0, 255], which suits the lab's
            own models (they rescale inside).

    Returns:
        (n, h, w, 3) uint8 RGB, ``n = len(filter_indices)`` in that order and (h, w) the image
        size used (the model's input size, or ``image_size``). "pixels" patterns are shown the
        book's way: the outer 1/8 of each side (25 px of 200) is cropped to mid-grey (128) and
        the inside is normalised to 128 ± 64 per standard deviation, in place (not resized),
        so a pattern keeps its size and position and can be fed back to the model, e.g. to
        :func:`pattern_scores`. "fourier" patterns are the optimised image itself (the
        sigmoid bounds it), uncropped.

    Raises:
        ValueError: an unknown layer or one whose output is not 4-D, filter indices that are
            empty, too many, negative or out of range, ``steps`` < 1, a non-finite or
            non-positive learning rate, a bad regulariser, parameterisation or image size.
    """
    taps, channels = _layer_taps(model, layer_name)
    indices = _check_indices(filter_indices, channels, layer_name)
    size = _check_image_size(taps, image_size)
    _check_options(steps, learning_rate, jitter, blur, blur_every, decay, parameterization, seed,
                   preprocess, progress, size, taps.input_shape[-1])
    from cv_core._tf import tensorflow

    tf = tensorflow()
    plain_step = _step_function(taps, parameterization, size, preprocess)
    seed = int(np.random.default_rng().integers(2**31 - 1)) if seed is None else int(seed) % (2**31 - 1)
    seed_pair = np.asarray([seed, 0], np.int32)
    rate = learning_rate * FOURIER_STEP_SCALE if parameterization == "fourier" else learning_rate
    settings = (np.float32(rate), np.int32(jitter), np.float32(blur), np.int32(blur_every), np.float32(decay))
    per_slice = slice_size(*size)
    slices = [indices[start:start + per_slice] for start in range(0, len(indices), per_slice)]
    total, done, results = steps * len(slices), 0, []
    for chunk in slices:
        params = tf.constant(_initial_params(parameterization, size, chunk, seed))
        m = v = tf.zeros_like(params)
        chunk_tensor = tf.constant(chunk)
        step = plain_step
        for number in range(steps):
            params, m, v, _, norms = step(params, m, v, chunk_tensor, np.int32(number), seed_pair, *settings)
            if step is plain_step and not np.all(np.asarray(norms) > 0):
                # A silent filter: its image got no gradient. Redirect the ReLUs from now on.
                step = _step_function(taps, parameterization, size, preprocess, redirect=True)
            done += 1
            if progress is not None:
                progress(done, total)
        if parameterization == "fourier":
            rgb = _fourier_to_rgb(tf, params, tf.constant(_fourier_scale(*size)), size)
            results.append(np.clip(np.round(np.asarray(rgb)), 0, 255).astype(np.uint8))
        else:
            results.append(_display_pixels(np.asarray(params), size))
    return np.concatenate(results)


def pattern_scores(model, layer_name: str, patterns_or_images, filter_indices,
                   preprocess: Callable | None = None) -> np.ndarray:
    """Each image's mean activation of its filter, leaving out a 2-pixel feature-map border
    (the quantity :func:`filter_patterns` climbs).

    Args:
        model, layer_name, preprocess: as :func:`filter_patterns`.
        patterns_or_images: (n, H, W, 3) or one (H, W, 3) RGB image(s), uint8 or float in
            [0, 255], e.g. the output of :func:`filter_patterns`.
        filter_indices: one filter per image (a list of n), or one int for every image.

    Returns:
        (n,) float32 mean activations.

    Raises:
        ValueError: as :func:`filter_patterns`, images that are not RGB, a count of filter
            indices that differs from the number of images, or a size the model refuses.
    """
    taps, channels = _layer_taps(model, layer_name)
    images = np.asarray(patterns_or_images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3 or images.shape[0] == 0:
        raise ValueError(
            f"Expected RGB images of shape (n, height, width, 3). Received: an array of shape {np.shape(patterns_or_images)}"
        )
    if _is_int(filter_indices):
        filter_indices = [int(filter_indices)] * len(images)
    indices = _check_indices(filter_indices, channels, layer_name, limit=None)
    if len(indices) != len(images):
        raise ValueError(
            f"Expected one filter index per image ({len(images)}). Received: {len(indices)} filter indices"
        )
    size = _check_image_size(taps, tuple(int(v) for v in images.shape[1:3]))
    if preprocess is not None and not callable(preprocess):
        raise ValueError(f"Expected `preprocess` to be a callable or None. Received: preprocess={preprocess!r}")
    scores = _scores_function(taps, size, preprocess)
    per_slice = slice_size(*size)
    out = [np.asarray(scores(images[i:i + per_slice].astype(np.float32), indices[i:i + per_slice]))
           for i in range(0, len(images), per_slice)]
    return np.concatenate(out).astype(np.float32)
