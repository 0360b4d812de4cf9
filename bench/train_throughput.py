"""Training throughput through the run worker's code path vs a bare ``model.fit``, interleaved.

Usage: python bench/train_throughput.py [--image-size 48] [--train-size 2000] [--epochs 8]
                                         [--variants separable,conv2d] [--repeats 2] [--task classification]

On this 2-core VM, epoch times of the same model swing by 2x from one epoch to the next,
in plain ``fit`` as much as anywhere: timing 5 bare epochs and then 5 worker epochs
measures the machine's mood as much as the code. So the two sides take turns, epoch by
epoch, each in its own process:

* **worker**: :func:`cv_core.runs.worker.run_training` itself, the function a run's worker
  process calls, with every run callback (metrics, progress, cancel check, NaN check,
  best-model checkpoint, TensorBoard, BackupAndRestore) writing into a real run folder;
* **bare**: the same model (same spec and seed, same ``tf.data`` pipeline) trained with a
  plain ``model.fit``.

``--task`` picks the task's Quick preset (its model, loss and batches; the bare side gets the
task's training and validation pipelines too, but none of its epoch callbacks: for image
similarity the worker's side also pays its retrieval scores and embedding map every epoch).

A turn-taking callback, placed first, makes each process wait for its turn before an epoch
and starts the clock; one placed last stops the clock once every other callback's epoch-end
work is done, and hands the turn over. The order alternates (bare first on even epochs,
worker first on odd ones), so neither side always follows the other; while one trains, the
other only waits. Epoch 1 of each side (tracing, filling the data cache) is left out. For
every epoch the ratio is bare seconds / worker seconds (worker throughput over bare
throughput); the benchmark reports the median ratio with its interquartile range and
extremes over all epochs and repeats. The goal is a median of at least 0.95. The defaults
take about five minutes on 2 CPU cores. ``--smoke`` replaces each epoch by a few milliseconds
of waiting, without TensorFlow: it checks the turn-taking and the table (the test suite runs
it), and measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.runs import TASKS, TrainSpec, create_run, preset_spec  # noqa: E402

SIDES = ("bare", "worker")
#: Stands in for the ``keras`` module in ``--smoke`` runs: the turn-taking callbacks as plain objects.
_NO_KERAS = types.SimpleNamespace(callbacks=types.SimpleNamespace(Callback=object))


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of ``values`` (at least one value)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def turn_order(epochs: int) -> list[str]:
    """Who trains when: bare then worker on even epochs, worker then bare on odd ones."""
    order = []
    for epoch in range(epochs):
        order += list(SIDES) if epoch % 2 == 0 else list(reversed(SIDES))
    return order


def _turn_callbacks(keras, side: str, turns: Path, epochs: int, times: list[float]):
    """The first and the last callback of one side: wait for the turn and time the epoch."""
    order = turn_order(epochs)
    counter = turns / "turn"
    clock = {}

    def current() -> int:
        try:
            return int(counter.read_text() or 0)
        except (OSError, ValueError):
            return 0

    class WaitForTurn(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            mine = _position(order, side, epoch)
            while current() != mine:
                time.sleep(0.002)
            clock["start"] = time.perf_counter()

    class HandOver(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch > 0:
                times.append(time.perf_counter() - clock["start"])
            tmp = turns / f".turn.{side}"
            tmp.write_text(str(current() + 1))
            os.replace(tmp, counter)

    return WaitForTurn(), HandOver()


def _position(order: list[str], side: str, epoch: int) -> int:
    """Index in ``order`` of ``side``'s turn for ``epoch``."""
    return [i for i, who in enumerate(order) if who == side][epoch]


