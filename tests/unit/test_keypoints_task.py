"""The keypoints task's entry: in the table, its datasets, specs that validate, its scores' rows, a real run."""

from __future__ import annotations

import inspect
import json

import pytest

from cv_core.runs import TASKS, SpecError, preset_spec, validate_spec
from cv_core.runs.tasks import TASK_MODULES, dataset_names, dataset_split_defaults, task_of

ARCHITECTURES = ("pose_centernet", "keypoint_heatmap", "keypoint_regression")


def test_the_entry_is_in_the_table_with_its_architectures():
    assert TASK_MODULES["keypoints"] == "cv_core.keypoints.task"
    task = TASKS["keypoints"]
    assert tuple(task.architectures) == ARCHITECTURES
    assert (task.monitor, task.mode, task.test_metric) == ("val_kp_ap", "max", "kp_ap")
    assert task.requires == ("has_keypoints",)
    assert {metric for metric, _ in task.curves} >= {"kp_ap", "kp_ap50", "pck", "loss"}


def test_its_datasets_are_the_keypoint_ones_and_the_other_pickers_are_unchanged():
    assert dataset_names("keypoints") == ["people", "landmarks", "coco_keypoints"]
    assert dataset_names("segmentation") == ["shapes", "oxford_pets"]
    assert dataset_names("detection") == ["shapes", "oxford_pets"]
    from cv_core.datasets import PeopleDataset

    defaults = inspect.signature(PeopleDataset).parameters
    assert dataset_split_defaults("people") == {name: defaults[name].default
                                                for name in ("train_size", "validation_size", "test_size")}


def test_the_model_width_is_the_skeletons_joints():
    from cv_core.datasets import open_dataset

    task = task_of("keypoints")
    people, faces = open_dataset("people", train_size=2), open_dataset("landmarks", train_size=2)
    assert task.num_classes(people) == 14 and task.class_names(people)[:2] == ["head", "neck"]
    assert task.num_classes(faces) == 6 and task.class_names(faces)[-1] == "chin"


@pytest.fixture
def tensorflow_here():
    """Measure the models in this process (without TensorFlow here, validation measures them in a child)."""
    from cv_core._tf import tensorflow

    tensorflow()


@pytest.mark.parametrize("model", ARCHITECTURES)
def test_a_tiny_spec_of_each_architecture_validates(model, tensorflow_here):
    spec = validate_spec(preset_spec("tiny", task="keypoints", model=model))
    assert (spec.task, spec.dataset, spec.model) == ("keypoints", "people", model)
    landmarks = validate_spec(spec.replace(dataset="landmarks"))
    assert landmarks.dataset == "landmarks"


def test_a_dataset_without_keypoints_is_refused_with_the_ones_to_choose(tensorflow_here):
    with pytest.raises(SpecError, match=r"no keypoints.*\['people', 'landmarks', 'coco_keypoints'\]"):
        validate_spec(preset_spec("tiny", task="keypoints", dataset="shapes",
                                  dataset_options={"train_size": 32, "validation_size": 8}))


def test_a_coco_folder_of_your_own_skeleton_trains(tmp_path, tensorflow_here):
    """Another skeleton (three joints), pictures of two sizes: the spec validates, the model and batches follow it."""
    import numpy as np
    from PIL import Image

    from cv_core.datasets import open_dataset
    from cv_core.keypoints import KeypointInstance, custom_skeleton, write_coco_keypoints
    from cv_core.keypoints.coco import CocoImage
    from cv_core.runs import build_model

    skeleton = custom_skeleton(["top", "left_foot", "right_foot"], [("top", "left_foot"), ("top", "right_foot")])
    rng = np.random.default_rng(0)
    items = []
    for index in range(6):
        width, height = (48, 40) if index % 2 else (40, 40)
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(tmp_path / f"{index}.png")
        thing = KeypointInstance(points=np.array([[20, 5], [15, 30], [25, 30]], np.float32),
                                 visibility=np.array([2, 2, 1], np.uint8), box=(14, 4, 26, 31), area=200.0)
        items.append((CocoImage(index + 1, f"{index}.png", width, height), [thing]))
    write_coco_keypoints(tmp_path / "things.json", items, skeleton)
    spec = validate_spec(preset_spec("tiny", task="keypoints", model="keypoint_heatmap", dataset="coco_keypoints",
                                     dataset_root=str(tmp_path), batch_size=2,
                                     dataset_options={"validation_split": 0.34, "test_split": 0.0}))
    dataset = open_dataset("coco_keypoints", tmp_path, validation_split=0.34, test_split=0.0)
    task = task_of("keypoints")
    assert task.num_classes(dataset) == 3 and dataset.skeleton.flip_permutation().tolist() == [0, 2, 1]
    model = build_model(spec, task.num_classes(dataset))
    assert tuple(model.output["joint_heatmap"].shape[1:]) == (8, 8, 3)
    images, targets = next(iter(task.targets(dataset, "train", spec, True)))
    assert images.shape == (2, 32, 32, 3) and targets["joint_refine"].shape == (2, 8, 8, 9)
    assert float(np.max(targets["joint_heatmap"])) == 1.0


