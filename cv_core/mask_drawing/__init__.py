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

Modules: :mod:`~cv_core.mask_drawing.palette` (colours), :mod:`~cv_core.mask_drawing.strokes`
(canvas to labels, polygons), :mod:`~cv_core.mask_drawing.objects` (painting objects:
instance maps beside the class mask), :mod:`~cv_core.mask_drawing.sizes` (stored and canvas sizes) and
:mod:`~cv_core.mask_drawing.masks` (checks, re-labelling, class names).
"""

from __future__ import annotations

from cv_core.mask_drawing.masks import (
    MAX_CLASS_NAME,
    MAX_CLASSES,
    MaskError,
    blank_mask,
    parse_class_names,
    remap_mask,
    validate_mask,
)
from cv_core.mask_drawing.objects import (
    MAX_EXTRA_OBJECTS,
    NO_OBJECT,
    extra_colours,
    object_class,
    object_names,
    object_palette,
    objects_to_instances,
    paint_objects,
    starting_objects,
)
from cv_core.mask_drawing.palette import (
    CLEAN_TOLERANCE,
    EXACT_BLEND_CLASSES,
    MIN_BLEND_CLEARANCE,
    MIN_COLOUR_DISTANCE,
    blend_clearance,
    drawing_palette,
    hex_colour,
)
from cv_core.mask_drawing.sizes import DRAW_SIDE, MAX_ASPECT, STORE_MAX_SIDE, canvas_size, prepare_for_storage, storage_size
from cv_core.mask_drawing.strokes import ALPHA_DRAWN, NOT_DRAWN, apply_strokes, canvas_to_labels, fill_polygon, resize_labels

__all__ = [
    "MAX_EXTRA_OBJECTS",
    "NO_OBJECT",
    "extra_colours",
    "object_class",
    "object_names",
    "object_palette",
    "objects_to_instances",
    "paint_objects",
    "starting_objects",
    "ALPHA_DRAWN",
    "CLEAN_TOLERANCE",
    "DRAW_SIDE",
    "EXACT_BLEND_CLASSES",
    "MAX_ASPECT",
    "MAX_CLASS_NAME",
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
