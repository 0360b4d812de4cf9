"""The benchmarks keep working: their statistics, and each script's cheapest part on a tiny setting.

No test here trains or times anything: the training benchmarks run with ``--smoke`` (stand-in
epochs without TensorFlow, the same turn-taking processes and table), and only the parts that
do not train (prediction, the Detection page's path) run for real. Every test is marked ``bench``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_main import run_main

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from train_throughput import quartiles, turn_order  # noqa: E402


def test_turns_alternate_who_goes_first():
    assert turn_order(3) == ["bare", "worker", "worker", "bare", "bare", "worker"]


def test_quartiles():
    assert quartiles([2.0]) == (2.0, 2.0, 2.0)
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)


def test_throughput_benchmark_interleaves_and_reports_a_median_ratio():
    result = subprocess.run(
        [sys.executable, "bench/train_throughput.py", "--smoke", "--image-size", "32", "--train-size", "96",
         "--validation-size", "32", "--epochs", "4", "--filters", "8,16", "--variants", "separable", "--repeats", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("| separable |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[4] == "3"  # epochs 2 to 4 compared, epoch 1 left out
    assert float(cells[5].split()[0]) > 0  # a ratio of stand-in epochs: it says nothing about speed
    (times,) = [line for line in result.stdout.splitlines() if line.startswith("separable run 1: bare [")]
    bare, worker = re.findall(r"\[([^]]*)\]", times)
    assert len(bare.split(",")) == len(worker.split(",")) == 3  # three timed epochs a side


@pytest.mark.slow
def test_segmentation_benchmark_reports_both_ratios():
    result = subprocess.run(
        [sys.executable, "bench/segmentation.py", "--smoke", "--image-size", "32", "--train-size", "48",
         "--validation-size", "16", "--epochs", "3", "--filters", "8,16", "--predict-size", "32", "--predictions", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip().split(":")[0]: [c.strip() for c in line.strip("|").split("|")]
            for line in result.stdout.splitlines() if line.startswith("| training") or line.startswith("| prediction")}
    assert set(rows) == {"training", "prediction"}
    assert rows["training"][4] == "2 epochs" and rows["prediction"][4] == "2 calls"
    for cells in rows.values():
        # A smoke run measures nothing: only "a positive, finite ratio" is checked; the README
        # has the real measurement.
        assert 0.0 < float(cells[5].split()[0]) < float("inf")


@pytest.mark.slow
def test_detection_benchmark_times_the_page_path():
    status, out = run_main("bench/detection.py", "--only", "page", "--page-calls", "2")
    assert status == 0, out[-3000:]
    (row,) = [line for line in out.splitlines() if line.startswith("| resize, predict_raw")]
    assert 0.0 < float(row.split("|")[2]) < float("inf") and "goal < 1 s:" in out  # timed, not judged


@pytest.mark.slow
def test_keypoint_video_benchmark_times_every_step_of_the_pipeline():
    status, out = run_main("bench/keypoints.py", "--only", "video", "--video-frames", "8", "--repeats", "6")
    assert status == 0, out[-3000:]
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    for step in ("decode", "pose", "draw", "encode MP4", "forward only", "encode GIF"):
        assert 0.0 < float(rows[step].split("|")[2]) < float("inf")  # timed, not judged: the README has the numbers
    assert re.search(r"Decode \+ pose \+ draw \+ encode: [0-9.]+ frames a second", out)
    assert "Goal >= 10 frames a second:" in out


def test_tiny_run_start_benchmark_takes_turns_and_reports_both_ratios():
    status, out = run_main("bench/tiny_run_start.py", "--smoke", "--tasks", "classification,keypoints", "--repeats", "2")
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| classification |")]
    assert [row.split("|")[2].strip() for row in rows] == ["built", "reference"]
    # The smoke run's made-up seconds (2 vs 3 to epoch 1, 4 vs 6 in all): the ratios are computed from them.
    assert "classification: built / reference = 0.67 to the end of epoch 1, 0.67 for the whole run" in out
    assert "keypoints: built / reference" in out


@pytest.mark.parametrize("script", ["bench/memory.py", "bench/startup_time.py", "bench/train_throughput.py",
                                    "bench/segmentation.py", "bench/detection.py", "bench/tiny_run_start.py"])
def test_benchmarks_explain_themselves(script):
    result = subprocess.run([sys.executable, script, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "usage:" in result.stdout


@pytest.mark.slow
def test_keypoints_page_benchmark_times_the_page_against_the_forward_pass():
    status, out = run_main("bench/keypoints.py", "--only", "page", "--image-size", "32", "--repeats", "8")
    assert status == 0, out[-3000:]
    lines = {line.split(":")[0].strip(): line for line in out.splitlines() if ":" in line}
    assert {"forward", "picture to figures", "slider move"} <= set(lines)
    assert re.search(r"is \d+\.\d+x the forward pass; goal < 500 ms: (met|missed)", out)
