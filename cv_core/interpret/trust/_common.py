"""What the trust checks share: argument checks, one forward pass, baselines and pixel orders."""

from __future__ import annotations

import numpy as np

from cv_core.interpret._graph import as_batch, tap_model
from cv_core.interpret.base import compiled_forward

#: What replaces a pixel that is removed (deletion) or not yet revealed (insertion).
BASELINES = ("zeros", "blur", "mean")


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def _check_class(class_index, num_classes: int) -> int | None:
    if class_index is None:
        return None
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) or \
            not 0 <= int(class_index) < num_classes:
        raise ValueError(f"Expected `class_index` in [0, {num_classes}) or None. Received: class_index={class_index!r}")
    return int(class_index)


def _check_map(name: str, array) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"Expected a 2-D `{name}` of shape (height, width). Received: shape {array.shape}")
    return array


def _class_probabilities(forward, images: np.ndarray) -> np.ndarray:
    """(B, num_classes) probabilities of a batch (segmentation outputs averaged over pixels)."""
    probabilities = np.asarray(forward(images.astype(np.float32, copy=False))[-1])
    return probabilities.reshape(len(probabilities), -1, probabilities.shape[-1]).mean(axis=1)


def _prepare(model, image, class_index):
    """(forward pass, (H, W, C) image, class index used, probabilities of the image)."""
    taps = tap_model(model)
    batch = as_batch(image)
    expected = tuple(taps.input_shape)
    if None not in expected and tuple(batch.shape[1:]) != expected:
        raise ValueError(
            f"Expected an image of shape {expected} for model {model.name!r}. "
            f"Received: {tuple(batch.shape[1:])}. Resize (and preprocess) it first."
        )
    index = _check_class(class_index, taps.num_classes)
    forward = compiled_forward(taps)
    probabilities = _class_probabilities(forward, batch)[0]
    if index is None:
        index = int(np.argmax(probabilities))
    return forward, batch[0], index, probabilities


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) float image blurred by a Gaussian 3 sigmas wide, edges mirrored (scikit-image)."""
    from skimage.filters import gaussian

    # scipy's "reflect" mirrors about the edge (d c b a | a b c d), as numpy's "symmetric" does.
    blurred = gaussian(np.asarray(image, np.float64), sigma=sigma, mode="reflect", truncate=3.0,
                       preserve_range=True, channel_axis=-1)
    return blurred.astype(np.float32)


def _baseline(image: np.ndarray, baseline) -> np.ndarray:
    """The picture that stands for "no information": zeros, a blurred or mean copy, or an array."""
    if isinstance(baseline, str):
        if baseline == "zeros":
            return np.zeros_like(image)
        if baseline == "mean":
            return np.broadcast_to(image.mean(axis=(0, 1), keepdims=True), image.shape).astype(np.float32)
        if baseline == "blur":
            # RISE blurs 224-pixel images with a Gaussian of sigma 5 pixels; keep that share of the size.
            sigma = max(1.0, 5.0 * min(image.shape[:2]) / 224.0)
            return _gaussian_blur(image, sigma)
    elif isinstance(baseline, (np.ndarray, int, float)) and not isinstance(baseline, bool):
        try:
            return np.broadcast_to(np.asarray(baseline, np.float32), image.shape).copy()
        except ValueError:
            pass
    received = f"an array of shape {np.shape(baseline)}" if isinstance(baseline, np.ndarray) else repr(baseline)
    raise ValueError(f"Expected `baseline` to be one of {BASELINES}, a number, or an array of the image's shape "
                     f"{image.shape}. Received: baseline={received}")


def _heat_order(heat: np.ndarray) -> np.ndarray:
    """Pixel indices (raster order) from hottest to coldest; ties keep raster order."""
    return np.argsort(-heat.ravel(), kind="stable")


#: The random yardstick removes whole cells of a grid this fine, as coarse as a class-activation map.
RANDOM_GRID = 14


def _random_block_order(shape: tuple[int, int], rng: np.random.Generator, cells: int = RANDOM_GRID) -> np.ndarray:
    """A random pixel order that takes whole cells of a ``cells`` x ``cells`` grid at a time.

    Scattered single pixels removed at random wreck any convnet's answer at once (the picture
    turns to salt and pepper), which would make every heatmap look worse than chance; a
    random map as coarse as a heatmap is the fair yardstick.
    """
    height, width = shape
    rows = np.minimum(np.arange(height) * cells // height, cells - 1)
    cols = np.minimum(np.arange(width) * cells // width, cells - 1)
    cell = (rows[:, None] * cells + cols[None, :]).ravel()
    rank = rng.permutation(cells * cells)[cell]
    return np.lexsort((rng.random(cell.size), rank))
