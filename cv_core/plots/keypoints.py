"""Figures of keypoints: skeletons over a picture with each object's box and orientation arrow,
the same joints against the truth (hits and misses), one joint's heatmap, and per-joint errors.

Pictures are plotly images (they zoom and pan). Keypoints are continuous pixels of the picture
the model saw (pixel column 10 spans x in [10, 11)); ``scale`` says how many shown pixels a model
pixel takes when the picture is shown enlarged, and a point x is drawn at ``x * scale - 0.5``
(plotly centres image pixel i on i).

>>> fig = skeleton_figure(big, found, PEOPLE, scale=4, readings=[read_pose(p.points, p.visibility, PEOPLE)
...                                                              for p in found])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from cv_core.i18n import N_, _
from cv_core.plots.labels import label_extent, place_labels

__all__ = ["HEAT_COLOURS", "OBJECT_COLOURS", "OUTCOME_COLOURS", "arrow_end", "heatmap_figure", "joint_errors_figure",
           "outcomes_figure", "picture_source", "skeleton_figure"]

#: One colour per object, in order (the first object is the best-scored).
OBJECT_COLOURS = ("#00e5ff", "#ffd600", "#ff4081", "#76ff03", "#e040fb", "#ff9100", "#18ffff", "#c6ff00")
#: Colours of a joint against the truth, and of a true object that nothing found.
OUTCOME_COLOURS = {"hit": "#2ca02c", "miss": "#d62728", "truth": "#ffffff", "missed object": "#ff7f0e",
                   "no truth": "#9e9e9e"}
#: The outcomes' names in the legend (shown in the current language).
OUTCOME_NAMES = {"hit": N_("hit"), "miss": N_("miss")}
_HALO = "rgba(0, 0, 0, 0.6)"
#: A heatmap's colours: clear at 0 (the picture shows through), then red, orange and yellow, more opaque
#: as the value rises, over the picture in dimmed grey, so that they read on any picture.
HEAT_COLOURS = [[0.0, "rgba(0, 0, 0, 0)"], [0.1, "rgba(180, 0, 0, 0.35)"], [0.4, "rgba(255, 60, 0, 0.75)"],
                [0.7, "rgba(255, 170, 0, 0.9)"], [1.0, "rgba(255, 255, 120, 1)"]]


def arrow_end(anchor: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    """Where an arrow of ``length`` pixels from ``anchor`` ends when it points at ``angle`` degrees
    (0 = up the picture, counter-clockwise positive, as :func:`cv_core.keypoints.person_orientation`).

    >>> arrow_end((10, 10), 0, 5)    # up: y decreases
    (10.0, 5.0)
    >>> arrow_end((10, 10), 90, 5)   # +90°: to the left
    (5.0, 10.0)
    """
    radians = math.radians(angle)
    x, y = anchor
    return float(x - length * math.sin(radians)), float(y - length * math.cos(radians))


def _colour(index: int) -> str:
    return OBJECT_COLOURS[index % len(OBJECT_COLOURS)]


def _at(value, scale: float) -> float:
    return float(value) * scale - 0.5


def picture_source(picture: np.ndarray) -> str:
    """The picture as a PNG data URI, for ``go.Image(source=...)``.

    A ``z`` array goes to the browser as JSON, a number at a time: for a 384 px picture, about
    1.5 MB and most of a figure's time; the same picture as a PNG is a few tens of kilobytes.
    """
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _scatter(**properties) -> dict:
    return dict(type="scatter", **properties)


def _figure(picture: np.ndarray, traces: list[dict], title: str, figure_height: int, legend: bool,
            annotations: list[dict] = ()) -> go.Figure:
    """The picture under ``traces``, built in one go: adding traces one at a time validates the
    figure again each time (about 5 ms a trace here, a quarter of a second for 20 people)."""
    height, width = picture.shape[:2]
    image = dict(type="image", source=picture_source(picture), hoverinfo="skip")
    layout = dict(title=dict(text=title), height=figure_height, margin=dict(t=50, b=10, l=10, r=10),
                  showlegend=legend, legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, font=dict(size=12)),
                  xaxis=dict(visible=False, range=[-0.5, width - 0.5], constrain="domain"),
                  yaxis=dict(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain"),
                  annotations=list(annotations))
    return go.Figure(data=[image, *traces], layout=layout)


def _bones(points: np.ndarray, known: np.ndarray, skeleton, scale: float) -> tuple[list, list]:
    """The skeleton's edges between known joints, as one polyline with None between bones."""
    xs, ys = [], []
    for a, b in skeleton.edges:
        if known[a] and known[b]:
            xs += [_at(points[a, 0], scale), _at(points[b, 0], scale), None]
            ys += [_at(points[a, 1], scale), _at(points[b, 1], scale), None]
    return xs, ys


