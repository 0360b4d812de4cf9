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
from cv_core.runs.calibration import MACHINE_SPEED_ENV, known_machine_speed, machine_speed
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

    def child(speed=1.7, returncode=0, delay=0.0, stdout=None):
        def run():
            calls.append(time.monotonic())
            time.sleep(delay)
            out = stdout if stdout is not None else "TensorFlow chatter\n" + json.dumps(
                {"speed": speed, "epoch_seconds": 0.2, "formula_seconds": 0.2 / speed, "runs": [[0.3, 0.2, 0.2]]})
            return subprocess.CompletedProcess([], returncode, out, "error: the worker died\n")
        monkeypatch.setattr(calibration, "_child", run)
        return calls

    yield child
    calibration._forget()


def test_the_estimate_is_the_formula_times_the_speed(monkeypatch):
    monkeypatch.setenv(MACHINE_SPEED_ENV, "2.5")
    assert machine_speed() == 2.5
    assert estimate_seconds(QUICK) == pytest.approx(2.5 * estimate_seconds(QUICK, speed=1.0))
    assert estimate_epoch_seconds(QUICK) == pytest.approx(2.5 * estimate_epoch_seconds(QUICK, speed=1.0))
    assert estimate_seconds(QUICK, speed=3.0) == pytest.approx(3 * estimate_seconds(QUICK, speed=1.0))


@pytest.mark.parametrize("text", ["0", "-1", "fast", "nan", "inf"])
def test_a_bad_setting_is_refused_by_name(monkeypatch, text):
    monkeypatch.setenv(MACHINE_SPEED_ENV, text)
    with pytest.raises(SpecError, match=r"\$CONVNET_LAB_MACHINE_SPEED to be a number > 0"):
        machine_speed()
    with pytest.raises(SpecError, match="CONVNET_LAB_MACHINE_SPEED"):
        estimate_seconds(QUICK)


def test_the_machine_is_timed_once_and_the_factor_kept(unset):
    calls = unset(speed=1.7)
    assert known_machine_speed() is None
    assert machine_speed() == 1.7
    assert machine_speed() == 1.7
    assert estimate_seconds(QUICK) == pytest.approx(1.7 * estimate_seconds(QUICK, speed=1.0))
    assert len(calls) == 1
    calibration._forget()  # a new process: the factor is read back from disk
    assert known_machine_speed() == 1.7 and machine_speed() == 1.7
    assert len(calls) == 1


def test_timing_again_replaces_the_kept_factor(unset, monkeypatch):
    calls = unset(speed=2.2)
    assert machine_speed() == 2.2
    unset(speed=1.8)
    assert machine_speed() == 2.2 and machine_speed(retime=True) == 1.8 and machine_speed() == 1.8
    calibration._forget()
    assert known_machine_speed() == 1.8 and len(calls) == 2  # one timing each; the new factor kept on disk
    monkeypatch.setenv(MACHINE_SPEED_ENV, "3")
    assert machine_speed(retime=True) == 3.0  # a factor set by hand is not timed


def test_another_machine_times_itself(unset, monkeypatch):
    calls = unset(speed=1.7)
    machine_speed()
    calibration._forget()
    monkeypatch.setattr(calibration, "machine_id", lambda: {"node": "another", "cpu": "other", "cores": 2})
    assert known_machine_speed() is None
    assert machine_speed() == 1.7 and len(calls) == 2


def test_two_sessions_asking_at_once_time_the_machine_once(unset):
    calls = unset(speed=2.0, delay=0.3)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(machine_speed())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [2.0, 2.0, 2.0] and len(calls) == 1


@pytest.mark.parametrize("failure", [dict(returncode=1), dict(stdout=""), dict(stdout="{\"speed\": -3}"),
                                     dict(stdout="not json")])
def test_a_failed_timing_uses_the_tuning_machine_and_is_not_kept(unset, caplog, failure):
    calls = unset(**failure)
    with caplog.at_level(logging.WARNING, logger="cv_core.runs.calibration"):
        assert machine_speed() == 1.0
    assert "Could not time this machine" in caplog.text
    assert machine_speed() == 1.0 and len(calls) == 1  # not retried in this process
    calibration._forget()
    assert known_machine_speed() is None  # nor kept: the next process tries again


def test_a_timing_that_hangs_is_given_up(unset, monkeypatch):
    def hang():
        raise subprocess.TimeoutExpired(["python"], calibration.TIMEOUT_SECONDS)

    monkeypatch.setattr(calibration, "_child", hang)
    assert machine_speed() == 1.0


def test_an_absurd_spec_is_refused_before_the_machine_is_timed(unset):
    calls = unset()
    with pytest.raises(SpecError, match="the lab's limit"):
        estimate_seconds(QUICK.replace(filters=(100_000,)))
    assert calls == []


@pytest.mark.slow
def test_the_measurement_is_a_real_tiny_run_against_the_formula():
    result = calibration.measure_machine_speed(epochs=4, runs=1)
    formula = estimate_epoch_seconds(preset_spec("tiny", epochs=4), speed=1.0)
    assert result["formula_seconds"] == pytest.approx(formula)
    assert len(result["runs"]) == 1 and len(result["runs"][0]) == 3  # epochs 2-4, each from the one before
    assert result["epoch_seconds"] == sorted(result["runs"][0])[1] > 0
    assert result["speed"] == pytest.approx(result["epoch_seconds"] / formula)


def test_the_measurement_refuses_too_few_epochs():
    with pytest.raises(ValueError, match="epochs >= 4"):
        calibration.measure_machine_speed(epochs=2)
