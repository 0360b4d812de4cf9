"""How fast this machine trains, against the machine the time estimate was fitted on.

:func:`cv_core.runs.cost.estimate_seconds` is a formula in seconds of the 2-core machine the lab
was tuned on. Machines of the same kind differ: on 2026-12-07 two such VMs (one of them CI's) ran
every task's Tiny preset 1.5 to 2.3 times slower than the formula, and imported TensorFlow in 5.5
to 8.5 s where the field notes measured 3.2 to 3.6 s. So the estimate is multiplied by this
machine's speed factor (:func:`machine_speed`): the lab times its smallest real run once, the Tiny
classification preset trained by the real worker (:data:`CALIBRATION_RUNS` runs of
:data:`CALIBRATION_EPOCHS` epochs, their checkpoints and callbacks included), and divides its
typical epoch by the formula's epoch for the same spec. 1.0 is the tuning machine; 2.0 a machine
that trains half as fast.

The timing takes 10 to 35 s (most of it starting TensorFlow) in a short-lived child process, so the
caller stays free of TensorFlow and of the run's memory. Its answer is kept on disk per machine
and code version (:mod:`cv_core.measurements`) and in memory, so it runs once. A failed timing
(the child crashed, timed out) is logged and the estimate uses 1.0 for the rest of the process.
``$CONVNET_LAB_MACHINE_SPEED`` sets the factor instead (``1`` in the test suite, whose parallel
part would time the machine under its own load; the timing tests time it for real).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

from cv_core.i18n import N_
from cv_core.runs.spec import SpecError

__all__ = ["CALIBRATION_EPOCHS", "MACHINE_SPEED_ENV", "known_machine_speed", "machine_id", "machine_speed",
           "measure_machine_speed"]

_log = logging.getLogger(__name__)

MACHINE_SPEED_ENV = "CONVNET_LAB_MACHINE_SPEED"
#: Epochs of the timed Tiny run: the first (tracing, the data cache) is left out, and the typical
#: epoch is the second-fastest of the rest (as ``tests/unit/test_time_estimate.py`` measures runs).
CALIBRATION_EPOCHS = 13
#: Timed runs: a whole run sometimes sits a step slower on a shared VM; the faster run counts.
CALIBRATION_RUNS = 2
#: The child process is given this long before the timing counts as failed.
TIMEOUT_SECONDS = 300.0

_lock = threading.Lock()
_speed: float | None = None  # this process's answer (measured, recalled, or 1.0 after a failure)


def machine_id() -> dict:
    """What identifies this machine for the kept factor: host name, processor model and core count."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"node": platform.node(), "cpu": model, "cores": os.cpu_count() or 0}


def _description() -> dict:
    return {"kind": "machine_speed", "machine": machine_id(), "epochs": CALIBRATION_EPOCHS}


