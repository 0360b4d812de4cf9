"""Training throughput through the run worker's code path vs a bare ``model.fit``, interleaved.

Usage: python bench/train_throughput.py [--image-size 48] [--train-size 2000] [--epochs 8]
                                         [--variants separable,conv2d] [--repeats 2]

On this 2-core VM, epoch times of the same model swing by 2x from one epoch to the next,
in plain ``fit`` as much as anywhere: timing 5 bare epochs and then 5 worker epochs
measures the machine's mood as much as the code. So the two are interleaved, epoch by
epoch, in one process:

* **bare**: a model trained with ``fit(..., callbacks=[])``;
* **worker**: an identical model (same spec, same seed) compiled as the worker compiles
  it and trained with every run callback of :func:`cv_core.runs.callbacks.make_callbacks`
  (metrics, progress, cancel check, NaN check, best-model checkpoint, TensorBoard,
  BackupAndRestore) writing into a real run folder.

The worker side is one ordinary ``fit`` call with all its callbacks; between two of its
epochs a timing callback trains the bare model for one epoch (before the worker's epoch on
even epochs, after it on odd ones). Each epoch is timed as a whole, validation and every
callback's per-epoch work included; epoch 1 of each side (tracing, filling the data cache)
is left out. For every epoch the ratio is bare seconds / worker seconds (worker throughput over
bare throughput); the benchmark reports the median ratio with its interquartile range and
extremes over all epochs and repeats. The goal is a median of at least 0.95. The defaults
take about four minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.runs import create_run, preset_spec  # noqa: E402


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of ``values`` (at least one value)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def interleaved_epochs(spec, runs_root: str, epochs: int) -> tuple[list[float], list[float], dict]:
    """Seconds per epoch of the bare and the worker side, epochs 2..N, trained alternately.

    The worker side is one ordinary ``fit`` with every run callback, exactly as in a run.
    A timing callback placed first starts its clock; one placed last stops it once every
    other callback's epoch-end work (checkpoints, logs, backup) is done. Between two
    worker epochs, that last callback trains the bare model for one epoch with its own
    ``fit(initial_epoch=e, epochs=e + 1)`` call: before the worker's epoch on even epochs,
    after it on odd ones. (A ``fit`` call per epoch costs the bare side a few milliseconds
    of set-up that a single ``fit`` would not: if anything, this flatters the worker.)
    """
    from cv_core import models
    from cv_core._tf import keras as _keras
    from cv_core.datasets import open_dataset
    from cv_core.runs.callbacks import RunMonitor, make_callbacks
    from cv_core.runs.model import build_model, learning_rate_schedule

    keras = _keras()
    keras.backend.clear_session()
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    size = (spec.image_size, spec.image_size)
    num_classes = len(dataset.class_names)
    steps = dataset.steps_per_epoch("train", spec.batch_size)

    def side():
        keras.utils.set_random_seed(spec.seed)
        train = dataset.tf_dataset("train", image_size=size, batch_size=spec.batch_size, shuffle=True, seed=spec.seed)
        val = dataset.tf_dataset("validation", image_size=size, batch_size=spec.batch_size)
        model = build_model(spec, num_classes)
        models.compile_classifier(model, num_classes, learning_rate=learning_rate_schedule(spec, steps),
                                  optimizer=spec.optimizer)
        return model, train, val

    bare, bare_train, bare_val = side()
    worker, worker_train, worker_val = side()
    bare_times: list[float] = []
    worker_times: list[float] = []

    def bare_epoch(epoch: int) -> None:
        start = time.perf_counter()
        bare.fit(bare_train, validation_data=bare_val, initial_epoch=epoch, epochs=epoch + 1, verbose=0)
        if epoch > 0:
            bare_times.append(time.perf_counter() - start)

    clock = {}

    class StartClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch % 2 == 0:
                bare_epoch(epoch)
            clock["start"] = time.perf_counter()

    class StopClock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch > 0:
                worker_times.append(time.perf_counter() - clock["start"])
            if epoch % 2 == 1:
                bare_epoch(epoch)

    run_dir = create_run(spec, runs_root)
    callbacks = make_callbacks(RunMonitor(run_dir, spec.epochs, steps), run_dir)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
        worker.fit(worker_train, validation_data=worker_val, epochs=epochs, shuffle=False, verbose=0,
                   callbacks=[StartClock(), *callbacks, StopClock()])
    return bare_times, worker_times, {"params": worker.count_params()}


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
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (epoch 1 is left out)")

    options = {"image_size": args.image_size, "train_size": args.train_size,
               "validation_size": args.validation_size, "test_size": 0, "difficulty": "medium"}
    lines = [
        f"Training throughput, worker path / bare fit, interleaved epoch by epoch: {args.image_size} px, "
        f"{args.train_size} train + {args.validation_size} validation images, batch {args.batch_size}, "
        f"epochs 2-{args.epochs} of {args.repeats} run(s) per variant",
        "",
        "| variant | params | bare, median epoch (img/s) | worker, median epoch (img/s) | epochs compared "
        "| ratio: median (IQR) | ratio: min – max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="convnet-lab-bench-") as root:
        for variant in args.variants.split(","):
            spec = preset_spec("quick", conv_type=variant, image_size=args.image_size, dataset_options=options,
                               epochs=args.epochs, batch_size=args.batch_size,
                               filters=tuple(int(f) for f in args.filters.split(",")))
            bare: list[float] = []
            worker: list[float] = []
            info: dict = {}
            for repeat in range(args.repeats):
                b, w, info = interleaved_epochs(spec.replace(seed=repeat), root, args.epochs)
                bare += b
                worker += w
                print(f"{variant} run {repeat + 1}: bare {[round(t, 2) for t in b]} s, "
                      f"worker {[round(t, 2) for t in w]} s", flush=True)
            ratios = [b / w for b, w in zip(bare, worker)]
            q1, median, q3 = quartiles(ratios)
            lines.append(
                f"| {variant} | {info['params']:,} | {args.train_size / statistics.median(bare):.0f} "
                f"| {args.train_size / statistics.median(worker):.0f} | {len(ratios)} "
                f"| {median:.3f} ({q1:.3f} – {q3:.3f}) | {min(ratios):.3f} – {max(ratios):.3f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
