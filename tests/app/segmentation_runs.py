"""Segmentation run folders for page and browser tests, made in seconds: the model is built, not trained."""

from __future__ import annotations

from pathlib import Path

from cv_core.datasets import SHAPE_CLASSES
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import update_status, write_json_atomic, write_metrics

SHAPES = ["background", *SHAPE_CLASSES]


def built_run(runs_root: Path, **changes) -> Path:
    """A completed Tiny segmentation run on shapes whose best and last models are built (untrained),
    with one epoch of made-up metrics: everything the Segmentation page and the Mask studio read."""
    from cv_core.runs import build_model

    spec = preset_spec("tiny", task="segmentation", **changes)
    run_dir = create_run(spec, runs_root)
    model = build_model(spec, len(SHAPES))
    model.compile(loss="sparse_categorical_crossentropy")
    model.save(run_dir / "best.keras")
    model.save(run_dir / "last.keras")
    write_json_atomic(run_dir / "summary.json", {"task": "segmentation", "params": model.count_params(),
                                                 "num_classes": len(SHAPES), "class_names": SHAPES,
                                                 "mask_background": 0})
    write_metrics(run_dir, [{"epoch": 1, "loss": 1.0, "mean_iou": 0.2, "val_loss": 1.1, "val_mean_iou": 0.18,
                             "accuracy": 0.8, "val_accuracy": 0.8, "seconds": 1.0}])
    write_json_atomic(run_dir / "test_metrics.json", {"mean_iou": 0.17, "accuracy": 0.8})
    update_status(run_dir, state="completed")
    return run_dir
