"""The settings of filter-pattern search, and the checks on every argument it takes."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from cv_core.interpret._graph import TapModel, tap_model

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
