"""TrainSpec validation, presets and the time estimate (no TensorFlow)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from cv_core.runs.cost import estimate_seconds, mult_adds
from cv_core.runs.spec import (
    PRESETS,
    SpecError,
    TrainSpec,
    minimum_image_size,
    preset_spec,
    validate_spec,
)
from tests.unit.layer_params import params_from_shapes

TINY = preset_spec("tiny")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 0}, "Expected `epochs` to be a positive whole number. Received: epochs=0"),
        ({"epochs": -3}, "Received: epochs=-3"),
        ({"epochs": 2.5}, "Received: epochs=2.5"),
        ({"epochs": True}, "Received: epochs=True"),
        ({"batch_size": 0}, "Expected `batch_size` to be a positive whole number. Received: batch_size=0"),
        ({"batch_size": "32"}, "Received: batch_size='32'"),
        ({"batch_size": 65}, "Expected `batch_size` to be at most the 64 training images of 'shapes'. Received: batch_size=65"),
        ({"learning_rate": 0}, "Expected `learning_rate` to be a finite number > 0. Received: learning_rate=0"),
        ({"learning_rate": -1e-3}, "Received: learning_rate=-0.001"),
        ({"learning_rate": float("nan")}, "Received: learning_rate=nan"),
        ({"learning_rate": float("inf")}, "Received: learning_rate=inf"),
        ({"dataset": "imagenet"}, "Expected a dataset name in"),
        ({"dataset": "image_folder", "dataset_options": {}}, "needs a folder"),
        ({"dataset": "image_folder", "dataset_root": "/no/such/folder", "dataset_options": {}}, "does not exist"),
        ({"dataset_options": {"colour": "red"}}, "Unknown option for the 'shapes' dataset"),
        ({"dataset_options": {"train_size": 0}}, "The training split of 'shapes' is empty"),
        ({"dataset_options": {"validation_size": 0}}, "The validation split of 'shapes' is empty"),
        ({"image_size": 20, "filters": (8, 16, 32, 64, 128)}, "Expected `image_size` of at least 21 px"),
        ({"image_size": 7}, "Expected `image_size` of at least 8 px"),
        ({"model": "small_convnet", "image_size": 32, "filters": (8, 16, 32, 64)}, "at least 38 px"),
        ({"image_size": 0}, "Expected `image_size` to be a positive whole number"),
        ({"conv_type": "depthwise"}, "Expected `conv_type` to be one of ('separable', 'conv2d'). Received: conv_type='depthwise'"),
        ({"batchnorm": "sometimes"}, "Expected `batchnorm` to be one of ('before_activation', 'after_activation', 'none')"),
        ({"model": "resnet"}, "Expected `model` to be one of ('mini_xception', 'small_convnet')"),
        ({"optimizer": "lbfgs"}, "Expected `optimizer` to be one of"),
        ({"filters": ()}, "Expected `filters` to be a non-empty list of positive whole numbers"),
        ({"filters": (8, 0)}, "Received: filters=(8, 0)"),
        ({"residual": "yes"}, "Expected `residual` to be True or False"),
        ({"augmentation": 1}, "Expected `augmentation` to be True or False"),
        ({"dropout_rate": 1.0}, "Expected `dropout_rate` in [0, 1)"),
        ({"seed": -1}, "Expected `seed` to be a whole number >= 0"),
        ({"preset": "huge"}, "Expected `preset` to be one of"),
    ],
)
def test_impossible_specs_are_refused_with_a_clear_message(changes, message):
    with pytest.raises(SpecError) as info:
        validate_spec(TINY.replace(**changes))
    assert message in str(info.value)


@pytest.mark.parametrize("changes", [{"epochs": 0}, {"conv_type": "depthwise"}, {"learning_rate": -1.0},
                                     {"filters": (8, 0)}, {"seed": -1}])
def test_spec_errors_are_value_errors_naming_field_expected_and_received(changes):
    """Callers that only know ValueError (the CLI, notebooks) get the same clear message."""
    (name, value), = changes.items()
    with pytest.raises(ValueError) as info:
        validate_spec(TINY.replace(**changes))
    assert type(info.value) is SpecError
    assert str(info.value).startswith(f"Expected `{name}`")
    assert f"Received: {name}={value!r}" in str(info.value)


def test_valid_spec_is_normalised():
    spec = validate_spec({**TINY.to_dict(), "filters": [8, 16], "learning_rate": 1})
    assert isinstance(spec, TrainSpec)
    assert spec.filters == (8, 16)
    assert spec.learning_rate == 1.0 and isinstance(spec.learning_rate, float)


def test_unknown_field_is_refused():
    with pytest.raises(SpecError, match="unknown: \\['epoch'\\]"):
        validate_spec({**TINY.to_dict(), "epoch": 3})


def test_round_trip_through_dict():
    spec = preset_spec("quick", seed=2, notes="hello")
    assert TrainSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("name, classes, params", [("tiny", 5, None), ("quick", 5, None), ("book", 2, 721_857)])
def test_presets_build_the_model_they_promise(name, classes, params):
    from cv_core.runs import architecture_cost
    from cv_core.runs.model import build_model

    spec = preset_spec(name)
    assert spec.preset == name
    assert spec.image_size >= minimum_image_size(spec)
    model = build_model(spec, classes)
    # the book gives the Book preset's count; the others' come from their layers' shapes
    assert model.count_params() == architecture_cost(spec, classes).params == params_from_shapes(model)
    if params is not None:
        assert model.count_params() == params
    assert model.input_shape == (None, spec.image_size, spec.image_size, 3)
    assert model.output_shape == (None, 1 if classes == 2 else classes)


def test_unknown_preset():
    with pytest.raises(SpecError, match="Expected `preset` to be one of"):
        preset_spec("huge")


def test_book_preset_is_the_books_settings():
    spec = preset_spec("book", dataset_root="/data/cats")
    assert (spec.model, spec.conv_type, spec.batchnorm, spec.residual) == (
        "mini_xception", "separable", "before_activation", True)
    assert spec.filters == (32, 64, 128, 256, 512)
    assert (spec.image_size, spec.batch_size, spec.epochs, spec.optimizer) == (180, 32, 100, "rmsprop")
    assert spec.augmentation and spec.dropout_rate == 0.5


def test_quick_and_tiny_presets_validate():
    for name in ("tiny", "quick"):
        assert validate_spec(preset_spec(name)).dataset == "shapes"


def test_mult_adds_scale_with_pixels_and_conv_type():
    small, big = preset_spec("quick", image_size=64), preset_spec("quick", image_size=128)
    assert 3.5 < mult_adds(big) / mult_adds(small) < 4.5  # twice the side, about four times the work
    assert mult_adds(small.replace(conv_type="conv2d")) > 3 * mult_adds(small)


def test_estimate_is_positive_and_grows_with_epochs():
    quick = preset_spec("quick")
    assert 60 < estimate_seconds(quick) < 240  # "about two minutes" on 2 CPU cores
    assert estimate_seconds(quick.replace(epochs=16)) > estimate_seconds(quick)
    assert math.isfinite(estimate_seconds(preset_spec("book")))
    assert estimate_seconds(preset_spec("tiny")) < 30


@pytest.mark.slow
def test_importing_runs_does_not_import_tensorflow():
    code = ("import sys, cv_core.runs, cv_core.train, cv_core.runs.callbacks, cv_core.runs.worker;"
            "from cv_core.runs import validate_spec, preset_spec, list_runs;"
            "validate_spec(preset_spec('tiny')); list_runs('/nonexistent/runs');"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