def run_side(side: str, spec: TrainSpec, turns: Path, runs_root: str, smoke: bool = False) -> None:
    """Train one side in this process, taking turns, and write its epoch times to ``turns``.

    ``smoke``: no training; each epoch is a 10 ms wait between the same two turn-taking callbacks.
    """
    if smoke:
        times: list[float] = []
        first, last = _turn_callbacks(_NO_KERAS, side, turns, spec.epochs, times)
        for epoch in range(spec.epochs):
            first.on_epoch_begin(epoch)
            time.sleep(0.01)
            last.on_epoch_end(epoch)
        (turns / f"{side}.json").write_text(json.dumps(times))
        return
    from cv_core._tf import keras as _keras
    from cv_core.datasets import open_dataset
    from cv_core.runs import build_model, compile_model, task_of
    from cv_core.runs.worker import run_training

    keras = _keras()
    times: list[float] = []
    first, last = _turn_callbacks(keras, side, turns, spec.epochs, times)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        if side == "worker":
            run_training(spec, create_run(spec, runs_root), callbacks_first=(first,), callbacks_last=(last,))
        else:
            keras.utils.set_random_seed(spec.seed)
            dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
            task = task_of(spec)  # the same data, model and compilation as the worker's, for any task
            train = task.targets(dataset, "train", spec, True)
            val = task.targets(dataset, "validation", spec, False)
            classes = task.num_classes(dataset)
            model = build_model(spec, classes)
            compile_model(spec, model, classes, dataset.steps_per_epoch("train", spec.batch_size))
            model.fit(train, validation_data=val, epochs=spec.epochs, shuffle=False, verbose=0, callbacks=[first, last])
    (turns / f"{side}.json").write_text(json.dumps(times))


def interleaved_epochs(spec: TrainSpec, runs_root: str, smoke: bool = False) -> tuple[list[float], list[float]]:
    """Epoch seconds (epochs 2..N) of the bare and the worker side, in two processes taking turns
    (``smoke``: stand-in epochs, no training)."""
    with tempfile.TemporaryDirectory(prefix="convnet-lab-turns-") as turns:
        (Path(turns) / "turn").write_text("0")
        children = [subprocess.Popen([sys.executable, __file__, "--side", side, "--turns", turns,
                                      "--spec", json.dumps(spec.to_dict()), "--runs-root", runs_root]
                                     + (["--smoke"] if smoke else []))
                    for side in SIDES]
        codes = [child.wait() for child in children]
        if codes != [0, 0]:
            raise RuntimeError(f"a side failed (exit statuses {codes})")
        bare, worker = (json.loads((Path(turns) / f"{side}.json").read_text()) for side in SIDES)
    return bare, worker


@dataclass
class Comparison:
    """Epoch seconds of both sides over every run (epoch 1 of each run left out), pair by pair."""

    bare: list[float]
    worker: list[float]

    @property
    def ratios(self) -> list[float]:
        """Per epoch: bare seconds / worker seconds (the worker's throughput over the bare one's)."""
        return [b / w for b, w in zip(self.bare, self.worker)]

    def quartiles(self) -> tuple[float, float, float]:
        """(first quartile, median, third quartile) of :attr:`ratios`."""
        return quartiles(self.ratios)


def worker_against_bare(spec: TrainSpec, repeats: int, runs_root: str | None = None, smoke: bool = False,
                        label: str = "training") -> Comparison:
    """Interleaved runs of ``spec``, one seed per repeat, each run's epoch times printed as
    ``"<label> run <n>: bare [...] s, worker [...] s"`` (``smoke``: stand-in epochs, no training).

    Every benchmark of the worker path against a bare ``fit`` runs through this; ``runs_root``
    (default: a temporary folder) receives the worker side's run folders.
    """
    bare: list[float] = []
    worker: list[float] = []
    with tempfile.TemporaryDirectory(prefix="convnet-lab-bench-") as temporary:
        for repeat in range(repeats):
            b, w = interleaved_epochs(spec.replace(seed=repeat), runs_root or temporary, smoke=smoke)
            bare += b
            worker += w
            print(f"{label} run {repeat + 1}: bare {[round(t, 2) for t in b]} s, "
                  f"worker {[round(t, 2) for t in w]} s", flush=True)
    return Comparison(bare, worker)


