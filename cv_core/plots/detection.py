"""Figures of boxes: a picture with its predicted boxes, the same boxes against the truth, and
how two ways of finding boxes score, class by class.

Pictures are plotly images (they zoom and pan); each box is a closed line whose hover names
its class, score and corners. Boxes are ``(class_index, x0, y0, x1, y1[, score])`` in the
picture's pixels with x1/y1 exclusive, so a box's outline runs along pixel edges.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from cv_core.i18n import N_, _
from cv_core.plots.labels import label_extent, place_labels

__all__ = ["EMPTY_CURVES", "OUTCOME_COLOURS", "approaches_figure", "boxes_figure", "outcomes_figure", "precision_recall_figure"]

#: Colours of the outcomes of matching predicted boxes with true boxes (keys; the legend translates).
OUTCOME_COLOURS = {"hit": "#2ca02c", "false positive": "#d62728", "missed": "#ff7f0e", "found": "#f0f0f0"}
#: What the hover of each outcome calls it.
_OUTCOME_NAMES = {"hit": N_("hit"), "false positive": N_("false positive"), "missed": N_("missed"), "found": N_("found")}
_PR_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
               "#17becf")


def _hex(colour) -> str:
    if isinstance(colour, str):
        return colour
    r, g, b = (int(c) for c in colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def _ink(colour) -> str:
    """Black or white, whichever reads better on ``colour`` (a hex string)."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b >= 140 else "white"


def _name(class_names: Sequence[str], index: int) -> str:
    return class_names[index] if 0 <= index < len(class_names) else _("class {index}").format(index=index)


def _picture(picture: np.ndarray) -> go.Figure:
    """The picture as an image trace (hover belongs to the boxes)."""
    return go.Figure(go.Image(z=picture, hoverinfo="skip"))


def _outline(fig: go.Figure, boxes, factor: float, name: str, colour: str, hovers: list[str], dash: str = "solid",
             legend: bool = True, width: float = 2.5) -> None:
    """All ``boxes`` as one trace of closed outlines (None between boxes, over a halo), one legend entry."""
    xs, ys, texts = [], [], []
    for box, hover in zip(boxes, hovers):
        x0, y0, x1, y1 = (float(v) * factor - 0.5 for v in box[1:5])
        xs += [x0, x1, x1, x0, x0, None]
        ys += [y0, y0, y1, y1, y0, None]
        texts += [hover] * 5 + [None]
    # A dark halo under the outline keeps it visible on a background of its own colour.
    fig.add_scatter(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
                    line=dict(color="rgba(0, 0, 0, 0.55)", width=width + 2.5, dash=dash))
    fig.add_scatter(x=xs, y=ys, mode="lines", name=name, showlegend=legend and bool(boxes),
                    line=dict(color=colour, width=width, dash=dash), text=texts, hoverinfo="text",
                    hoveron="points+fills")


def _layout(fig: go.Figure, height: int, width: int, title: str, figure_height: int, legend: bool) -> go.Figure:
    fig.update_layout(
        title=dict(text=title), height=figure_height, margin=dict(t=50, b=10, l=10, r=10),
        showlegend=legend,
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0, font=dict(size=12)),
    )
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain")
    return fig


def _describe(box, class_names) -> str:
    cls, x0, y0, x1, y1 = int(box[0]), *(round(float(v)) for v in box[1:5])
    score = f" · {float(box[5]):.2f}" if len(box) > 5 else ""
    return f"<b>{_name(class_names, cls)}</b>{score}<br>x {x0}–{x1}, y {y0}–{y1}"  # names and numbers only


