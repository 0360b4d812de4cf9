"""Figures for the interpretation pages: top predictions, channel grids, deletion/insertion
curves and the sanity check. Inputs are what :mod:`cv_core.interpret` returns."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from cv_core.i18n import _

__all__ = ["causal_curves_figure", "channel_grid_figure", "channel_values_figure", "sanity_figure",
           "single_channel_figure", "top_predictions_figure", "tile_of_point"]

_MARGIN = dict(l=10, r=10, t=50, b=40)


def top_predictions_figure(top: Sequence[tuple[int, str, float]], title: str | None = None) -> go.Figure:
    """Horizontal bars of the top classes and their probabilities, the best on top ("Top predictions"
    in the current language when ``title`` is None)."""
    names = [f"{name} ({index})" for index, name, _p in top][::-1]
    values = [float(p) for _i, _n, p in top][::-1]
    fig = go.Figure(go.Bar(
        x=values, y=names, orientation="h", marker_color="#2f6fde",
        text=[f"{v:.1%}" for v in values], textposition="auto",
        hovertemplate="%{y}: %{x:.2%}<extra></extra>",
    ))
    fig.update_layout(title=_("Top predictions") if title is None else title, margin=_MARGIN,
                      height=60 + 34 * max(1, len(top)),
                      xaxis=dict(title=_("probability"), range=[0, 1], tickformat=".0%"), yaxis=dict(automargin=True))
    return fig


def _tile_layout(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(columns, count))
    return columns, math.ceil(count / columns)


def channel_grid_figure(maps: np.ndarray, channels: Sequence[int], columns: int = 8,
                        title: str | None = None) -> go.Figure:
    """A mosaic of feature maps, one tile per channel, each scaled to its own range.

    Args:
        maps: (h, w, C) activations of one layer for one image.
        channels: which channels to show, in order (at most a page of them).
        columns: tiles per row.
        title: the chart title ("Channels" in the current language when None).

    Returns:
        A figure with the mosaic as a heatmap and an invisible marker at each tile's centre
        carrying the channel index (``customdata``), so that clicking a tile selects it.
    """
    maps = np.asarray(maps, dtype=np.float32)
    height, width = maps.shape[:2]
    columns, rows = _tile_layout(len(channels), columns)
    gap = max(1, round(0.08 * max(height, width)))
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, np.float32)
    xs, ys, labels = [], [], []
    for n, channel in enumerate(channels):
        tile = maps[..., channel]
        low, high = float(tile.min()), float(tile.max())
        scaled = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        row, col = divmod(n, columns)
        top, left = row * (height + gap), col * (width + gap)
        mosaic[top:top + height, left:left + width] = scaled
        xs.append(left + (width - 1) / 2)
        ys.append(top + (height - 1) / 2)
        labels.append(int(channel))
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale="Viridis", showscale=False, hoverinfo="skip", zmin=0, zmax=1))
    marker_size = max(8, min(60, 560 / max(columns, rows)))
    fig.add_scatter(
        x=xs, y=ys, mode="markers", customdata=labels, name=_("channels"), showlegend=False,
        marker=dict(size=marker_size, symbol="square", color="rgba(0,0,0,0.01)"),
        hovertemplate=_("channel {channel}: click to enlarge").format(channel="%{customdata}") + "<extra></extra>",
    )
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x")
    fig.update_xaxes(visible=False)
    fig.update_layout(title=_("Channels") if title is None else title, margin=dict(l=0, r=0, t=40, b=0),
                      height=90 + 560 * rows / max(columns, rows),
                      plot_bgcolor="white", clickmode="event+select", dragmode=False)
    return fig


def tile_of_point(point: Mapping) -> int | None:
    """The channel a clicked point of :func:`channel_grid_figure` stands for, or None."""
    value = point.get("customdata")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return int(value) if isinstance(value, (int, float)) else None


def single_channel_figure(values: np.ndarray, title: str | None = None) -> go.Figure:
    """One feature map, large, with a colour bar of its raw values (hover shows each value)."""
    values = np.asarray(values, dtype=np.float32)
    hover = _("row {row}, column {column}: {value}").format(row="%{y}", column="%{x}", value="%{z:.3f}")
    fig = go.Figure(go.Heatmap(z=values, colorscale="Viridis", colorbar=dict(title=_("activation")),
                               hovertemplate=hover + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", title=_("row"))
    fig.update_xaxes(title=_("column"), constrain="domain")
    fig.update_layout(title=_("Channel") if title is None else title, margin=_MARGIN, height=460)
    return fig


def channel_values_figure(values: np.ndarray, title: str | None = None) -> go.Figure:
    """Bars of a 1-D activation (global pooling, dense): one value per channel."""
    values = np.asarray(values, dtype=np.float32).ravel()
    hover = _("channel {channel}: {value}").format(channel="%{x}", value="%{y:.3f}")
    fig = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color="#2f6fde",
                           hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(title=_("One value per channel") if title is None else title, margin=_MARGIN, height=300,
                      xaxis_title=_("channel"), yaxis_title=_("activation"))
    return fig


def causal_curves_figure(deletion: Mapping, insertion: Mapping, class_name: str = "") -> go.Figure:
    """Deletion and insertion curves with their areas under the curve in the legend.

    Args:
        deletion, insertion: dicts with ``fractions``, ``probabilities`` and ``auc``
            (optionally ``random_auc``), as :mod:`cv_core.interpret.trust` returns them.
    """
    fig = go.Figure()
    names = (  # (in heat order, in random order): whole phrases per curve
        (deletion, _("Deletion in heat order (AUC {auc:.3f})"), _("Deletion in random order (AUC {auc:.3f})"), "#d62728"),
        (insertion, _("Insertion in heat order (AUC {auc:.3f})"), _("Insertion in random order (AUC {auc:.3f})"),
         "#2ca02c"),
    )
    for curve, heat_name, random_name, colour in names:
        fractions = np.asarray(curve["fractions"])
        fig.add_scatter(x=fractions, y=np.asarray(curve["probabilities"]), name=heat_name.format(auc=curve["auc"]),
                        mode="lines", line=dict(color=colour, width=3), fill="tozeroy")
        if curve.get("random_probabilities") is not None:
            fig.add_scatter(x=fractions, y=np.asarray(curve["random_probabilities"]),
                            name=random_name.format(auc=curve["random_auc"]), mode="lines",
                            line=dict(color=colour, width=2, dash="dash"))
    if class_name:
        title = _("Probability of {name} as the hottest pixels are removed or revealed").format(name=class_name)
    else:
        title = _("Probability of the class as the hottest pixels are removed or revealed")
    fig.update_layout(
        title=title, margin=_MARGIN, height=360, legend=dict(orientation="h", y=-0.25, x=0),
        xaxis=dict(title=_("share of pixels removed (deletion) or revealed (insertion)"), tickformat=".0%",
                   range=[0, 1]),
        yaxis=dict(title=_("class probability"), range=[0, 1.02]),
    )
    return fig


#: Each method of the sanity chart gets its own colour, dash and marker.
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "star", "hexagon")


def sanity_figure(steps: Sequence[str], correlations: Mapping[str, Sequence[float]],
                  labels: Mapping[str, str] | None = None,
                  vanished: Mapping[str, Sequence[bool]] | None = None, columns: int = 3) -> go.Figure:
    """Rank correlation of each method's heatmap with the original as layers are randomised.

    Args:
        steps: "original", then the randomised blocks, top down ("original" is shown translated).
        correlations: {method: one correlation per step}.
        labels: {method: name for titles and the legend}.
        vanished: {method: one flag per step}: where a method's map vanished (every pixel the
            same), its line breaks and a cross marks the step at 0, since its correlation means
            nothing there.
        columns: panels per row when there are several methods.

    Returns:
        One panel per method (small multiples with shared axes), so that methods whose
        correlations coincide (Grad-CAM and HiResCAM at a 1 × 1 convolution) are all seen;
        each method keeps its own colour, dash and marker, and gets a "map vanished" trace
        where it has any.
    """
    from plotly.subplots import make_subplots

    colours = qualitative.D3
    labels = labels or {}
    vanished = vanished or {}
    methods = list(correlations)
    shown_steps = [_("original") if step == "original" else step for step in steps]
    columns = max(1, min(columns, len(methods)))
    rows = max(1, math.ceil(len(methods) / columns))
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True, horizontal_spacing=0.03,
                        vertical_spacing=0.18 if rows > 1 else 0.1,
                        subplot_titles=[labels.get(m, m) for m in methods] if len(methods) > 1 else None)
    for n, method in enumerate(methods):
        values = correlations[method]
        row, col = divmod(n, columns)
        colour, name = colours[n % len(colours)], labels.get(method, method)
        gone = list(vanished.get(method) or [False] * len(values))
        fig.add_scatter(x=shown_steps, y=[None if g else float(v) for v, g in zip(values, gone)], name=name,
                        mode="lines+markers", legendgroup=method, connectgaps=False,
                        line=dict(color=colour, width=2.5, dash=_DASHES[n % len(_DASHES)]),
                        marker=dict(symbol=_SYMBOLS[n % len(_SYMBOLS)], size=8, color=colour),
                        row=row + 1, col=col + 1)
        if any(gone):
            fig.add_scatter(x=[s for s, g in zip(shown_steps, gone) if g], y=[0.0] * sum(gone),
                            name=_("{method}: map vanished").format(method=name), mode="markers", legendgroup=method,
                            marker=dict(symbol="x-thin-open", size=12, color=colour, line=dict(color=colour, width=3)),
                            hovertemplate=_("{step}: the map vanished (every pixel the same)").format(step="%{x}")
                            + "<extra></extra>",
                            row=row + 1, col=col + 1)
        fig.add_hline(y=0, line_dash="dot", line_color="grey", row=row + 1, col=col + 1)
    fig.update_yaxes(range=[-1.05, 1.05])
    fig.update_yaxes(title_text=_("rank correlation with the original"), row=1, col=1)
    fig.update_xaxes(tickangle=-45, tickfont=dict(size=10))
    fig.update_layout(
        title=_("Sanity check: similarity to the original heatmap as layers are randomised, top down"),
        margin=dict(l=10, r=10, t=80, b=60), height=120 + 280 * rows,
        legend=dict(orientation="h", y=-0.12 if rows == 1 else -0.06, x=0),
    )
    if len(methods) == 1:
        fig.update_xaxes(title_text=_("randomised up to (cumulative, from the output down)"))
    return fig
