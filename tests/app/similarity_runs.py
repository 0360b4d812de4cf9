"""Similarity run folders for page and browser tests, made in seconds: the model is built, not trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cv_core.datasets import SHAPE_CLASSES
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import update_status, write_json_atomic, write_metrics

#: The pair threshold the run's scores.json says (what the page reads a learned score against).
THRESHOLD = 0.5


def built_run(runs_root: Path, seed: int = 0, threshold: float | None = THRESHOLD, epochs: int = 2,
              pair_auc: float = 0.75, **changes) -> Path:
    """A completed Tiny similarity run on shapes whose best and last models are built (untrained, with
    fixed random weights), with made-up metrics, scores (its pair ``threshold``, None for none, and
    ``pair_auc``) and one
    embedding-map snapshot per epoch written by the task's own writer: everything the Similarity page reads."""
    from cv_core._tf import keras
    from cv_core.runs import build_model
    from cv_core.similarity.snapshots import write_snapshot

    keras().utils.set_random_seed(seed)
    spec = preset_spec("tiny", task="similarity", **changes)
    run_dir = create_run(spec, runs_root)
    model = build_model(spec, None)
    model.save(run_dir / "best.keras")
    model.save(run_dir / "last.keras")
    write_json_atomic(run_dir / "summary.json", {"task": "similarity", "params": model.count_params(),
                                                 "class_names": list(SHAPE_CLASSES)})
    write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "val_map_at_r": 0.2 * e, "val_precision_at_1": 0.3 * e,
                             "val_recall_at_1": 0.3 * e, "val_recall_at_5": 0.4 * e, "val_pair_auc": 0.5 + 0.1 * e,
                             "seconds": 1.0} for e in range(1, epochs + 1)])
    if threshold is not None:
        scores = {split: {"precision_at_1": 0.6, "recall_at_1": 0.6, "recall_at_5": 0.9, "map_at_r": 0.4,
                          "pair_auc": pair_auc, "threshold": threshold} for split in ("validation", "test")}
        write_json_atomic(run_dir / "scores.json", scores)
    rng = np.random.default_rng(seed)
    labels = np.arange(20) % len(SHAPE_CLASSES)
    for epoch in range(1, epochs + 1):  # classes drift apart epoch by epoch
        points = rng.normal(size=(20, 2)) + epoch * np.stack([labels, labels % 2], axis=1)
        write_snapshot(run_dir, epoch, points, labels, np.arange(20), list(SHAPE_CLASSES), (0.5, 0.2))
    update_status(run_dir, state="completed")
    return run_dir
