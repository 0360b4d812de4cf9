"""Drawing palettes whose colours map back to classes exactly, even at antialiased borders."""

from __future__ import annotations

import numpy as np

from cv_core.mask_drawing.masks import MaskError, _check_num_classes
from cv_core.overlays import class_palette
from cv_core.i18n import N_

#: A drawn pixel this close (Euclidean RGB distance) to a palette colour takes its class.
CLEAN_TOLERANCE = 8.0
#: Palette colours are at least this far apart, so snapping can never confuse two classes.
MIN_COLOUR_DISTANCE = 24.0
#: No palette colour is this close to a mix of two other palette colours (up to
#: ``EXACT_BLEND_CLASSES`` classes), so a blend is never taken for a third class.
MIN_BLEND_CLEARANCE = 2 * CLEAN_TOLERANCE
#: Up to this many classes, palettes keep ``MIN_BLEND_CLEARANCE``.
EXACT_BLEND_CLASSES = 32


def _min_distance(colours: np.ndarray) -> float:
    c = colours.astype(np.float64)
    d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return float(d.min())


#: Colours chosen by a greedy search on a 17-level RGB grid: each one as far as possible from
#: the colours before it, from the mixes of any two of them, and with its own mixes far from
#: them (after black, which is the background). Every prefix keeps ``MIN_BLEND_CLEARANCE``.
_SEPARATED_COLOURS = np.array([
    (255, 255, 255), (0, 0, 255), (255, 255, 0), (0, 255, 51), (255, 0, 51), (17, 238, 255),
    (238, 17, 255), (34, 51, 136), (204, 221, 136), (187, 51, 0), (51, 221, 153), (170, 51, 153),
    (204, 119, 238), (255, 136, 68), (68, 136, 170), (17, 221, 0), (255, 119, 204), (170, 119, 17),
    (0, 119, 68), (68, 153, 238), (85, 255, 153), (34, 170, 17), (170, 255, 136), (221, 204, 68),
    (204, 170, 255), (238, 170, 204), (238, 34, 17), (187, 0, 17), (34, 204, 187), (136, 221, 238),
    (187, 34, 255),
], dtype=np.uint8)


def blend_clearance(palette) -> float:
    """The smallest distance between a palette colour and a mix of two other palette colours.

    A mix of colours A and C (what antialiasing draws where two strokes meet) lies on the
    segment from A to C in RGB space; this is the smallest distance from any third colour to
    any such segment (infinite with fewer than three colours).
    """
    p = np.asarray(palette, dtype=np.float64)
    if len(p) < 3:
        return float("inf")
    first, second = np.triu_indices(len(p), 1)
    a, d = p[first], p[second] - p[first]
    length = np.maximum((d * d).sum(1), 1e-12)[:, None]
    t = np.clip(((p[None] - a[:, None]) * d[:, None]).sum(-1) / length, 0.0, 1.0)
    gap = np.sqrt(((a[:, None] + t[..., None] * d[:, None] - p[None]) ** 2).sum(-1))
    rows = np.arange(len(first))
    gap[rows, first] = np.inf
    gap[rows, second] = np.inf
    return float(gap.min())


def _lattice_colours(count: int) -> np.ndarray:
    """``count`` colours on an even RGB lattice (black excluded), in a scrambled order so
    neighbouring classes differ."""
    levels = 2
    while levels**3 - 1 < count:
        levels += 1
    steps = np.rint(np.linspace(0, 255, levels)).astype(np.uint8)
    grid = np.array([(r, g, b) for r in steps for g in steps for b in steps][1:], dtype=np.uint8)
    stride = max(1, round(len(grid) * 0.618033988749895))
    while np.gcd(stride, len(grid)) != 1:
        stride += 1
    order = (np.arange(len(grid)) * stride) % len(grid)
    return grid[order][:count]


def drawing_palette(num_classes: int, background: int = 0) -> np.ndarray:
    """One solid colour per class for painting masks, chosen so strokes map back exactly.

    The background class is black; the other classes get the lab's usual hues
    (:func:`cv_core.overlays.class_palette`, so a dataset with its background at 0 looks the
    same here as on the Datasets page) while those keep ``MIN_COLOUR_DISTANCE`` and
    ``MIN_BLEND_CLEARANCE`` (up to 10 classes); then, up to ``EXACT_BLEND_CLASSES``, colours
    picked to keep them; beyond that, colours from an even RGB lattice (at least 42 apart,
    but some mixes of two colours pass through a third).

    Args:
        num_classes: 2 to 256.
        background: the background class index.

    Returns:
        (num_classes, 3) uint8, distinct colours.

    Raises:
        MaskError: a bad ``num_classes`` or ``background``.
    """
    n = _check_num_classes(num_classes)
    if isinstance(background, bool) or not isinstance(background, (int, np.integer)) or not 0 <= background < n:
        raise MaskError(N_("Expected `background` to be a class index in [0, {n}). Received: background={background}"), n=n, background=repr(background))
    hues = class_palette(n, background_first=True)
    if n <= EXACT_BLEND_CLASSES and _min_distance(hues) >= MIN_COLOUR_DISTANCE \
            and blend_clearance(hues) >= MIN_BLEND_CLEARANCE:
        others = hues[1:]
    elif n <= EXACT_BLEND_CLASSES:
        others = _SEPARATED_COLOURS[:n - 1]
    else:
        others = _lattice_colours(n - 1)
    palette = np.insert(others, int(background), (0, 0, 0), axis=0)
    return palette.astype(np.uint8)


def hex_colour(colour) -> str:
    """``"#rrggbb"`` for an RGB triple (what the canvas takes as a stroke colour)."""
    r, g, b = (int(c) for c in colour)
    return f"#{r:02x}{g:02x}{b:02x}"
