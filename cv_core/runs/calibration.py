"""How fast this machine trains, against the machine the time estimate was fitted on.

:func:`cv_core.runs.cost.estimate_seconds` is a formula in seconds of the 2-core machine the lab
was tuned on. Machines of the same kind differ: on 2026-12-07 two such VMs (one of them CI's) ran
every task's Tiny preset 1.5 to 2.3 times slower than the formula, and imported TensorFlow in 5.5
to 8.5 s where the field notes measured 3.2 to 3.6 s; and a machine's arithmetic and its overhead
differ apart (here the Quick model's epochs ran 3.2 to 5.3 times the formula, the Tiny run's 1.2 to
2). So the estimate's two parts are multiplied by this machine's two speed factors
(:func:`machine_speed`, a :class:`MachineSpeed`): the lab trains, with the real worker, the Tiny
classification preset (:data:`CALIBRATION_RUNS` runs of :data:`CALIBRATION_EPOCHS` epochs: mostly
overhead, batches, callbacks, checkpoints) and the Quick classification model on a few hundred
pictures (:data:`COMPUTE_RUN`: mostly the model's arithmetic), and solves for the two factors that
make the formula's parts match their typical epochs (:func:`solve_speeds`). 1.0 is the tuning
machine; 2.0 a machine that does that part half as fast.

The timing takes 15 to 50 s (most of it starting TensorFlow) in a short-lived child process, so the
caller stays free of TensorFlow and of the run's memory. Its answer is kept on disk per machine
and code version (:mod:`cv_core.measurements`) and in memory, so it runs once. A failed timing
(the child crashed, timed out) is logged and the estimate uses 1.0 for the rest of the process.
``$CONVNET_LAB_MACHINE_SPEED`` sets both factors instead (``1`` in the test suite, whose parallel
part would time the machine under its own load; the timing tests time it for real).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path
from typing import NamedTuple

from cv_core.i18n import N_
from cv_core.runs.spec import SpecError

__all__ = ["CALIBRATION_EPOCHS", "MACHINE_SPEED_ENV", "MachineSpeed", "known_machine_speed", "machine_id",
           "machine_speed", "measure_machine_speed", "solve_speeds"]

_log = logging.getLogger(__name__)

MACHINE_SPEED_ENV = "CONVNET_LAB_MACHINE_SPEED"
#: Epochs of the timed Tiny run: the first (tracing, the data cache) is left out, and the typical
#: epoch is the second-fastest of the rest (as ``tests/unit/test_time_estimate.py`` measures runs).
CALIBRATION_EPOCHS = 13
#: Timed runs: a whole run sometimes sits a step slower on a shared VM; the faster run counts.
CALIBRATION_RUNS = 2
#: The child process is given this long before the timing counts as failed.
TIMEOUT_SECONDS = 300.0

#: The compute-bound timing: the Quick classification model on a few hundred pictures, a few epochs.
COMPUTE_RUN = {"epochs": 5, "train_size": 320, "validation_size": 64, "test_size": 16}


class MachineSpeed(NamedTuple):
    """This machine's time over the tuning machine's, for the two parts of the estimate.

    Attributes:
        overhead: for what is not the model's arithmetic (batches, callbacks, checkpoints, start-up).
        compute: for the model's multiply-adds and activations, per picture.
    """

    overhead: float
    compute: float


_lock = threading.Lock()
_speed: MachineSpeed | None = None  # this process's answer (measured, recalled, or 1.0 after a failure)


@functools.cache
def machine_id() -> dict:
    """What identifies this machine for the kept factor: host name, processor model and core count
    (read once per process)."""
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
    return {"kind": "machine_speed", "machine": machine_id(), "epochs": CALIBRATION_EPOCHS,
            "compute_run": COMPUTE_RUN}


def _from_environment() -> MachineSpeed | None:
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
    return MachineSpeed(value, value)


def known_machine_speed() -> MachineSpeed | None:
    """The speed factor if it is known without timing anything (set, kept or already measured), else None.

    A page calls this to warn before :func:`machine_speed` times the machine.
    """
    from cv_core import measurements

    global _speed
    value = _from_environment()
    if value is not None:
        return value
    if _speed is None:  # read from disk once; each estimate after it asks memory
        _speed = _kept(measurements.recall(_description()))
    return _speed


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _kept(measurement) -> MachineSpeed | None:
    if isinstance(measurement, dict) and _positive(measurement.get("overhead")) and _positive(
            measurement.get("compute")):
        return MachineSpeed(float(measurement["overhead"]), float(measurement["compute"]))
    return None


def machine_speed(retime: bool = False) -> MachineSpeed:
    """This machine's training time over the tuning machine's, for :func:`~cv_core.runs.cost.estimate_seconds`.

    ``$CONVNET_LAB_MACHINE_SPEED`` if set; else the factor kept for this machine and code version;
    else measured now (:func:`measure_machine_speed` in a child process, 15 to 50 s) and kept.
    Factors of 1.0 when the timing fails (logged). The variable sets both factors to one number.

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


