"""A segmentation run through the real worker process: killed, resumed, and it learns."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from cv_core.datasets import open_dataset
from cv_core.runs import files, folders, jobs, liveness, preset_spec
from cv_core.segmentation import iou
from tests.unit.test_jobs import runs_root, wait_for, wait_final  # noqa: F401 - the fixture

#: Big, plain shapes at 32 px: a small U-Net learns to find them in a few hundred steps.
EASY = {"image_size": 32, "train_size": 512, "validation_size": 64, "test_size": 32, "difficulty": "easy"}


def all_background_mean_iou(options: dict, split: str = "validation") -> float:
    """The mean IoU of a guess that calls every pixel background (classes absent from both don't count)."""
    dataset = open_dataset("shapes", **options)
    truths = np.stack([s.mask for s in dataset.samples(split, count=dataset.count(split))])
    return float(np.nanmean(iou(truths, np.zeros_like(truths), len(dataset.mask_class_names))))


@pytest.mark.slow
def test_a_tiny_segmentation_run_killed_and_resumed_beats_an_all_background_guess(runs_root):  # noqa: F811
    """One real run for both claims (each worker start imports TensorFlow): killed after its second
    epoch, it resumes from its last finished epoch, and the resumed run still learns. With the joint
    picture-and-mask augmentation on, as the earlier resume test had it."""
    spec = preset_spec("tiny", task="segmentation", model="unet", filters=(8, 16, 32), dataset_options=EASY,
                       epochs=12, batch_size=8, optimizer="adam", learning_rate=3e-3, augmentation=True)
    run_dir = jobs.submit_run(spec, runs_root)
    rows = wait_for(lambda: len(files.read_metrics(run_dir)) >= 2 and files.read_metrics(run_dir), timeout=240,
                    what="two epochs")
    pid = files.read_status(run_dir)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: liveness.worker_alive(files.read_status(run_dir)) is False, timeout=10, what="the worker to die")
    assert run_dir.name in liveness.reconcile_runs(runs_root)
    assert files.read_status(run_dir)["state"] == "interrupted"

    jobs.resume_run(run_dir)
    status = wait_final(run_dir, timeout=300)
    assert status["state"] == "completed" and status["attempt"] == 2, status
    final = files.read_metrics(run_dir)
    assert [row["epoch"] for row in final] == list(range(1, 13))
    assert final[0]["time"] == rows[0]["time"], "epoch 1 must not be trained again"
    assert all("val_mean_iou" in row for row in final)
    assert "Resuming after epoch" in (run_dir / files.LOG_FILE).read_text()
    assert status["message"].startswith("Completed: test mean IoU")
    run = folders.load_run(run_dir)
    guess = all_background_mean_iou(EASY)
    assert 0.1 < guess < 0.2
    assert run.best_score > guess + 0.03, (run.best_score, guess)
    assert run.test_score > all_background_mean_iou(EASY, "test")
    scores = files.read_scores(run_dir)
    assert set(scores) == {"validation", "test"}
    # The per-class scores of best.keras on validation agree with Keras' MeanIoU at the best epoch.
    assert abs(scores["validation"]["mean_iou"] - run.best_score) < 1e-4
    assert scores["validation"]["iou"][0] > 0.8 and len(scores["test"]["dice"]) == 6
    assert scores["validation"]["images"] == 64 and scores["test"]["images"] == 32
