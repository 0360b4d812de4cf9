"""Box labels never overlap: two near boxes ("star 0.09" over "triangle 0.12", "crcrcross 3" in
issue 19) get labels in separate places, on the Detection page's boxes and on the Segmentation
page's objects. Extents come from the same estimate the placement uses."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cv_core.plots.detection import boxes_figure
from cv_core.plots.labels import label_extent, overlap, place_labels
from cv_core.plots.segmentation import objects_figure

PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48]], np.uint8)


def label_rects(figure, picture_side: int) -> list[tuple[float, float, float, float]]:
    """Each annotation's rectangle in the picture's pixels (anchored at its top-left corner)."""
    rects = []
    for note in figure.layout.annotations:
        assert (note.xanchor, note.yanchor) == ("left", "top")
        width, height = label_extent(note.text, note.font.size, picture_side=picture_side)
        rects.append((note.x, note.y, note.x + width, note.y + height))
    return rects


def assert_apart_and_inside(rects, side):
    for a, b in itertools.combinations(rects, 2):
        assert overlap(a, b) == 0, (a, b)
    for x0, y0, x1, y1 in rects:
        assert -0.5 <= x0 and x1 <= side - 0.5 + 1e-9 and -0.5 <= y0 and y1 <= side - 0.5 + 1e-9


def test_two_near_boxes_get_labels_that_do_not_overlap():
    picture = np.zeros((32, 32, 3), np.uint8)
    boxes = [(2, 10.0, 12.0, 16.0, 18.0, 0.12), (4, 11.0, 13.0, 17.0, 19.0, 0.09)]
    names = ["circle", "square", "triangle", "cross", "star"]
    figure = boxes_figure(picture, boxes, names, PALETTE, scale=1.0)
    assert [n.text for n in figure.layout.annotations] == ["triangle 0.12", "star 0.09"]
    rects = label_rects(figure, 32)
    assert_apart_and_inside(rects, 32)
    # The best-scored box keeps the preferred spot: just above its top-left corner.
    assert rects[0][0] == pytest.approx(10 - 0.5) and rects[0][3] == pytest.approx(12 - 0.5)


def test_enlarged_pictures_and_many_boxes_keep_labels_apart():
    rng = np.random.default_rng(0)
    scale, side = 11.25, 360
    picture = np.zeros((side, side, 3), np.uint8)
    corners = rng.uniform(2, 26, (8, 2))
    boxes = [(int(rng.integers(5)), *corners[i], *(corners[i] + rng.uniform(1, 5, 2)), float(rng.random()))
             for i in range(8)]
    figure = boxes_figure(picture, boxes, ["circle", "square", "triangle", "cross", "star"], PALETTE, scale)
    assert len(figure.layout.annotations) == 8
    assert_apart_and_inside(label_rects(figure, side), side)


def test_three_touching_objects_of_one_class_get_three_readable_labels():
    # "crcrcross 3": three crosses side by side, their labels drawn over each other.
    side = 320
    picture = np.zeros((side, side, 3), np.uint8)
    objects = [{"class_index": 4, "area": 20, "box": (x, 10, x + 5, 15), "confidence": 0.5 + 0.1 * i,
                "mask": None} for i, x in enumerate((8, 10, 12))]
    labels = ["cross 1", "cross 2", "cross 3"]
    figure = objects_figure(picture, objects, labels, PALETTE[:3], scale=10.0)
    assert sorted(n.text for n in figure.layout.annotations) == labels
    assert_apart_and_inside(label_rects(figure, side), side)
    hovers = [t for trace in figure.data for t in (trace.text or ()) if t]
    assert any("cross 2" in h and "20 px" in h for h in hovers)


def test_place_labels_prefers_above_then_moves_aside():
    size = (10.0, 4.0)
    first, second = place_labels([(20, 20, 30, 30), (21, 21, 31, 31)], [size, size], (0, 0, 100, 100))
    assert first == (20, 16, 30, 20)  # above the first box
    assert overlap(first, second) == 0
    # At the top edge there is no room above: the label goes below the box instead.
    (top,) = place_labels([(5, 0, 15, 8)], [size], (0, 0, 100, 100))
    assert top == (5, 8, 15, 12)
    with pytest.raises(ValueError, match="one size per box"):
        place_labels([(0, 0, 1, 1)], [], (0, 0, 10, 10))
