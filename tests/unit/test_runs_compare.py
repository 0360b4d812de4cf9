"""Comparison table, config diff and ETA of runs (no TensorFlow, no workers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cv_core.runs import RunInfo, preset_spec
from cv_core.runs.compare import compare_table, config_diff, eta_seconds, format_seconds


def make_run(run_id, spec, metrics, state="completed", params=1234, test=0.8):
    return RunInfo(id=run_id, dir=Path("/tmp") / run_id, spec=spec, status={"state": state},
                   metrics=metrics, test_metrics={"accuracy": test} if test is not None else None,
                   summary={"params": params})


ROWS = [
    {"epoch": 1, "accuracy": 0.5, "val_accuracy": 0.45, "loss": 1.0, "val_loss": 1.1, "seconds": 9.0},
    {"epoch": 2, "accuracy": 0.8, "val_accuracy": 0.70, "loss": 0.6, "val_loss": 0.8, "seconds": 5.0},
    {"epoch": 3, "accuracy": 0.9, "val_accuracy": 0.65, "loss": 0.3, "val_loss": 0.9, "seconds": 7.0},
]


def test_compare_table_best_epoch_gap_and_speed():
    run = make_run("r1", preset_spec("tiny"), ROWS)
    (row,) = compare_table([run])
    assert row["best_score"] == 0.70 and row["best_epoch"] == 2
    assert row["gap"] == pytest.approx(0.8 - 0.70)
    assert row["seconds_per_epoch"] == pytest.approx(6.0)  # first epoch (tracing) left out
    assert row["params"] == 1234 and row["test_score"] == 0.8 and row["epochs"] == 3


def test_compare_table_run_without_epochs():
    (row,) = compare_table([make_run("r0", preset_spec("tiny"), [], state="queued", test=None)])
    assert row["best_score"] is None and row["gap"] is None and row["best_epoch"] is None


def test_config_diff_lists_only_differing_fields():
    a = make_run("a", preset_spec("tiny", conv_type="separable"), ROWS)
    b = make_run("b", preset_spec("tiny", conv_type="conv2d", seed=3), ROWS)
    diff = {row["field"]: row for row in config_diff([a, b])}
    assert set(diff) == {"conv_type", "seed"}
    assert diff["conv_type"]["a"] == "separable" and diff["conv_type"]["b"] == "conv2d"
    assert config_diff([a]) == []


def test_eta_from_finished_epochs():
    status = {"state": "running", "epochs": 5, "started_at": 0.0}
    progress = {"epoch": 4, "epochs": 5, "batch": 5, "batches": 10}
    # mean of epochs 2-3 = 6 s; half of epoch 4 left (3 s) + epoch 5 (6 s)
    assert eta_seconds(status, progress, ROWS, now=100.0) == pytest.approx(9.0)


def test_eta_says_nothing_until_batches_after_warm_up_are_timed():
    # The case: 6 s after the start (TensorFlow import, tracing), the first batch of
    # 63 is done. Extrapolating from the start time said "about 18 min" for a 42 s run.
    status = {"state": "running", "epochs": 3, "started_at": 100.0}
    progress = {"epoch": 1, "epochs": 3, "batch": 1, "batches": 63, "phase": "train"}
    assert eta_seconds(status, progress, [], now=106.0) is None
    assert format_seconds(eta_seconds(status, progress, []), unknown="estimating…") == "estimating…"
    assert eta_seconds({"state": "queued"}, None, []) is None


def test_eta_during_first_epoch_uses_the_timed_batch_rate():
    status = {"state": "running", "epochs": 2, "started_at": 0.0}
    progress = {"epoch": 1, "epochs": 2, "batch": 10, "batches": 20, "phase": "train", "seconds_per_batch": 0.5}
    # an epoch: 20 batches * 0.5 s, plus a tenth for validation = 11 s;
    # this epoch: 10 batches left (5 s) + its validation (1 s); then one more epoch (11 s)
    assert eta_seconds(status, progress, [], now=1e9) == pytest.approx(17.0)


@pytest.mark.parametrize("seconds, text", [(None, "—"), (42.4, "42 s"), (185, "3 min 5 s"), (7800, "2 h 10 min")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