def _measure_in_subprocess(use_kept: bool = True) -> MachineSpeed:
    from cv_core import measurements

    description = _description()
    kept = _kept(measurements.recall(description)) if use_kept else None
    if kept is not None:
        return kept
    tuning = MachineSpeed(1.0, 1.0)
    try:
        result = _child()
        measurement = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        _log.warning("Could not time this machine (%s); the time estimate assumes the tuning machine's speed.", exc)
        return tuning
    speed = _kept(measurement)
    if speed is None:
        _log.warning("Could not time this machine (exit status %s: %s); the time estimate assumes the tuning "
                     "machine's speed.", result.returncode, result.stderr.strip().splitlines()[-1:] or "")
        return tuning
    measurements.remember(description, measurement)
    return speed


def _child() -> subprocess.CompletedProcess:
    """``python -m cv_core.runs.calibration`` on the CPU; its last line of output is the JSON answer."""
    return subprocess.run([sys.executable, "-m", "cv_core.runs.calibration"], capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, cwd=str(Path(__file__).resolve().parents[2]),
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "-1"})


def _typical_epoch(spec, folder: Path) -> tuple[float, list[float]]:
    """Train ``spec`` with the real worker; its second-fastest epoch after the first, and every epoch's seconds."""
    from cv_core.runs.files import read_metrics
    from cv_core.runs.folders import create_run
    from cv_core.runs.worker import run_training

    run_dir = create_run(spec, folder)
    run_training(spec, run_dir)
    rows = read_metrics(run_dir)
    seconds = [later["time"] - earlier["time"] for earlier, later in zip(rows, rows[1:])]
    return sorted(seconds)[1], seconds


def solve_speeds(runs: list[tuple[float, float, float]]) -> MachineSpeed:
    """The (overhead, compute) factors that make two timed runs match the formula's two parts.

    Args:
        runs: ``(measured, overhead, compute)`` per run: its typical epoch and the formula's two
            parts of that epoch at speed 1 (:func:`cv_core.runs.cost._epoch_parts`); the first run
            mostly overhead, the second mostly compute.

    Returns:
        The exact solution of the two equations ``measured = s_o * overhead + s_c * compute``;
        when that is not two positive factors (noise), one factor for both: the first run's
        measured over its formula.
    """
    (m1, o1, c1), (m2, o2, c2) = runs
    det = o1 * c2 - o2 * c1
    if det:
        overhead, compute = (m1 * c2 - m2 * c1) / det, (o1 * m2 - o2 * m1) / det
        if overhead > 0 and compute > 0:
            return MachineSpeed(overhead, compute)
    single = m1 / (o1 + c1)
    return MachineSpeed(single, single)


def measure_machine_speed(epochs: int = CALIBRATION_EPOCHS, runs: int = CALIBRATION_RUNS,
                          compute_run: dict | None = None) -> dict:
    """Time two real workloads here and compare them with the formula's two parts.

    The Tiny classification preset (``runs`` runs of ``epochs`` epochs; the faster run counts:
    whole runs move in steps on a shared VM), mostly overhead; then the Quick classification model
    on a few hundred pictures (:data:`COMPUTE_RUN`), mostly compute. Each run's typical epoch is
    its second-fastest after the first; :func:`solve_speeds` gives the factors. Runs in the
    calling process (it imports TensorFlow); :func:`machine_speed` calls it in a child.

    Returns:
        ``{"overhead", "compute", "tiny", "quick"}``: the two factors, and per workload its
        typical epoch, the formula's two parts and every run's epoch seconds.
    """
    import tempfile

    from cv_core.runs.cost import _epoch_parts, split_sizes
    from cv_core.runs.spec import preset_spec

    compute_run = dict(COMPUTE_RUN if compute_run is None else compute_run)
    if epochs < 4 or runs < 1 or compute_run["epochs"] < 4:
        raise ValueError(f"Expected epochs >= 4 (the first is left out, then the second-fastest) and runs >= 1. "
                         f"Received: epochs={epochs}, runs={runs}, compute epochs={compute_run['epochs']}")
    tiny = preset_spec("tiny", epochs=epochs)
    quick_epochs = compute_run.pop("epochs")
    quick = preset_spec("quick", epochs=quick_epochs,
                        dataset_options={**preset_spec("quick").dataset_options, **compute_run})
    report = {}
    timed = []
    with tempfile.TemporaryDirectory(prefix="convnet_lab_calibration_") as folder:
        for name, spec, repeats in (("tiny", tiny, runs), ("quick", quick, 1)):
            epochs_seen = [_typical_epoch(spec, Path(folder) / f"{name}{run}") for run in range(repeats)]
            typical = min(epoch for epoch, _ in epochs_seen)
            overhead, compute = _epoch_parts(spec, *split_sizes(spec)[:2])
            report[name] = {"epoch_seconds": typical, "formula_overhead": overhead, "formula_compute": compute,
                            "runs": [seconds for _, seconds in epochs_seen]}
            timed.append((typical, overhead, compute))
    speed = solve_speeds(timed)
    return {"overhead": speed.overhead, "compute": speed.compute, **report}


def _forget() -> None:
    """Forget this process's answer (tests)."""
    global _speed
    _speed = None


if __name__ == "__main__":  # python -m cv_core.runs.calibration: time this machine, print JSON
    print(json.dumps(measure_machine_speed()))
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow's slow teardown
