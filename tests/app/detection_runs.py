"""Detection run folders for page and browser tests, made in seconds: the model is built, not trained."""

from __future__ import annotations

from pathlib import Path

from cv_core.datasets import SHAPE_CLASSES
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import update_status, write_json_atomic, write_metrics


def built_run(runs_root: Path, seed: int = 0, **changes) -> Path:
    """A completed Tiny detection run on shapes whose best and last models are built (untrained, with
    fixed random weights), with one epoch of made-up metrics and scores: everything the Detection page
    and Compare runs read. An untrained detector's heatmap says about 10% everywhere, so its candidate
    boxes score near 0.1."""
    from cv_core._tf import keras
    from cv_core.runs import build_model

    keras().utils.set_random_seed(seed)
    spec = preset_spec("tiny", task="detection", **changes)
    run_dir = create_run(spec, runs_root)
    model = build_model(spec, len(SHAPE_CLASSES))
    model.save(run_dir / "best.keras")
    model.save(run_dir / "last.keras")
    write_json_atomic(run_dir / "summary.json", {"task": "detection", "params": model.count_params(),
                                                 "num_classes": len(SHAPE_CLASSES),
                                                 "class_names": list(SHAPE_CLASSES)})
    write_metrics(run_dir, [{"epoch": 1, "loss": 3.0, "heatmap_loss": 1.5, "size_loss": 2.0, "offset_loss": 0.3,
                             "val_loss": 3.1, "val_heatmap_loss": 1.6, "val_size_loss": 2.1, "val_offset_loss": 0.3,
                             "val_map50": 0.25, "val_map50_95": 0.1, "seconds": 1.0}])
    scores = {split: {"map50": value, "map50_95": value / 2, "ap50": [value] * 5, "class_names": list(SHAPE_CLASSES),
                      "images": 32} for split, value in (("validation", 0.25), ("test", 0.2))}
    write_json_atomic(run_dir / "scores.json", scores)
    write_json_atomic(run_dir / "test_metrics.json", {"loss": 3.2, "map50": 0.2})
    update_status(run_dir, state="completed")
    return run_dir
