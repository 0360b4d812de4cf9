"""A tiny detector really learns: trained for seconds on shapes, it clearly beats a detector that
puts one box per image, both scored with the same mAP@0.5."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from cv_core.datasets import open_dataset
from cv_core.detection import (
    MeanAveragePrecisionCallback,
    build_detector,
    compile_detector,
    detection_samples,
    evaluate_detector,
    mean_average_precision,
    tf_dataset,
)

SIZE = 64


def one_box_baselines(train_truths, truths):
    """mAP@0.5 of the two one-box-per-image baselines: the whole picture, and the mean box,
    each with the most frequent class and score 1 (statistics from the training split)."""
    boxes = [box for image in train_truths for box in image]
    most_frequent = Counter(box[0] for box in boxes).most_common(1)[0][0]
    mean_box = tuple(float(v) for v in np.mean([box[1:] for box in boxes], axis=0))
    whole = [[(most_frequent, 0.0, 0.0, float(SIZE), float(SIZE), 1.0)] for _ in truths]
    mean = [[(most_frequent, *mean_box, 1.0)] for _ in truths]
    return {"whole image": mean_average_precision(whole, truths), "mean box": mean_average_precision(mean, truths)}


def test_a_tiny_detector_beats_one_box_per_image_on_shapes():
    from cv_core._tf import keras

    keras().utils.set_random_seed(0)
    start = time.perf_counter()
    ds = open_dataset("shapes", image_size=SIZE, train_size=480, validation_size=100, test_size=0,
                      difficulty="easy")
    train = tf_dataset(ds, "train", (SIZE, SIZE), batch_size=16, shuffle=True, seed=0)
    model = compile_detector(
        build_detector((SIZE, SIZE), num_classes=5, backbone_filters=(16, 32, 64), head_width=32),
        num_classes=5, learning_rate=2e-3,
    )
    history = model.fit(train, epochs=10, verbose=0)
    images, truths = detection_samples(ds, "validation", (SIZE, SIZE))
    result = evaluate_detector(model, images, truths)
    _, train_truths = detection_samples(ds, "train", (SIZE, SIZE), limit=200)
    baselines = one_box_baselines(train_truths, truths)
    seconds = time.perf_counter() - start
    print(f"detector mAP@0.5 {result.map50:.3f} (0.5:0.95 {result.map50_95:.3f}); baselines {baselines}; "
          f"{seconds:.1f} s")
    losses = history.history["heatmap_loss"]
    assert losses[-1] < 0.6 * losses[0]
    best_baseline = max(baselines.values())
    assert result.map50 >= 0.35, result.map50
    assert result.map50 >= best_baseline + 0.3, (result.map50, baselines)
    assert result.map50_95 < result.map50  # tight boxes are harder than roughly placed ones


def test_the_map_callback_adds_map_to_the_epoch_logs():
    ds = open_dataset("shapes", image_size=32, train_size=16, validation_size=8, test_size=0, difficulty="easy")
    model = compile_detector(build_detector((32, 32), 5, backbone_filters=(8, 16), head_width=8), 5)
    callback = MeanAveragePrecisionCallback(ds, "validation", limit=8)
    history = model.fit(tf_dataset(ds, "train", (32, 32), batch_size=8), epochs=2, verbose=0, callbacks=[callback])
    for key in ("val_map50", "val_map50_95"):
        assert len(history.history[key]) == 2
        assert all(0.0 <= value <= 1.0 for value in history.history[key])


@pytest.mark.parametrize("limit", [None, 3])
def test_detection_samples_resize_images_and_boxes_alike(limit):
    ds = open_dataset("shapes", image_size=64, train_size=0, validation_size=5, test_size=0)
    images, truths = detection_samples(ds, "validation", (32, 32), limit=limit)
    assert images.shape == (limit or 5, 32, 32, 3) and images.dtype == np.uint8
    original = ds.sample("validation", 0).boxes
    assert truths[0] == [(c, x0 / 2, y0 / 2, x1 / 2, y1 / 2) for c, x0, y0, x1, y1 in original]