def _box_line(box, scale: float) -> tuple[list, list]:
    x0, y0, x1, y1 = (_at(v, scale) for v in box)
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def skeleton_figure(picture: np.ndarray, instances: Sequence, skeleton, scale: float = 1.0,
                    readings: Sequence | None = None, labels: Sequence[str] | None = None,
                    title: str | None = None, figure_height: int = 460, show_boxes: bool = True,
                    font_size: int = 11) -> go.Figure:
    """The picture with each object's skeleton, box, label and orientation arrow.

    Args:
        picture: (H, W, 3) uint8 to show (the model's view, possibly enlarged by ``scale``).
        instances: :class:`~cv_core.keypoints.KeypointInstance` objects in the model's pixels, best first.
        skeleton: their :class:`~cv_core.keypoints.Skeleton` (joint names for the hover, edges for bones).
        scale: shown pixels per model pixel.
        readings: one :class:`~cv_core.keypoints.PoseReading` per object (or None): an arrow from
            its anchor at its angle, as long as a third of the box's longer side.
        labels: one label per object, written above its box (e.g. "Person 1 · 0.87 · standing · 12°").
        title: the figure's title (None: "Found keypoints" in the current language).
        figure_height: pixels.
        show_boxes: draw each object's box (dashed).
        font_size: the labels' font size (screen pixels).

    Returns:
        A plotly Figure: the image; per object, a box trace (``name`` "box <n>"), a bones trace and
        a joints trace (``name`` = its label; hover: joint name and position; a hollow marker for a
        joint its heatmap did not confirm), in the order of ``instances``; then, as annotations, one
        label per object (placed so that none overlaps another, :func:`cv_core.plots.labels.place_labels`)
        followed by the orientation arrows.
    """
    from cv_core.keypoints.skeletons import joint_label

    title = _("Found keypoints") if title is None else title
    readings = list(readings) if readings is not None else [None] * len(instances)
    labels = list(labels) if labels is not None else [f"{index + 1}" for index in range(len(instances))]
    traces, arrows = [], []
    for index, instance in enumerate(instances):
        colour = _colour(index)
        points = np.asarray(instance.points, np.float64)
        known = np.asarray(instance.visibility) > 0
        if show_boxes:
            xs, ys = _box_line(instance.box, scale)
            traces.append(_scatter(x=xs, y=ys, mode="lines", name=_("box {number}").format(number=index + 1),
                                   showlegend=False,
                                   hoverinfo="skip", line=dict(color=colour, width=1.5, dash="dash")))
        xs, ys = _bones(points, known, skeleton, scale)
        traces.append(_scatter(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
                               line=dict(color=_HALO, width=6)))
        traces.append(_scatter(x=xs, y=ys, mode="lines", name=_("bones {number}").format(number=index + 1),
                               showlegend=False,
                               hoverinfo="skip", line=dict(color=colour, width=3)))
        confirmed = np.asarray(instance.visibility) >= 2
        hovers = [f"<b>{joint_label(name)}</b><br>{labels[index]}<br>x {points[k, 0]:.1f}, y {points[k, 1]:.1f}"
                  for k, name in enumerate(skeleton.joints)]
        traces.append(_scatter(x=[_at(v, scale) for v in points[known, 0]], y=[_at(v, scale) for v in points[known, 1]],
                               mode="markers", name=labels[index], text=[h for h, k in zip(hovers, known) if k],
                               hoverinfo="text", showlegend=False,
                               marker=dict(size=9, color=[colour if c else "rgba(0,0,0,0)" for c in confirmed[known]],
                                           line=dict(color=colour, width=2))))
        reading = readings[index]
        if reading is not None and reading.angle is not None and reading.anchor is not None:
            side = max(instance.box[2] - instance.box[0], instance.box[3] - instance.box[1], 4.0)
            start = (_at(reading.anchor[0], scale), _at(reading.anchor[1], scale))
            end = arrow_end(start, reading.angle, side * scale / 3)
            arrows.append(dict(x=end[0], y=end[1], ax=start[0], ay=start[1], xref="x", yref="y", axref="x",
                               ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=3,
                               arrowcolor="white", text=""))
    # Labels never overlap (the detection figures' rule): the best object's goes above its box first.
    height, width = picture.shape[:2]
    edges = [tuple(_at(v, scale) for v in instance.box) for instance in instances]
    sizes = [label_extent(text, font_size, picture_side=max(height, width)) for text in labels[:len(instances)]]
    rects = place_labels(edges, sizes, (-0.5, -0.5, width - 0.5, height - 0.5))
    notes = [dict(x=rect[0], y=rect[1], xanchor="left", yanchor="top", showarrow=False, text=labels[index],
                  font=dict(size=font_size, color="black"), bgcolor=_colour(index), borderpad=1)
             for index, rect in enumerate(rects)]
    return _figure(picture, traces, title, figure_height, False, notes + arrows)


