"""Segmentation speed, as ratios measured in the same run: training and prediction.

Usage: python bench/segmentation.py [--image-size 64] [--train-size 384] [--epochs 6] [--repeats 1]
                                    [--predict-size 200] [--predictions 30]

1. **Training**: the run worker's code path (:func:`cv_core.runs.worker.run_training` with every
   run callback, on the segmentation task's pipeline) against a bare ``model.fit`` of the same
   model on the same ``tf.data`` pipeline: the book's segmentation model (filters 64-128-256,
   2,880,643 parameters with 3 classes; 6 mask classes here) on the built-in shapes. The two
   sides take turns epoch by epoch, each in its own process, with the order alternating
   (``bench/train_throughput.py``'s ``worker_against_bare``, which this reuses); epoch 1 of
   each side is left out. Ratio per epoch: bare seconds / worker seconds (worker throughput
   over bare throughput); reported as the median with its interquartile range. Goal: >= 0.95.
2. **Prediction**: one picture through the Segmentation page's path
   (:func:`cv_core.segmentation.predict_mask`: resize to the model's input, a compiled forward
   pass, the probabilities at the picture's size, then the page's arg-max and confidence)
   against a bare ``model.predict`` of the same picture, on the book's model at 200 px. The
   two alternate call by call after a warm-up; ratio: page seconds / bare seconds, median.
   Goal: <= 1.2.

``--smoke`` (the test suite's run) replaces the training epochs by stand-ins without TensorFlow
(``bench/train_throughput.py --smoke``) and keeps the prediction part: it measures nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import quartiles, worker_against_bare  # noqa: E402

from cv_core.runs import architecture_cost, preset_spec  # noqa: E402

BOOK_FILTERS = (64, 128, 256)


def training_ratio(image_size: int, train_size: int, validation_size: int, epochs: int, batch_size: int,
                   repeats: int, filters: tuple[int, ...], smoke: bool = False) -> tuple[str, list[float]]:
    """The table row of the worker path vs a bare fit, and the per-epoch ratios (``smoke``: stand-in epochs)."""
    options = {"image_size": image_size, "train_size": train_size, "validation_size": validation_size,
               "test_size": 0, "difficulty": "medium"}
    spec = preset_spec("quick", task="segmentation", model="segmentation_model", filters=filters,
                       image_size=image_size, dataset_options=options, epochs=epochs, batch_size=batch_size,
                       optimizer="rmsprop", learning_rate=1e-3, lr_schedule="constant")
    comparison = worker_against_bare(spec, repeats, smoke=smoke)
    bare, worker, ratios = comparison.bare, comparison.worker, comparison.ratios
    q1, median, q3 = comparison.quartiles()
    params = architecture_cost(spec, 6).params
    row = (f"| training: worker path / bare `fit` (img/s) | {image_size} px, {params:,} params | "
           f"{train_size / statistics.median(bare):.1f} | {train_size / statistics.median(worker):.1f} | "
           f"{len(ratios)} epochs | {median:.3f} ({q1:.3f} – {q3:.3f}) | ≥ 0.95 |")
    return row, ratios


def prediction_ratio(size: int, calls: int, filters: tuple[int, ...]) -> tuple[str, list[float]]:
    """The table row of the page's prediction path vs a bare ``model.predict``, and the ratios."""
    import numpy as np

    from cv_core.models import build_segmentation_model
    from cv_core.segmentation import predict_mask

    model = build_segmentation_model((size, size), num_classes=3, filters=filters)
    picture = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    batch = picture[None].astype(np.float32)

    def page() -> None:
        prediction = predict_mask(model, picture)
        prediction.mask, prediction.confidence  # what the page draws

    def bare() -> None:
        model.predict(batch, verbose=0)

    for _ in range(3):  # tracing, first allocations
        page()
        bare()
    page_times, bare_times = [], []
    for call in range(calls):
        for name, function in ((("page", page), ("bare", bare)) if call % 2 == 0 else (("bare", bare), ("page", page))):
            start = time.perf_counter()
            function()
            (page_times if name == "page" else bare_times).append(time.perf_counter() - start)
    ratios = [p / b for p, b in zip(page_times, bare_times)]
    q1, median, q3 = quartiles(ratios)
    row = (f"| prediction: page path / bare `predict` (s per picture) | {size} px, {model.count_params():,} params | "
           f"{statistics.median(bare_times):.3f} | {statistics.median(page_times):.3f} | {calls} calls | "
           f"{median:.3f} ({q1:.3f} – {q3:.3f}) | ≤ 1.2 |")
    return row, ratios


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=64, help="training pictures' side (a multiple of 8)")
    parser.add_argument("--train-size", type=int, default=384)
    parser.add_argument("--validation-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1, help="independent interleaved training runs")
    parser.add_argument("--filters", default=",".join(str(f) for f in BOOK_FILTERS))
    parser.add_argument("--predict-size", type=int, default=200)
    parser.add_argument("--predictions", type=int, default=30, help="calls of each prediction path")
    parser.add_argument("--skip-training", action="store_true", help="measure prediction only")
    parser.add_argument("--smoke", action="store_true",
                        help="stand-in training epochs without TensorFlow: checks the script, measures nothing")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (epoch 1 is left out)")
    filters = tuple(int(f) for f in args.filters.split(","))
    lines = ["Segmentation speed, ratios measured in this run (medians, interquartile range in brackets)", "",
             "| what | model | reference | ours | compared | ratio: median (IQR) | goal |",
             "|---|---|---:|---:|---:|---:|---|"]
    if not args.skip_training:
        row, _ = training_ratio(args.image_size, args.train_size, args.validation_size, args.epochs,
                                args.batch_size, args.repeats, filters, smoke=args.smoke)
        lines.append(row)
    row, _ = prediction_ratio(args.predict_size, args.predictions, filters)
    lines.append(row)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
