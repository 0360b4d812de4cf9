"""Decoding: heatmap peaks, boxes from sizes and offsets, score threshold and NMS (the slider path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cv_core.detection import (
    RawDetections,
    build_detector,
    decode_detections,
    detect,
    filter_detections,
    predict_raw,
    raw_detections,
)


def raw(boxes, scores, classes, num_classes=2, image_size=(64, 64)):
    """Hand-made candidates for one image."""
    return RawDetections(
        boxes=np.asarray([boxes], np.float32),
        scores=np.asarray([scores], np.float32),
        classes=np.asarray([classes], np.int32),
        image_size=image_size,
        num_classes=num_classes,
    )


A = (10, 10, 30, 30)
A_SHIFTED = (12, 10, 32, 30)  # IoU with A = 360 / 440 = 0.818
B = (40, 40, 60, 50)


def test_nms_removes_a_duplicate_of_the_same_class_only_above_the_iou_threshold():
    candidates = raw([A, A_SHIFTED, B], [0.9, 0.8, 0.7], [0, 0, 1])
    (kept,) = filter_detections(candidates, score_threshold=0.1, iou_threshold=0.5)
    assert [(d[0], d[1:5]) for d in kept] == [(0, A), (1, B)]
    assert [d[5] for d in kept] == pytest.approx([0.9, 0.7])
    (loose,) = filter_detections(candidates, score_threshold=0.1, iou_threshold=0.9)
    assert len(loose) == 3  # an IoU of 0.82 is not above 0.9: both boxes stay


def test_nms_keeps_overlapping_boxes_of_different_classes():
    (kept,) = filter_detections(raw([A, A_SHIFTED], [0.9, 0.8], [0, 1]), score_threshold=0.1, iou_threshold=0.5)
    assert [d[0] for d in kept] == [0, 1]


def test_score_threshold_keeps_boxes_above_it():
    candidates = raw([A, B, (0, 0, 8, 8)], [0.9, 0.5, 0.2], [0, 1, 1])
    counts = [len(filter_detections(candidates, t, 0.5)[0]) for t in (0.0, 0.1, 0.3, 0.6, 0.95)]
    assert counts == [3, 3, 2, 1, 0]
    assert len(filter_detections(candidates, 0.5, 0.5)[0]) == 1  # a score equal to the threshold is out


def test_max_detections_keeps_the_best():
    boxes = [(4 * i, 0, 4 * i + 3, 3) for i in range(10)]
    (kept,) = filter_detections(raw(boxes, np.linspace(0.9, 0.45, 10), [0] * 10), 0.1, 0.5, max_detections=4)
    assert [d[1] for d in kept] == [0, 4, 8, 12]


def test_candidates_without_area_are_never_returned():
    (kept,) = filter_detections(raw([A, (5, 5, 5, 9)], [0.9, 0.95], [0, -1]), 0.0, 0.5)
    assert [d[1:5] for d in kept] == [A]


@pytest.mark.parametrize("kwargs, message", [
    (dict(score_threshold=1.5), r"Expected `score_threshold` in \[0, 1\]. Received: score_threshold=1.5"),
    (dict(iou_threshold=0), r"Expected `iou_threshold` in \(0, 1\]. Received: iou_threshold=0"),
    (dict(max_detections=0), "Expected `max_detections` to be an integer >= 1"),
])
def test_filter_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        filter_detections(raw([A], [0.9], [0]), **kwargs)


def outputs_with_peaks(peaks, grid=(8, 8), num_classes=2):
    """A heatmap with Gaussian-ish blobs: each peak (class, x, y, score) with lower neighbours."""
    heatmap = np.zeros((1, *grid, num_classes), np.float32)
    for cls, x, y, score in peaks:
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if 0 <= y + dy < grid[0] and 0 <= x + dx < grid[1]:
                    value = score * (1.0 if dx == dy == 0 else 0.6)
                    heatmap[0, y + dy, x + dx, cls] = max(heatmap[0, y + dy, x + dx, cls], value)
    size = np.full((1, *grid, 2), 2.0, np.float32)
    offset = np.full((1, *grid, 2), 0.5, np.float32)
    return {"heatmap": heatmap, "size": size, "offset": offset}


def test_peaks_are_local_maxima_of_their_class_and_become_boxes_in_pixels():
    outputs = outputs_with_peaks([(0, 2, 3, 0.9), (1, 2, 3, 0.8), (0, 6, 6, 0.7)])
    candidates = raw_detections(outputs, output_stride=4)
    assert candidates.boxes.shape == (1, 100, 4) and candidates.image_size == (32, 32)
    (kept,) = filter_detections(candidates, score_threshold=0.65, iou_threshold=0.5)
    # Centre (2 + 0.5) * 4 = 10, (3 + 0.5) * 4 = 14; size 2 cells = 8 px.
    assert [(d[0], d[1:5]) for d in kept] == [(0, (6.0, 10.0, 14.0, 18.0)), (1, (6.0, 10.0, 14.0, 18.0)),
                                              (0, (22.0, 22.0, 30.0, 30.0))]
    # The blobs' shoulders (0.6 x peak) are not peaks: above 0.5 only the three centres remain.
    assert len(filter_detections(candidates, 0.5, 1.0)[0]) == 3


def test_boxes_are_clipped_to_the_picture_and_sizes_never_negative():
    outputs = outputs_with_peaks([(0, 0, 0, 0.9), (1, 7, 7, 0.9)])
    outputs["size"][0, 0, 0] = (6.0, -3.0)
    outputs["size"][0, 7, 7] = (6.0, 6.0)
    (kept,) = decode_detections(outputs, score_threshold=0.8, iou_threshold=1.0)
    boxes = {d[0]: d[1:5] for d in kept}
    assert boxes[1] == (18.0, 18.0, 32.0, 32.0)  # centre 30, 30; 24 px wide; clipped at 32
    assert 0 not in boxes  # no height: no box


def test_decode_is_raw_then_filter_and_accepts_one_image():
    outputs = outputs_with_peaks([(0, 2, 3, 0.9), (0, 3, 3, 0.85)])
    both = decode_detections(outputs, 0.3, 0.5)
    assert both == filter_detections(raw_detections(outputs), 0.3, 0.5)
    single = decode_detections({k: v[0] for k, v in outputs.items()}, 0.3, 0.5)
    assert single == both


def test_raw_detections_rejects_mismatched_outputs():
    outputs = outputs_with_peaks([(0, 2, 3, 0.9)])
    with pytest.raises(ValueError, match="Expected `outputs` to be a dict"):
        raw_detections([outputs["heatmap"]])
    outputs["size"] = outputs["size"][:, :4]
    with pytest.raises(ValueError, match=r"Expected heatmap \(B, h, w, C\) with size and offset"):
        raw_detections(outputs)


def every_peak_has_a_box(model, cells=3.0):
    """Make an untrained detector say "cells x cells" everywhere (its own sizes may be negative)."""
    size = model.get_layer("size")
    size.set_weights([np.zeros_like(size.get_weights()[0]), np.full(2, cells, np.float32)])


def test_the_slider_path_never_calls_the_model(monkeypatch):
    from cv_core._tf import keras

    keras().utils.set_random_seed(0)
    model = build_detector(img_size=(32, 32), num_classes=2, backbone_filters=(8, 16), head_width=8)
    every_peak_has_a_box(model)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    candidates = predict_raw(model, images)
    assert candidates.scores.shape == (2, 100) and candidates.image_size == (32, 32)

    def refuse(*args, **kwargs):
        raise AssertionError("the model was called while moving a slider")

    monkeypatch.setattr(type(model), "__call__", refuse)
    monkeypatch.setattr(model, "predict_on_batch", refuse)
    monkeypatch.setattr(model, "predict", refuse)
    counts = []
    for threshold in (0.0, 0.05, 0.09, 0.1, 0.2, 0.5):
        for iou in (0.3, 0.7, 1.0):
            kept = filter_detections(candidates, threshold, iou)
            assert len(kept) == 2 and all(d[5] > threshold for image in kept for d in image)
        counts.append(sum(len(image) for image in filter_detections(candidates, threshold, 0.5)))
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_detect_reads_the_stride_from_the_model():
    model = build_detector(img_size=(32, 64), num_classes=2, backbone_filters=(8, 16), output_stride=2, head_width=8)
    every_peak_has_a_box(model)
    images = np.random.default_rng(0).uniform(0, 255, (1, 32, 64, 3)).astype(np.float32)
    (boxes,) = detect(model, images, score_threshold=0.0, iou_threshold=1.0, max_detections=5)
    assert len(boxes) == 5
    for _, x0, y0, x1, y1, _ in boxes:  # 6 px boxes (3 cells of 2 px), clipped to the 64 x 32 picture
        assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 32
        assert x1 - x0 == pytest.approx(6.0, abs=1e-4) or x0 == 0 or x1 == 64
        assert y1 - y0 == pytest.approx(6.0, abs=1e-4) or y0 == 0 or y1 == 32
    with pytest.raises(ValueError, match=r"Expected images of shape \(B, 32, 64, 3\)"):
        detect(model, np.zeros((1, 32, 32, 3), np.float32))


@pytest.mark.bench
@pytest.mark.slow
def test_the_decoding_benchmark_runs_and_reports_its_ratio():
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "bench/detection.py", "--only", "decoding", "--image-size", "64",
                             "--repeats", "3"],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in rows[1:]] == [
        "forward", "predict_on_batch", "predict_raw", "raw_detections", "filter, realistic, 0.3",
        "filter, worst case, 0.0", "decode, realistic", "decode, worst case"]
    assert "decode, realistic / forward = " in result.stdout and "decode, worst case / forward = " in result.stdout


def test_the_no_overlap_shortcut_gives_what_tensorflows_nms_gives(monkeypatch):
    from cv_core.detection import decode

    rng = np.random.default_rng(7)
    shortcuts = 0
    for trial in range(80):
        count = int(rng.integers(1, 16))
        centres = rng.uniform(10, 50, (3, 2))[rng.integers(0, 3, count)] + rng.normal(0, 3, (count, 2))
        half = rng.uniform(3, 10, (count, 2))
        boxes = np.concatenate([centres - half, centres + half], axis=1)  # jittered copies of 3 boxes
        scores = rng.permutation(np.linspace(0.05, 0.95, count))
        candidates = raw(boxes, scores, rng.integers(-1, 3, count), num_classes=3)
        settings = (float(rng.uniform(0, 0.6)), float(rng.choice([0.3, 0.5, 0.7, 1.0])), int(rng.integers(1, 8)))
        keep = (candidates.scores > settings[0]) & (candidates.classes >= 0)
        shortcuts += decode._when_nothing_overlaps(candidates, keep, settings[1], settings[2]) is not None
        fast = filter_detections(candidates, *settings)
        with monkeypatch.context() as patch:
            patch.setattr(decode, "_when_nothing_overlaps", lambda *args: None)
            slow = filter_detections(candidates, *settings)
        assert [d[0] for d in fast[0]] == [d[0] for d in slow[0]], trial
        np.testing.assert_allclose(np.reshape([d[1:] for d in fast[0]], (-1, 5)),
                                   np.reshape([d[1:] for d in slow[0]], (-1, 5)), rtol=0, atol=1e-6)
    assert 20 < shortcuts < 80  # both paths were exercised
