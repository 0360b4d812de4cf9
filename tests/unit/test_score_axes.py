"""Learning curves of scores in [0, 1]: the axis shows 0-1 (mAP, mean IoU) or zooms within it
(accuracy), and a line at 0 or 1 is drawn inside the plot, never on its edge (issue 19)."""

from __future__ import annotations

import pytest

from cv_core.plots.training import curves_figure


def rows(metric, values, validation=True):
    key = f"val_{metric}" if validation else metric
    return [{"epoch": epoch, key: value} for epoch, value in enumerate(values, start=1)]


def y_range(figure):
    return list(figure.layout.yaxis.range) if figure.layout.yaxis.range is not None else None


@pytest.mark.parametrize("metric", ["map50", "map50_95", "mean_iou"])
@pytest.mark.parametrize("values", [[0.0, 0.0, 0.0], [], [0.137, 0.137]])
def test_map_and_mean_iou_use_the_whole_zero_to_one_axis(metric, values):
    # An untrained detector's mAP of 0.000 at every epoch (or no epoch yet) gave plotly's -1...1 axis.
    low, high = y_range(curves_figure({"run": rows(metric, values)}, metric))
    assert -0.1 < low < 0.0 and 1.0 < high < 1.1


def test_a_validation_line_at_one_is_inside_the_plot():
    metrics = [{"epoch": e, "accuracy": a, "val_accuracy": 1.0} for e, a in enumerate([0.9, 0.95, 0.97], start=1)]
    low, high = y_range(curves_figure({"run": metrics}, "accuracy"))
    assert high > 1.0 and low < 0.9  # room above the line at 1.0 and below the lowest point
    assert low > 0.5  # accuracy still zooms on its values


def test_accuracy_zooms_but_stays_within_zero_to_one():
    low, high = y_range(curves_figure({"run": rows("accuracy", [0.80, 0.85, 0.90])}, "accuracy"))
    assert 0.7 < low < 0.8 and 0.9 < high < 1.0
    low, high = y_range(curves_figure({"run": rows("accuracy", [0.0, 0.01])}, "accuracy"))
    assert -0.1 < low < 0.0


def test_the_loss_keeps_plotly_s_own_range():
    assert y_range(curves_figure({"run": rows("loss", [3.0, 2.0])}, "loss")) is None
