"""Instance segmentation run folders for page and browser tests, made in seconds: the model is built, not
trained. An untrained instance model's centre heatmaps say about 0.1 everywhere (CenterNet's prior), so
it finds a few dozen objects on a 32 px picture, each scoring under 0.1: none passes the page's default
threshold 0.2, and all pass 0."""

from __future__ import annotations

from pathlib import Path

from cv_core.datasets import SHAPE_CLASSES
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import update_status, write_json_atomic, write_metrics

SHAPES = ["background", *SHAPE_CLASSES]

#: The made-up final scores a built run carries (validation): instances, then components of its own head.
SCORES = {"mask_ap": 0.25, "mask_ap50": 0.5, "mask_ap75": 0.2, "pairs_separated": 7, "touching_pairs": 20,
          "images": 32, "per_class": {},
          "components": {"mask_ap": 0.05, "mask_ap50": 0.1, "mask_ap75": 0.0, "pairs_separated": 0,
                         "touching_pairs": 20, "per_class": {}}}


def built_run(runs_root: Path, seed: int = 0, scores: bool = True, **changes) -> Path:
    """A completed Tiny instance run on crowded shapes whose best and last models are built (untrained,
    fixed random weights), with one epoch of made-up metrics and, with ``scores``, made-up final scores."""
    from cv_core._tf import keras
    from cv_core.runs import build_model

    keras().utils.set_random_seed(seed)
    spec = preset_spec("tiny", task="instances", seed=seed, **changes)
    run_dir = create_run(spec, runs_root)
    model = build_model(spec, len(SHAPES))
    model.save(run_dir / "best.keras")
    model.save(run_dir / "last.keras")
    write_json_atomic(run_dir / "summary.json", {"task": "instances", "params": model.count_params(),
                                                 "num_classes": len(SHAPES), "class_names": SHAPES,
                                                 "mask_background": 0})
    write_metrics(run_dir, [{"epoch": 1, "loss": 3.0, "val_loss": 3.1, "val_mask_ap": 0.1, "val_mask_ap50": 0.2,
                             "val_mask_ap75": 0.05, "seconds": 1.0}])
    if scores:
        write_json_atomic(run_dir / "scores.json", {"validation": SCORES, "test": SCORES, "class_names": SHAPES})
    write_json_atomic(run_dir / "test_metrics.json", {"loss": 3.2, "mask_ap": 0.25})
    update_status(run_dir, state="completed")
    return run_dir
