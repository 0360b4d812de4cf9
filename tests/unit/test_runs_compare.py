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


# -- the live estimate follows the measured epochs (issue 19 §4) ------------------------------


def synthetic_run(epochs: int, warm_up: float, typical: float, seed: int = 0) -> list[dict]:
    """Metric rows as a worker writes them: a slow first epoch (tracing), then epochs that swing
    the way they do on a busy 2-core machine (most near ``typical``, one in ten up to 4x)."""
    import random

    rng = random.Random(seed)
    rows = [{"epoch": 1, "seconds": warm_up}]
    for epoch in range(2, epochs + 1):
        cycle = typical * (rng.uniform(2.0, 4.0) if rng.random() < 0.1 else rng.uniform(0.8, 1.25))
        rows.append({"epoch": epoch, "seconds": cycle * 0.7, "cycle_seconds": cycle})
    return rows


def between_epochs(rows: list[dict], done: int, epochs: int) -> float | None:
    """The estimate just after epoch ``done`` ended (the next epoch's batches not timed yet)."""
    progress = {"epoch": done + 1, "epochs": epochs, "batch": 0, "batches": 4, "phase": "train"}
    return eta_seconds({"state": "running", "epochs": epochs}, progress, rows[:done])


def test_eta_follows_the_measured_epoch_time_after_warm_up():
    # The issue: 300 Tiny epochs of ~0.2 s; after epoch 1 the page said 6 min 21 s (the first
    # epoch's tracing time times 299 epochs).
    epochs = 300
    rows = synthetic_run(epochs, warm_up=1.27, typical=0.2)
    for done in range(2, epochs):
        actual = sum(row["cycle_seconds"] for row in rows[done:])
        estimate = between_epochs(rows, done, epochs)
        if done >= 5:
            assert actual / 1.5 <= estimate <= actual * 1.5, (done, estimate, actual)


def test_eta_never_extrapolates_the_warm_up_epoch():
    rows = synthetic_run(300, warm_up=1.27, typical=0.2)
    assert between_epochs(rows, 1, 300) is None  # "estimating…" rather than 6 min 21 s
    # Once batches of the second epoch are timed, their rate gives the estimate.
    progress = {"epoch": 2, "epochs": 300, "batch": 4, "batches": 4, "phase": "train", "seconds_per_batch": 0.04}
    estimate = eta_seconds({"state": "running", "epochs": 300}, progress, rows[:1])
    assert estimate == pytest.approx(299 * 4 * 0.04 * 1.1, rel=0.01)


def test_one_stalled_epoch_moves_the_eta_little():
    rows = [{"epoch": 1, "seconds": 10.0}] + [{"epoch": e, "seconds": 1.0, "cycle_seconds": 1.0} for e in range(2, 8)]
    steady = between_epochs(rows, 7, 100)
    assert steady == pytest.approx(93.0)
    rows[4].update(seconds=19.0, cycle_seconds=20.0)  # one epoch stalled by a busy machine
    stalled = between_epochs(rows, 7, 100)
    assert steady < stalled <= 1.5 * steady  # counted as 3 epochs' worth, not 20


def test_eta_counts_the_regular_cost_of_saving():
    """Saving the best model every few epochs is real time: a median of the epochs would leave it out."""
    cycles = [0.7 if epoch % 5 in (0, 2) else 0.3 for epoch in range(2, 301)]  # 2 epochs in 5 save
    rows = [{"epoch": 1, "seconds": 3.0}] + [{"epoch": e, "seconds": 0.2, "cycle_seconds": c}
                                             for e, c in zip(range(2, 301), cycles)]
    for done in (11, 50, 150):
        actual = sum(cycles[done - 1:])
        assert between_epochs(rows, done, 300) == pytest.approx(actual, rel=0.1)


def test_epoch_durations_include_saving_and_leave_out_each_workers_first_epoch():
    from cv_core.runs.compare import epoch_durations

    resumed = [{"epoch": 1, "seconds": 5.0}, {"epoch": 2, "seconds": 0.2, "cycle_seconds": 0.3},
               {"epoch": 3, "seconds": 4.0},  # the first epoch after a resume: tracing again
               {"epoch": 4, "seconds": 0.2, "cycle_seconds": 0.35}]
    assert epoch_durations(resumed) == [0.3, 0.35]
    older = [{"epoch": 1, "seconds": 5.0}, {"epoch": 2, "seconds": 0.2}, {"epoch": 3, "seconds": 0.25}]
    assert epoch_durations(older) == [0.2, 0.25]  # runs recorded before cycle_seconds existed
    assert epoch_durations(older[:1]) == []
