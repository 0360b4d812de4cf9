"""A task whose model has no classes fits the task table: spec validation, the budget, compiling, a run.

The next tasks (image similarity's embeddings, keypoints) have no class output. A toy one —
a two-layer autoencoder that learns to give back its picture — is registered for these tests
only, and goes through everything a run does.
"""

from __future__ import annotations

import pytest

from cv_core.runs import TASKS, Architecture, Task, architecture_cost, check_resources, preset_spec, register_task
from cv_core.runs import validate_spec

NAME = "reconstruction"


def _build(spec, num_classes):
    assert num_classes is None, "a task without classes passes None to its builder"
    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((spec.image_size, spec.image_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = layers.Conv2D(spec.filters[0], 3, padding="same", activation="relu", name="encoder_conv")(x)
    outputs = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="decoder_conv")(x)
    return keras.Model(inputs, outputs, name="tiny_autoencoder")


def _compile(model, num_classes, learning_rate, optimizer):
    assert num_classes is None
    from cv_core._tf import keras as _keras

    model.compile(optimizer=_keras().optimizers.Adam(learning_rate), loss="mse")
    return model


def _targets(dataset, split, spec, training):
    pictures = dataset.tf_dataset(split, image_size=(spec.image_size, spec.image_size), batch_size=spec.batch_size,
                                  shuffle=training, seed=spec.seed)
    return pictures.map(lambda images, labels: (images, images / 255.0))


@pytest.fixture
def classless_task():
    task = register_task(Task(
        name=NAME, label="Reconstruction", description="The picture back, through a bottleneck.",
        architectures={"tiny_autoencoder": Architecture(
            name="tiny_autoencoder", label="Two convolutions", build=_build, minimum_size=lambda spec: 8,
            default_filters=(4,))},
        compile=_compile, targets=_targets, monitor="val_loss", mode="min", metric_label="loss",
        curves=(("loss", "Loss"),), test_metric="loss", defaults={"model": "tiny_autoencoder", "filters": (4,)},
    ))
    yield task
    TASKS.pop(NAME, None)


def test_a_task_without_classes_says_so_by_default(classless_task):
    from cv_core.datasets import open_dataset

    dataset = open_dataset("shapes", train_size=4, validation_size=2, test_size=0)
    assert classless_task.num_classes(dataset) is None and classless_task.class_names(dataset) == []


def test_it_validates_fits_the_budget_and_compiles(classless_task):
    from cv_core.runs import build_model, compile_model

    spec = validate_spec(preset_spec("tiny", task=NAME))
    assert (spec.task, spec.model, spec.filters) == (NAME, "tiny_autoencoder", (4,))
    model = build_model(spec, None)
    cost = check_resources(spec, num_classes=None)
    assert cost.params == architecture_cost(spec, None).params == model.count_params()
    compile_model(spec, model, None, steps_per_epoch=4)
    assert model.loss == "mse"


def test_it_trains_through_the_worker(classless_task, tmp_path):
    from cv_core.runs import create_run, load_run, read_metrics
    from cv_core.runs.worker import run_training

    spec = preset_spec("tiny", task=NAME, epochs=1)
    run_dir = create_run(spec, tmp_path)
    results = run_training(spec, run_dir)
    run = load_run(run_dir)
    assert [row["epoch"] for row in read_metrics(run_dir)] == [1] and "val_loss" in read_metrics(run_dir)[0]
    assert run.summary["num_classes"] is None and run.summary["class_names"] == []
    assert results["loss"] >= 0 and run.test_score == results["loss"]