def scored_training_table(spec: TrainSpec, repeats: int, num_classes: int, scored: int) -> float:
    """:func:`worker_against_bare`, then one Markdown row: the worker path against a bare ``fit``
    with the task's ``scored`` validation pictures scored every epoch.

    The detection and instance benchmarks' training part; returns the median ratio.
    """
    from cv_core.runs import architecture_cost

    options = spec.dataset_options
    comparison = worker_against_bare(spec, repeats)
    q1, median, q3 = comparison.quartiles()
    params = architecture_cost(spec, num_classes).params
    train, validation = options["train_size"], options["validation_size"]
    print()
    print("| training | model | bare img/s | worker img/s | epochs | ratio (median, IQR) | goal |")
    print("|---|---|---:|---:|---:|---:|---|")
    print(f"| worker path / bare `fit` | {spec.variant}, {options['image_size']} px, {params:,} params, {validation} "
          f"validation pictures, {scored} scored per epoch | {train / statistics.median(comparison.bare):.1f} | "
          f"{train / statistics.median(comparison.worker):.1f} | {len(comparison.ratios)} | "
          f"{median:.3f} ({q1:.3f} – {q3:.3f}) | ≥ 0.95 |")
    print(f"goal >= 0.95: {'met' if median >= 0.95 else 'NOT met'}")
    return median


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--validation-size", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", default="16,32,64,128")
    parser.add_argument("--variants", default="separable,conv2d")
    parser.add_argument("--repeats", type=int, default=2, help="independent interleaved runs per variant")
    parser.add_argument("--task", default="classification", choices=tuple(TASKS),
                        help="the task whose Quick preset is timed")
    parser.add_argument("--smoke", action="store_true",
                        help="stand-in epochs without TensorFlow: checks the turns and the table, measures nothing")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--turns", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--runs-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:  # one side, started by the benchmark itself
        run_side(args.side, TrainSpec.from_dict(json.loads(args.spec)), Path(args.turns), args.runs_root, args.smoke)
        return 0
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (epoch 1 is left out)")

    options = {"image_size": args.image_size, "train_size": args.train_size,
               "validation_size": args.validation_size, "test_size": 0, "difficulty": "medium"}
    lines = [
        f"Training throughput of {args.task}, worker path / bare fit, taking turns epoch by epoch: "
        f"{args.image_size} px, "
        f"{args.train_size} train + {args.validation_size} validation images, batch {args.batch_size}, "
        f"epochs 2-{args.epochs} of {args.repeats} run(s) per variant",
        "",
        "| variant | params | bare, median epoch (img/s) | worker, median epoch (img/s) | epochs compared "
        "| ratio: median (IQR) | ratio: min – max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="convnet-lab-bench-") as root:
        for variant in args.variants.split(","):
            spec = preset_spec("quick", task=args.task, conv_type=variant, image_size=args.image_size,
                               dataset_options=options, epochs=args.epochs, batch_size=args.batch_size,
                               filters=tuple(int(f) for f in args.filters.split(",")))
            from cv_core.runs import architecture_cost

            params = "—" if args.smoke else f"{architecture_cost(spec, 5).params:,}"  # building it needs TensorFlow
            comparison = worker_against_bare(spec, args.repeats, root, smoke=args.smoke, label=variant)
            ratios, bare, worker = comparison.ratios, comparison.bare, comparison.worker
            q1, median, q3 = comparison.quartiles()
            lines.append(
                f"| {variant} | {params} | {args.train_size / statistics.median(bare):.0f} "
                f"| {args.train_size / statistics.median(worker):.0f} | {len(ratios)} "
                f"| {median:.3f} ({q1:.3f} – {q3:.3f}) | {min(ratios):.3f} – {max(ratios):.3f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
