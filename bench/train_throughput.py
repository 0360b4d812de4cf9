"""Training throughput through the run worker's code path vs a bare ``model.fit``.

Usage: python bench/train_throughput.py [--image-size 64] [--train-size 2000] [--epochs 4]
                                         [--variants separable,conv2d] [--repeats 1]

For each variant the same model (``cv_core.models``) is trained twice on the same
``tf.data`` pipeline (the built-in shapes dataset):

* **worker**: :func:`cv_core.runs.worker.run_training`, the function the worker process
  runs, with every run callback (metrics, progress, cancel check, NaN check, best-model
  checkpoint, TensorBoard summaries, BackupAndRestore);
* **bare**: ``model.fit(train, validation_data=val)`` with one callback that only notes
  the time at each epoch's end.

Each epoch's wall time is taken between consecutive epoch ends, so validation and every
callback's per-epoch work (checkpoint writes included) count in both; the first epoch
(tracing, drawing the images into the cache) is left out. Throughput is training images
divided by an epoch time over epochs 2..N of all repeats, both the fastest (the code's own
speed: on the shared 2-core VM some epochs stall for whole seconds, in bare ``fit`` as
much as in the worker) and the median. The goal is a ratio worker/bare >= 0.95. Prints a
markdown table; the defaults take about two minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.runs import create_run, preset_spec, read_metrics  # noqa: E402


def epoch_seconds(end_times: list[float]) -> list[float]:
    """Durations of epochs 2..N from the wall-clock end time of each epoch 1..N."""
    if len(end_times) < 2:
        raise ValueError(f"Expected at least 2 epochs to time. Received: {len(end_times)}")
    return [later - earlier for earlier, later in zip(end_times, end_times[1:])]


def bare_fit(spec) -> list[float]:
    """Epoch times (epochs 2..N) of a plain ``model.fit`` on the spec's model and data."""
    from cv_core import models
    from cv_core._tf import keras as _keras
    from cv_core.datasets import open_dataset
    from cv_core.runs.worker import build_model

    keras = _keras()
    keras.backend.clear_session()
    keras.utils.set_random_seed(spec.seed)
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    size = (spec.image_size, spec.image_size)
    train = dataset.tf_dataset("train", image_size=size, batch_size=spec.batch_size, shuffle=True, seed=spec.seed)
    val = dataset.tf_dataset("validation", image_size=size, batch_size=spec.batch_size)
    num_classes = len(dataset.class_names)
    model = build_model(spec, num_classes)
    models.compile_classifier(model, num_classes, learning_rate=spec.learning_rate, optimizer=spec.optimizer)
    ends: list[float] = []

    class EpochEnds(keras.callbacks.Callback):
        """Notes the wall-clock time at the end of each epoch, nothing else."""

        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.time())

    model.fit(train, validation_data=val, epochs=spec.epochs, shuffle=False, callbacks=[EpochEnds()], verbose=0)
    return epoch_seconds(ends)


def worker_fit(spec, runs_root: str) -> tuple[list[float], dict]:
    """Epoch times (epochs 2..N) of :func:`run_training` (the worker's path), and the run's summary."""
    from cv_core._tf import keras as _keras
    from cv_core.runs.store import read_summary
    from cv_core.runs.worker import run_training

    _keras().backend.clear_session()
    run_dir = create_run(spec, runs_root)
    run_training(spec, run_dir)
    ends = [row["time"] for row in read_metrics(run_dir)]
    return epoch_seconds(ends), read_summary(run_dir)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--validation-size", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", default="16,32,64,128")
    parser.add_argument("--variants", default="separable,conv2d")
    parser.add_argument("--repeats", type=int, default=1, help="alternate bare/worker this many times")
    args = parser.parse_args(argv)

    options = {"image_size": args.image_size, "train_size": args.train_size,
               "validation_size": args.validation_size, "test_size": args.validation_size}
    lines = [
        f"Training throughput, {args.image_size} px, {args.train_size} train + {args.validation_size} validation "
        f"images, batch {args.batch_size}, epochs 2-{args.epochs} timed, {args.repeats} repeat(s)",
        "",
        "| variant | params | bare fit, fastest / median epoch (img/s) | worker path, fastest / median (img/s) "
        "| ratio, fastest | ratio, median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="convnet-lab-bench-") as root:
        for variant in args.variants.split(","):
            spec = preset_spec("quick", conv_type=variant, image_size=args.image_size, dataset_options=options,
                               epochs=args.epochs, batch_size=args.batch_size,
                               filters=tuple(int(f) for f in args.filters.split(",")))
            bare: list[float] = []
            worker: list[float] = []
            summary: dict = {}
            for _ in range(args.repeats):
                bare += bare_fit(spec)
                times, summary = worker_fit(spec, root)
                worker += times
                print(f"{variant}: bare epochs {[round(t, 2) for t in bare]} s, "
                      f"worker epochs {[round(t, 2) for t in worker]} s", flush=True)
            b_fast, b_med = args.train_size / min(bare), args.train_size / statistics.median(bare)
            w_fast, w_med = args.train_size / min(worker), args.train_size / statistics.median(worker)
            lines.append(f"| {variant} | {summary['params']:,} | {b_fast:.0f} / {b_med:.0f} | {w_fast:.0f} / {w_med:.0f} "
                         f"| {w_fast / b_fast:.3f} | {w_med / b_med:.3f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
