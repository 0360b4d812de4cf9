"""Heatmaps drawn over photos: a perceptual colour map and alpha blending, in numpy."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["colorize", "overlay", "resize_map"]

# Anchors of the "turbo" colour map (Google, 2019): dark blue -> cyan -> green -> yellow -> red.
_TURBO = np.array([
    [48, 18, 59], [70, 107, 227], [40, 187, 236], [49, 242, 153], [162, 252, 60],
    [237, 208, 58], [251, 128, 34], [208, 47, 5], [122, 4, 3],
], dtype=np.float32)


def resize_map(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D float map to ``size`` = (height, width) with bilinear filtering."""
    heatmap = np.asarray(heatmap, dtype=np.float32)
    height, width = size
    if heatmap.shape == (height, width):
        return heatmap
    return np.asarray(Image.fromarray(heatmap, mode="F").resize((width, height), Image.Resampling.BILINEAR))


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """A (H, W) map in [0, 1] as an (H, W, 3) uint8 turbo-coloured picture (values are clipped)."""
    values = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    position = values * (len(_TURBO) - 1)
    low = np.floor(position).astype(int).clip(0, len(_TURBO) - 2)
    frac = (position - low)[..., None]
    colours = _TURBO[low] * (1 - frac) + _TURBO[low + 1] * frac
    return colours.round().astype(np.uint8)


def overlay(photo: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heatmap over an (H, W, 3) uint8 photo, for display.

    Args:
        photo: (H, W, 3) uint8 RGB.
        heatmap: 2-D map in [0, 1] of any size (resized to the photo's).
        alpha: opacity of the heatmap in [0, 1]; 0 shows the photo, 1 only the heatmap.

    Returns:
        (H, W, 3) uint8 RGB.

    Raises:
        ValueError: a photo that is not (H, W, 3), a heatmap that is not 2-D, or alpha out of range.
    """
    photo = np.asarray(photo)
    heatmap = np.asarray(heatmap)
    if photo.ndim != 3 or photo.shape[-1] != 3:
        raise ValueError(f"Expected `photo` of shape (height, width, 3). Received: shape {photo.shape}")
    if heatmap.ndim != 2 or 0 in heatmap.shape:
        raise ValueError(f"Expected a 2-D `heatmap`. Received: shape {heatmap.shape}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"Expected `alpha` in [0, 1]. Received: alpha={alpha!r}")
    if heatmap.dtype == np.uint8:
        heatmap = heatmap / 255.0
    colours = colorize(resize_map(heatmap, photo.shape[:2])).astype(np.float32)
    blended = (1 - alpha) * photo.astype(np.float32) + alpha * colours
    return blended.round().clip(0, 255).astype(np.uint8)
