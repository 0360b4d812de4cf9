"""Can you trust the heatmap? Scores that test a heatmap against the model and the image.

A heatmap is a claim: "these pixels are why the model said *cat*". Four checks put the
claim to the test, on the person's own photo:

- **Deletion and insertion curves** (Petsiuk et al., 2018, RISE): remove the hottest pixels
  first and the class probability should collapse fast (a low area under the curve);
  reveal them first into a blank picture and it should rise fast (a high area). A random
  pixel order is the yardstick.
- **Keeping only the heat region** (Average Drop / Increase in Confidence, Chattopadhay et
  al., 2018): does the model still see the class when everything else is blanked out?
- **Localisation against a true mask**: the share of heat inside the object (the
  energy-based pointing game of Wang et al., 2020) and whether the hottest point falls on
  it (the pointing game of Zhang et al., 2018).
- **Sanity check** (Adebayo et al., 2018): randomise the model's weights from the top,
  one block at a time. A map that barely changes is drawing the image, not the model.

Every function returns plain numbers and numpy arrays for a chart, and :data:`READING`
holds one plain sentence per score on how to read it. Nothing here imports TensorFlow at
module level, and no function changes the model it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from cv_core.interpret import _graph, base
from cv_core.interpret._graph import as_batch, iter_layers, tap_model
from cv_core.interpret.base import compiled_forward, normalize_map
from cv_core.interpret.overlay import resize_map

__all__ = [
    "BASELINES",
    "READING",
    "causal_curves",
    "deletion_curve",
    "insertion_curve",
    "keep_heat_region",
    "localisation",
    "randomisation_groups",
    "sanity_check",
    "sanity_verdict",
    "spearman",
]

#: What replaces a pixel that is removed (deletion) or not yet revealed (insertion).
BASELINES = ("zeros", "blur", "mean")

#: One sentence per score on how to read it, for the page.
READING = {
    "deletion": (
        "The class probability as the hottest pixels are blanked out first. A good heatmap makes it "
        "fall fast, so a lower area under the curve is better; the dashed curve removes the "
        "picture's cells in random order."
    ),
    "insertion": (
        "The class probability as the hottest pixels are revealed first into a blurred copy of the "
        "photo. A good heatmap makes it rise fast, so a higher area under the curve is better than "
        "the random order's."
    ),
    "keep_heat_region": (
        "The class probability when only the hot region is kept and the rest is blanked out. If the "
        "heatmap found what matters, the probability barely drops, and may even rise."
    ),
    "energy_inside": (
        "The share of the heatmap's total heat that lies on the object. A heatmap spread evenly "
        "would score the object's share of the picture; higher than that means it points at the object."
    ),
    "pointing_game": (
        "Whether the single hottest point of the heatmap lands on the object (a hit) or off it (a miss)."
    ),
    "sanity_check": (
        "The model's weights are replaced by random ones, from the top layer down, one block at a "
        "time, and each new heatmap is compared with the original (1 = same ranking of pixels, 0 = "
        "unrelated). A method that explains the model drifts towards 0; one that stays near 1 is "
        "drawing the picture, not the model."
    ),
}


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------


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
    """(H, W, C) float image blurred by a separable Gaussian (3 sigmas wide), edges mirrored."""
    radius = max(1, int(3 * sigma + 0.5))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        out = sum(weight * np.take(padded, np.arange(i, i + out.shape[axis]), axis=axis)
                  for i, weight in enumerate(kernel))
    return out.astype(np.float32)


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


# --------------------------------------------------------------------------------------
# Deletion and insertion curves
# --------------------------------------------------------------------------------------


def _curves(forward, start: np.ndarray, end: np.ndarray, orders: list[np.ndarray], steps: int, class_index: int,
            batch_size: int) -> np.ndarray:
    """(len(orders), steps + 1) class probabilities as pixels switch from ``start`` to ``end``.

    Every order's images go through the model in one stream of full batches.
    """
    height, width = start.shape[:2]
    pixels = height * width
    ranks = np.empty((len(orders), pixels), np.int64)
    for row, order in enumerate(orders):
        ranks[row, order] = np.arange(pixels)
    counts = np.round(np.linspace(0, pixels, steps + 1)).astype(np.int64)
    jobs = [(row, count) for row in range(len(orders)) for count in counts]  # (order, pixels switched)
    out = []
    for first in range(0, len(jobs), batch_size):
        rows, limits = (np.array(column) for column in zip(*jobs[first:first + batch_size]))
        switched = (ranks[rows] < limits[:, None]).reshape(len(rows), height, width, 1)
        out.append(_class_probabilities(forward, np.where(switched, end[None], start[None]))[:, class_index])
    return np.concatenate(out).reshape(len(orders), steps + 1).astype(np.float32)


def _auc(fractions: np.ndarray, values: np.ndarray) -> float:
    return float(np.trapezoid(values, fractions))


def _causal_curve(kind: str, model, image, heatmap, class_index, steps, baseline, batch_size, random_orders,
                  seed) -> dict:
    steps = _check_positive_int("steps", steps)
    batch_size = _check_positive_int("batch_size", batch_size)
    if isinstance(random_orders, bool) or not isinstance(random_orders, (int, np.integer)) or random_orders < 0:
        raise ValueError("Expected `random_orders` to be a non-negative integer. "
                         f"Received: random_orders={random_orders!r}")
    forward, picture, index, _ = _prepare(model, image, class_index)
    heat = np.nan_to_num(resize_map(_check_map("heatmap", heatmap).astype(np.float32), picture.shape[:2]))
    blank = _baseline(picture, baseline)
    start, end = (picture, blank) if kind == "deletion" else (blank, picture)
    rng = np.random.default_rng(seed)
    orders = [_heat_order(heat), *(_random_block_order(heat.shape, rng) for _ in range(int(random_orders)))]
    curves = _curves(forward, start, end, orders, steps, index, batch_size)
    fractions = np.linspace(0.0, 1.0, steps + 1).astype(np.float32)
    randoms = curves[1:]
    return {
        "fractions": fractions,
        "probabilities": curves[0],
        "auc": _auc(fractions, curves[0]),
        "random_probabilities": randoms.mean(axis=0) if len(randoms) else None,
        "random_auc": float(np.mean([_auc(fractions, r) for r in randoms])) if len(randoms) else None,
        "class_index": index,
        "baseline": baseline if isinstance(baseline, str) else "array",
    }


def deletion_curve(model, image, heatmap, class_index: int | None = None, steps: int = 32, baseline="zeros",
                   batch_size: int = 32, random_orders: int = 3, seed: int = 0) -> dict:
    """Deletion curve: the class probability as the hottest pixels are replaced by the baseline.

    It runs from the image (fraction 0) to the baseline (fraction 1); a lower area is better.

    Args:
        model: a built Keras classifier (Functional, Sequential or nested).
        image: one picture as the model takes it, (H, W, C) or a batch of one, already
            preprocessed.
        heatmap: (h, w) map of any scale; resized to (H, W) when its size differs. Pixels are
            taken hottest first, ties in raster order.
        class_index: the class whose probability is followed; None follows the top class.
        steps: the curve has ``steps + 1`` points, from none to every pixel switched.
        baseline: what stands for "no information", in the model's input space: "zeros",
            "blur" (a Gaussian blur of the image, sigma 5 px at 224 px as in RISE, at least
            1 px), "mean" (the image's mean colour), a number, or an array of the image's shape.
        batch_size: images per forward pass.
        random_orders: random orders averaged for the yardstick (0 skips them), each removing
            whole cells of a 14 x 14 grid in random order (a random map as coarse as a heatmap); each
            costs as many forward passes as the curve itself.
        seed: seed of the random orders.

    Returns:
        dict with ``fractions`` (steps + 1,) float32 from 0 to 1, ``probabilities`` (steps + 1,)
        float32, ``auc`` (trapezoid area, in [0, 1]), ``random_probabilities`` (the mean
        random-order curve, or None), ``random_auc`` (mean area of the random orders, or
        None), ``class_index`` and ``baseline``.

    Raises:
        ValueError: an image of the wrong shape, a map that is not 2-D, an unknown baseline or
            class index, or a non-positive ``steps``/``batch_size``.
    """
    return _causal_curve("deletion", model, image, heatmap, class_index, steps, baseline, batch_size,
                         random_orders, seed)


def insertion_curve(model, image, heatmap, class_index: int | None = None, steps: int = 32, baseline="blur",
                    batch_size: int = 32, random_orders: int = 3, seed: int = 0) -> dict:
    """Insertion curve: the class probability as the hottest pixels are revealed into the baseline.

    It runs from the baseline (fraction 0) to the image (fraction 1); a higher area is better.
    Arguments and the returned dict as :func:`deletion_curve`; the baseline defaults to the
    blurred image, as in the paper.
    """
    return _causal_curve("insertion", model, image, heatmap, class_index, steps, baseline, batch_size,
                         random_orders, seed)


def causal_curves(model, image, heatmap, class_index: int | None = None, steps: int = 32,
                  deletion_baseline="zeros", insertion_baseline="blur", batch_size: int = 32,
                  random_orders: int = 3, seed: int = 0) -> dict:
    """Both curves with the paper's baselines: ``{"deletion": dict, "insertion": dict}``.

    Arguments and the two dicts as :func:`deletion_curve` and :func:`insertion_curve`.
    """
    common = dict(class_index=class_index, steps=steps, batch_size=batch_size, random_orders=random_orders, seed=seed)
    return {"deletion": deletion_curve(model, image, heatmap, baseline=deletion_baseline, **common),
            "insertion": insertion_curve(model, image, heatmap, baseline=insertion_baseline, **common)}


# --------------------------------------------------------------------------------------
# Keeping only the heat region
# --------------------------------------------------------------------------------------


def keep_heat_region(model, image, heatmap, class_index: int | None = None, threshold: float = 0.5,
                     baseline="zeros") -> dict:
    """The class probability when only the pixels where the heat is at least ``threshold`` stay.

    Args:
        model, image, class_index: as :func:`deletion_curve`.
        heatmap: (h, w) map; scaled to [0, 1] by its maximum and resized to the image.
        threshold: in [0, 1]; pixels at or above it are kept.
        baseline: what replaces the other pixels (see :func:`deletion_curve`).

    Returns:
        dict with ``probability_full`` and ``probability_kept`` (floats), ``change`` (relative:
        kept / full - 1), ``change_absolute`` (kept - full), ``drop`` (max(0, full - kept) / full,
        one image's Average Drop), ``increase`` (bool, the confidence rose), ``kept_fraction``
        (share of pixels kept), ``kept_mask`` ((H, W) bool) and ``class_index``.

    Raises:
        ValueError: a threshold outside [0, 1], or as :func:`deletion_curve`.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"Expected `threshold` in [0, 1]. Received: threshold={threshold!r}")
    forward, picture, index, probabilities = _prepare(model, image, class_index)
    heat = normalize_map(resize_map(_check_map("heatmap", heatmap).astype(np.float32), picture.shape[:2]))
    kept = heat >= threshold if heat.max() > 0 else np.zeros(heat.shape, bool)
    masked = np.where(kept[..., None], picture, _baseline(picture, baseline))
    full = float(probabilities[index])
    kept_probability = float(_class_probabilities(forward, masked[None])[0, index])
    return {
        "probability_full": full,
        "probability_kept": kept_probability,
        "change": kept_probability / full - 1.0 if full > 0 else float("nan"),
        "change_absolute": kept_probability - full,
        "drop": max(0.0, full - kept_probability) / full if full > 0 else 0.0,
        "increase": kept_probability > full,
        "kept_fraction": float(kept.mean()),
        "kept_mask": kept,
        "class_index": index,
    }


# --------------------------------------------------------------------------------------
# Localisation against a true mask
# --------------------------------------------------------------------------------------


def localisation(heatmap, mask, tolerance: float = 0.0) -> dict:
    """How well the heat falls on the object that a true mask outlines.

    Args:
        heatmap: (h, w) non-negative map (negative values count as 0); resized to the mask's size.
        mask: (H, W) boolean object mask (nonzero = object).
        tolerance: the pointing game counts a hit when the hottest pixel is within this many
            pixels (Euclidean, at the mask's resolution) of the object; Zhang et al. use 15 px.

    Returns:
        dict with ``energy_inside`` (share of heat on the object, in [0, 1]), ``pointing_hit``
        (bool), ``mask_fraction`` (the object's share of the picture: what a uniform heatmap
        scores, the chance level), ``peak`` ((row, column) of the hottest pixel, the first in
        raster order on ties) and ``distance`` (pixels from the peak to the object; 0 inside).
        A map with no heat scores 0 and misses; an empty mask gives distance inf.

    Raises:
        ValueError: a map or mask that is not 2-D, or a negative tolerance.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise ValueError(f"Expected `tolerance` to be a non-negative number of pixels. "
                         f"Received: tolerance={tolerance!r}")
    mask = _check_map("mask", mask).astype(bool)
    heat = np.maximum(np.nan_to_num(resize_map(_check_map("heatmap", heatmap).astype(np.float32), mask.shape)), 0.0)
    total = float(heat.sum())
    peak = tuple(int(i) for i in np.unravel_index(np.argmax(heat), heat.shape))
    inside = np.argwhere(mask)
    distance = float(np.sqrt(((inside - np.array(peak)) ** 2).sum(axis=1)).min()) if len(inside) else float("inf")
    return {
        "energy_inside": float(heat[mask].sum()) / total if total > 0 else 0.0,
        "pointing_hit": bool(total > 0 and distance <= tolerance),
        "mask_fraction": float(mask.mean()),
        "peak": peak,
        "distance": distance,
    }


# --------------------------------------------------------------------------------------
# Sanity check: cascading randomisation of the model's weights
# --------------------------------------------------------------------------------------


def _snake_case(name: str) -> str:
    """Keras' automatic layer name for a class name: "Conv2D" -> "conv2d"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_auto_named(layer) -> bool:
    return re.fullmatch(rf"{re.escape(_snake_case(type(layer).__name__))}(_\d+)?", layer.name) is not None


def _learned_layers(model) -> list:
    """Layers with learned weights, in graph order (preprocessing layers such as Normalization left out)."""
    return [layer for layer in iter_layers(model)
            if layer.weights and ".preprocessing." not in type(layer).__module__]


def _layer_groups(model) -> list[tuple[str, list]]:
    """``[(label, layers), ...]``, the top block first (see :func:`randomisation_groups`)."""
    groups: dict[str, list] = {}
    last_seen: dict[str, int] = {}
    current = None
    for position, layer in enumerate(_learned_layers(model)):
        if _is_auto_named(layer):
            label = current if current is not None else layer.name
        else:
            label = current = layer.name.split("_")[0]
        groups.setdefault(label, []).append(layer)
        last_seen[label] = position
    return [(label, groups[label]) for label in sorted(groups, key=lambda label: -last_seen[label])]


def randomisation_groups(model) -> list[tuple[str, tuple[str, ...]]]:
    """The sanity check's steps: blocks of layers with weights, from the top of the model down.

    A layer's block is its name up to the first "_" (``block3_sepconv1`` and ``block3_bn1``
    form "block3", ``fire5_squeeze1x1`` "fire5", ``predictions`` and ``conv10`` stand alone).
    A layer with an automatic Keras name (``conv2d_3``, ``batch_normalization_3``, as
    Xception's shortcut convolutions) joins the block of the named layer before it in graph
    order, which in Xception is the block the shortcut spans; with no named layer before it,
    it is a block of its own. Blocks are ordered by their topmost layer.

    Returns:
        ``[(label, layer names), ...]``, the top block first.
    """
    return [(label, tuple(layer.name for layer in layers)) for label, layers in _layer_groups(model)]


def spearman(a, b) -> float:
    """Spearman rank correlation of two arrays of the same size (ties get their mean rank).

    A constant array has no ranking: it scores 1 against an equal constant array, 0 otherwise.
    """
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Expected two arrays of the same size. Received: sizes {a.size} and {b.size}")
    ra, rb = _ranks(a), _ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    scale = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    if scale == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(np.clip((ra * rb).sum() / scale, -1.0, 1.0))


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.repeat(first + (counts - 1) / 2.0, counts)
    return ranks


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    if min(a.shape) < 7:
        return float("nan")
    return float(structural_similarity(a, b, data_range=1.0))


def _method_functions(methods, layer_name) -> dict[str, Callable]:
    """``{label: fn(model, batch, class_index) -> (H, W)}`` from names, callables or a dict of both."""
    from cv_core.interpret import METHODS

    if isinstance(methods, Mapping):
        items = list(methods.items())
    else:
        if isinstance(methods, str) or callable(methods):
            methods = [methods]
        items = [(m if isinstance(m, str) else getattr(m, "__name__", repr(m)), m) for m in methods]
    functions = {}
    for label, method in items:
        if isinstance(method, str) and method in METHODS:
            functions[label] = _registry_method(METHODS[method], layer_name)
        elif callable(method) and not isinstance(method, str):
            functions[label] = method
        else:
            raise ValueError(f"Expected `methods` to hold names of {tuple(METHODS)} or callables. Received: {method!r}")
    if not functions:
        raise ValueError("Expected at least one method in `methods`. Received: none")
    return functions


def _registry_method(cls, layer_name) -> Callable:
    def explain(model, batch, class_index):
        return cls(model, layer_name)(batch, class_index)

    return explain


def _clone(model):
    """A copy of ``model`` with its own variables (nested models cloned too) and the same weights."""
    from cv_core._tf import keras

    clone = keras().models.clone_model(model, recursive=True)
    if not clone.weights and model.weights:
        clone.build((None, *tap_model(model).input_shape))
    clone.set_weights(model.get_weights())
    originals = {id(v) for v in model.weights}
    if any(id(v) in originals for v in clone.weights):  # never randomise a shared (cached) model
        raise RuntimeError(f"Cloning model {model.name!r} shared its weights; the sanity check would change it.")
    return clone


def _initializer(layer, variable):
    name = variable.name.split("/")[-1].split(":")[0]
    for attribute in (f"{name}_initializer", f"{name.removesuffix('_kernel')}_initializer"):
        initializer = getattr(layer, attribute, None)
        if initializer is not None and callable(initializer):
            return initializer
    return None


def _randomise(layer, seed: int) -> None:
    """Re-initialise every float weight of ``layer`` with its own initializer, seeded.

    A weight with no initializer to be found gets a normal draw of its own mean and standard
    deviation.
    """
    for position, variable in enumerate(layer.weights):
        if not np.issubdtype(np.dtype(variable.dtype), np.floating):
            continue
        draw = int(np.random.SeedSequence([seed, position]).generate_state(1)[0] % (2 ** 31 - 1))
        initializer = _initializer(layer, variable)
        if initializer is not None:
            config = initializer.get_config()
            if "seed" in config:
                initializer = type(initializer).from_config({**config, "seed": draw})
            value = initializer(tuple(variable.shape), dtype=variable.dtype)
        else:
            current = np.asarray(variable)
            value = np.random.default_rng(draw).normal(current.mean(), current.std(), current.shape)
        variable.assign(np.asarray(value, dtype=np.dtype(variable.dtype)))


def _forget_taps(model) -> None:
    """Drop ``model``'s cached tap models and their compiled functions.

    The tap-model cache is weakly keyed on the model, and a tap model snapshots the head's
    weights (for the logits): after randomising a block the clone's tap models must be
    rebuilt, and dropping them promptly releases the clone's layers and weights.
    """
    with _graph._CACHE_LOCK:
        cached = _graph._CACHE.pop(model, None) or {}
    with base._FUNCTIONS_LOCK:
        for taps in cached.values():
            taps.functions.clear()


def sanity_check(model, image, methods=("grad_cam",), class_index: int | None = None,
                 layer_name: str | None = None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Cascading randomisation (Adebayo et al., 2018): how far each method's map drifts.

    The model is cloned (the given model, possibly shared by a cache, is never changed); the
    clone's blocks (:func:`randomisation_groups`) are re-initialised from the top down, one
    at a time and cumulatively, each with its layers' own initializers, and after each block
    every method's heatmap of the same class is compared with the original model's.

    Args:
        model: a built Keras classifier (Functional, Sequential or nested).
        image: one picture as the model takes it, (H, W, C) or a batch of one.
        methods: names of :data:`cv_core.interpret.METHODS`, callables
            ``fn(model, image, class_index) -> (H, W) map`` (``image`` a batch of one), or a
            dict ``{label: name or callable}``.
        class_index: the class explained at every step; None takes the original model's top class.
        layer_name: the target layer of the named methods; their default when None.
        seed: seed of the re-initialisation.
        progress: called as ``progress(done, total)`` after the original and after each step.

    Returns:
        dict with ``steps`` (["original", top block, ..., bottom block]), ``layers`` ({block:
        layer names}), ``correlations`` and ``ssim`` ({method label: one float per step, the
        first 1.0}: Spearman rank correlation and structural similarity with the original
        map), ``heatmaps`` ({method label: (steps, H, W) float32 in [0, 1]}), ``verdicts``
        ({method label: :func:`sanity_verdict`}) and ``class_index``.

    Raises:
        ValueError: an unknown method, layer or class, or an image of the wrong shape.
    """
    functions = _method_functions(methods, layer_name)
    _, picture, index, _ = _prepare(model, image, class_index)
    batch = picture[None]
    groups = randomisation_groups(model)
    total = len(groups) + 1

    def heatmaps(current) -> dict[str, np.ndarray]:
        out = {}
        for label, function in functions.items():
            heat = _check_map(f"heatmap of {label!r}", function(current, batch, index))
            out[label] = normalize_map(resize_map(heat.astype(np.float32), picture.shape[:2]))
        return out

    original = heatmaps(model)
    maps = {label: [heat] for label, heat in original.items()}
    if progress is not None:
        progress(1, total)
    clone = _clone(model)
    try:
        head = _graph._head_layer(clone)
        for step, (_, layers) in enumerate(_layer_groups(clone), start=1):  # the same blocks as the model's
            for position, layer in enumerate(layers):
                _randomise(layer, int(np.random.SeedSequence([seed, step, position]).generate_state(1)[0]))
            if any(layer is head for layer in layers):
                _forget_taps(clone)  # a tap model copies the head's weights to read its logits
            for label, heat in heatmaps(clone).items():
                maps[label].append(heat)
            if progress is not None:
                progress(step + 1, total)
    finally:
        _forget_taps(clone)
        del clone
    correlations = {label: [spearman(original[label], heat) for heat in stack] for label, stack in maps.items()}
    steps = ["original", *(label for label, _ in groups)]
    return {
        "steps": steps,
        "layers": {label: list(names) for label, names in groups},
        "correlations": correlations,
        "ssim": {label: [_ssim(original[label], heat) for heat in stack] for label, stack in maps.items()},
        "heatmaps": {label: np.stack(stack).astype(np.float32) for label, stack in maps.items()},
        "verdicts": {label: sanity_verdict(values, steps) for label, values in correlations.items()},
        "class_index": index,
    }


def sanity_verdict(correlations: Sequence[float], steps: Sequence[str] | None = None,
                   threshold: float = 0.5) -> str:
    """One sentence on a method's sanity check, from its correlations (the first is the original).

    The method passes when its map, on the fully randomised model, keeps a rank correlation
    below ``threshold`` with the original; it fails at 0.8 or more; in between it is doubtful.
    """
    values = [float(v) for v in correlations][1:]
    if not values:
        return "Nothing was randomised, so there is nothing to judge."
    final = values[-1]
    if final < threshold:
        first = next(i for i, v in enumerate(values) if v < threshold)
        where = f" once {steps[first + 1]!r} is randomised" if steps is not None and len(steps) > first + 1 else ""
        return (f"Passes: the map changes with the model's weights (rank correlation {final:.2f} on the fully "
                f"randomised model; below {threshold:g}{where}), so it explains what the model learned.")
    if final >= 0.8:
        return (f"Fails: the map barely changes even when every weight is random (rank correlation {final:.2f}), "
                f"so it shows the picture, not what the model learned.")
    return (f"Doubtful: the map only partly changes when every weight is random (rank correlation {final:.2f}); "
            f"part of it comes from the picture or the architecture rather than what the model learned.")
