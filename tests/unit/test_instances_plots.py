"""cv_core.plots.instances: each object in its own colour with its box and label, and the outcomes figure."""

from __future__ import annotations

import numpy as np

from cv_core.plots.instances import (OUTCOME_RGB, instance_colours, instance_outcomes_figure, instances_figure,
                                     object_labels)

NAMES = ["background", "circle", "square"]


def square(y0, x0, side, shape=(16, 16)):
    mask = np.zeros(shape, bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def objects():
    return [{"mask": square(0, 0, 4), "class": 2, "score": 0.9, "area": 16, "box": (0, 0, 4, 4)},
            {"mask": square(0, 4, 4), "class": 2, "score": 0.6, "area": 16, "box": (4, 0, 8, 4)},
            {"mask": square(8, 8, 3), "class": 1, "score": 0.3, "area": 9, "box": (8, 8, 11, 11)}]


def test_labels_number_each_class_on_its_own():
    assert object_labels(objects(), NAMES) == ["square 1", "square 2", "circle 1"]
    assert object_labels([{"class": 7}], NAMES) == ["class 7 1"]


def test_each_object_its_colour_label_and_hover():
    view = np.full((16, 16, 3), 100, np.uint8)
    figure = instances_figure(view, objects(), NAMES, min_side=64)
    assert figure.layout.title.text == "3 objects, each in its own colour (hover: class, score, area, box)"
    assert [a.text for a in figure.layout.annotations] == ["square 1", "square 2", "circle 1"]
    hovers = [h for trace in figure.data if trace.hoverinfo == "text" for h in trace.text if h]
    assert "<b>square 2</b> · square · score 0.60<br>16 px · box x 4–8, y 0–4" in hovers
    # The picture is enlarged 4× and each object's pixels take its own colour, blended over the grey.
    picture = figure.data[0].z
    assert picture.shape == (64, 64, 3)
    colours = instance_colours(3)
    first, second = picture[2, 2].astype(int), picture[2, 20].astype(int)
    assert not np.array_equal(first, second)
    assert np.abs(first - (0.45 * 100 + 0.55 * colours[0])).max() <= 1
    assert np.array_equal(picture[40, 4], [100, 100, 100])  # no object there
    # The outlines sit on the enlarged box edges: square 2's box (4, 0, 8, 4) -> x 15.5–31.5.
    xs = [x for trace in figure.data[1:] if trace.hoverinfo == "text" for x in trace.x if x is not None]
    assert 15.5 in xs and 31.5 in xs


def test_no_objects_is_an_empty_picture_not_an_error():
    figure = instances_figure(np.zeros((8, 8, 3), np.uint8), [], NAMES, min_side=8)
    assert figure.layout.title.text.startswith("0 objects") and not figure.layout.annotations


def test_outcomes_paint_hits_false_positives_and_misses():
    view = np.zeros((16, 16, 3), np.uint8)
    found = objects()[:2]
    truths = [{"mask": square(0, 0, 4), "class": 2}, {"mask": square(12, 0, 4), "class": 1}]
    figure = instance_outcomes_figure(view, found, [True, False], truths, [True, False], NAMES, min_side=16,
                                      opacity=1.0)
    picture = figure.data[0].z
    assert tuple(picture[1, 1]) == OUTCOME_RGB["hit"]
    assert tuple(picture[1, 5]) == OUTCOME_RGB["false positive"]
    assert tuple(picture[13, 1]) == OUTCOME_RGB["missed"]
    legend = {trace.name for trace in figure.data[1:] if trace.showlegend}
    assert {"hit (1)", "false positive (1)", "true box, missed (1)", "true box, found (1)"} <= legend
