"""Speed of the detector's decoding against its forward pass, measured in the same run.

Usage: python bench/detection.py [--image-size 128] [--batch-size 1] [--repeats 30]

The Detection page runs the model once per picture and then redraws the boxes on every
move of the score and NMS sliders, so decoding must cost little next to the forward pass.
At the default image size (128 px) and the default detector
(:func:`cv_core.detection.build_detector`), for one picture:

* **forward**: the model called inside a ``tf.function`` (the cheapest forward pass), its
  outputs fetched as numpy; ``predict_on_batch`` is shown beside it for reference;
* **predict_raw**: :func:`cv_core.detection.predict_raw`, the forward pass and the raw step
  (3x3 max-pool peaks, top 100, boxes from sizes and offsets) in one compiled call: what the
  page runs once per picture. Its extra time over **forward** is the raw step's cost;
* **raw_detections**: the raw step alone on outputs already in numpy (a second compiled call);
* **filter**: :func:`cv_core.detection.filter_detections` (score threshold + TensorFlow's
  per-class NMS; what a slider move costs), at the default threshold 0.3 and at 0.0, where
  all 100 candidates go through NMS (the worst case: an untrained model's scores are all
  about 0.1, so at 0.3 nothing would be left to suppress);
* **decode** = (predict_raw - forward) + filter at 0.0: everything decoding adds to the
  forward pass on the page's path.

The steps are timed round by round, interleaved (this VM's speed drifts by the second), and
each ratio is the median over rounds of that round's ratio. Goal: decode under 10% of the
forward pass.

Not here yet: the worker path vs a bare ``model.fit`` on the detector (issue 8, goal
>= 0.95x) needs the run pipeline to train detectors (``task="detection"``);
``bench/train_throughput.py`` will measure it once it does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.detection import build_detector, filter_detections, predict_raw, raw_detections  # noqa: E402


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=128, help="square input side, a multiple of 16")
    parser.add_argument("--batch-size", type=int, default=1, help="pictures per forward pass")
    parser.add_argument("--repeats", type=int, default=30, help="interleaved rounds (after 3 warm-up rounds)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    model = build_detector((args.image_size, args.image_size))
    # An untrained size head gives boxes of random, often negative, size: those have no area
    # and never reach NMS. Start every box at about 6 x 6 cells so that NMS has real work.
    size = model.get_layer("size")
    size.set_weights([size.get_weights()[0] * 0.1, np.full(2, 6.0, np.float32)])
    images = np.random.default_rng(0).uniform(0, 255, (args.batch_size, args.image_size, args.image_size, 3))
    images = images.astype(np.float32)
    compiled = tf.function(lambda x: model(x, training=False),
                           input_signature=[tf.TensorSpec((None, *images.shape[1:]), tf.float32)])
    outputs = model.predict_on_batch(images)
    raw = raw_detections(outputs)

    steps = {
        "forward": lambda: {k: v.numpy() for k, v in compiled(images).items()},
        "predict_on_batch": lambda: model.predict_on_batch(images),
        "predict_raw": lambda: predict_raw(model, images),
        "raw_detections": lambda: raw_detections(outputs),
        "filter (threshold 0.3)": lambda: filter_detections(raw, 0.3, 0.5),
        "filter (threshold 0.0)": lambda: filter_detections(raw, 0.0, 0.5),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(3 + args.repeats):
        for name, step in steps.items():
            elapsed = seconds(step)
            if round_ >= 3:
                times[name].append(elapsed)
    times["decode (predict_raw - forward + filter 0.0)"] = [
        p - f + n for p, f, n in zip(times["predict_raw"], times["forward"], times["filter (threshold 0.0)"])
    ]

    kept = sum(len(image) for image in filter_detections(raw, 0.0, 0.5))
    print(f"Detector {args.image_size} px, {model.count_params():,} parameters, batch {args.batch_size}; "
          f"{raw.scores.shape[1]} candidates per picture, {kept} kept by NMS at threshold 0.0; "
          f"medians of {args.repeats} interleaved rounds")
    print()
    print("| step | median ms | ratio to forward (median of per-round ratios) |")
    print("|---|---:|---:|")
    forward = times["forward"]
    for name, values in times.items():
        ratio = statistics.median(v / f for v, f in zip(values, forward))
        print(f"| {name} | {1000 * statistics.median(values):.2f} | {ratio:.3f} |")
    decode_ratio = statistics.median(
        v / f for v, f in zip(times["decode (predict_raw - forward + filter 0.0)"], forward)
    )
    print()
    print(f"decode / forward = {decode_ratio:.3f} (goal < 0.10): {'met' if decode_ratio < 0.10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
