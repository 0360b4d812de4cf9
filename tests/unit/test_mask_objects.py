"""Painting objects in the Mask studio's library: colours apart, strokes to class mask + instance map."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.instances.data import instances_from_maps
from cv_core.mask_drawing import (
    MIN_COLOUR_DISTANCE,
    NO_OBJECT,
    NOT_DRAWN,
    MaskError,
    canvas_to_labels,
    drawing_palette,
    extra_colours,
    object_names,
    object_palette,
    objects_to_instances,
    paint_objects,
    starting_objects,
)


def _distances(colours):
    c = np.asarray(colours, np.float64)
    d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return d


@pytest.mark.parametrize("classes", [2, 3, 6, 40])
def test_object_colours_are_apart_from_classes_and_each_other_and_stable(classes):
    palette = drawing_palette(classes)
    full = object_palette(palette, 60)
    assert np.array_equal(full[:classes], palette)
    assert _distances(full).min() >= MIN_COLOUR_DISTANCE
    # An object keeps its colour when more are added.
    assert np.array_equal(extra_colours(palette, 5), extra_colours(palette, 60)[:5])


def test_too_many_objects_are_refused():
    with pytest.raises(MaskError, match="at most 200"):
        extra_colours(drawing_palette(3), 201)


def _canvas(size, strokes, palette):
    """An RGBA canvas with solid rectangles in palette colours: (index, y0, y1, x0, x1)."""
    rgba = np.zeros((*size, 4), np.uint8)
    for index, y0, y1, x0, x1 in strokes:
        rgba[y0:y1, x0:x1, :3] = palette[index]
        rgba[y0:y1, x0:x1, 3] = 255
    return rgba


def test_two_touching_objects_of_one_class_stay_two():
    classes, background = 3, 0  # background, square, circle
    start = np.zeros((12, 16), np.uint8)
    objects, extra = starting_objects(start, None, classes, background)
    assert (objects == NO_OBJECT).all() and extra == []
    extra = [1]  # "New object" of class 1 (square) once
    palette = object_palette(drawing_palette(classes), len(extra))
    # first square (index 1, the class colour), a touching second square (index 3), a circle
    rgba = _canvas((12, 16), [(1, 1, 6, 1, 6), (3, 1, 6, 6, 11), (2, 8, 11, 2, 14)], palette)
    labels = canvas_to_labels(rgba, palette)
    mask, objects = paint_objects(start, objects, labels, extra, classes, background)
    instances, object_classes = objects_to_instances(objects, extra, classes)
    assert object_classes == [1, 2, 1]
    assert (mask[1:6, 1:11] == 1).all() and (mask[8:11, 2:14] == 2).all()
    assert (instances[1:6, 1:6] == 1).all() and (instances[1:6, 6:11] == 3).all() and (instances[8:11, 2:14] == 2).all()
    # Class mask and instances agree (what the store checks when saving).
    checked = instances_from_maps(mask, instances, (12, 16, 3), background=background)
    assert [b[0] for b in checked.boxes] == [1, 2, 1]
    assert checked.boxes[0][1:] == (1, 1, 6, 6) and checked.boxes[2][1:] == (6, 1, 11, 6)


def test_erasing_clears_class_and_object_and_an_emptied_object_is_not_saved():
    classes = 3
    start = np.zeros((10, 10), np.uint8)
    objects, _ = starting_objects(start, None, classes)
    extra = [2]
    palette = object_palette(drawing_palette(classes), 1)
    painted = canvas_to_labels(_canvas((10, 10), [(2, 0, 4, 0, 4), (3, 5, 9, 5, 9)], palette), palette)
    mask, objects = paint_objects(start, objects, painted, extra, classes)
    # the eraser (background index 0) over all of the extra object and half of the first
    erase = np.full((10, 10), NOT_DRAWN, np.int16)
    erase[5:9, 5:9] = 0
    erase[0:4, 0:2] = 0
    mask2, objects2 = paint_objects(mask, objects, erase, extra, classes)
    assert (mask2[5:9, 5:9] == 0).all() and (objects2[5:9, 5:9] == NO_OBJECT).all()
    assert (mask2[0:4, 0:2] == 0).all() and (objects2[0:4, 2:4] == 2).all()
    instances, object_classes = objects_to_instances(objects2, extra, classes)
    assert object_classes == [2] and int(instances.max()) == 1
    assert np.array_equal(instances > 0, mask2 > 0)
    # Undo = the same strokes without the last: the maps are recomputed from the start.
    again_mask, again_objects = paint_objects(start, starting_objects(start, None, classes)[0], painted, extra, classes)
    assert np.array_equal(again_mask, mask) and np.array_equal(again_objects, objects)


def test_a_saved_instance_map_starts_the_drawing():
    classes = np.zeros((8, 12), np.uint8)
    ids = np.zeros((8, 12), np.int64)
    classes[1:4, 1:4], ids[1:4, 1:4] = 1, 5     # first square
    classes[1:4, 4:7], ids[1:4, 4:7] = 1, 9     # second square, touching
    classes[5:7, 1:9], ids[5:7, 1:9] = 2, 6     # a circle
    classes[0, 10] = 2                          # circle pixels of no object (a mask from before)
    objects, extra = starting_objects(classes, ids, 3)
    assert extra == [1]
    assert (objects[1:4, 1:4] == 1).all() and (objects[1:4, 4:7] == 3).all() and (objects[5:7, 1:9] == 2).all()
    assert objects[0, 10] == NO_OBJECT
    # Painting nothing saves the same objects back (renumbered in palette order).
    mask, objects2 = paint_objects(classes, objects, None, extra, 3)
    instances, object_classes = objects_to_instances(objects2, extra, 3)
    assert np.array_equal(mask, classes) and object_classes == [1, 2, 1]
    assert np.array_equal(instances, np.select([ids == 5, ids == 6, ids == 9], [1, 2, 3], 0))


def test_bad_strokes_are_refused():
    start = np.zeros((4, 4), np.uint8)
    objects, _ = starting_objects(start, None, 3)
    with pytest.raises(MaskError, match="stroke indices from 0 to 2"):
        paint_objects(start, objects, np.full((4, 4), 5, np.int16), [], 3)
    with pytest.raises(MaskError, match="same size"):
        starting_objects(start, np.zeros((5, 4), np.int64), 3)


def test_object_names():
    assert object_names([1, 2, 1], ["background", "square", "circle"]) == [
        (1, "square"), (2, "circle"), (3, "square"), (4, "circle"), (5, "square")]
