"""The embedding map as a plotly scatter: one colour per class, a picture's number on hover, the query as a star."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cv_core.i18n import N_, _

__all__ = ["QUERY_TRACE", "embedding_map_figure"]

#: The name of the query's trace (a click on it selects no dataset picture); shown translated.
QUERY_TRACE = N_("your picture")


def _rgb(colour) -> str:
    return "rgb({}, {}, {})".format(*(int(c) for c in colour))


def embedding_map_figure(points: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                         indices: np.ndarray | None = None, query: np.ndarray | None = None,
                         title: str = "", axis_titles: tuple[str, str] = ("PC 1", "PC 2"),
                         figure_height: int = 520) -> go.Figure:
    """A scatter of embeddings on a 2-D map, coloured by class.

    Args:
        points: (N, 2) map coordinates.
        labels: (N,) class index of each point.
        class_names: the name of every class index.
        indices: (N,) the picture number of each point (hover, and ``customdata`` for clicks);
            ``range(N)`` by default.
        query: (2,) where the query picture falls, drawn as a black star; None for none.
        title: the figure's title.
        axis_titles: the two axes' titles.
        figure_height: pixels.

    Returns:
        A plotly Figure with one trace per class present (named after it, in class order) and,
        with ``query``, a last trace named :data:`QUERY_TRACE` (in the current language). Each point's ``customdata`` is
        its picture number.
    """
    from cv_core.overlays import class_palette

    points = np.asarray(points, np.float32).reshape(-1, 2)
    labels = np.asarray(labels, np.int64).reshape(-1)
    indices = np.arange(len(points)) if indices is None else np.asarray(indices, np.int64).reshape(-1)
    if not len(points) == len(labels) == len(indices):
        raise ValueError(f"Expected as many points, labels and indices. Received: {len(points)}, {len(labels)} "
                         f"and {len(indices)}")
    names = list(class_names)
    palette = class_palette(max(1, len(names)), background_first=False)
    fig = go.Figure()
    for cls in sorted(set(labels.tolist())):
        name = names[cls] if 0 <= cls < len(names) else _("class {index}").format(index=cls)
        chosen = labels == cls
        fig.add_trace(go.Scatter(  # SVG, not WebGL: the query's star must be drawn above the points
            x=points[chosen, 0], y=points[chosen, 1], mode="markers", name=name,
            marker=dict(size=7, color=_rgb(palette[cls % len(palette)]), opacity=0.8,
                        line=dict(width=0.5, color="white")),
            customdata=indices[chosen], selected=dict(marker=dict(size=13)),
            unselected=dict(marker=dict(opacity=0.45)),
            hovertemplate="<b>{name}</b><br>{picture}<extra></extra>".format(
                name=name, picture=_("picture {number}").format(number="%{customdata}")),
        ))
    if query is not None:
        q = np.asarray(query, np.float32).reshape(2)
        query_name = _(QUERY_TRACE)
        fig.add_trace(go.Scatter(
            x=[q[0]], y=[q[1]], mode="markers", name=query_name,
            marker=dict(size=18, symbol="star", color="black", line=dict(width=1.5, color="white")),
            hovertemplate=f"<b>{query_name}</b><extra></extra>",
        ))
    fig.update_layout(title=dict(text=title), height=figure_height, margin=dict(t=90, b=40, l=40, r=10),
                      legend=dict(itemsizing="constant", orientation="h", yanchor="bottom", y=1.0, x=0), clickmode="event+select", dragmode="pan")
    fig.update_xaxes(title=axis_titles[0], zeroline=False)
    fig.update_yaxes(title=axis_titles[1], zeroline=False)
    return fig
