"""cv_core.runs.calibration: the machine speed factor that scales the time estimate.

The factor's accuracy is checked by ``tests/unit/test_time_estimate.py`` (timing lane), which times
the machine for real; here: where the factor comes from, that it is measured once, kept per machine,
and that a failed timing or a bad setting behaves.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time

import pytest

from cv_core.pretrained.cache import CACHE_ENV
from cv_core.runs import calibration, preset_spec
from cv_core.runs.calibration import MACHINE_SPEED_ENV, MachineSpeed, known_machine_speed, machine_speed
from cv_core.runs.cost import architecture_cost, estimate_epoch_seconds, estimate_seconds
from cv_core.runs.spec import SpecError

QUICK = preset_spec("quick")


@pytest.fixture
def unset(monkeypatch, tmp_path):
    """No factor set, an empty cache folder, nothing measured in this process; timing calls counted."""
    monkeypatch.delenv(MACHINE_SPEED_ENV, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    calibration._forget()
    architecture_cost(QUICK)  # measured here, so the estimates below start no model-measuring process
    calls = []

    def child(speed=1.7, returncode=0, delay=0.0, stdout=None, compute=None):
        def run():
            calls.append(time.monotonic())
            time.sleep(delay)
            out = stdout if stdout is not None else "TensorFlow chatter\n" + json.dumps(
                {"overhead": speed, "compute": speed if compute is None else compute, "tiny": {}, "quick": {}})
            return subprocess.CompletedProcess([], returncode, out, "error: the worker died\n")
        monkeypatch.setattr(calibration, "_child", run)
        return calls

    yield child
    calibration._forget()


def test_the_estimate_is_the_formula_times_the_speed(monkeypatch):
    monkeypatch.setenv(MACHINE_SPEED_ENV, "2.5")
    assert machine_speed() == MachineSpeed(2.5, 2.5)
    assert estimate_seconds(QUICK) == pytest.approx(2.5 * estimate_seconds(QUICK, speed=1.0))
    assert estimate_epoch_seconds(QUICK) == pytest.approx(2.5 * estimate_epoch_seconds(QUICK, speed=1.0))
    assert estimate_seconds(QUICK, speed=3.0) == pytest.approx(3 * estimate_seconds(QUICK, speed=1.0))


def test_the_two_factors_scale_the_two_parts_of_the_estimate():
    """Overhead and compute: a machine whose arithmetic alone is slower changes the compute-heavy Quick
    epoch more than the overhead-heavy Tiny one, by exactly the formula's two parts."""
    from cv_core.runs.cost import _epoch_parts, split_sizes

    tiny = preset_spec("tiny")
    for spec in (QUICK, tiny):
        overhead, compute = _epoch_parts(spec, *split_sizes(spec)[:2])
        assert overhead > 0 and compute > 0
        assert estimate_epoch_seconds(spec, speed=(2.0, 5.0)) == pytest.approx(2 * overhead + 5 * compute)
        assert estimate_epoch_seconds(spec, speed=1.0) == pytest.approx(overhead + compute)
        assert estimate_seconds(spec, speed=(2.0, 2.0)) == pytest.approx(2 * estimate_seconds(spec, speed=1.0))
    share = [_epoch_parts(spec, *split_sizes(spec)[:2]) for spec in (tiny, QUICK)]
    assert share[0][1] / sum(share[0]) < 0.5 < share[1][1] / sum(share[1])  # Tiny is overhead, Quick compute


def test_two_timed_runs_give_the_two_factors():
    runs = [(0.185, 0.108, 0.014), (1.719, 0.17, 0.378)]
    speed = calibration.solve_speeds(runs)
    for measured, overhead, compute in runs:
        assert speed.overhead * overhead + speed.compute * compute == pytest.approx(measured)
    # Noise that would make a factor negative: one factor for both, the first run's.
    assert calibration.solve_speeds([(0.2, 0.1, 0.1), (0.1, 0.1, 1.0)]) == MachineSpeed(1.0, 1.0)


@pytest.mark.parametrize("text", ["0", "-1", "fast", "nan", "inf"])
def test_a_bad_setting_is_refused_by_name(monkeypatch, text):
    monkeypatch.setenv(MACHINE_SPEED_ENV, text)
    with pytest.raises(SpecError, match=r"\$CONVNET_LAB_MACHINE_SPEED to be a number > 0"):
        machine_speed()
    with pytest.raises(SpecError, match="CONVNET_LAB_MACHINE_SPEED"):
        estimate_seconds(QUICK)


