"""A Tiny run's start: training state built before ``fit`` against Keras' deferred build, interleaved.

Usage: python bench/tiny_run_start.py [--tasks classification,detection,keypoints] [--repeats 2]

Without a distribution strategy, Keras 3.15 creates the optimizer's slots and the loss and
metric trackers inside ``fit``'s first traced step, and TensorFlow then traces that step again
without them. The worker builds them first (``cv_core._keras_private.build_before_first_step``)
and evaluates the best model's weights with the trained model's own traced step. This measures
what that saves, with the two sides taking turns, each in a fresh child process that has
imported TensorFlow before the clock starts:

* **built**: :func:`cv_core.runs.worker.run_training` as the worker calls it;
* **reference**: the same with the adapter off, exactly as if Keras had moved the private API
  (``fit`` builds inside its first traced step).

Each child trains the task's Tiny preset for 2 epochs into a new run folder and reports the
seconds from calling ``run_training`` to the end of epoch 1 (tracing, the data cache filling and
one epoch) and to its return (epoch 2, the test split, the final scores). The order alternates
from repeat to repeat. Prints, per task, the median of each side and built / reference.
``--smoke`` checks the table with made-up numbers, without TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIDES = ("built", "reference")


def _child(task: str, side: str) -> dict:
    """Train one Tiny run (in this process) and return its timings."""
    sys.path.insert(0, str(REPO))
    from cv_core import _keras_private
    from cv_core._tf import tensorflow
    from cv_core.runs import create_run, preset_spec, read_metrics
    from cv_core.runs.worker import run_training

    tensorflow()  # imported before the clock starts, on both sides
    if side == "reference":
        _keras_private._FOUND["build"] = "turned off by bench/tiny_run_start.py (the reference)"
    spec = preset_spec("tiny", task=task, epochs=2)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = create_run(spec, Path(folder))
        start = time.time()
        run_training(spec, run_dir)
        end = time.time()
        first = read_metrics(run_dir)[0]["time"]
    return {"first_epoch": first - start, "whole": end - start}


def _measure(task: str, side: str, smoke: bool) -> dict:
    if smoke:  # made-up numbers, no TensorFlow: the table and the turns only
        return {"first_epoch": 2.0 if side == "built" else 3.0, "whole": 4.0 if side == "built" else 6.0}
    result = subprocess.run([sys.executable, __file__, "--child", task, side], cwd=REPO, capture_output=True,
                            text=True, timeout=1800)
    if result.returncode != 0:
        raise SystemExit(f"{task} ({side}) failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="classification,detection,keypoints",
                        help="comma-separated tasks (default: classification,detection,keypoints)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side per task (default 2)")
    parser.add_argument("--smoke", action="store_true", help="made-up timings, no TensorFlow: checks the table")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    tasks = [task for task in args.tasks.split(",") if task]
    print("| task | side | first epoch (s, median) | whole run (s, median) | runs |")
    print("|---|---|---:|---:|---:|")
    ratios = []
    for task in tasks:
        times = {side: [] for side in SIDES}
        for repeat in range(args.repeats):
            for side in SIDES if repeat % 2 == 0 else SIDES[::-1]:
                times[side].append(_measure(task, side, args.smoke))
        medians = {side: {key: statistics.median(t[key] for t in times[side]) for key in ("first_epoch", "whole")}
                   for side in SIDES}
        for side in SIDES:
            print(f"| {task} | {side} | {medians[side]['first_epoch']:.2f} | {medians[side]['whole']:.2f} "
                  f"| {len(times[side])} |")
        ratio = {key: medians["built"][key] / medians["reference"][key] for key in ("first_epoch", "whole")}
        ratios.append((task, ratio))
    for task, ratio in ratios:
        print(f"{task}: built / reference = {ratio['first_epoch']:.2f} to the end of epoch 1, "
              f"{ratio['whole']:.2f} for the whole run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
