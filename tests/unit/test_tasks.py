"""The task table: one entry per task, old run folders, the models each task builds, specs
validated per task, and fine-tuning weights across class counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cv_core.runs import (
    TASKS,
    SpecError,
    TrainSpec,
    architecture_cost,
    dataset_names,
    list_runs,
    load_run,
    preset_spec,
    read_spec,
    summarise_experiment,
    task_of,
    validate_spec,
)
from cv_core.runs.compare import compare_table

OLD_RUNS = Path(__file__).parent / "fixtures" / "old_runs"


# -- the table ---------------------------------------------------------------------------------


def test_every_task_entry_is_complete():
    assert list(TASKS)[:2] == ["classification", "segmentation"]
    for task in TASKS.values():
        assert task.architectures and task.mode in ("max", "min")
        assert task.monitor.startswith("val_") and task.metric == task.monitor.removeprefix("val_")
        assert task.metric in {metric for metric, _ in task.curves}
        for name, architecture in task.architectures.items():
            assert architecture.name == name and architecture.label


def test_datasets_qualify_by_what_they_offer_not_by_name():
    assert dataset_names("segmentation") == ["shapes", "oxford_pets"]
    assert dataset_names("classification") == ["shapes", "image_folder", "cats_vs_dogs", "oxford_pets"]
    from cv_core.datasets import UserMaskDataset

    assert TASKS["segmentation"].accepts(UserMaskDataset)


def test_a_spec_without_task_is_classification():
    data = preset_spec("quick").to_dict()
    del data["task"]
    spec = TrainSpec.from_dict(data)
    assert spec.task == "classification" and task_of(spec).monitor == "val_accuracy"


def test_presets_apply_to_every_task():
    tiny = preset_spec("tiny", task="segmentation")
    assert (tiny.task, tiny.model, tiny.image_size, tiny.epochs) == ("segmentation", "segmentation_model", 32, 2)
    assert validate_spec(tiny) == tiny
    quick = validate_spec(preset_spec("quick", task="segmentation"))
    assert quick.model == "unet" and quick.dataset == "shapes"
    book = preset_spec("book", task="segmentation", dataset_root="/data/pets")
    assert (book.dataset, book.image_size, book.filters, book.batch_size, book.optimizer) == (
        "oxford_pets", 200, (64, 128, 256), 64, "rmsprop")
    assert architecture_cost(book, 3).params == 2_880_643  # the book's model


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"dataset": "image_folder", "dataset_root": "."}, "The 'image_folder' dataset"),
        ({"model": "mini_xception"}, "Expected `model` to be one of ('segmentation_model', 'unet')"),
        ({"task": "painting"}, "Expected `task` to be one of"),
        ({"image_size": 34}, "multiple of 4 px"),
        ({"model": "unet", "filters": (8, 16, 32, 64), "image_size": 44}, "multiple of 8 px"),
        ({"filters": (8, 16, 32), "image_size": 4}, "at least"),
    ],
)
def test_segmentation_specs_that_cannot_run_say_why(changes, message, tmp_path):
    if changes.get("dataset") == "image_folder":
        from tests.unit.fixtures_data import write_picture

        for name in ("a", "b"):
            for i in range(10):
                write_picture(tmp_path / name / f"{i}.png")
        changes = {**changes, "dataset_root": str(tmp_path), "dataset_options": {}, "batch_size": 2}
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_spec(preset_spec("tiny", task="segmentation").replace(**changes))


@pytest.mark.parametrize(
    "changes, num_classes",
    [
        ({}, 6),
        ({"filters": (8, 16, 24), "image_size": 40}, 2),
        ({"model": "unet", "conv_type": "separable", "filters": (8, 16, 32, 64), "image_size": 64}, 3),
    ],
)
def test_segmentation_models_give_a_mask_at_the_images_size(changes, num_classes):
    from cv_core.runs import build_model

    spec = preset_spec("tiny", task="segmentation", **changes)
    model = build_model(spec, num_classes)
    assert model.output_shape == (None, spec.image_size, spec.image_size, num_classes)
    assert architecture_cost(spec, num_classes).params == model.count_params()


# -- old run folders -------------------------------------------------------------------------


def test_old_classification_run_folders_still_load(tmp_path):
    """A run folder written before tasks existed (no ``task``, no ``lr_schedule``, no ``continues``)."""
    root = tmp_path / "runs"
    shutil.copytree(OLD_RUNS, root)
    (run,) = list_runs(root)
    assert run.state == "completed" and run.spec.task == "classification" and run.task.name == "classification"
    assert run.spec.lr_schedule == "constant" and run.spec.continues is None
    assert run.best_score == 0.52 and run.best_row["epoch"] == 2 and run.test_score == 0.512
    assert run.label == "separable / before_activation (seed 0)"
    (row,) = compare_table([run])
    assert row["task"] == "classification" and row["best_score"] == 0.52 and row["gap"] == pytest.approx(0.44 - 0.52)
    assert summarise_experiment([run.__class__(**{**run.__dict__, "spec": run.spec.replace(experiment_id="e")})],
                                "e")[0]["best_score_mean"] == 0.52
    assert validate_spec(read_spec(run.dir)).task == "classification"
    assert load_run(run.dir).summary["num_classes"] == 5


# -- fine-tuning across class counts -----------------------------------------------------------


def test_fine_tuning_loads_every_layer_but_a_last_layer_of_another_shape(tmp_path):
    import numpy as np

    from cv_core.runs import build_model
    from cv_core.runs.worker import _load_starting_weights

    spec = preset_spec("tiny", task="segmentation")
    earlier = build_model(spec, 6)
    earlier.save(tmp_path / "last.keras")
    same = build_model(spec, 6)
    assert _load_starting_weights(same, tmp_path / "last.keras") == []
    other = build_model(spec, 3)
    assert _load_starting_weights(other, tmp_path / "last.keras") == ["predictions"]
    np.testing.assert_array_equal(other.get_layer("down1_conv1").get_weights()[0],
                                  earlier.get_layer("down1_conv1").get_weights()[0])


def test_a_segmentation_run_may_continue_on_other_data_but_not_as_another_model(tmp_path):
    from cv_core.runs import create_run
    from cv_core.runs.files import update_status

    parent = create_run(preset_spec("tiny", task="segmentation"), tmp_path)
    (parent / "last.keras").write_bytes(b"stand-in")  # only its presence is checked here
    update_status(parent, state="completed")
    options = {"image_size": 48, "train_size": 32, "validation_size": 16, "test_size": 0, "difficulty": "easy"}
    other_data = preset_spec("tiny", task="segmentation", image_size=48, dataset_options=options,
                             continues=str(parent))
    assert validate_spec(other_data).continues == str(parent)
    with pytest.raises(SpecError, match="Received changes to: \\['model', 'filters'\\]"):
        validate_spec(other_data.replace(model="unet", filters=(8, 16, 32)))


# -- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, num_classes",
    [
        ({}, 5),
        ({"model": "centernet_s4", "conv_type": "conv2d", "filters": (16, 32, 64), "image_size": 64}, 2),
        ({"model": "centernet_s8", "filters": (8, 16, 32), "image_size": 48}, 37),
    ],
)
def test_detection_models_have_the_stride_their_architecture_names(changes, num_classes):
    from cv_core.detection import detector_geometry
    from cv_core.runs import build_model
    from cv_core.detection.task import DETECTOR_STRIDES

    spec = preset_spec("tiny", task="detection", **changes)
    model = build_model(spec, num_classes)
    size = spec.image_size
    assert detector_geometry(model) == ((size, size), DETECTOR_STRIDES[spec.model], num_classes)


def test_detection_needs_boxes_and_an_output_stride_the_backbone_reaches(tmp_path):
    assert dataset_names("detection") == ["shapes", "oxford_pets"]
    tiny = validate_spec(preset_spec("tiny", task="detection"))
    assert (tiny.model, tiny.optimizer, tiny.image_size) == ("centernet_s4", "adam", 32)
    from tests.unit.fixtures_data import write_picture

    for name in ("a", "b"):
        for i in range(10):
            write_picture(tmp_path / name / f"{i}.png")
    folder = tiny.replace(dataset="image_folder", dataset_root=str(tmp_path), dataset_options={}, batch_size=2)
    with pytest.raises(SpecError, match="The 'image_folder' dataset has no boxes, which detection needs"):
        validate_spec(folder)
    with pytest.raises(SpecError, match="Expected `output_stride` to be one of \\(2, 4\\)"):
        validate_spec(tiny.replace(model="centernet_s8"))
