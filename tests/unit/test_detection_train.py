"""A tiny detector really learns: trained for seconds on shapes through the run pipeline, it
clearly beats a detector that puts one box per image, both scored with the same mAP@0.5."""

from __future__ import annotations

import json
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

SIZE = 32


def one_box_baselines(train_truths, truths):
    """mAP@0.5 of the two one-box-per-image baselines: the whole picture, and the mean box,
    each with the most frequent class and score 1 (statistics from the training split)."""
    boxes = [box for image in train_truths for box in image]
    most_frequent = Counter(box[0] for box in boxes).most_common(1)[0][0]
    mean_box = tuple(float(v) for v in np.mean([box[1:] for box in boxes], axis=0))
    whole = [[(most_frequent, 0.0, 0.0, float(SIZE), float(SIZE), 1.0)] for _ in truths]
    mean = [[(most_frequent, *mean_box, 1.0)] for _ in truths]
    return {"whole image": mean_average_precision(whole, truths), "mean box": mean_average_precision(mean, truths)}


@pytest.mark.slow
def test_a_tiny_detection_run_through_the_worker_beats_one_box_per_image(tmp_path):
    """The whole run pipeline (task table, worker, callbacks, checkpoint, final scores) trains a
    detector on shapes for seconds; its best model, reloaded in safe mode, clearly beats both
    one-box-per-image baselines on the validation split."""
    from cv_core.runs import create_run, load_best_model, load_run, preset_spec, validate_spec
    from cv_core.runs.worker import main

    start = time.perf_counter()
    options = {"image_size": SIZE, "train_size": 480, "validation_size": 100, "test_size": 50, "difficulty": "easy"}
    spec = validate_spec(preset_spec("tiny", task="detection", image_size=SIZE, filters=(8, 16, 32), epochs=10,
                                     learning_rate=4e-3, dataset_options=options))
    run_dir = create_run(spec, tmp_path / "runs")
    lines = []
    assert main(run_dir, echo=lines.append, poll_seconds=0.1) == "completed", lines
    run = load_run(run_dir)
    scores = json.loads((run_dir / "scores.json").read_text())
    ds = open_dataset("shapes", **options)
    _, truths = detection_samples(ds, "validation", (SIZE, SIZE))
    _, train_truths = detection_samples(ds, "train", (SIZE, SIZE), limit=200)
    baselines = one_box_baselines(train_truths, truths)
    seconds = time.perf_counter() - start
    print(f"validation mAP@0.5 {scores['validation']['map50']:.3f}; baselines {baselines}; {seconds:.1f} s")
    assert [row["epoch"] for row in run.metrics] == list(range(1, 11))
    assert {"val_map50", "val_map50_95", "heatmap_loss", "val_size_loss"} <= set(run.metrics[-1])
    assert run.best_score == max(row["val_map50"] for row in run.metrics)  # the checkpoint follows mAP
    losses = [row["heatmap_loss"] for row in run.metrics]
    assert losses[-1] < 0.6 * losses[0]
    validation = scores["validation"]
    assert validation["images"] == 100 and len(validation["ap50"]) == 5
    assert validation["map50"] >= max(baselines.values()) + 0.25, (validation, baselines)
    assert validation["map50_95"] < validation["map50"]  # tight boxes are harder than roughly placed ones
    assert run.test_score == scores["test"]["map50"] and "test mAP@0.5" in lines[-1]
    model = load_best_model(run_dir)  # safe mode
    images, _ = detection_samples(ds, "validation", (SIZE, SIZE))
    again = evaluate_detector(model, images, truths)
    assert again.map50 == pytest.approx(validation["map50"], abs=1e-6)


@pytest.mark.slow
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
