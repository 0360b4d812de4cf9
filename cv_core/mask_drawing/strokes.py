"""Canvas strokes to class labels, and labels painted over a starting mask or a polygon."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cv_core.images import resize_nearest
from cv_core.mask_drawing.masks import MAX_CLASSES, MaskError
from cv_core.mask_drawing.palette import CLEAN_TOLERANCE
from cv_core.i18n import N_

#: Canvas pixels with an alpha below this (out of 255) are not drawn.
ALPHA_DRAWN = 128
#: Value of :func:`canvas_to_labels` for a pixel that no stroke covers.
NOT_DRAWN = -1


def canvas_to_labels(rgba, palette, alpha_threshold: int = ALPHA_DRAWN,
                     tolerance: float = CLEAN_TOLERANCE) -> np.ndarray:
    """Class indices of the strokes on a canvas (see the module docstring for the rules).

    Args:
        rgba: (H, W, 4) uint8, the canvas's pixels: strokes over a transparent background.
        palette: (K, 3) uint8, the colour class k was painted with (:func:`drawing_palette`).
        alpha_threshold: pixels with a lower alpha are not drawn.
        tolerance: RGB distance within which a pixel's colour counts as a palette colour.

    Returns:
        (H, W) int16: the class of each drawn pixel, ``NOT_DRAWN`` (-1) elsewhere.

    Raises:
        MaskError: ``rgba`` is not (H, W, 4) uint8, or ``palette`` is not (K, 3).
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise MaskError(N_("Expected the canvas as an (H, W, 4) uint8 RGBA array. Received: shape {shape}, {dtype}"), shape=rgba.shape, dtype=rgba.dtype)
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or not len(palette):
        raise MaskError(N_("Expected a (K, 3) palette. Received: shape {shape}"), shape=palette.shape)
    labels = np.full(rgba.shape[:2], NOT_DRAWN, dtype=np.int16)
    drawn = rgba[..., 3] >= alpha_threshold
    if not drawn.any():
        return labels
    rgb = rgba[..., :3][drawn].astype(np.int32)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    unique, inverse = np.unique(packed, return_inverse=True)
    colours = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1).astype(np.float32)
    nearest = np.empty(len(unique), dtype=np.int16)
    distance = np.empty(len(unique), dtype=np.float32)
    reference = palette.astype(np.float32)
    for start in range(0, len(unique), 4096):  # bounded memory with many classes and colours
        d = np.sqrt(((colours[start:start + 4096, None, :] - reference[None]) ** 2).sum(-1))
        nearest[start:start + 4096] = d.argmin(axis=1)
        distance[start:start + 4096] = d.min(axis=1)
    pixel_class = nearest[inverse.ravel()]
    clean = distance[inverse.ravel()] <= tolerance
    labels[drawn] = np.where(clean, pixel_class, NOT_DRAWN)
    blends = drawn & (labels == NOT_DRAWN)
    if blends.any():
        clean_map = drawn & ~blends
        if clean_map.any():
            from scipy import ndimage

            _, (rows, cols) = ndimage.distance_transform_edt(~clean_map, return_indices=True)
            labels[blends] = labels[rows[blends], cols[blends]]
        else:  # nothing painted in a palette colour at all: snap to the nearest one
            labels[drawn] = pixel_class
    return labels


def resize_labels(labels, size: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D integer map to ``size`` = (height, width) by nearest neighbour.

    Each output pixel takes the input pixel under its centre, so no class is ever mixed and
    a map enlarged by a whole factor and shrunk back comes back bit-exact. Works for any
    integer dtype, including ``NOT_DRAWN`` values (:func:`cv_core.images.resize_nearest`).
    """
    labels = np.asarray(labels)
    height, width = (int(s) for s in size)
    if labels.ndim != 2:
        raise MaskError(N_("Expected a 2-D map. Received: shape {shape}"), shape=labels.shape)
    if height < 1 or width < 1:
        raise MaskError(N_("Expected a positive size. Received: {size}"), size=size)
    if labels.shape == (height, width):
        return labels.copy()
    return resize_nearest(labels, (height, width))


def apply_strokes(base_mask, labels) -> np.ndarray:
    """The starting mask with the painted pixels replaced by their class.

    Args:
        base_mask: (H, W) integer class indices at the stored size (the starting mask).
        labels: (h, w) from :func:`canvas_to_labels`, any size with the picture's aspect
            (the canvas); resized to (H, W) by :func:`resize_labels`.

    Returns:
        (H, W) uint8, a new array.
    """
    base = np.asarray(base_mask)
    if base.ndim != 2 or not np.issubdtype(base.dtype, np.integer):
        raise MaskError(N_("Expected the starting mask as a 2-D integer array. Received: shape {shape}, {dtype}"), shape=base.shape, dtype=base.dtype)
    out = base.astype(np.uint8, copy=True)
    if labels is None:
        return out
    painted = resize_labels(labels, base.shape)
    drawn = painted != NOT_DRAWN
    out[drawn] = painted[drawn].astype(np.uint8)
    return out


def fill_polygon(mask, points: Sequence[tuple[float, float]], class_index: int) -> np.ndarray:
    """A copy of ``mask`` with a filled polygon painted in ``class_index``.

    Args:
        mask: (H, W) integer class indices.
        points: three or more (x, y) corners in pixel coordinates, as on a canvas: pixel
            (row i, column j) covers x in [j, j + 1) and y in [i, i + 1). A pixel is filled
            when its centre lies inside the polygon; corners outside the mask are clipped.
        class_index: the value to paint, 0 to 255.

    Returns:
        (H, W) array of ``mask``'s dtype.

    Raises:
        MaskError: fewer than three points, non-finite points, a bad mask or class index.
    """
    from skimage.draw import polygon

    mask = np.asarray(mask)
    if mask.ndim != 2 or not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(N_("Expected a 2-D integer mask. Received: shape {shape}, {dtype}"), shape=mask.shape, dtype=mask.dtype)
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise MaskError(N_("Expected three or more (x, y) corners. Received: {value} point(s)"), value=len(pts) if pts.ndim else 0)
    if not np.isfinite(pts).all():
        raise MaskError(N_("Expected finite corner coordinates."))
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) \
            or not 0 <= class_index < MAX_CLASSES:
        raise MaskError(N_("Expected `class_index` in [0, {MAX_CLASSES}). Received: class_index={class_index}"), MAX_CLASSES=MAX_CLASSES, class_index=repr(class_index))
    rows, cols = polygon(pts[:, 1] - 0.5, pts[:, 0] - 0.5, shape=mask.shape)
    out = mask.copy()
    out[rows, cols] = class_index
    return out
