"""Sizes: how big a picture is stored with its mask, and how big the canvas shows it."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cv_core.mask_drawing.masks import MaskError
from cv_core.mask_drawing.strokes import resize_labels
from cv_core.i18n import N_

#: Long side of the drawing canvas, in screen pixels (the default; the studio lets you choose).
DRAW_SIDE = 480
#: Long side above which a picture is shrunk before it is stored with its mask.
STORE_MAX_SIDE = 1024
#: Pictures longer than this many times their width (or the reverse) are refused.
MAX_ASPECT = 16
_MIN_SIDE = 8


def storage_size(height: int, width: int, max_side: int = STORE_MAX_SIDE) -> tuple[int, int]:
    """The (height, width) a picture is stored at: its own size up to ``max_side`` on the long
    side, else shrunk to that (aspect kept).

    Raises:
        MaskError: sides under 8 px, or a picture more than ``MAX_ASPECT`` times longer than wide.
    """
    height, width = int(height), int(width)
    if min(height, width) < _MIN_SIDE:
        raise MaskError(N_("The picture is {width} × {height} pixels: too small to draw on (at least {_MIN_SIDE} px "
                           "a side)."), width=width, height=height, _MIN_SIDE=_MIN_SIDE)
    if max(height, width) > MAX_ASPECT * min(height, width):
        raise MaskError(N_("The picture is {width} × {height} pixels: too long and thin to draw a mask on (at most "
                           "{MAX_ASPECT} times longer than wide). Crop it first."), width=width, height=height, MAX_ASPECT=MAX_ASPECT)
    long_side = max(height, width)
    if long_side <= max_side:
        return height, width
    scale = max_side / long_side
    return max(_MIN_SIDE, round(height * scale)), max(_MIN_SIDE, round(width * scale))


def canvas_size(height: int, width: int, side: int = DRAW_SIDE) -> tuple[int, int]:
    """The (height, width) of the drawing canvas for a picture of that size.

    A picture larger than ``side`` is shown shrunk to ``side`` on its long side; a smaller one
    is enlarged by the largest whole factor that fits, so its pixels stay square and crisp.
    """
    height, width = int(height), int(width)
    long_side = max(height, width)
    if long_side <= side:
        factor = max(1, side // long_side)
        return height * factor, width * factor
    scale = side / long_side
    return max(1, round(height * scale)), max(1, round(width * scale))


def prepare_for_storage(image, mask=None, max_side: int = STORE_MAX_SIDE):
    """Shrink a picture (area filter) and its mask (nearest) to :func:`storage_size`.

    Args:
        image: (H, W, 3) uint8.
        mask: (H, W) class indices or None.

    Returns:
        ``(image, mask)`` at the stored size; unchanged (not copied) when already small enough.

    Raises:
        MaskError: see :func:`storage_size`; a mask of another size than the picture.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MaskError(N_("Expected the picture as an (H, W, 3) uint8 RGB array. Received: shape {shape}, {dtype}"), shape=image.shape, dtype=image.dtype)
    height, width = storage_size(*image.shape[:2], max_side=max_side)
    if mask is not None and np.asarray(mask).shape != image.shape[:2]:
        raise MaskError(N_("The mask is {shape} × {shape2} pixels but the picture is {shape3} × {shape4}: they must "
                           "be the same size."), shape=mask.shape[1], shape2=mask.shape[0], shape3=image.shape[1], shape4=image.shape[0])
    if (height, width) == image.shape[:2]:
        return image, mask
    small = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BOX))
    return small, (None if mask is None else resize_labels(mask, (height, width)))