def test_the_machine_is_timed_once_and_the_factor_kept(unset):
    calls = unset(speed=1.7, compute=3.5)
    assert known_machine_speed() is None
    assert machine_speed() == MachineSpeed(1.7, 3.5)
    assert machine_speed() == MachineSpeed(1.7, 3.5)
    assert estimate_seconds(QUICK) == pytest.approx(estimate_seconds(QUICK, speed=(1.7, 3.5)))
    assert len(calls) == 1
    calibration._forget()  # a new process: the factor is read back from disk
    assert known_machine_speed() == machine_speed() == MachineSpeed(1.7, 3.5)
    assert len(calls) == 1


def test_timing_again_replaces_the_kept_factor(unset, monkeypatch):
    calls = unset(speed=2.2)
    assert machine_speed().overhead == 2.2
    unset(speed=1.8)
    assert machine_speed().overhead == 2.2 and machine_speed(retime=True).overhead == 1.8
    assert machine_speed().overhead == 1.8
    calibration._forget()
    assert known_machine_speed().overhead == 1.8 and len(calls) == 2  # one timing each; the new factor kept
    monkeypatch.setenv(MACHINE_SPEED_ENV, "3")
    assert machine_speed(retime=True) == (3.0, 3.0)  # a factor set by hand is not timed


def test_another_machine_times_itself(unset, monkeypatch):
    calls = unset(speed=1.7)
    machine_speed()
    calibration._forget()
    monkeypatch.setattr(calibration, "machine_id", lambda: {"node": "another", "cpu": "other", "cores": 2})
    assert known_machine_speed() is None
    assert machine_speed().overhead == 1.7 and len(calls) == 2


def test_two_sessions_asking_at_once_time_the_machine_once(unset):
    calls = unset(speed=2.0, delay=0.3)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(machine_speed())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(2.0, 2.0)] * 3 and len(calls) == 1


@pytest.mark.parametrize("failure", [dict(returncode=1), dict(stdout=""), dict(stdout="{\"overhead\": -3}"),
                                     dict(stdout="not json"), dict(compute=0.0)])
def test_a_failed_timing_uses_the_tuning_machine_and_is_not_kept(unset, caplog, failure):
    calls = unset(**failure)
    with caplog.at_level(logging.WARNING, logger="cv_core.runs.calibration"):
        assert machine_speed() == (1.0, 1.0)
    assert "Could not time this machine" in caplog.text
    assert machine_speed() == (1.0, 1.0) and len(calls) == 1  # not retried in this process
    calibration._forget()
    assert known_machine_speed() is None  # nor kept: the next process tries again


def test_a_timing_that_hangs_is_given_up(unset, monkeypatch):
    def hang():
        raise subprocess.TimeoutExpired(["python"], calibration.TIMEOUT_SECONDS)

    monkeypatch.setattr(calibration, "_child", hang)
    assert machine_speed() == (1.0, 1.0)


def test_an_absurd_spec_is_refused_before_the_machine_is_timed(unset):
    calls = unset()
    with pytest.raises(SpecError, match="the lab's limit"):
        estimate_seconds(QUICK.replace(filters=(100_000,)))
    assert calls == []


@pytest.mark.slow
def test_the_measurement_is_two_real_runs_against_the_formulas_two_parts():
    from cv_core.runs.cost import _epoch_parts, split_sizes

    result = calibration.measure_machine_speed(epochs=4, runs=1, compute_run={"epochs": 4, "train_size": 64,
                                                                               "validation_size": 16, "test_size": 8})
    tiny = preset_spec("tiny", epochs=4)
    assert (result["tiny"]["formula_overhead"], result["tiny"]["formula_compute"]) == pytest.approx(
        _epoch_parts(tiny, *split_sizes(tiny)[:2]))
    assert len(result["tiny"]["runs"]) == 1 and len(result["tiny"]["runs"][0]) == 3  # epochs 2-4
    assert result["tiny"]["epoch_seconds"] == sorted(result["tiny"]["runs"][0])[1] > 0
    share = {name: result[name]["formula_compute"] / result[name]["formula_overhead"] for name in ("tiny", "quick")}
    assert share["quick"] > 2 * share["tiny"]  # the second run is the compute-heavy one
    runs = [(result[name]["epoch_seconds"], result[name]["formula_overhead"], result[name]["formula_compute"])
            for name in ("tiny", "quick")]
    assert (result["overhead"], result["compute"]) == calibration.solve_speeds(runs)


def test_the_measurement_refuses_too_few_epochs():
    with pytest.raises(ValueError, match="epochs >= 4"):
        calibration.measure_machine_speed(epochs=2)
