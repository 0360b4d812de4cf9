"""Where the labels of boxes go on a picture, so that no two labels overlap.

A box's label ("star 0.09") sits just above the box's top-left corner. Two near boxes would put
their labels on top of each other ("crcrcross 3"), so each label takes the first free spot of:
above the box, below it, inside its top edge, inside its bottom edge (left-aligned, then
right-aligned), then stacked further above or below, a label's height at a time. Labels are
placed in the order given: put the most important box (the best score) first.

Plotly draws text in screen pixels while boxes are in the picture's pixels, so a label's extent
is estimated from its characters and converted with the smallest size the picture is shown at:
shown larger, every label is smaller than its estimate and still clear of the others.

>>> sizes = [label_extent(t, font_size=11, picture_side=360) for t in ("star 0.09", "triangle 0.12")]
>>> place_labels([(10, 40, 30, 60), (12, 42, 32, 62)], sizes, (0, 0, 360, 360))
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["CHAR_WIDTH", "MIN_SHOWN_SIDE", "WIDE_CHAR_WIDTH", "label_extent", "overlap", "place_labels", "text_width"]

#: Width of a character as a share of the font size: generous for sans-serif letters and digits.
CHAR_WIDTH = 0.62
#: Width of a wide character (Chinese, Japanese, Korean: Unicode's East Asian Wide and Fullwidth),
#: as a share of the font size: such a glyph fills its em square.
WIDE_CHAR_WIDTH = 1.0
#: Height of a line of text as a share of the font size.
LINE_HEIGHT = 1.3
#: The smallest side (screen pixels) a picture's longer side is assumed to be shown at.
MIN_SHOWN_SIDE = 300

Rect = tuple[float, float, float, float]


def text_width(text: str) -> float:
    """The width of one line of ``text`` in font sizes: :data:`WIDE_CHAR_WIDTH` for each wide
    (CJK) character, :data:`CHAR_WIDTH` for each other one."""
    return sum(WIDE_CHAR_WIDTH if unicodedata.east_asian_width(c) in ("W", "F") else CHAR_WIDTH for c in text)


def label_extent(text: str, font_size: float = 11, picture_side: float | None = None, border: float = 1,
                 shown_side: float = MIN_SHOWN_SIDE) -> tuple[float, float]:
    """The (width, height) a one-line label takes, in screen pixels or, given ``picture_side``, in
    the picture's pixels.

    Args:
        text: the label's text (one line); Chinese characters count wider than Latin ones.
        font_size: the font size in screen pixels.
        picture_side: the picture's longer side in its own pixels; None returns screen pixels.
        border: the padding around the text (plotly's ``borderpad``), screen pixels.
        shown_side: the smallest size (screen pixels) the picture's longer side is shown at.

    Returns:
        ``(width, height)``.
    """
    width = text_width(text) * font_size + 2 * border + 2
    height = LINE_HEIGHT * font_size + 2 * border + 2
    if picture_side is None:
        return width, height
    factor = float(picture_side) / float(shown_side)
    return width * factor, height * factor


def overlap(a: Rect, b: Rect) -> float:
    """The area two ``(x0, y0, x1, y1)`` rectangles share (0 when they only touch)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _candidates(box: Sequence[float], width: float, height: float, bounds: Rect) -> list[tuple[float, float]]:
    """Top-left corners to try for one box's label, best first."""
    x0, y0, x1, y1 = (float(v) for v in box[:4])
    left, right = x0, x1 - width
    rows = [y0 - height, y1, y0, y1 - height]  # above, below, inside the top edge, inside the bottom edge
    spots = [(x, y) for x in (left, right) for y in rows]
    steps = int((bounds[3] - bounds[1]) / max(height, 1e-9)) + 1
    for k in range(1, steps + 1):  # stacked: further above, further below
        for x in (left, right):
            spots += [(x, y0 - height * (k + 1)), (x, y1 + height * k)]
    return spots


def _clamp(x: float, y: float, width: float, height: float, bounds: Rect) -> Rect:
    x = max(bounds[0], min(x, bounds[2] - width))
    y = max(bounds[1], min(y, bounds[3] - height))
    return x, y, x + width, y + height


def place_labels(boxes: Sequence[Sequence[float]], sizes: Sequence[tuple[float, float]], bounds: Rect) -> list[Rect]:
    """A rectangle for each box's label, none overlapping another where the picture has room.

    Args:
        boxes: ``(x0, y0, x1, y1)`` per box (more values are ignored), y down, in the
            picture's pixels; the first box gets the best spot.
        sizes: ``(width, height)`` of each label in the same pixels (:func:`label_extent`).
        bounds: ``(left, top, right, bottom)`` of the picture: labels stay inside it.

    Returns:
        One ``(x0, y0, x1, y1)`` per label, in the order of ``boxes``. Where no free spot is
        left (more labels than the picture holds), the spot that overlaps least.
    """
    if len(boxes) != len(sizes):
        raise ValueError(f"Expected one size per box. Received: {len(boxes)} boxes and {len(sizes)} sizes")
    placed: list[Rect] = []
    for box, (width, height) in zip(boxes, sizes):
        best, best_overlap = None, None
        wanted = _candidates(box, width, height, bounds)
        spots = [_clamp(x, y, width, height, bounds) for x, y in wanted]
        fits = [rect[:2] == spot for rect, spot in zip(spots, wanted)]
        # Spots inside the picture as they are first (a label pushed in from outside may cover its box).
        for rect in [r for r, f in zip(spots, fits) if f] + [r for r, f in zip(spots, fits) if not f]:
            covered = sum(overlap(rect, other) for other in placed)
            if best_overlap is None or covered < best_overlap:
                best, best_overlap = rect, covered
            if covered == 0:
                break
        placed.append(best)
    return placed
