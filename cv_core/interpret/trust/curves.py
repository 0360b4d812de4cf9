"""Deletion and insertion curves (Petsiuk et al., 2018, RISE), against a random order of cells."""

from __future__ import annotations

import numpy as np

from cv_core.interpret.trust._common import (
    _baseline,
    _check_map,
    _check_positive_int,
    _class_probabilities,
    _heat_order,
    _prepare,
    _random_block_order,
)
from cv_core.overlays import resize_map


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