def outcomes_figure(picture: np.ndarray, predicted: Sequence, truths: Sequence, comparison, skeleton,
                    scale: float = 1.0, title: str | None = None, figure_height: int = 460) -> go.Figure:
    """Each true object's skeleton (thin, white) and the joints paired with it: green where a joint
    is a hit (within PCK's distance), red with a line to where it should be where it is a miss.

    Args:
        picture: (H, W, 3) uint8 to show.
        predicted: the predicted instances (model pixels); truths: the true ones.
        comparison: :class:`~cv_core.keypoints.TruthComparison` of the two.
        skeleton: the joints' skeleton.
        scale: shown pixels per model pixel.

    Returns:
        A plotly Figure whose legend names "true skeleton", "hit", "miss", and, when there are
        some, "true object nobody found" and "found, no true object here" (in the current language;
        the title is "Against the truth" unless given).
    """
    from cv_core.keypoints.skeletons import joint_label

    title = _("Against the truth") if title is None else title
    traces = []
    xs, ys = [], []
    for truth in truths:
        bx, by = _bones(np.asarray(truth.points, np.float64), truth.labelled, skeleton, scale)
        xs += bx
        ys += by
    traces.append(_scatter(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
                           line=dict(color=_HALO, width=4.5)))  # a dark halo: white reads on any background
    traces.append(_scatter(x=xs, y=ys, mode="lines", name=_("true skeleton"), hoverinfo="skip",
                           line=dict(color=OUTCOME_COLOURS["truth"], width=2), showlegend=bool(truths)))
    groups = {"hit": ([], [], []), "miss": ([], [], [])}
    errors_x, errors_y = [], []
    for match in comparison.matches:
        points = np.asarray(predicted[match.prediction].points, np.float64)
        true = np.asarray(truths[match.truth].points, np.float64)
        for k, name in enumerate(skeleton.joints):
            if not match.labelled[k]:
                continue
            group = groups["hit" if match.hit[k] else "miss"]
            group[0].append(_at(points[k, 0], scale))
            group[1].append(_at(points[k, 1], scale))
            group[2].append("<b>{joint}</b><br>{off}".format(joint=joint_label(name), off=_(
                "{error:.1f} px off (PCK allows {allowed:.1f} px)").format(error=match.error[k],
                                                                         allowed=0.2 * match.reference)))
            if not match.hit[k]:
                errors_x += [_at(points[k, 0], scale), _at(true[k, 0], scale), None]
                errors_y += [_at(points[k, 1], scale), _at(true[k, 1], scale), None]
    traces.append(_scatter(x=errors_x, y=errors_y, mode="lines", showlegend=False, hoverinfo="skip",
                           line=dict(color=OUTCOME_COLOURS["miss"], width=1.5, dash="dot")))
    for outcome, (gx, gy, texts) in groups.items():
        traces.append(_scatter(x=gx, y=gy, mode="markers", name=_(OUTCOME_NAMES[outcome]), text=texts, hoverinfo="text",
                               showlegend=bool(gx), marker=dict(size=10, color=OUTCOME_COLOURS[outcome],
                                                                line=dict(color="black", width=1))))
    if comparison.missed:
        mx, my = [], []
        for j in comparison.missed:
            truth = truths[j]
            mx += [_at(v, scale) for v in np.asarray(truth.points)[truth.labelled, 0]]
            my += [_at(v, scale) for v in np.asarray(truth.points)[truth.labelled, 1]]
        traces.append(_scatter(x=mx, y=my, mode="markers", name=_("true object nobody found"), hoverinfo="name",
                               marker=dict(size=9, symbol="x", color=OUTCOME_COLOURS["missed object"])))
    if comparison.unmatched:
        ux, uy = [], []
        for i in comparison.unmatched:
            instance = predicted[i]
            known = np.asarray(instance.visibility) > 0
            ux += [_at(v, scale) for v in np.asarray(instance.points)[known, 0]]
            uy += [_at(v, scale) for v in np.asarray(instance.points)[known, 1]]
        traces.append(_scatter(x=ux, y=uy, mode="markers", name=_("found, no true object here"), hoverinfo="name",
                               marker=dict(size=7, color=OUTCOME_COLOURS["no truth"])))
    return _figure(picture, traces, title, figure_height, True)


