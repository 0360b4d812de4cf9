"""From strokes on a canvas to a segmentation mask, exactly.

The Mask studio lets a person paint a mask over a picture in the browser; this module turns
what the canvas gives back (an RGBA picture of the strokes) into class indices, and holds the
small mask tools a notebook user needs too: palettes, polygon filling, resizing, checking and
re-labelling masks. It never imports Streamlit.

>>> from cv_core.mask_drawing import drawing_palette, canvas_to_labels, apply_strokes
>>> palette = drawing_palette(3)                        # background black, two bright colours
>>> labels = canvas_to_labels(rgba, palette)            # (h, w) class per pixel, -1 = not drawn
>>> mask = apply_strokes(starting_mask, labels)         # strokes over the starting mask

**How strokes map back to classes.** Every class paints one opaque colour of
:func:`drawing_palette`. The colours are at least ``MIN_COLOUR_DISTANCE`` apart in RGB, and
(up to ``EXACT_BLEND_CLASSES`` classes) no colour lies within ``2 * CLEAN_TOLERANCE`` of a
mix of two others. The browser antialiases the strokes' borders, so :func:`canvas_to_labels`
reads the canvas in three steps:

1. a pixel with alpha below ``ALPHA_DRAWN`` (less than half covered by a stroke) is *not
   drawn*: the starting mask is kept there;
2. a drawn pixel within ``CLEAN_TOLERANCE`` of a palette colour takes that colour's class
   (snapping: the colour of a half-covered border pixel survives the browser's alpha
   un-premultiplying to within a unit or two);
3. a drawn pixel far from every palette colour is the antialiased border between two
   strokes of different classes (a blend of their colours). It takes the class of the
   nearest cleanly coloured pixel, so a blend can never invent a third class. (With more
   than ``EXACT_BLEND_CLASSES`` classes the palette cannot keep every mix away from every
   third colour, and a border pixel may, rarely, match one.)

**Sizes.** Masks are stored at the size of their stored image. Pictures larger than
``STORE_MAX_SIDE`` on their long side are shrunk once (area filter) before drawing
(:func:`storage_size`): a model of this lab trains at about 200 px, and a mask drawn on a
canvas of ``DRAW_SIDE`` (up to 800) px holds no finer detail. The canvas shows the picture at
:func:`canvas_size` (small pictures enlarged by a whole factor so their pixels stay crisp),
and :func:`apply_strokes` maps the canvas back onto the stored size by nearest neighbour:
pixels nobody painted keep the starting mask at full resolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from cv_core.overlays import class_palette

__all__ = [
    "ALPHA_DRAWN",
    "CLEAN_TOLERANCE",
    "DRAW_SIDE",
    "EXACT_BLEND_CLASSES",
    "MAX_ASPECT",
    "MAX_CLASSES",
    "MIN_BLEND_CLEARANCE",
    "MIN_COLOUR_DISTANCE",
    "NOT_DRAWN",
    "STORE_MAX_SIDE",
    "MaskError",
    "apply_strokes",
    "blank_mask",
    "canvas_size",
    "blend_clearance",
    "canvas_to_labels",
    "drawing_palette",
    "fill_polygon",
    "hex_colour",
    "parse_class_names",
    "prepare_for_storage",
    "remap_mask",
    "resize_labels",
    "storage_size",
    "validate_mask",
]

#: Canvas pixels with an alpha below this (out of 255) are not drawn.
ALPHA_DRAWN = 128
#: A drawn pixel this close (Euclidean RGB distance) to a palette colour takes its class.
CLEAN_TOLERANCE = 8.0
#: Palette colours are at least this far apart, so snapping can never confuse two classes.
MIN_COLOUR_DISTANCE = 24.0
#: No palette colour is this close to a mix of two other palette colours (up to
#: ``EXACT_BLEND_CLASSES`` classes), so a blend is never taken for a third class.
MIN_BLEND_CLEARANCE = 2 * CLEAN_TOLERANCE
#: Up to this many classes, palettes keep ``MIN_BLEND_CLEARANCE``.
EXACT_BLEND_CLASSES = 32
#: Value of :func:`canvas_to_labels` for a pixel that no stroke covers.
NOT_DRAWN = -1
#: Long side of the drawing canvas, in screen pixels (the default; the studio lets you choose).
DRAW_SIDE = 480
#: Long side above which a picture is shrunk before it is stored with its mask.
STORE_MAX_SIDE = 1024
#: Pictures longer than this many times their width (or the reverse) are refused.
MAX_ASPECT = 16
#: One byte per mask pixel.
MAX_CLASSES = 256
MAX_CLASS_NAME = 64
_MIN_SIDE = 8


class MaskError(ValueError):
    """A mask, a palette or a picture that cannot be used; the message says what to change."""


def _check_num_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or not 2 <= num_classes <= MAX_CLASSES:
        raise MaskError(f"Expected `num_classes` to be a whole number from 2 to {MAX_CLASSES}. "
                        f"Received: num_classes={num_classes!r}")
    return int(num_classes)


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
        raise MaskError(f"Expected `background` to be a class index in [0, {n}). Received: background={background!r}")
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
        raise MaskError("Expected the canvas as an (H, W, 4) uint8 RGBA array. "
                        f"Received: shape {rgba.shape}, {rgba.dtype}")
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or not len(palette):
        raise MaskError(f"Expected a (K, 3) palette. Received: shape {palette.shape}")
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
    integer dtype, including ``NOT_DRAWN`` values.
    """
    labels = np.asarray(labels)
    height, width = (int(s) for s in size)
    if labels.ndim != 2:
        raise MaskError(f"Expected a 2-D map. Received: shape {labels.shape}")
    if height < 1 or width < 1:
        raise MaskError(f"Expected a positive size. Received: {size}")
    if labels.shape == (height, width):
        return labels.copy()
    rows = np.minimum(((np.arange(height) + 0.5) * labels.shape[0] / height).astype(np.int64), labels.shape[0] - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * labels.shape[1] / width).astype(np.int64), labels.shape[1] - 1)
    return labels[rows[:, None], cols[None, :]]


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
        raise MaskError("Expected the starting mask as a 2-D integer array. "
                        f"Received: shape {base.shape}, {base.dtype}")
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
        raise MaskError(f"Expected a 2-D integer mask. Received: shape {mask.shape}, {mask.dtype}")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise MaskError(f"Expected three or more (x, y) corners. Received: {len(pts) if pts.ndim else 0} point(s)")
    if not np.isfinite(pts).all():
        raise MaskError("Expected finite corner coordinates.")
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)) \
            or not 0 <= class_index < MAX_CLASSES:
        raise MaskError(f"Expected `class_index` in [0, {MAX_CLASSES}). Received: class_index={class_index!r}")
    rows, cols = polygon(pts[:, 1] - 0.5, pts[:, 0] - 0.5, shape=mask.shape)
    out = mask.copy()
    out[rows, cols] = class_index
    return out


