"""The public filter-pattern functions: how many filters, their patterns, and how they score."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cv_core.interpret.filters.ascent import (
    _display_pixels,
    _fourier_scale,
    _fourier_to_rgb,
    _initial_params,
    _scores_function,
    _step_function,
)
from cv_core.interpret.filters.options import (
    FOURIER_STEP_SCALE,
    MAX_FILTERS,
    _check_image_size,
    _check_indices,
    _check_options,
    _is_int,
    _layer_taps,
)

#: Pixels per batch: filters are optimised in slices of ``slice_size(h, w)`` images (4 at
#: 224 x 224, 5 at 200 x 200, 196 at 32 x 32). On a CPU a big model costs no less per image
#: in bigger batches (slightly more: 4 measured best for Xception at 200 px), while small
#: models gain a lot from them.
SLICE_PIXELS = 4 * 224 * 224


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
            :data:`~cv_core.interpret.filters.options.DEFAULT_IMAGE_SIZE` (200, 200) for a model that accepts any size. A model
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


def search_gain(own: float, noise: float) -> tuple[str, float | None]:
    """How far a filter-pattern search got: its pattern's activation against the grey noise it started from.

    Args:
        own: the pattern's mean activation of its filter (:func:`pattern_scores`).
        noise: the same for grey noise like the search's starting point.

    Returns:
        ``("failed", None)`` when the pattern excites the filter no more than the noise (the
        ascent went nowhere or backwards); ``("times", own / noise)`` when the noise's activation
        is positive; ``("above", own - noise)`` when it is not (a ratio would mean nothing).
    """
    own, noise = float(own), float(noise)
    if not np.isfinite(own) or own <= noise:
        return "failed", None
    if noise > 1e-6:
        return "times", own / noise
    return "above", own - noise
