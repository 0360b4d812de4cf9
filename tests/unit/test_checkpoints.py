"""Checkpoints written off the training thread are the files Keras writes, of the weights at the save."""

from __future__ import annotations

import json
import random
import zipfile

import numpy as np
import pytest

from cv_core._tf import keras as _keras
from cv_core.runs.tasks import TASKS

keras = _keras()


def trained_model():
    """A small compiled model (conv, batch norm, dense) after a few Adam steps: optimizer state exists."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3), name="pictures")
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    model = keras.Model(inputs, outputs, name="small")
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((16, 8, 8, 3)), rng.integers(0, 3, 16), epochs=1, batch_size=4, verbose=0)
    return model


def h5_arrays(path):
    import h5py

    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: arrays.__setitem__(name, np.array(item)) if isinstance(item, h5py.Dataset)
                     else None)
    return arrays


def keras_archive(path):
    """(config.json as a dict, the weights file's arrays by path) of a ``.keras`` archive."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights = path.parent / f"{path.stem}-weights.h5"
        weights.write_bytes(archive.read("model.weights.h5"))
    return config, h5_arrays(weights)


def assert_same_arrays(ours, keras_own):
    assert sorted(ours) == sorted(keras_own)
    for name in keras_own:
        np.testing.assert_array_equal(ours[name], keras_own[name], err_msg=name)


@pytest.mark.slow
def save_both_ways(model, folder) -> None:
    """The model and its weights written by a CheckpointWriter (``ours.*``) and by Keras itself (``keras.*``)."""
    from cv_core.runs.checkpoints import CheckpointWriter

    writer = CheckpointWriter(model)
    writer.save_model(folder / "ours.keras")
    writer.save_weights(folder / "ours.weights.h5")
    writer.wait()
    model.save(folder / "keras.keras")
    model.save_weights(folder / "keras.weights.h5")


def test_the_written_files_are_those_keras_writes_from_the_model(tmp_path):
    model = trained_model()
    save_both_ways(model, tmp_path)

    our_config, our_weights = keras_archive(tmp_path / "ours.keras")
    keras_config, keras_weights = keras_archive(tmp_path / "keras.keras")
    assert our_config == keras_config  # architecture and compilation (optimizer, loss, metrics)
    assert any(name.startswith("optimizer/") for name in keras_weights)  # the optimizer's state is in both
    assert_same_arrays(our_weights, keras_weights)
    assert_same_arrays(h5_arrays(tmp_path / "ours.weights.h5"), h5_arrays(tmp_path / "keras.weights.h5"))
    assert sorted(p.name for p in tmp_path.iterdir() if "writing" in p.name) == []  # renamed into place


@pytest.mark.slow
def test_a_save_holds_the_weights_of_the_moment_it_was_asked_for(tmp_path):
    from cv_core.runs.checkpoints import CheckpointWriter

    model = trained_model()
    expected = [np.array(w) for w in model.get_weights()]
    writer = CheckpointWriter(model)
    writer.save_model(tmp_path / "best.keras")
    for variable in model.weights:  # training goes on while the file is written
        variable.assign(np.zeros(variable.shape, variable.dtype))
    writer.wait()
    loaded = keras.models.load_model(tmp_path / "best.keras")
    for got, want in zip(loaded.get_weights(), expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_building_the_twin_leaves_the_random_draws_of_the_run_unchanged():
    from cv_core.runs.checkpoints import CheckpointWriter

    model = trained_model()
    state = random.getstate()
    CheckpointWriter(model)
    assert random.getstate() == state


@pytest.mark.slow
def test_a_failed_write_is_raised_on_the_training_thread(tmp_path):
    from cv_core.runs.checkpoints import CheckpointWriter

    (tmp_path / "not-a-folder").write_text("a file where the folder should be")
    writer = CheckpointWriter(trained_model())
    writer.save_model(tmp_path / "not-a-folder" / "best.keras")
    with pytest.raises(OSError):
        writer.wait()
    writer.wait()  # reported once


def test_keras_saving_finds_its_cached_skip_sets():
    from keras.src.saving import saving_lib

    from cv_core._keras_private import cache_saving_skipsets

    assert cache_saving_skipsets()
    # Keras' own function now returns the cached set instead of building reference objects again.
    assert saving_lib.get_attr_skipset("Layer") is saving_lib.get_attr_skipset("Layer")


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_model_is_written_as_keras_writes_it(tmp_path, task):
    """Custom layers, losses and metrics of every task survive the twin (its config, its arrays)."""
    from cv_core.runs import build_model, compile_model, preset_spec

    spec = preset_spec("tiny", task=task)
    model = build_model(spec, 3)
    compile_model(spec, model, 3, 4)
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    for variable in model.optimizer.variables:  # optimizer state that differs from a fresh one
        variable.assign(rng.random(variable.shape).astype(variable.dtype) if variable.dtype != "int64" else 5)
    save_both_ways(model, tmp_path)
    our_config, our_weights = keras_archive(tmp_path / "ours.keras")
    keras_config, keras_weights = keras_archive(tmp_path / "keras.keras")
    assert our_config == keras_config
    assert_same_arrays(our_weights, keras_weights)
    assert_same_arrays(h5_arrays(tmp_path / "ours.weights.h5"), h5_arrays(tmp_path / "keras.weights.h5"))