def blank_mask(shape: tuple[int, int], background: int = 0) -> np.ndarray:
    """An (H, W) uint8 mask that is all ``background``."""
    return np.full(tuple(int(s) for s in shape[:2]), background, dtype=np.uint8)


def validate_mask(mask, image_shape: tuple[int, ...], num_classes: int) -> np.ndarray:
    """Check that ``mask`` can go with a picture of ``image_shape``; return it as uint8.

    Args:
        mask: 2-D integer (or boolean) class indices.
        image_shape: the picture's shape, (H, W) or (H, W, 3).
        num_classes: the classes of the dataset it is for: values must be in [0, num_classes).

    Raises:
        MaskError: not 2-D, not whole numbers, another size than the picture, or a value
            outside the class range. The message says which and what was expected.
    """
    k = _check_num_classes(num_classes)
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(f"Expected a mask with one value per pixel (2-D). Received: shape {mask.shape}")
    if mask.dtype == bool:
        mask = mask.astype(np.uint8)
    if not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(f"Expected whole-number class indices. Received: {mask.dtype} values")
    height, width = (int(s) for s in image_shape[:2])
    if mask.shape != (height, width):
        raise MaskError(f"The mask is {mask.shape[1]} × {mask.shape[0]} pixels but the picture is "
                        f"{width} × {height}: they must be the same size.")
    if mask.size:
        low, high = int(mask.min()), int(mask.max())
        if low < 0 or high >= k:
            bad = low if low < 0 else high
            raise MaskError(f"The mask has the value {bad}, outside the {k} classes (values 0 to {k - 1}).")
    return mask.astype(np.uint8)