def heatmap_figure(picture: np.ndarray, heatmap: np.ndarray, stride: int, scale: float = 1.0,
                   points: Sequence | None = None, title: str | None = None, opacity: float = 1.0,
                   figure_height: int = 460) -> go.Figure:
    """One joint's heatmap over the picture (in dimmed grey), each cell covering the ``stride`` ×
    ``stride`` model pixels it speaks for (hover: the cell's value), with the joint's found positions
    as crosses. Cells near 0 are clear; warmer and more opaque as the value rises (:data:`HEAT_COLOURS`).

    Args:
        picture: (H, W, 3) uint8 to show (the model's view enlarged by ``scale``).
        heatmap: (H / stride, W / stride) values in [0, 1] (a ``joint_heatmap`` channel).
        stride: model pixels per heatmap cell.
        scale: shown pixels per model pixel.
        points: ``(x, y)`` in model pixels of the joint as found (one per object), drawn as crosses.
        opacity: the heatmap's overall opacity (its colours are already clear at 0).

    Returns:
        A plotly Figure: the image, a heatmap trace (0–1 colour scale), and a "found here" marker trace
        (names in the current language; the title is "Joint heatmap" unless given).
    """
    title = _("Joint heatmap") if title is None else title
    heatmap = np.asarray(heatmap, np.float32)
    if heatmap.ndim != 2:
        raise ValueError(f"Expected one joint's heatmap as a 2-D array. Received shape {heatmap.shape}.")
    cell = stride * scale
    points = [] if points is None else list(points)
    grey = np.asarray(picture, np.float32).mean(axis=-1, keepdims=True) * 0.55
    dimmed = np.repeat(grey, 3, axis=-1).astype(np.uint8)
    traces = [dict(type="heatmap", z=heatmap, x0=cell / 2 - 0.5, dx=cell, y0=cell / 2 - 0.5, dy=cell, zmin=0.0,
                   zmax=1.0, colorscale=HEAT_COLOURS, opacity=opacity, name=_("heatmap"),
                   colorbar=dict(title=dict(text=_("score")), thickness=12, len=0.8),
                   hovertemplate=_("heatmap {value}").format(value="%{z:.2f}") + "<extra></extra>"),
              _scatter(x=[_at(p[0], scale) for p in points], y=[_at(p[1], scale) for p in points], mode="markers",
                       name=_("found here"), hoverinfo="name",
                       marker=dict(symbol="x-thin", size=14, line=dict(color="#00e5ff", width=3)))]
    return _figure(dimmed, traces, title, figure_height, False)


def joint_errors_figure(errors: Mapping[str, Sequence[float]], joint_names: Sequence[str],
                        title: str | None = None, unit: str = "px") -> go.Figure:
    """Grouped bars: each joint's error, one bar colour per model (``{label: (K,) errors}``; NaN:
    no bar). A lower bar is a closer joint. ``title`` None: "Error per joint (pixels)" in the current
    language; the joints are named as given."""
    title = _("Error per joint (pixels)") if title is None else title
    fig = go.Figure()
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
    for index, (label, values) in enumerate(errors.items()):
        values = [None if v is None or not np.isfinite(v) else float(v) for v in values]
        fig.add_bar(x=list(joint_names), y=values, name=label, marker_color=palette[index % len(palette)],
                    hovertemplate=f"%{{x}}: %{{y:.2f}} {unit}<extra>{label}</extra>")
    fig.update_layout(title=dict(text=title), barmode="group", height=340, margin=dict(t=50, b=10, l=10, r=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    fig.update_yaxes(title_text=unit, rangemode="tozero")
    return fig
