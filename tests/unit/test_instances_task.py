"""The instances task's entry: table fields, presets, and a tiny run through the real worker."""

from __future__ import annotations

import json

import pytest

from cv_core.runs import preset_spec, validate_spec
from cv_core.runs.tasks import TASK_MODULES, TASKS, dataset_names


def test_the_task_is_in_the_table():
    assert TASK_MODULES["instances"] == "cv_core.instances.task"
    task = TASKS["instances"]
    assert (task.monitor, task.mode, task.test_metric) == ("val_mask_ap", "max", "mask_ap")
    assert [metric for metric, _ in task.curves][:3] == ["mask_ap", "mask_ap50", "mask_ap75"]
    assert dataset_names("instances") == ["shapes"]  # the one registered dataset with instance maps


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["tiny", "quick", "book"])
def test_presets_validate_on_crowded_shapes(preset):
    spec = validate_spec(preset_spec(preset, task="instances"))
    assert spec.model == "instance_unet" and spec.dataset_options["difficulty"] == "crowded"
    assert spec.image_size == spec.dataset_options["image_size"]


def test_a_dataset_without_instances_is_refused():
    from cv_core.datasets import open_dataset
    from cv_core.datasets.base import DatasetError
    from cv_core.instances import check_instance_dataset

    class NoInstances:
        name = "plain"

    with pytest.raises(DatasetError, match="has no instances .*Choose 'shapes'"):
        check_instance_dataset(NoInstances())
    check_instance_dataset(open_dataset("shapes", image_size=32, train_size=2, validation_size=1, test_size=1))


@pytest.mark.slow
def test_a_tiny_run_goes_through_the_worker(tmp_path):
    from cv_core.runs import create_run, load_run, read_metrics
    from cv_core.runs.worker import run_training

    spec = preset_spec("tiny", task="instances", epochs=2)
    run_dir = create_run(spec, tmp_path)
    results = run_training(spec, run_dir)
    rows = read_metrics(run_dir)
    assert [row["epoch"] for row in rows] == [1, 2]
    assert all({"loss", "val_loss", "val_mask_ap", "val_mask_ap50", "val_mask_ap75", "centre_loss", "offset_loss",
                "semantic_loss"} <= set(row) for row in rows)
    scores = json.loads((run_dir / "scores.json").read_text())
    assert set(scores) == {"validation", "test", "class_names"}
    for split in ("validation", "test"):
        assert scores[split]["images"] == 32 and scores[split]["touching_pairs"] > 0
        assert scores[split]["components"]["touching_pairs"] == scores[split]["touching_pairs"]
    assert 0 <= results["mask_ap"] <= 1 and load_run(run_dir).summary["class_names"][0] == "background"
    rows = TASKS["instances"].score_rows(scores)
    assert rows[0]["score"].startswith("Instance model: mask AP")
    assert any(r["score"].startswith("Connected components") for r in rows)


def test_the_library_parts_import_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys; import cv_core.instances as i; "
            "from cv_core.instances import metrics, data, coco, scores, decode, targets, task, models; "
            "i.mask_average_precision; assert 'tensorflow' not in sys.modules, 'tensorflow was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
