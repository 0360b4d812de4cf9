"""Figures about architecture: the block pyramid, variant comparisons, and the concept demos.

Each builder takes the plain rows/dicts from ``cv_core.anatomy`` or ``cv_core.concepts``
and returns a plotly figure; none of them imports TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cv_core.i18n import _

__all__ = ["UNDERFLOW_FLOOR", "pyramid_figure", "compare_figure", "gradient_norms_figure", "batchnorm_stats_figure"]

#: Gradient norms below this are drawn on a floor line (0 or float32 underflow cannot go on a log axis).
UNDERFLOW_FLOOR = 1e-30

SIZE_COLOUR = "#2f6fde"
FILTERS_COLOUR = "#e15759"
VARIANT_COLOURS = ("#4e79a7", "#f28e2b")
PLAIN_COLOUR, RESIDUAL_COLOUR = "#e15759", "#59a14f"
_MARGIN = dict(t=60, b=50, l=60, r=60)


def _format_shape(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "?"


def pyramid_figure(block_rows: Sequence[Mapping], title: str | None = None) -> go.Figure:
    """Bars of each block's feature-map size with a line of its filter count on a second axis.

    The picture behind the book's VGG16 figure: going deeper, the spatial size halves
    while the number of filters (channels) grows. Rows whose output is not a feature map
    (e.g. the classifier head) are left out.

    Args:
        block_rows: rows from ``cv_core.anatomy.block_table``: dicts with ``block`` and
            ``output_shape`` ``(H, W, C)``.
        title: the figure's title.

    Returns:
        A plotly figure: x = block, left y = feature-map side in pixels (bars), right y =
        filters (line).

    Raises:
        ValueError: if no row has an ``(H, W, C)`` output shape.
    """
    rows = [r for r in block_rows if r.get("output_shape") is not None and len(r["output_shape"]) == 3]
    if not rows:
        raise ValueError(
            "Expected block rows with (H, W, C) output shapes. "
            f"Received: {[r.get('output_shape') for r in block_rows]}"
        )
    blocks = [r["block"] for r in rows]
    shapes = [_format_shape(r["output_shape"]) for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(
        x=blocks, y=[r["output_shape"][0] for r in rows], name=_("feature-map height (pixels)"),
        marker_color=SIZE_COLOUR, customdata=shapes,
        hovertemplate="%{x}: %{customdata}<extra>" + _("feature map") + "</extra>", secondary_y=False,
    )
    fig.add_scatter(
        x=blocks, y=[r["output_shape"][2] for r in rows], name=_("filters (channels)"),
        mode="lines+markers", marker_color=FILTERS_COLOUR, customdata=shapes,
        hovertemplate=_("%{x}: %{y} filters") + "<extra>%{customdata}</extra>", secondary_y=True,
    )
    fig.update_layout(
        title=dict(text=_("Feature maps shrink while filters grow") if title is None else title, y=0.97, yanchor="top"),
        xaxis_title=_("Block (input → output)"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        margin=dict(t=90, b=50, l=60, r=60), height=400,
    )
    fig.update_yaxes(title_text=_("Feature-map height (pixels)"), secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=_("Filters (channels)"), secondary_y=True, rangemode="tozero", showgrid=False,
                     tickformat="d", tickmode="auto")
    return fig


def compare_figure(
    rows: Sequence[Mapping],
    labels: tuple[str, str] = ("model A", "model B"),
    title: str | None = None,
    log_scale: bool = True,
) -> go.Figure:
    """Grouped bars per block of two variants' parameters (left) and multiply-adds (right).

    Args:
        rows: rows from ``cv_core.anatomy.compare_anatomy`` (``block``, ``params_a``,
            ``params_b``, ``mult_adds_a``, ``mult_adds_b``, ratios).
        labels: legend names for model A and model B.
        title: the figure's title.
        log_scale: log y axes, so that small blocks stay visible next to large ones
            (blocks with 0 then have no bar).

    Returns:
        A plotly figure with two panels sharing the legend.
    """
    blocks = [r["block"] for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Parameters"), _("Multiply-adds per image")),
                        horizontal_spacing=0.14)
    for col, key, unit, axis in ((1, "params", _("parameters"), _("Parameters")),
                                 (2, "mult_adds", _("multiply-adds"), _("Multiply-adds"))):
        for suffix, label, colour in (("a", labels[0], VARIANT_COLOURS[0]), ("b", labels[1], VARIANT_COLOURS[1])):
            ratios = [r.get(f"{key}_ratio") for r in rows]
            fig.add_bar(
                x=blocks, y=[r[f"{key}_{suffix}"] for r in rows], name=label, legendgroup=label,
                showlegend=col == 1, marker_color=colour,
                customdata=["–" if q is None else f"{q:.2f}" for q in ratios],
                hovertemplate=f"%{{x}}: %{{y:,}} {unit}<br>B / A = %{{customdata}}<extra>{label}</extra>",
                row=1, col=col,
            )
        fig.update_xaxes(title_text=_("Block"), row=1, col=col)
        fig.update_yaxes(title_text=axis, type="log" if log_scale else "linear", row=1, col=col,
                         **({"dtick": 1, "exponentformat": "SI"} if log_scale else {}))
    fig.update_layout(title=dict(text=_("Parameters and compute per block") if title is None else title, y=0.97,
                                 yanchor="top"), barmode="group",
                      legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0, title=None),
                      margin=dict(t=80, b=110, l=70, r=20), height=460)
    return fig


def gradient_norms_figure(results, title: str | None = None) -> go.Figure:
    """Lines of per-layer gradient norms (log scale) for one or more stacks.

    Solid lines are at initialisation, dashed lines after the training steps (when any).

    Args:
        results: a dict from ``cv_core.concepts.gradient_norms_by_layer``, or a list of them
            (typically the plain and the residual stack).
        title: the figure's title.

    Returns:
        A plotly figure: x = layer depth (1 = next to the input), y = L2 norm of the
        gradient of the loss with respect to the layer's kernel.
    """
    if isinstance(results, Mapping):
        results = [results]
    fig = go.Figure()
    for result in results:
        kind = _("residual") if result["residual"] else _("plain")
        colour = RESIDUAL_COLOUR if result["residual"] else PLAIN_COLOUR
        depth = list(range(1, len(result["layer_names"]) + 1))
        series = [(_("at initialisation"), result["initial_norms"], "solid")]
        if result.get("steps"):
            series.append((_("after {steps} steps").format(steps=result["steps"]), result["final_norms"], "dash"))
        for when, norms, dash in series:
            values = [float(v) for v in norms]
            shown = [max(v, UNDERFLOW_FLOOR) for v in values]
            text = [f"{v:.2e}" if v >= UNDERFLOW_FLOOR else _("< {floor} (underflow)").format(floor=f"{UNDERFLOW_FLOOR:.0e}")
                    for v in values]
            fig.add_scatter(
                x=depth, y=shown, mode="lines+markers", name=f"{kind}, {when}",
                line=dict(color=colour, dash=dash), customdata=list(zip(result["layer_names"], text)),
                hovertemplate="%{customdata[0]}: %{customdata[1]}<extra>" + f"{kind}, {when}" + "</extra>",
            )
    if any(min(float(v) for v in r[key]) < UNDERFLOW_FLOOR for r in results for key in ("initial_norms", "final_norms")):
        fig.add_hline(y=UNDERFLOW_FLOOR, line=dict(color="#888", dash="dot", width=1))
        # On a log axis an annotation's y is the exponent (add_hline's own label lands at 10^0).
        fig.add_annotation(x=1, xref="paper", y=math.log10(UNDERFLOW_FLOOR), yref="y", showarrow=False,
                           text=_("< {floor}: underflow").format(floor=f"{UNDERFLOW_FLOOR:.0e}"), xanchor="right",
                           yanchor="bottom",
                           font=dict(color="#666", size=11))
    fig.update_layout(
        title=_("Gradient reaching each layer") if title is None else title,
        xaxis_title=_("Layer (1 = next to the input)"), yaxis_title=_("Gradient norm of the kernel"),
        yaxis_type="log", yaxis_exponentformat="power", legend_title=_("Stack"), margin=_MARGIN, height=400,
    )
    return fig


def batchnorm_stats_figure(trace: Mapping, title: str | None = None) -> go.Figure:
    """Moving mean/variance against the data's (left) and the train/inference output gap (right).

    Args:
        trace: the dict from ``cv_core.concepts.batchnorm_training_trace``.
        title: the figure's title.

    Returns:
        A plotly figure with two panels over training steps.
    """
    steps = list(trace["step"])
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.16,
        subplot_titles=(_("Moving statistics<br>vs the data's"), _("Output gap:<br>training vs inference mode")),
    )
    for key, truth, moving, data, colour in (
        ("moving_mean", trace["data_mean"], _("moving mean"), _("data mean"), "#4e79a7"),
        ("moving_variance", trace["data_variance"], _("moving variance"), _("data variance"), "#f28e2b"),
    ):
        fig.add_scatter(x=steps, y=list(trace[key]), mode="lines", name=moving,
                        line=dict(color=colour), row=1, col=1)
        fig.add_scatter(x=[steps[0], steps[-1]], y=[truth, truth], mode="lines", name=data,
                        line=dict(color=colour, dash="dash"), row=1, col=1)
    fig.add_scatter(x=steps, y=list(trace["output_gap"]), mode="lines+markers", name=_("mean |train − inference|"),
                    line=dict(color="#59a14f"), marker=dict(size=4), row=1, col=2)
    fig.update_xaxes(title_text=_("Training step"), row=1, col=1)
    fig.update_xaxes(title_text=_("Training step"), row=1, col=2)
    fig.update_yaxes(title_text=_("Value (mean over channels)"), row=1, col=1)
    fig.update_yaxes(title_text=_("Mean |output difference|"), rangemode="tozero", row=1, col=2)
    title = _("Batch normalisation: training vs inference") if title is None else title
    fig.update_layout(title=dict(text=_("{title} (momentum {momentum})").format(title=title,
                                                                                momentum=f"{trace['momentum']:g}"),
                                 y=0.97, yanchor="top"),
                      legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      margin=dict(t=100, b=120, l=70, r=20), height=500)
    return fig
