"""Figures of a segmentation model's reading of a picture: pixels you can point at.

Each figure is a picture drawn as a plotly image (so it zooms and pans) whose hover names
the predicted class and its probability under the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = ["confidence_figure", "objects_figure", "picture_figure"]


def _square_axes(fig: go.Figure, height: int, width: int, title: str, figure_height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title), height=figure_height, margin=dict(t=50, b=10, l=10, r=10))
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain")
    return fig


def picture_figure(picture: np.ndarray, mask: np.ndarray, confidence: np.ndarray, class_names: Sequence[str],
                   title: str = "Prediction", figure_height: int = 420) -> go.Figure:
    """A picture (e.g. the mask blended over the photo) whose hover tells the class under the cursor.

    Args:
        picture: (H, W, 3) uint8, what to show.
        mask: (H, W) predicted class indices at the same size.
        confidence: (H, W) the probability of each pixel's predicted class.
        class_names: one name per class.
        title: the figure title.
        figure_height: pixels.

    Returns:
        A plotly Figure with one image trace; hovering shows "x, y · class · p".
    """
    names = np.asarray(list(class_names), dtype=object)
    height, width = mask.shape
    fig = go.Figure(go.Image(
        z=picture, text=names[np.clip(mask, 0, len(names) - 1)], customdata=np.round(confidence, 3),
        hovertemplate="x %{x}, y %{y}<br><b>%{text}</b> · p = %{customdata:.1%}<extra></extra>",
    ))
    return _square_axes(fig, height, width, title, figure_height)


def confidence_figure(confidence: np.ndarray, mask: np.ndarray, class_names: Sequence[str],
                      title: str = "How sure the model is, pixel by pixel", figure_height: int = 420) -> go.Figure:
    """The probability of each pixel's predicted class as a heatmap (dark: unsure).

    Args:
        confidence: (H, W) float in [0, 1].
        mask: (H, W) predicted class indices.
        class_names: one name per class.
        title: the figure title.
        figure_height: pixels.

    Returns:
        A plotly Figure with one heatmap trace; hovering shows the class and its probability.
    """
    names = np.asarray(list(class_names), dtype=object)
    height, width = mask.shape
    fig = go.Figure(go.Heatmap(
        z=np.round(confidence, 3), text=names[np.clip(mask, 0, len(names) - 1)], zmin=0.0, zmax=1.0,
        colorscale="Viridis", colorbar=dict(title=dict(text="p"), thickness=12, tickformat=".0%"),
        hovertemplate="x %{x}, y %{y}<br><b>%{text}</b> · p = %{z:.1%}<extra></extra>",
    ))
    return _square_axes(fig, height, width, title, figure_height)


def objects_figure(picture: np.ndarray, objects: Sequence[dict], labels: Sequence[str], colours, scale: float = 1.0,
                   title: str = "The objects in the mask (hover: class, area, confidence)",
                   figure_height: int = 420) -> go.Figure:
    """Each object of a mask with its box and its label ("cross 2"), labels never overlapping.

    Args:
        picture: (H, W, 3) uint8, what to show (e.g. the objects coloured over the photo, enlarged).
        objects: :func:`cv_core.segmentation.mask_to_objects` results (``box`` in the mask's pixels).
        labels: one label per object.
        colours: (N, 3) uint8, one colour per object.
        scale: shown pixels per mask pixel.
        title: the figure title.
        figure_height: pixels.

    Returns:
        A plotly Figure (see :func:`cv_core.plots.detection.boxes_figure`): the best-sure object's
        label goes first, the others find a free spot.
    """
    from cv_core.plots.detection import boxes_figure

    boxes = [(number, *obj["box"], obj["confidence"] if obj["confidence"] is not None else obj["area"])
             for number, obj in enumerate(objects)]
    hovers = []
    for label, obj in zip(labels, objects):
        x0, y0, x1, y1 = obj["box"]
        sure = "" if obj["confidence"] is None else f" · mean p = {obj['confidence']:.1%}"
        hovers.append(f"<b>{label}</b> · {obj['area']} px{sure}<br>x {x0}–{x1}, y {y0}–{y1}")
    return boxes_figure(picture, boxes, list(labels), colours, scale, title=title, figure_height=figure_height,
                        labels=labels, hovers=hovers, legend=False)