def storage_size(height: int, width: int, max_side: int = STORE_MAX_SIDE) -> tuple[int, int]:
    """The (height, width) a picture is stored at: its own size up to ``max_side`` on the long
    side, else shrunk to that (aspect kept).

    Raises:
        MaskError: sides under 8 px, or a picture more than ``MAX_ASPECT`` times longer than wide.
    """
    height, width = int(height), int(width)
    if min(height, width) < _MIN_SIDE:
        raise MaskError(f"The picture is {width} × {height} pixels: too small to draw on "
                        f"(at least {_MIN_SIDE} px a side).")
    if max(height, width) > MAX_ASPECT * min(height, width):
        raise MaskError(f"The picture is {width} × {height} pixels: too long and thin to draw a mask on "
                        f"(at most {MAX_ASPECT} times longer than wide). Crop it first.")
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
        raise MaskError("Expected the picture as an (H, W, 3) uint8 RGB array. "
                        f"Received: shape {image.shape}, {image.dtype}")
    height, width = storage_size(*image.shape[:2], max_side=max_side)
    if mask is not None and np.asarray(mask).shape != image.shape[:2]:
        raise MaskError(f"The mask is {mask.shape[1]} × {mask.shape[0]} pixels but the picture is "
                        f"{image.shape[1]} × {image.shape[0]}: they must be the same size.")
    if (height, width) == image.shape[:2]:
        return image, mask
    small = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BOX))
    return small, (None if mask is None else resize_labels(mask, (height, width)))


def remap_mask(mask, source_names: Sequence[str], target_names: Sequence[str],
               source_background: int = 0, target_background: int = 0) -> np.ndarray:
    """Re-label a mask from one list of classes to another, by class name.

    The source's background becomes the target's background; every other class goes to the
    target class of the same name (ignoring case and surrounding spaces). Handy to start a
    mask of your own dataset from the shapes' or pets' true masks.

    Returns:
        (H, W) uint8 in the target's classes.

    Raises:
        MaskError: a value outside the source classes, or a class present in the mask that
            the target does not have (the message names them).
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(f"Expected a 2-D integer mask. Received: shape {mask.shape}, {mask.dtype}")
    source, target = list(source_names), list(target_names)
    if mask.size and (mask.min() < 0 or mask.max() >= len(source)):
        raise MaskError(f"The mask has values from {mask.min()} to {mask.max()} but only {len(source)} "
                        f"classes are named ({', '.join(source)}).")
    by_name = {str(name).strip().casefold(): i for i, name in enumerate(target)}
    table = np.full(len(source), -1, dtype=np.int64)
    for i, name in enumerate(source):
        table[i] = target_background if i == source_background else by_name.get(str(name).strip().casefold(), -1)
    present = np.unique(mask) if mask.size else np.array([], dtype=np.int64)
    missing = [source[int(v)] for v in present if table[int(v)] < 0]
    if missing:
        raise MaskError(
            f"This mask has the class(es) {', '.join(repr(m) for m in missing)}, which the dataset's classes "
            f"({', '.join(target)}) do not include. Start from an empty mask, or use a dataset with these classes."
        )
    return table[mask].astype(np.uint8)


def parse_class_names(text: str) -> list[str]:
    """Class names typed one per line (blank lines ignored, spaces around names dropped).

    Raises:
        MaskError: fewer than 2 or more than 256 names, a name over 64 characters or with
            control characters, or the same name twice. The message names the line.
    """
    if not isinstance(text, str):
        raise MaskError(f"Expected the class names as text. Received: {type(text).__name__}")
    names = [line.strip() for line in text.splitlines() if line.strip()]
    for number, name in enumerate(names, start=1):
        if len(name) > MAX_CLASS_NAME:
            raise MaskError(f"Class {number} ({name[:20]!r}…) is too long: at most {MAX_CLASS_NAME} characters.")
        if not name.isprintable():
            raise MaskError(f"Class {number} ({name!r}) contains control characters.")
    if len(names) < 2:
        raise MaskError("Give at least two classes, one per line: the background first, then the objects "
                        "(e.g. background, cat, dog).")
    if len(names) > MAX_CLASSES:
        raise MaskError(f"Give at most {MAX_CLASSES} classes (a mask stores one byte per pixel). "
                        f"Received: {len(names)}")
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name.casefold() in seen:
            raise MaskError(f"Class {number} ({name!r}) repeats class {seen[name.casefold()]}: "
                            "class names must differ.")
        seen[name.casefold()] = number
    return names
