"""Concept demos: residual connections vs vanishing gradients, batch norm training vs inference."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.concepts import batchnorm_training_trace, gradient_norms_by_layer
from cv_core.plots.architecture import batchnorm_stats_figure, gradient_norms_figure


def first_to_last(norms) -> float:
    return float(norms[0] / norms[-1])


# --------------------------------------------------------------------------------------
# Residual connections
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shortcuts_carry_gradient_back_to_the_first_layers(seed):
    plain = gradient_norms_by_layer(residual=False, seed=seed)
    residual = gradient_norms_by_layer(residual=True, seed=seed)
    # Measured: plain ~1e-12..1e-14, residual ~1e-2..1e0.
    assert first_to_last(plain["initial_norms"]) < 1e-8
    assert first_to_last(residual["initial_norms"]) > 1e-3
    assert np.all(np.diff(np.log(plain["initial_norms"])) > 0)  # shrinks at every layer going back
    assert np.all(residual["initial_norms"] > 0)


def test_gradient_norms_result_after_training_steps():
    result = gradient_norms_by_layer(depth=6, width=8, residual=True, steps=15, seed=0, input_size=4)
    assert result["layer_names"] == [f"dense{i:02d}" for i in range(1, 7)]
    assert result["initial_norms"].shape == result["final_norms"].shape == (6,)
    assert result["losses"].shape == (16,)
    assert result["losses"][-1] < result["losses"][0]
    assert not np.allclose(result["initial_norms"], result["final_norms"])
    assert (result["residual"], result["depth"], result["steps"], result["activation"]) == (True, 6, 15, "sigmoid")


def test_gradient_norms_are_deterministic_and_zero_steps_keeps_them():
    first = gradient_norms_by_layer(depth=4, width=8, seed=3)
    second = gradient_norms_by_layer(depth=4, width=8, seed=3)
    np.testing.assert_allclose(first["initial_norms"], second["initial_norms"], rtol=1e-5)
    np.testing.assert_array_equal(first["initial_norms"], first["final_norms"])
    assert first["losses"].shape == (1,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 1}, "`depth` to be an integer >= 2. Received: depth=1"),
        ({"width": 0}, "width=0"),
        ({"steps": -1}, "steps=-1"),
        ({"seed": -1}, "seed=-1"),
        ({"input_size": 2.5}, "input_size=2.5"),
        ({"residual": "yes"}, "residual='yes'"),
    ],
)
def test_gradient_norms_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"Expected .*{message}"):
        gradient_norms_by_layer(**kwargs)


def test_gradient_norms_figure():
    results = [gradient_norms_by_layer(depth=4, width=8, residual=r, steps=2) for r in (False, True)]
    fig = gradient_norms_figure(results)
    assert [trace.name for trace in fig.data] == [
        "plain, at initialisation", "plain, after 2 steps", "residual, at initialisation", "residual, after 2 steps",
    ]  # fmt: skip
    assert list(fig.data[0].x) == [1, 2, 3, 4]
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text and fig.layout.title.text
    assert len(gradient_norms_figure(results[0]).data) == 2


# --------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moving_statistics_approach_the_data_and_the_gap_shrinks(seed):
    trace = batchnorm_training_trace(steps=50, seed=seed, data_mean=3.0, data_std=2.0, momentum=0.9)
    assert trace["moving_mean"][0] == 0.0 and trace["moving_variance"][0] == 1.0
    assert trace["moving_mean"][-1] == pytest.approx(3.0, abs=0.3)
    assert trace["moving_variance"][-1] == pytest.approx(4.0, rel=0.15)
    assert trace["data_mean"] == 3.0 and trace["data_variance"] == 4.0
    gap = trace["output_gap"]
    assert np.all(gap >= 0)
    # Measured: the last ten gaps stay below 0.11x the initial gap for seeds 0..5.
    assert gap[-10:].max() < 0.3 * gap[0]


def test_batchnorm_trace_shapes_and_update_rule():
    trace = batchnorm_training_trace(steps=3, seed=0, momentum=0.9)
    assert trace["step"].tolist() == [0, 1, 2, 3]
    for key in ("moving_mean", "moving_variance", "output_gap"):
        assert trace[key].shape == (4,)
    assert trace["moving_mean_per_channel"].shape == trace["moving_variance_per_channel"].shape == (4, 4)
    np.testing.assert_allclose(trace["moving_mean"], trace["moving_mean_per_channel"].mean(axis=1))
    # One update moves 10% of the way to a batch mean near 3; measuring the gap adds no update.
    assert 0.2 < trace["moving_mean"][1] < 0.4


def test_higher_momentum_adapts_more_slowly():
    fast = batchnorm_training_trace(steps=10, momentum=0.5)
    slow = batchnorm_training_trace(steps=10, momentum=0.99)
    assert abs(fast["moving_mean"][-1] - 3.0) < 0.3 < abs(slow["moving_mean"][-1] - 3.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps=0"),
        ({"momentum": 1.0}, r"`momentum` to be in \[0, 1\). Received: momentum=1.0"),
        ({"data_std": 0.0}, "data_std=0.0"),
        ({"data_mean": float("nan")}, "data_mean=nan"),
        ({"seed": 1.5}, "seed=1.5"),
    ],
)
def test_batchnorm_trace_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"Expected .*{message}"):
        batchnorm_training_trace(**kwargs)


def test_batchnorm_stats_figure():
    trace = batchnorm_training_trace(steps=5)
    fig = batchnorm_stats_figure(trace)
    names = [trace.name for trace in fig.data]
    assert names == ["moving mean", "data mean", "moving variance", "data variance", "mean |train − inference|"]
    assert list(fig.data[1].y) == [3.0, 3.0]
    assert list(fig.data[4].y) == list(trace["output_gap"])
    assert "momentum 0.9" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "Training step"


def test_gradient_figure_draws_underflow_on_a_labelled_floor():
    from cv_core.plots.architecture import UNDERFLOW_FLOOR

    result = {"residual": False, "layer_names": ["dense01", "dense02", "dense03"], "steps": 0,
              "initial_norms": np.array([0.0, 1e-35, 1e-3]), "final_norms": np.array([0.0, 1e-35, 1e-3])}
    figure = gradient_norms_figure(result)
    assert list(figure.data[0].y) == [UNDERFLOW_FLOOR, UNDERFLOW_FLOOR, 1e-3]  # a log axis cannot show 0
    assert [c[1] for c in figure.data[0].customdata][:2] == ["< 1e-30 (underflow)"] * 2
    (label,) = figure.layout.annotations
    assert label.y == -30 and "underflow" in label.text  # log axis: the annotation's y is the exponent