def test_every_preset_names_its_keypoint_dataset():
    for name in ("tiny", "quick", "book"):
        spec = preset_spec(name, task="keypoints")
        assert spec.dataset == "people" and spec.model == "pose_centernet", name
    assert preset_spec("quick", task="keypoints").image_size % 16 == 0


def test_the_time_estimate_counts_the_epoch_scores(tensorflow_here):
    import dataclasses

    from cv_core.runs.cost import estimate_epoch_seconds
    from cv_core.keypoints.task import KEYPOINT_EPOCH_IMAGES

    task = TASKS["keypoints"]
    spec = preset_spec("quick", task="keypoints")
    assert task.epoch_scored_images(spec, 200) == min(KEYPOINT_EPOCH_IMAGES, 200) > 0
    with_scores = estimate_epoch_seconds(spec)
    without = dataclasses.replace(task, epoch_scored_images=lambda spec, validation: 0)
    TASKS["keypoints"] = without
    try:
        assert estimate_epoch_seconds(spec) < with_scores
    finally:
        TASKS["keypoints"] = task


def test_score_rows_give_the_summary_then_each_joint():
    rows = TASKS["keypoints"].score_rows({
        "validation": {"kp_ap": 0.51234, "kp_ap50": 0.8, "kp_ap75": 0.5, "pck": 0.9, "joint_names": ["a", "b"],
                       "joint_pck": [1.0, None], "joint_error": [0.123, None]},
        "skeleton": {"joints": ["a", "b"]}})
    assert [row["score"] for row in rows] == [
        "Keypoint AP (OKS 0.50:0.95)", "Keypoint AP at OKS 0.50", "Keypoint AP at OKS 0.75", "PCK@0.2, all joints",
        "PCK@0.2, a", "PCK@0.2, b", "Mean error in pixels, a", "Mean error in pixels, b"]
    assert rows[0]["validation"] == 0.512 and rows[5]["validation"] is None and rows[6]["validation"] == 0.12
    assert TASKS["keypoints"].score_rows({}) == []


def test_the_command_line_knows_the_task():
    from cv_core.train import build_parser, spec_from_args

    args = build_parser().parse_args(["--task", "keypoints", "--preset", "tiny", "--model", "keypoint_heatmap",
                                      "--dataset", "landmarks"])
    spec = spec_from_args(args)
    assert (spec.task, spec.model, spec.dataset) == ("keypoints", "keypoint_heatmap", "landmarks")


@pytest.mark.slow
def test_a_tiny_run_goes_through_the_worker(tmp_path):
    from cv_core.runs import create_run, load_run, read_metrics
    from cv_core.runs.worker import run_training

    spec = preset_spec("tiny", task="keypoints", epochs=2)
    run_dir = create_run(spec, tmp_path)
    results = run_training(spec, run_dir)
    rows = read_metrics(run_dir)
    assert [row["epoch"] for row in rows] == [1, 2]
    assert all({"loss", "val_loss", "val_kp_ap", "val_kp_ap50", "val_pck", "centre_loss"} <= set(row) for row in rows)
    scores = json.loads((run_dir / "scores.json").read_text())
    assert set(scores) == {"validation", "test", "skeleton"} and len(scores["test"]["joint_pck"]) == 14
    assert 0 <= results["kp_ap"] <= 1 and load_run(run_dir).summary["class_names"][0] == "head"
    assert TASKS["keypoints"].score_rows(scores)
