"""Speed of filter patterns, as ratios against the book's recipe measured in the same run.

Usage: python bench/interpret_filters.py [--filters 64] [--eager-filters 8] [--steps 30]
                                         [--size 200] [--skip-page-models]

The model is ``keras.applications.Xception(weights=None, include_top=False)``, the layer
``block3_sepconv1``, images of 200 x 200 px and 30 steps: the book's figure 9.16 setting
(and FIELD-NOTES' baseline). Weights do not change the speed.

1. **Ours**: :func:`cv_core.interpret.filter_patterns` on ``--filters`` filters (64), in one
   call (the filters share a batch inside one compiled step).
2. **The book, eager**: the book's ``compute_loss`` + ``gradient_ascent_step`` with a
   ``GradientTape``, *not* compiled, one filter at a time, then its ``deprocess_image``. It
   is timed on ``--eager-filters`` filters (8) and scaled linearly to ``--filters``: each
   filter is the same work, so the scaling is exact up to noise. Goal: ours >= 3.5x faster.
3. **The book as printed**, for context: the same loop with ``@tf.function`` on the step and
   the filter index passed as a Python int, so every filter traces again (timed on 2
   filters, scaled).
4. **First patterns on screen**: the time until the first chunk of 8 patterns is ready,
   cold (first call for the model: tap model, tracing and the steps) and warm (the next
   chunk of 8). Goal: under 3 s. The same for the models the Filters page offers by default
   (SqueezeNet at 224 px, the book's mini-Xception at 180 px), unless ``--skip-page-models``.

Everything runs in one process, one after the other, on whatever else the machine is doing:
read the ratios, not the absolute times. CPU time (``time.process_time``, all threads) is
printed beside wall time: on a shared machine it is the steadier measure of work.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAYER = "block3_sepconv1"


def wall_and_cpu(function) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


# --------------------------------------------------------------------------------------
# The book's recipe (Deep Learning with Python, 2nd ed., listing 9.x; keras-io's
# visualizing_what_convnets_learn.py), written out as printed
# --------------------------------------------------------------------------------------


def book_recipe(model, layer_name: str, size: int, steps: int, compiled: bool):
    """``generate_filter_pattern(filter_index)`` of the book, eager or with its ``@tf.function``."""
    import tensorflow as tf
    from cv_core._tf import keras

    layer = model.get_layer(name=layer_name)
    feature_extractor = keras().Model(inputs=model.input, outputs=layer.output)

    def compute_loss(image, filter_index):
        activation = feature_extractor(image)
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return tf.reduce_mean(filter_activation)

    def gradient_ascent_step(image, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = compute_loss(image, filter_index)
        grads = tape.gradient(loss, image)
        grads = tf.math.l2_normalize(grads)
        image += learning_rate * grads
        return image

    if compiled:
        gradient_ascent_step = tf.function(gradient_ascent_step)

    def deprocess_image(image):
        image -= image.mean()
        image /= image.std()
        image *= 64
        image += 128
        image = np.clip(image, 0, 255).astype("uint8")
        image = image[25:-25, 25:-25, :]
        return image

    def generate_filter_pattern(filter_index, iterations=steps):
        learning_rate = 10.0
        image = tf.random.uniform(minval=0.4, maxval=0.6, shape=(1, size, size, 3))
        for _ in range(iterations):
            image = gradient_ascent_step(image, filter_index, learning_rate)
        return deprocess_image(image[0].numpy())

    return generate_filter_pattern


# --------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------


def xception_numbers(filters: int, eager_filters: int, steps: int, size: int) -> dict:
    from cv_core._tf import keras
    from cv_core.interpret import filter_patterns

    model = keras().applications.Xception(weights=None, include_top=False)
    out = {}
    # Cold: the first chunk of 8 for a model nobody has asked about yet.
    out["first8_cold"] = wall_and_cpu(lambda: filter_patterns(model, LAYER, range(8), steps=steps, image_size=size))
    out["first8_warm"] = wall_and_cpu(
        lambda: filter_patterns(model, LAYER, range(8, 16), steps=steps, image_size=size))
    out["ours"], out["ours_cpu"] = wall_and_cpu(
        lambda: filter_patterns(model, LAYER, range(filters), steps=steps, image_size=size))

    eager = book_recipe(model, LAYER, size, steps, compiled=False)
    eager(0, iterations=2)  # warm-up: the first eager calls are slower
    wall, cpu = wall_and_cpu(lambda: [eager(i) for i in range(eager_filters)])
    out["eager"], out["eager_cpu"] = wall * filters / eager_filters, cpu * filters / eager_filters

    printed = book_recipe(model, LAYER, size, steps, compiled=True)
    printed_filters = 2
    wall, cpu = wall_and_cpu(lambda: [printed(i) for i in range(printed_filters)])
    out["printed"], out["printed_cpu"] = wall * filters / printed_filters, cpu * filters / printed_filters
    out["printed_filters"] = printed_filters
    return out


def page_model_numbers(steps: int) -> list[tuple[str, tuple, tuple]]:
    """Cold and warm first chunk of 8 for the Filters page's default models."""
    from cv_core.interpret import filter_patterns
    from cv_core.models import build_mini_xception
    from cv_core.pretrained import load_pretrained

    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("CONVNET_LAB_CACHE", cache)
        squeezenet = load_pretrained("squeezenet")
        model, preprocess = squeezenet.model, squeezenet.preprocess_tensor
        for parameterization in ("pixels", "fourier"):
            cold = wall_and_cpu(lambda: filter_patterns(model, "fire3_concat", range(8), steps=steps,
                                                        preprocess=preprocess, parameterization=parameterization))
            warm = wall_and_cpu(lambda: filter_patterns(model, "fire3_concat", range(8, 16), steps=steps,
                                                        preprocess=preprocess, parameterization=parameterization))
            rows.append((f"SqueezeNet `fire3_concat`, 224 px, {parameterization}", cold, warm))
    mini = build_mini_xception(augmentation=False)
    cold = wall_and_cpu(lambda: filter_patterns(mini, "block2_sepconv1", range(8), steps=steps))
    warm = wall_and_cpu(lambda: filter_patterns(mini, "block2_sepconv1", range(8, 16), steps=steps))
    rows.append(("mini-Xception `block2_sepconv1`, 180 px, pixels", cold, warm))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--eager-filters", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--skip-page-models", action="store_true")
    args = parser.parse_args()

    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs; Xception `{LAYER}`, {args.size} px, "
          f"{args.steps} steps\n")
    n = xception_numbers(args.filters, args.eager_filters, args.steps, args.size)
    print(f"| {args.filters} filter patterns | wall s | per filter | ours faster by (wall) | CPU s | ours faster by (CPU) |")
    print("|---|---|---|---|---|---|")
    print(f"| ours: `filter_patterns`, one call | {n['ours']:.1f} | {n['ours'] / args.filters:.2f} | "
          f"| {n['ours_cpu']:.1f} | |")
    for key, label in (("eager", f"book, eager, one filter at a time (measured on {args.eager_filters}, scaled)"),
                       ("printed", f"book as printed, `@tf.function` retracing per filter (measured on "
                                   f"{n['printed_filters']}, scaled)")):
        print(f"| {label} | {n[key]:.1f} | {n[key] / args.filters:.2f} | **{n[key] / n['ours']:.2f}x** "
              f"| {n[key + '_cpu']:.1f} | {n[key + '_cpu'] / n['ours_cpu']:.2f}x |")
    print("\nGoal: ours >= 3.5x faster than the book's eager loop. CPU seconds count the work whatever else "
          "the machine runs; wall seconds are what a person waits.")
    print()
    print("| First chunk of 8 patterns | cold (first call): wall s | CPU s | warm (next chunk): wall s | CPU s |")
    print("|---|---|---|---|---|")
    rows = [(f"Xception `{LAYER}`, {args.size} px, pixels", n["first8_cold"], n["first8_warm"])]
    if not args.skip_page_models:
        rows += page_model_numbers(args.steps)
    for label, (cold, cold_cpu), (warm, warm_cpu) in rows:
        print(f"| {label} | {cold:.2f} | {cold_cpu:.2f} | {warm:.2f} | {warm_cpu:.2f} |")
    print("\nGoal for the first chunk: under 3 s.")


if __name__ == "__main__":
    main()
