"""Where the heat is: keeping only the heat region (Average Drop), and heat on a true object mask."""

from __future__ import annotations

import numpy as np

from cv_core.interpret.base import normalize_map
from cv_core.interpret.trust._common import _baseline, _check_map, _class_probabilities, _prepare
from cv_core.overlays import resize_map


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
