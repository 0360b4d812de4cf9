"""Painting objects (instances), not only classes: one colour per object, mapped back exactly.

The Mask studio paints a class mask and, beside it, an instance map (0 = no object, one id
per object). Each object has its own *stroke colour*; the canvas's strokes come back as
colours, and :func:`~cv_core.mask_drawing.canvas_to_labels` turns them into indices of an
**object palette** (:func:`object_palette`):

- index ``c`` < K (the class palette, :func:`~cv_core.mask_drawing.drawing_palette`) is the
  *first object of class c*, painted in the class's own colour; the background's index is
  the eraser (no class, no object). So painting without ever asking for a new object gives
  one object per class, and a mask drawn before objects existed looks the same;
- index ``K + j`` is extra object ``j`` ("New object"), of class ``extra_classes[j]``, in a
  colour of its own (:func:`extra_colours`: fixed order, at least ``MIN_COLOUR_DISTANCE``
  from every class colour and every other object colour), so every object keeps its colour
  while others are added.

The drawing state is an **object map** at the stored size: the object-palette index of each
pixel's object, or ``NO_OBJECT`` (-1). :func:`starting_objects` builds it from a saved
instance map (or none), :func:`paint_objects` puts strokes over it and the class mask
together (the eraser clears both), and :func:`objects_to_instances` numbers the objects that
still have pixels 1..N for saving. Because class mask and instance map are always computed
together from the starting maps and the strokes, undoing or erasing a stroke keeps them
consistent: an object whose pixels are all erased is simply not saved.

>>> palette = object_palette(drawing_palette(3), extra=2)          # 3 classes + 2 more objects
>>> labels = canvas_to_labels(rgba, palette)                        # object-palette indices
>>> classes, objects = paint_objects(start_classes, start_objects, labels, [1, 1], 3)
>>> instances, object_classes = objects_to_instances(objects, [1, 1], 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cv_core.mask_drawing.masks import MaskError
from cv_core.mask_drawing.palette import MIN_BLEND_CLEARANCE, MIN_COLOUR_DISTANCE, blend_clearance
from cv_core.mask_drawing.strokes import NOT_DRAWN, resize_labels
from cv_core.i18n import N_

#: Value of an object map where no object is.
NO_OBJECT = -1
#: Most extra objects ("New object") a picture can have beside one per class.
MAX_EXTRA_OBJECTS = 200


#: The first extra objects' colours are at least this far from every class colour and each other
#: (easy to tell apart on screen), and keep ``MIN_BLEND_CLEARANCE`` (exact at antialiased borders);
#: the rest only ``MIN_COLOUR_DISTANCE``.
DISTINCT_DISTANCE = 90.0


def _lattice(levels: int, stride: int) -> np.ndarray:
    steps = np.rint(np.linspace(0, 255, levels)).astype(np.int64)
    grid = np.array([(r, g, b) for r in steps for g in steps for b in steps], np.int64)
    return grid[(np.arange(len(grid)) * stride) % len(grid)]  # scrambled: neighbours differ


@lru_cache(maxsize=32)
def _extras(class_colours: bytes) -> np.ndarray:
    classes = np.frombuffer(class_colours, np.uint8).reshape(-1, 3).astype(np.float64)
    chosen: list[np.ndarray] = []

    def far(colour, distance):
        taken = np.concatenate([classes, np.array(chosen).reshape(-1, 3)])
        return np.sqrt(((taken - colour) ** 2).sum(1)).min() >= distance

    # First pass: vivid colours (not near white or black, which read as "nothing" or the eraser).
    for colour in _lattice(6, 131).astype(np.float64):
        if colour.min() > 200 or colour.max() < 60:
            continue
        if far(colour, DISTINCT_DISTANCE) and \
                blend_clearance(np.concatenate([classes, np.array(chosen).reshape(-1, 3), colour[None]])) \
                >= MIN_BLEND_CLEARANCE:
            chosen.append(colour)
    for colour in _lattice(9, 467).astype(np.float64):
        if len(chosen) == MAX_EXTRA_OBJECTS:
            break
        if far(colour, MIN_COLOUR_DISTANCE):
            chosen.append(colour)
    return np.array(chosen[:MAX_EXTRA_OBJECTS], np.uint8)


def extra_colours(class_palette, count: int) -> np.ndarray:
    """The stroke colours of extra objects 0..count-1 for a dataset with ``class_palette``.

    Always the same colours in the same order for the same class palette (so an object keeps
    its colour as more are added), each at least ``MIN_COLOUR_DISTANCE`` from every class
    colour and from each other; the first ones (about a dozen, fewer with many classes) at least
    ``DISTINCT_DISTANCE``, vivid, and with every blend of two colours far from a third
    (``MIN_BLEND_CLEARANCE``, so antialiased borders map back exactly, as for classes).

    Raises:
        MaskError: a bad palette, or more than ``MAX_EXTRA_OBJECTS`` objects.
    """
    palette = np.asarray(class_palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or not len(palette):
        raise MaskError(N_("Expected a (K, 3) class palette. Received: shape {shape}"), shape=palette.shape)
    if isinstance(count, bool) or not 0 <= int(count) <= MAX_EXTRA_OBJECTS:
        raise MaskError(N_("A picture can have at most {MAX_EXTRA_OBJECTS} extra objects. Received: {count}"), MAX_EXTRA_OBJECTS=MAX_EXTRA_OBJECTS, count=repr(count))
    extras = _extras(np.ascontiguousarray(palette, np.uint8).tobytes())
    if len(extras) < count:  # pragma: no cover - only with a palette that fills RGB space
        raise MaskError(N_("This class palette leaves room for {n} extra object colours, not {count}."), n=len(extras), count=count)
    return extras[:int(count)].copy()


def object_palette(class_palette, extra: int) -> np.ndarray:
    """The class palette followed by ``extra`` object colours: index = object (see the module docstring)."""
    palette = np.asarray(class_palette, np.uint8)
    return np.concatenate([palette, extra_colours(palette, extra)]).astype(np.uint8)


def _check_classes(class_mask, num_classes: int, background: int) -> np.ndarray:
    class_mask = np.asarray(class_mask)
    if class_mask.ndim != 2 or not np.issubdtype(class_mask.dtype, np.integer):
        raise MaskError(N_("Expected a 2-D integer class mask. Received: shape {shape}, {dtype}"), shape=class_mask.shape, dtype=class_mask.dtype)
    if not 0 <= background < num_classes:
        raise MaskError(N_("Expected `background` in [0, {num_classes}). Received: {background}"), num_classes=num_classes, background=repr(background))
    return class_mask


def object_class(index: int, extra_classes: Sequence[int], num_classes: int) -> int:
    """The class of object-palette index ``index``."""
    return int(index) if index < num_classes else int(extra_classes[index - num_classes])


def starting_objects(class_mask, instance_map, num_classes: int, background: int = 0) -> tuple[np.ndarray, list[int]]:
    """The object map and extra objects to start drawing from.

    Without an instance map (a mask saved before objects existed, a model's prediction, a
    true mask without instances) no pixel belongs to an object yet: what you paint then does.
    With one, its objects in id order: the first object of each class takes the class's own
    index, the others become extra objects in order.

    Args:
        class_mask: (H, W) class indices.
        instance_map: (H, W) ids (0 = none; checked ids, e.g. from
            :func:`cv_core.instances.data.instances_from_maps`), or None.
        num_classes, background: the dataset's.

    Returns:
        ``(objects, extra_classes)``: (H, W) int16 object-palette indices (``NO_OBJECT`` = -1),
        and the class of each extra object.

    Raises:
        MaskError: maps of different sizes, or more extra objects than ``MAX_EXTRA_OBJECTS``.
    """
    class_mask = _check_classes(class_mask, num_classes, background)
    objects = np.full(class_mask.shape, NO_OBJECT, np.int16)
    extra_classes: list[int] = []
    if instance_map is None:
        return objects, extra_classes
    instance_map = np.asarray(instance_map)
    if instance_map.shape != class_mask.shape:
        raise MaskError(N_("The instance map is {shape} × {shape2} pixels but the class mask is {shape3} × "
                           "{shape4}: they must be the same size."), shape=instance_map.shape[1], shape2=instance_map.shape[0], shape3=class_mask.shape[1], shape4=class_mask.shape[0])
    first_of_class: set[int] = set()
    on_object = class_mask != background
    for original in np.unique(instance_map[(instance_map > 0) & on_object]):
        pixels = (instance_map == original) & on_object
        cls = int(np.bincount(class_mask[pixels].astype(np.int64)).argmax())
        if cls not in first_of_class:
            first_of_class.add(cls)
            index = cls
        else:
            extra_classes.append(cls)
            if len(extra_classes) > MAX_EXTRA_OBJECTS:
                raise MaskError(N_("This picture has more objects than the studio can colour apart ({MAX_EXTRA_OBJECTS} "
                                   "beyond one a class)."), MAX_EXTRA_OBJECTS=MAX_EXTRA_OBJECTS)
            index = num_classes + len(extra_classes) - 1
        objects[pixels] = index
    return objects, extra_classes


def paint_objects(class_mask, objects, labels, extra_classes: Sequence[int], num_classes: int,
                  background: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Strokes over the starting class mask and object map, together.

    Args:
        class_mask: (H, W) class indices at the stored size (the starting mask).
        objects: (H, W) object map from :func:`starting_objects`.
        labels: (h, w) object-palette indices from the canvas (``NOT_DRAWN`` = -1 where no
            stroke is), any size with the picture's aspect: resized by nearest neighbour.
            The background's index is the eraser: background class, no object.
        extra_classes: the class of each extra object.
        num_classes, background: the dataset's.

    Returns:
        ``(classes, objects)``: (H, W) uint8 and (H, W) int16, new arrays.

    Raises:
        MaskError: an index beyond the objects, or maps of different sizes.
    """
    class_mask = _check_classes(class_mask, num_classes, background)
    objects = np.asarray(objects)
    if objects.shape != class_mask.shape:
        raise MaskError(N_("Expected the object map and the class mask to have the same size."))
    classes_out = class_mask.astype(np.uint8, copy=True)
    objects_out = objects.astype(np.int16, copy=True)
    if labels is None:
        return classes_out, objects_out
    painted = resize_labels(labels, class_mask.shape)
    drawn = painted != NOT_DRAWN
    if not drawn.any():
        return classes_out, objects_out
    top = num_classes + len(extra_classes)
    if int(painted[drawn].min()) < 0 or int(painted[drawn].max()) >= top:
        raise MaskError(N_("Expected stroke indices from 0 to {value}. Received: {int}"), value=top - 1, int=int(painted[drawn].max()))
    table = np.array([*range(num_classes), *[int(c) for c in extra_classes]], np.int64)
    classes_out[drawn] = table[painted[drawn]].astype(np.uint8)
    erased = drawn & (painted == background)
    objects_out[drawn] = painted[drawn].astype(np.int16)
    objects_out[erased] = NO_OBJECT
    return classes_out, objects_out


def objects_to_instances(objects, extra_classes: Sequence[int], num_classes: int) -> tuple[np.ndarray, list[int]]:
    """Number the objects that have pixels 1..N (in object-palette order), for saving.

    Returns:
        ``(instances, classes)``: (H, W) uint16, 0 = no object, and the class of ids 1..N.
        An object with no pixels left (all erased or undone) gets no id.
    """
    objects = np.asarray(objects)
    present = [int(v) for v in np.unique(objects[objects != NO_OBJECT])]
    instances = np.zeros(objects.shape, np.uint16)
    classes = []
    for new, index in enumerate(present, start=1):
        instances[objects == index] = new
        classes.append(object_class(index, extra_classes, num_classes))
    return instances, classes


def object_names(extra_classes: Sequence[int], class_names: Sequence[str], background: int = 0) -> list[tuple[int, str]]:
    """``(object-palette index, class name)`` of every object that can be painted: the first
    object of each class, then the extra objects."""
    first = [(c, str(class_names[c])) for c in range(len(class_names)) if c != background]
    extra = [(len(class_names) + j, str(class_names[int(c)])) for j, c in enumerate(extra_classes)]
    return first + extra