def _from_environment() -> float | None:
    text = os.environ.get(MACHINE_SPEED_ENV, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SpecError(N_("Expected ${variable} to be a number > 0 (1 is the machine the estimate was tuned on, 2 a "
                           "machine half as fast). Received: {text!r}"), variable=MACHINE_SPEED_ENV, text=text)
    return value


def known_machine_speed() -> float | None:
    """The speed factor if it is known without timing anything (set, kept or already measured), else None.

    A page calls this to warn before :func:`machine_speed` times the machine.
    """
    from cv_core import measurements

    value = _from_environment()
    if value is not None:
        return value
    if _speed is not None:
        return _speed
    kept = measurements.recall(_description())
    return float(kept["speed"]) if kept and _valid(kept.get("speed")) else None


def _valid(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def machine_speed(retime: bool = False) -> float:
    """This machine's training time over the tuning machine's, for :func:`~cv_core.runs.cost.estimate_seconds`.

    ``$CONVNET_LAB_MACHINE_SPEED`` if set; else the factor kept for this machine and code version;
    else measured now (:func:`measure_machine_speed` in a child process, 10 to 35 s) and kept.
    1.0 when the timing fails (logged).

    Args:
        retime: time the machine again and keep the new factor (a timing that fell into one of a
            shared VM's slow minutes is kept until then); ignored when the variable is set.

    Raises:
        SpecError: ``$CONVNET_LAB_MACHINE_SPEED`` is not a number > 0.
    """
    global _speed
    known = known_machine_speed()
    if known is not None and not (retime and _from_environment() is None):
        return known
    with _lock:  # two sessions of one app time the machine once, not against each other
        if _speed is None or retime:
            _speed = _measure_in_subprocess(use_kept=not retime)
        return _speed


def _measure_in_subprocess(use_kept: bool = True) -> float:
    from cv_core import measurements

    description = _description()
    kept = measurements.recall(description) if use_kept else None
    if kept and _valid(kept.get("speed")):
        return float(kept["speed"])
    try:
        result = _child()
        measurement = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        _log.warning("Could not time this machine (%s); the time estimate assumes the tuning machine's speed.", exc)
        return 1.0
    if not isinstance(measurement, dict) or not _valid(measurement.get("speed")):
        _log.warning("Could not time this machine (exit status %s: %s); the time estimate assumes the tuning "
                     "machine's speed.", result.returncode, result.stderr.strip().splitlines()[-1:] or "")
        return 1.0
    measurements.remember(description, measurement)
    return float(measurement["speed"])


def _child() -> subprocess.CompletedProcess:
    """``python -m cv_core.runs.calibration`` on the CPU; its last line of output is the JSON answer."""
    return subprocess.run([sys.executable, "-m", "cv_core.runs.calibration"], capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, cwd=str(Path(__file__).resolve().parents[2]),
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})


def measure_machine_speed(epochs: int = CALIBRATION_EPOCHS, runs: int = CALIBRATION_RUNS) -> dict:
    """Train the Tiny classification preset with the real worker here and compare it with the formula.

    Runs in the calling process (it imports TensorFlow); :func:`machine_speed` calls it in a child.
    Each run's typical epoch is its second-fastest after the first; the fastest run's counts
    (whole runs move in steps on a shared VM: the faster one is the machine undisturbed).

    Returns:
        ``{"speed", "epoch_seconds", "formula_seconds", "runs"}``: the typical epoch over the
        formula's epoch for the same spec at speed 1, that typical epoch, the formula's, and every
        run's epoch seconds (from one epoch's end to the next).
    """
    import tempfile

    from cv_core.runs.cost import estimate_epoch_seconds
    from cv_core.runs.files import read_metrics
    from cv_core.runs.folders import create_run
    from cv_core.runs.spec import preset_spec
    from cv_core.runs.worker import run_training

    if epochs < 4 or runs < 1:
        raise ValueError(f"Expected epochs >= 4 (the first is left out, then the second-fastest) and runs >= 1. "
                         f"Received: epochs={epochs}, runs={runs}")
    spec = preset_spec("tiny", epochs=epochs)
    timed = []
    with tempfile.TemporaryDirectory(prefix="convnet_lab_calibration_") as folder:
        for run in range(runs):
            run_dir = create_run(spec, Path(folder) / f"run{run}")
            run_training(spec, run_dir)
            rows = read_metrics(run_dir)
            timed.append([later["time"] - earlier["time"] for earlier, later in zip(rows, rows[1:])])
    typical = min(sorted(seconds)[1] for seconds in timed)
    formula = estimate_epoch_seconds(spec, speed=1.0)
    return {"speed": typical / formula, "epoch_seconds": typical, "formula_seconds": formula, "runs": timed}


def _forget() -> None:
    """Forget this process's answer (tests)."""
    global _speed
    _speed = None


if __name__ == "__main__":  # python -m cv_core.runs.calibration: time this machine, print JSON
    print(json.dumps(measure_machine_speed()))
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow's slow teardown