def boxes_figure(picture: np.ndarray, boxes, class_names: Sequence[str], palette, scale: float = 1.0,
                 title: str | None = None, figure_height: int = 440, labels: Sequence[str] | None = None,
                 hovers: Sequence[str] | None = None, legend: bool = True, font_size: int = 11) -> go.Figure:
    """The picture with each predicted box in its class's colour, labelled "class score".

    Labels never overlap (:func:`cv_core.plots.labels.place_labels`): the best-scored box's label
    sits above it, and a near box's label moves below its box, inside it, or stacks.

    Args:
        picture: (H, W, 3) uint8, what to show (it may be the model's view enlarged).
        boxes: ``(class_index, x0, y0, x1, y1, score)`` in the pixels of the model's view.
        class_names: one name per class.
        palette: (C, 3) uint8 colours, one per class.
        scale: shown pixels per view pixel (``picture`` is the view enlarged this many times).
        title: the figure title ("Predicted boxes" in the current language when None).
        figure_height: pixels.
        labels: one label per box instead of "class score" (e.g. "cross 2" for objects).
        hovers: one hover text per box instead of its class, score and corners.
        legend: show the classes in a legend.
        font_size: the labels' font size (screen pixels).

    Returns:
        A plotly Figure: the image, one outline trace per class present (legend: class names),
        and a label by each box (annotations, in the order of ``boxes``).
    """
    fig = _picture(picture)
    boxes = list(boxes)
    texts = list(labels) if labels is not None else [f"{_name(class_names, int(b[0]))} {float(b[5]):.2f}"
                                                     for b in boxes]
    details = list(hovers) if hovers is not None else [_describe(b, class_names) for b in boxes]
    colours = [_hex(palette[int(b[0]) % len(palette)]) for b in boxes]
    for cls in sorted({int(b[0]) for b in boxes}):
        mine = [i for i, b in enumerate(boxes) if int(b[0]) == cls]
        _outline(fig, [boxes[i] for i in mine], scale, _name(class_names, cls), colours[mine[0]],
                 [details[i] for i in mine])
    height, width = picture.shape[:2]
    order = sorted(range(len(boxes)), key=lambda i: -float(boxes[i][5]) if len(boxes[i]) > 5 else 0.0)
    edges = [tuple(float(v) * scale - 0.5 for v in boxes[i][1:5]) for i in order]
    sizes = [label_extent(texts[i], font_size, picture_side=max(height, width)) for i in order]
    rects = place_labels(edges, sizes, (-0.5, -0.5, width - 0.5, height - 0.5))
    where = dict(zip(order, rects))
    fig.update_layout(annotations=[  # one update: adding annotations one at a time costs ~5 ms each
        dict(x=where[i][0], y=where[i][1], xanchor="left", yanchor="top", showarrow=False, text=texts[i],
             font=dict(size=font_size, color=_ink(colours[i])), bgcolor=colours[i], borderpad=1)
        for i in range(len(boxes))])
    return _layout(fig, height, width, _("Predicted boxes") if title is None else title, figure_height,
                   legend=legend and bool(boxes))


def outcomes_figure(picture: np.ndarray, boxes, hit: Sequence[bool], truths, found: Sequence[bool],
                    class_names: Sequence[str], scale: float = 1.0,
                    title: str | None = None, figure_height: int = 440) -> go.Figure:
    """Predicted boxes coloured by what they are, with the true boxes, and a legend that says so.

    Green: a hit (a predicted box on a true box of its class, IoU >= 0.5); red: a false
    positive; orange dashes: a true box no predicted box found; light dashes: a true box that
    was found.

    Args:
        picture, scale, figure_height: as :func:`boxes_figure`.
        title: the figure title ("Against the true boxes" in the current language when None).
        boxes: predicted ``(class_index, x0, y0, x1, y1, score)``; ``hit`` says which matched.
        truths: true ``(class_index, x0, y0, x1, y1)``; ``found`` says which were matched.
        class_names: one name per class.

    Returns:
        A plotly Figure with up to four outline traces, one legend entry each.
    """
    fig = _picture(picture)
    kinds = [
        ("found", _("true box, found ({n})").format(n=sum(found)), [t for t, f in zip(truths, found) if f], "dot"),
        ("missed", _("true box, missed ({n})").format(n=len(found) - sum(found)),
         [t for t, f in zip(truths, found) if not f], "dash"),
        ("hit", _("hit ({n})").format(n=sum(hit)), [b for b, h in zip(boxes, hit) if h], "solid"),
        ("false positive", _("false positive ({n})").format(n=len(hit) - sum(hit)),
         [b for b, h in zip(boxes, hit) if not h], "solid"),
    ]
    for kind, label, chosen, dash in kinds:
        hovers = [f"{_(_OUTCOME_NAMES[kind])}<br>" + _describe(b, class_names) for b in chosen]
        _outline(fig, chosen, scale, label, OUTCOME_COLOURS[kind], hovers, dash=dash,
                 width=2.0 if kind == "found" else 2.5)
    return _layout(fig, picture.shape[0], picture.shape[1], _("Against the true boxes") if title is None else title,
                   figure_height, legend=True)


