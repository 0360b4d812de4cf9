"""Figures about datasets: class balance and split sizes (words in the reader's language)."""

from __future__ import annotations

import plotly.graph_objects as go

from cv_core.i18n import N_, _

__all__ = ["class_balance_figure", "split_sizes_figure"]

SPLIT_COLOURS = {"train": "#2f6fde", "validation": "#f28e2b", "test": "#59a14f"}
#: The splits as a person reads them (the data's own names stay).
SPLIT_NAMES = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}


def _split(split: str) -> str:
    return _(SPLIT_NAMES[split]) if split in SPLIT_NAMES else split


def class_balance_figure(counts: dict[str, dict[str, int]], title: str | None = None) -> go.Figure:
    """Grouped bars: images per class, one bar colour per split.

    Args:
        counts: ``{split: {class name: count}}`` as from ``Dataset.class_counts``.
        title: the figure's title (default: "Class balance", translated).
    """
    fig = go.Figure()
    for split, per_class in counts.items():
        fig.add_bar(name=_split(split), x=[_(name) for name in per_class], y=list(per_class.values()),
                    marker_color=SPLIT_COLOURS.get(split),
                    hovertemplate=_("%{x}: %{y} images") + "<extra>" + _split(split) + "</extra>")
    fig.update_layout(title=title if title is not None else _("Class balance"), barmode="group",
                      xaxis_title=_("Class"), yaxis_title=_("Images"), legend_title=_("Split"),
                      margin=dict(t=50, b=40, l=50, r=10), height=340)
    return fig


def split_sizes_figure(sizes: dict[str, int], title: str | None = None) -> go.Figure:
    """One horizontal stacked bar showing how the images divide into train/validation/test."""
    fig = go.Figure()
    total = max(1, sum(sizes.values()))
    for split, n in sizes.items():
        name = _split(split)
        fig.add_bar(name=name, x=[n], y=[_("images")], orientation="h", marker_color=SPLIT_COLOURS.get(split),
                    text=[f"{name}: {n} ({n / total:.0%})"], textposition="inside",
                    hovertemplate=_("{split}: {n} images").format(split=name, n=n) + "<extra></extra>")
    fig.update_layout(title=title if title is not None else _("Split sizes"), barmode="stack",
                      xaxis_title=_("Images"), yaxis_visible=False,
                      showlegend=False, margin=dict(t=40, b=40, l=10, r=10), height=170)
    return fig
