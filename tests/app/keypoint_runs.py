"""Keypoints run folders for page and browser tests, made in seconds: the model is built, not trained."""

from __future__ import annotations

from pathlib import Path

from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import update_status, write_json_atomic, write_metrics

#: A Tiny-sized landmarks run (64 px faces would take longer to build; 32 px is enough for the page).
LANDMARKS = {"dataset": "landmarks", "image_size": 32,
             "dataset_options": {"image_size": 32, "train_size": 64, "validation_size": 32, "test_size": 32,
                                 "difficulty": "easy"}}


def built_run(runs_root: Path, seed: int = 0, ap: float = 0.25, pck: float = 0.4, scores: bool = True,
              **changes) -> Path:
    """A completed Tiny keypoints run (the people pose model unless ``changes`` say otherwise, e.g.
    ``model="keypoint_heatmap", **LANDMARKS``) whose best and last models are built (untrained, with
    fixed random weights), with one epoch of made-up metrics and, when ``scores``, made-up validation
    and test scores naming the skeleton: everything the Keypoints and pose page and Compare runs read."""
    from cv_core._tf import keras
    from cv_core.datasets import open_dataset
    from cv_core.runs import build_model

    keras().utils.set_random_seed(seed)
    spec = preset_spec("tiny", task="keypoints", **changes)
    run_dir = create_run(spec, runs_root)
    skeleton = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options).skeleton
    model = build_model(spec, skeleton.num_joints)
    model.save(run_dir / "best.keras")
    model.save(run_dir / "last.keras")
    write_json_atomic(run_dir / "summary.json", {"task": "keypoints", "params": model.count_params(),
                                                 "num_classes": skeleton.num_joints,
                                                 "class_names": list(skeleton.joints)})
    write_metrics(run_dir, [{"epoch": 1, "loss": 5.0, "val_loss": 5.1, "val_kp_ap": ap, "val_kp_ap50": ap * 2,
                             "val_pck": pck, "seconds": 1.0}])
    if scores:
        k = skeleton.num_joints
        split_scores = {"kp_ap": ap, "kp_ap50": ap * 2, "kp_ap75": ap / 2, "pck": pck, "joint_pck": [pck] * k,
                        "joint_error": [float(1 + j) for j in range(k)], "joint_names": list(skeleton.joints),
                        "images": 32}
        write_json_atomic(run_dir / "scores.json", {"validation": split_scores, "test": split_scores,
                                                    "skeleton": skeleton.to_dict()})
    update_status(run_dir, state="completed")
    return run_dir