#: What an empty precision–recall chart says, by why it is empty (see :func:`cv_core.detection.curve_gaps`);
#: English, shown translated.
EMPTY_CURVES = {
    "no_truth": N_("No true box of any class in these pictures: there is nothing to find, so there is no curve."),
    "no_box": N_("The model found no box on these pictures, so there is no curve to draw."),
    "no_hit": N_("None of the model's boxes lands on a true box of its class (IoU ≥ 0.5), so every curve stays at "
                 "zero."),
}


def precision_recall_figure(curves: Mapping[int, tuple], class_names: Sequence[str],
                            title: str | None = None,
                            figure_height: int = 420) -> go.Figure:
    """One precision–recall curve per class (the area under each is the class's AP).

    When no curve leaves zero, the chart says why in its middle (:data:`EMPTY_CURVES`).

    Args:
        curves: ``{class_index: (recall, precision, ap)}`` (:func:`cv_core.detection.precision_recall_curves`).
        class_names: one name per class.
        title: the figure title ("Precision–recall at IoU 0.5, class by class" in the current language
            when None).

    Returns:
        A plotly Figure with one line per class, named "class (AP 0.71)".
    """
    fig = go.Figure()
    hover = _("{name}<br>recall {recall}<br>precision {precision}")
    for cls, (recall, precision, ap) in sorted(curves.items()):
        name = f"{_name(class_names, cls)} (AP {ap:.2f})"
        recall, precision = np.asarray(recall, float), np.asarray(precision, float)
        if recall.size:
            recall, precision = np.concatenate([[0.0], recall]), np.concatenate([[precision[0]], precision])
        fig.add_scatter(x=recall, y=precision, mode="lines", name=name, line=dict(width=2, shape="hv",
                                                                                  color=_PR_COLOURS[cls % 10]),
                        hovertemplate=hover.format(name=name, recall="%{x:.2f}", precision="%{y:.2f}")
                        + "<extra></extra>")
    empty = _why_empty(curves)
    if empty is not None:
        fig.add_annotation(x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, text=_(EMPTY_CURVES[empty]),
                           font=dict(size=13), bgcolor="rgba(255, 255, 255, 0.85)", name=empty)  # the reason's key, never shown
    title = _("Precision–recall at IoU 0.5, class by class") if title is None else title
    fig.update_layout(title=dict(text=title, subtitle=dict(text=_("Each step: one more box, by descending score"))),
                      height=figure_height, margin=dict(t=70, b=40, l=50, r=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.15, x=0))
    fig.update_xaxes(title=_("recall"), range=[0, 1.02])
    fig.update_yaxes(title=_("precision"), range=[0, 1.05])
    return fig


def _why_empty(curves: Mapping[int, tuple]) -> str | None:
    """The key of :data:`EMPTY_CURVES` when no curve has a point above zero recall, else None."""
    if not curves:
        return "no_truth"
    recalls = [np.asarray(curve[0], float) for curve in curves.values()]
    if all(r.size == 0 for r in recalls):
        return "no_box"
    if all(r.size == 0 or r.max() <= 0 for r in recalls):
        return "no_hit"
    return None


def approaches_figure(scores: Mapping[str, Mapping[str, float]], title: str | None = None,
                      figure_height: int = 380) -> go.Figure:
    """Grouped bars: per approach, its AP@0.5 for each class and its mAP.

    Args:
        scores: ``{approach: {class name or "mAP": value}}``, the same keys for every approach;
            NaN or None leaves a bar out.
        title: the figure title ("AP@0.5 by class, side by side" in the current language when None).

    Returns:
        A plotly Figure with one bar trace per approach.
    """
    fig = go.Figure()
    for index, (approach, values) in enumerate(scores.items()):
        keys = list(values)
        ys = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values.values()]
        fig.add_bar(x=keys, y=ys, name=approach, marker_color=_PR_COLOURS[index % 10],
                    text=[None if y is None else f"{y:.2f}" for y in ys], textposition="outside",
                    hovertemplate=f"{approach}<br>%{{x}}: %{{y:.3f}}<extra></extra>")
    title = _("AP@0.5 by class, side by side") if title is None else title
    fig.update_layout(title=dict(text=title), barmode="group", height=figure_height,
                      margin=dict(t=50, b=40, l=50, r=10), legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
    fig.update_yaxes(title=_("AP at IoU 0.5"), range=[0, 1.1])
    return fig
