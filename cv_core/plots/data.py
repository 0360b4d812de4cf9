"""Figures about datasets: class balance and split sizes."""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["class_balance_figure", "split_sizes_figure"]

SPLIT_COLOURS = {"train": "#2f6fde", "validation": "#f28e2b", "test": "#59a14f"}


def class_balance_figure(counts: dict[str, dict[str, int]], title: str = "Class balance") -> go.Figure:
    """Grouped bars: images per class, one bar colour per split.

    Args:
        counts: ``{split: {class name: count}}`` as from ``Dataset.class_counts``.
    """
    fig = go.Figure()
    for split, per_class in counts.items():
        fig.add_bar(name=split, x=list(per_class), y=list(per_class.values()),
                    marker_color=SPLIT_COLOURS.get(split), hovertemplate="%{x}: %{y} images<extra>" + split + "</extra>")
    fig.update_layout(title=title, barmode="group", xaxis_title="Class", yaxis_title="Images",
                      legend_title="Split", margin=dict(t=50, b=40, l=50, r=10), height=340)
    return fig


def split_sizes_figure(sizes: dict[str, int], title: str = "Split sizes") -> go.Figure:
    """One horizontal stacked bar showing how the images divide into train/validation/test."""
    fig = go.Figure()
    total = max(1, sum(sizes.values()))
    for split, n in sizes.items():
        fig.add_bar(name=split, x=[n], y=["images"], orientation="h", marker_color=SPLIT_COLOURS.get(split),
                    text=[f"{split}: {n} ({n / total:.0%})"], textposition="inside",
                    hovertemplate=f"{split}: {n} images<extra></extra>")
    fig.update_layout(title=title, barmode="stack", xaxis_title="Images", yaxis_visible=False,
                      showlegend=False, margin=dict(t=40, b=40, l=10, r=10), height=170)
    return fig
