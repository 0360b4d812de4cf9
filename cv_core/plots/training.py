"""Figures about training runs: learning curves (the book's figure 9.11) and grid summaries.

The inputs are what :mod:`cv_core.runs` reads from run directories: lists of per-epoch
metric rows (``{"epoch": 1, "loss": ..., "val_accuracy": ...}``) and the rows of
:func:`cv_core.runs.summarise_experiment`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from cv_core.i18n import N_, _

__all__ = ["curves_figure", "curves_spec", "grid_summary_figure", "loss_curves_figure"]

#: One colour per run, cycling when there are more runs than colours.
RUN_COLOURS = qualitative.D3 + qualitative.Set2

_METRIC_NAMES = {"accuracy": N_("Accuracy"), "loss": N_("Loss"), "mean_iou": N_("Mean IoU"), "map50": "mAP@0.5",
                 "map50_95": "mAP@0.5:0.95"}  # marked; shown with _()
#: Metrics that read as percentages on the axis.
_PERCENT_METRICS = ("accuracy",)
#: Scores in [0, 1] drawn on the whole 0–1 scale (a mAP of 0.000 sits on 0–1, not on −1…1).
_FULL_SCALE_METRICS = ("mean_iou", "map50", "map50_95")
#: Room left beyond the data on a score's axis, as a share of the axis: a line at 0 or 1 stays clear of the edge.
_AXIS_MARGIN = 0.04


def score_axis_range(metric: str, values: Sequence[float]) -> list[float] | None:
    """The y range of a score's chart, or None to let plotly choose (the loss).

    mean IoU and mAP take the whole 0–1 scale, empty and all-zero data included; accuracy
    zooms on its values but stays within 0–1. Both leave a margin so that a line at 0 or 1
    is drawn inside the plot, not on its edge.
    """
    values = [v for v in values if math.isfinite(v)]
    if metric in _FULL_SCALE_METRICS or (metric in _PERCENT_METRICS and not values):
        low, high = 0.0, 1.0
    elif metric in _PERCENT_METRICS:
        spread = max(values) - min(values)
        span = max(spread, 0.05)  # at least 5 points wide, centred on the values (whole-percent ticks differ)
        pad = 0.1 * span + (span - spread) / 2
        low, high = min(values) - pad, max(values) + pad
        low, high = low - max(0.0, high - 1.0), high + max(0.0, -low)  # slide inside 0–1, keeping the width
        low, high = max(0.0, low), min(1.0, high)
    else:
        return None
    margin = _AXIS_MARGIN * (high - low)
    return [low - margin, high + margin]


def _points(rows: Sequence[Mapping], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for row in rows:
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(row.get("epoch"), int):
            xs.append(row["epoch"])
            ys.append(float(value))
    return xs, ys


def curves_figure(runs_metrics: Mapping[str, Sequence[Mapping]], metric: str = "accuracy",
                  title: str | None = None) -> go.Figure:
    """Training and validation curves of several runs on one chart (figure 9.11 style).

    Each run gets one colour; its training curve is solid and its validation curve
    (``val_<metric>``) dashed with markers, so that overfitting shows as the two lines of
    one colour drifting apart. The legend has one entry per run (clicking it hides both of
    its curves), below the chart, which grows with the number of runs so that the legend
    never covers the axis.

    Args:
        runs_metrics: ``{run label: [metric rows by epoch]}``.
        metric: the metric to draw, e.g. "accuracy" or "loss".
        title: the chart title; a default names the metric.

    Returns:
        A plotly Figure with two traces per run (runs without data are left out).
    """
    name = _(_METRIC_NAMES.get(metric, metric.replace("_", " ").capitalize()))
    fig = go.Figure()
    last_epoch = max((int(r.get("epoch", 0)) for rows in runs_metrics.values() for r in rows), default=1)
    shown = 0
    values: list[float] = []
    for index, (label, rows) in enumerate(runs_metrics.items()):
        colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        in_legend = True
        for prefix, dash, split in (("", "solid", _("training")), ("val_", "dash", _("validation"))):
            xs, ys = _points(rows, prefix + metric)
            if not xs:
                continue
            shown += in_legend
            values += ys
            fig.add_scatter(
                x=xs, y=ys, name=label, legendgroup=label, showlegend=in_legend,
                mode="lines+markers" if prefix else "lines",
                line=dict(color=colour, dash=dash, width=2), marker=dict(size=6),
                hovertemplate=label + "<br>" + _("epoch %{x}") + "<br>" + _("{split} {metric}").format(
                    split=split, metric=name) + " %{y:.4f}<extra></extra>",
            )
            in_legend = False
    legend_height = 24 * max(1, shown)  # one line per run (long names do not share a line)
    fig.update_layout(
        title=dict(text=title or _("Training and validation {metric}").format(metric=name.lower()),
                   subtitle=dict(text=_("Solid: training · dashed: validation"))),
        xaxis_title=_("Epoch"), yaxis_title=name,
        legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", xanchor="left", x=0),
        margin=dict(t=80, b=70 + legend_height, l=60, r=10), height=400 + legend_height, hovermode="closest",
    )
    fig.update_xaxes(tick0=1, dtick=max(1, -(-last_epoch // 10)), rangemode="nonnegative")
    if metric in _PERCENT_METRICS:
        fig.update_yaxes(tickformat=".0%")
    y_range = score_axis_range(metric, values)
    if y_range is not None:
        fig.update_yaxes(range=y_range)
    return fig


def curves_spec(runs_metrics: Mapping[str, Sequence[Mapping]], metric: str = "accuracy",
                title: str | None = None) -> dict:
    """:func:`curves_figure` as a Vega-Lite specification (a plain dict), for pages that must paint fast.

    The same picture: one colour per run, training solid and validation dashed, the same
    axis range. A browser draws it about as soon as the page is ready, where a Plotly chart
    waits for Plotly's 4.7 MB script (3–4.6 s after the rest on this machine, measured with
    Streamlit 1.67 and Chromium; Vega-Lite's is 0.8 MB: 0.4–1 s).

    Returns:
        A Vega-Lite spec with one data row per point: ``epoch``, ``value``, ``run`` and
        ``split`` ("training" or "validation", in the reader's language).
    """
    name = _(_METRIC_NAMES.get(metric, metric.replace("_", " ").capitalize()))
    splits = (_("training"), _("validation"))
    points, values = [], []
    for label, rows in runs_metrics.items():
        for prefix, split in zip(("", "val_"), splits):
            xs, ys = _points(rows, prefix + metric)
            points += [{"epoch": x, "value": y, "run": label, "split": split} for x, y in zip(xs, ys)]
            values += ys
    y_axis: dict = {"field": "value", "type": "quantitative", "title": name}
    if metric in _PERCENT_METRICS:
        y_axis["axis"] = {"format": ".0%"}
    y_range = score_axis_range(metric, values)
    if y_range is not None:
        y_axis["scale"] = {"domain": y_range, "zero": False, "clamp": True}
    runs = list(runs_metrics)
    colour: dict = {"field": "run", "type": "nominal", "title": None, "sort": runs,
                    "scale": {"domain": runs, "range": [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(len(runs))]}}
    if len(runs) < 2:
        colour["legend"] = None
    return {
        "title": {"text": title or _("Training and validation {metric}").format(metric=name.lower()),
                  "subtitle": _("Solid: training · dashed: validation"), "anchor": "start"},
        "data": {"values": points},
        # Points mark each epoch while they can be told apart; a long run is a line.
        "mark": {"type": "line", "point": {"size": 30} if len({p["epoch"] for p in points}) <= 40 else False,
                 "strokeWidth": 2, "tooltip": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": _("Epoch"),
                  "axis": {"format": "d", "tickMinStep": 1}},
            "y": y_axis,
            "color": colour,
            "strokeDash": {"field": "split", "type": "nominal", "title": None,
                           "scale": {"domain": list(splits), "range": [[1, 0], [6, 4]]},
                           "legend": None},  # the subtitle says it (a legend of dashes drew no lines here)
            "detail": {"field": "split"},
        },
        "height": 300,
    }


def loss_curves_figure(runs_metrics: Mapping[str, Sequence[Mapping]], title: str | None = None) -> go.Figure:
    """:func:`curves_figure` for the loss (training solid, validation dashed)."""
    return curves_figure(runs_metrics, metric="loss", title=title)


def grid_summary_figure(summary_rows: Sequence[Mapping], title: str | None = None,
                        metric_label: str = "accuracy", score_format: str = ".0%") -> go.Figure:
    """Bars with ± standard deviation error bars per variant, one panel per measure.

    Args:
        summary_rows: rows of :func:`cv_core.runs.summarise_experiment` (``variant`` and
            ``<measure>_mean`` / ``<measure>_std`` for the best validation score, the test
            score and seconds per epoch).
        title: the figure title.
        metric_label: the name of the task's score ("accuracy", "mean IoU").
        score_format: its axis format (".0%" for accuracy).

    Returns:
        A plotly Figure with three side-by-side panels; variants without a value are blank.
    """
    metric_label = _(metric_label)
    panels = (
        ("best_score", _("Best validation {metric}").format(metric=metric_label), score_format),
        ("test_score", _("Test {metric}").format(metric=metric_label), score_format),
        ("seconds_per_epoch", _("Seconds per epoch"), ".1f"),
    )
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[1] for p in panels],
                        horizontal_spacing=0.08)
    variants = [str(row.get("variant", "?")) for row in summary_rows]
    colours = [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(len(variants))]
    for col, (key, label, fmt) in enumerate(panels, start=1):
        means = [row.get(f"{key}_mean") for row in summary_rows]
        stds = [row.get(f"{key}_std") or 0.0 for row in summary_rows]
        counts = [row.get("runs", 0) for row in summary_rows]
        fig.add_bar(
            x=variants, y=means, marker_color=colours, showlegend=False, name=label,
            error_y=dict(type="data", array=stds, visible=True, thickness=1.5),
            customdata=list(zip(stds, counts)),
            hovertemplate=f"%{{x}}<br>{label}: %{{y:{fmt}}} ± %{{customdata[0]:{fmt}}}<br>"
                          + _("%{customdata[1]} runs") + "<extra></extra>",
            row=1, col=col,
        )
        fig.update_yaxes(tickformat=fmt if fmt.endswith("%") else None, rangemode="tozero", row=1, col=col)
        fig.update_xaxes(tickangle=-30, row=1, col=col)
    fig.update_layout(title=_("Grid experiment: mean ± std over seeds") if title is None else title, height=420, margin=dict(t=80, b=110, l=50, r=10), bargap=0.3)
    return fig
