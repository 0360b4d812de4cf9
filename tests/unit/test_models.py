"""Model builders: the book's exact models, their variants, stable names and argument checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cv_core.models import (
    build_mini_xception,
    build_small_convnet,
    compile_classifier,
    minimum_input_size,
)

from tests.unit.layer_params import params_from_shapes

REPO = Path(__file__).resolve().parents[2]
TINY = dict(input_shape=(32, 32, 3), filters=(4, 8))
MINI_XCEPTION_NAME = re.compile(
    r"^(image|augment_(flip|rotation|zoom)|rescaling|stem_(conv|act)"
    r"|block\d+_((sepconv|conv|bn|act)[12]|pool|residual|add)|global_pool|dropout|predictions)$"
)


def names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def block_names(model, block: str = "block1") -> list[str]:
    return [name.split("_", 1)[1] for name in names(model) if name.startswith(f"{block}_")]


def test_importing_the_library_modules_does_not_import_tensorflow():
    code = (
        "import sys, cv_core.models, cv_core.anatomy, cv_core.concepts, cv_core.plots.architecture; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --------------------------------------------------------------------------------------
# Parameter counts at the book's size
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, expected_params",
    [
        ({}, 721_857),  # the book's mini-Xception
        ({"conv_type": "conv2d"}, None),
        ({"batchnorm": "after_activation"}, None),  # + conv biases, bn1 on `size` channels
        ({"batchnorm": "none"}, None),  # + conv biases, - every BN
        ({"residual": False}, None),  # - the five 1x1 shortcut convs
        ({"augmentation": False, "dropout_rate": 0.0}, 721_857),  # no weights in either
        ({"num_classes": 5}, 721_857 + 512 * 4 + 4),
    ],
)
def test_mini_xception_parameter_counts(kwargs, expected_params):
    """The book's count where it gives one (None: no published count; the layers' shapes give it)."""
    model = build_mini_xception(**kwargs)
    assert model.count_params() == params_from_shapes(model)
    if expected_params is not None:
        assert model.count_params() == expected_params
    assert model.input_shape == (None, 180, 180, 3)


@pytest.mark.parametrize(
    "kwargs, expected_params",
    [({}, 991_041), ({"augmentation": True, "dropout_rate": 0.5}, 991_041)],
)
def test_small_convnet_parameter_counts(kwargs, expected_params):
    assert build_small_convnet(**kwargs).count_params() == expected_params


def test_default_mini_xception_is_the_books_listing():
    model = build_mini_xception()
    assert names(model)[:6] == ["image", "augment_flip", "augment_rotation", "augment_zoom", "rescaling", "stem_conv"]
    assert model.get_layer("augment_flip").get_config()["mode"] == "horizontal"
    assert model.get_layer("augment_rotation").get_config()["factor"] in (0.1, (-0.1, 0.1))
    assert model.get_layer("augment_zoom").get_config()["height_factor"] in (0.2, (-0.2, 0.2))
    assert model.get_layer("rescaling").get_config()["scale"] == pytest.approx(1 / 255)
    stem = model.get_layer("stem_conv")
    assert (stem.filters, stem.kernel_size, stem.padding, stem.use_bias) == (32, (5, 5), "valid", False)
    for block, size in enumerate((32, 64, 128, 256, 512), start=1):
        for unit in (1, 2):
            conv = model.get_layer(f"block{block}_sepconv{unit}")
            assert type(conv).__name__ == "SeparableConv2D"
            assert (conv.filters, conv.kernel_size, conv.padding, conv.use_bias) == (size, (3, 3), "same", False)
        pool = model.get_layer(f"block{block}_pool")
        assert (pool.pool_size, pool.strides, pool.padding) == ((3, 3), (2, 2), "same")
        shortcut = model.get_layer(f"block{block}_residual")
        assert (shortcut.kernel_size, shortcut.strides, shortcut.use_bias) == ((1, 1), (2, 2), False)
    assert names(model)[-3:] == ["global_pool", "dropout", "predictions"]
    assert model.get_layer("dropout").rate == 0.5
    head = model.get_layer("predictions")
    assert (head.units, head.activation.__name__) == (1, "sigmoid")
    assert model.get_layer("block5_add").output.shape == (None, 6, 6, 512)


# --------------------------------------------------------------------------------------
# Shapes and variants on tiny inputs
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, expected_output, expected_last_map",
    [
        ({}, (None, 1), (None, 7, 7, 8)),
        ({"num_classes": 5}, (None, 5), (None, 7, 7, 8)),
        ({"input_shape": (32, 32, 1)}, (None, 1), (None, 7, 7, 8)),
        ({"input_shape": (40, 24, 3)}, (None, 1), (None, 9, 5, 8)),
        ({"conv_type": "conv2d", "num_classes": 3}, (None, 3), (None, 7, 7, 8)),
        ({"filters": (4, 8, 16)}, (None, 1), (None, 4, 4, 16)),
    ],
)
def test_mini_xception_output_shapes(kwargs, expected_output, expected_last_map):
    model = build_mini_xception(**{**TINY, **kwargs})
    assert model.output_shape == expected_output
    last_block = len(kwargs.get("filters", TINY["filters"]))
    assert model.get_layer(f"block{last_block}_add").output.shape == expected_last_map


@pytest.mark.parametrize("num_classes", [2, 4])
def test_predictions_are_probabilities(num_classes):
    model = build_mini_xception(**TINY, num_classes=num_classes)
    images = np.random.default_rng(0).uniform(0, 255, size=(3, 32, 32, 3)).astype("float32")
    probabilities = model.predict(images, verbose=0)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    if num_classes > 2:
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "batchnorm, expected_block_layers",
    [
        ("before_activation", ["bn1", "act1", "sepconv1", "bn2", "act2", "sepconv2", "pool", "residual", "add"]),
        ("after_activation", ["sepconv1", "act1", "bn1", "sepconv2", "act2", "bn2", "pool", "residual", "add"]),
        ("none", ["sepconv1", "act1", "sepconv2", "act2", "pool", "residual", "add"]),
    ],
)
def test_block_layer_order_for_each_batchnorm_placement(batchnorm, expected_block_layers):
    model = build_mini_xception(**TINY, batchnorm=batchnorm)
    assert block_names(model, "block1") == expected_block_layers
    assert block_names(model, "block2") == expected_block_layers
    has_bias = batchnorm != "before_activation"
    assert model.get_layer("stem_conv").use_bias is has_bias
    assert model.get_layer("block1_sepconv1").use_bias is has_bias
    assert ("stem_act" in names(model)) is has_bias
    bn_layers = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(bn_layers) == (0 if batchnorm == "none" else 4)


def test_before_activation_normalises_each_conv_input():
    model = build_mini_xception(**TINY)
    assert model.get_layer("block1_bn1").input is model.get_layer("stem_conv").output
    assert model.get_layer("block1_sepconv1").input is model.get_layer("block1_act1").output
    assert model.get_layer("block2_bn1").input is model.get_layer("block1_add").output


def test_conv2d_variant_uses_regular_convolutions():
    model = build_mini_xception(**TINY, conv_type="conv2d")
    assert block_names(model)[:3] == ["bn1", "act1", "conv1"]
    assert type(model.get_layer("block1_conv2")).__name__ == "Conv2D"
    assert not any("sepconv" in name for name in names(model))


def test_residual_off_has_no_shortcuts():
    model = build_mini_xception(**TINY, residual=False)
    assert not any(name.endswith(("_residual", "_add")) for name in names(model))
    assert model.get_layer("global_pool").input is model.get_layer("block2_pool").output


def test_augmentation_and_dropout_can_be_left_out():
    model = build_mini_xception(**TINY, augmentation=False, dropout_rate=0.0)
    assert names(model)[:3] == ["image", "rescaling", "stem_conv"]
    assert "dropout" not in names(model)
    assert build_mini_xception(**TINY, dropout_rate=0.3).get_layer("dropout").rate == 0.3


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"conv_type": "conv2d", "batchnorm": "after_activation"},
        {"batchnorm": "none", "residual": False, "augmentation": False, "dropout_rate": 0.0},
    ],
)
def test_layer_names_are_stable_unique_and_ours(kwargs):
    first, second = names(build_mini_xception(**TINY, **kwargs)), names(build_mini_xception(**TINY, **kwargs))
    assert first == second
    assert len(set(first)) == len(first)
    assert [n for n in first if not MINI_XCEPTION_NAME.match(n)] == []
    assert [n for n in first if re.search(r"_\d+$", n)] == []


def test_small_convnet_layers_and_names():
    model = build_small_convnet()
    assert names(model) == [
        "image", "rescaling",
        "block1_conv", "block1_pool", "block2_conv", "block2_pool", "block3_conv", "block3_pool",
        "block4_conv", "block4_pool", "block5_conv", "flatten", "predictions",
    ]  # fmt: skip
    assert model.get_layer("block5_conv").output.shape == (None, 7, 7, 256)
    assert model.get_layer("block1_conv").activation.__name__ == "relu"
    augmented = build_small_convnet(augmentation=True, dropout_rate=0.5, num_classes=3)
    assert names(augmented)[1:4] == ["augment_flip", "augment_rotation", "augment_zoom"]
    assert names(augmented)[-2:] == ["dropout", "predictions"]
    assert augmented.output_shape == (None, 3)


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------


def test_minimum_input_size():
    assert minimum_input_size() == 21
    assert minimum_input_size((8,)) == 6
    assert minimum_input_size((4, 8)) == 7
    size = minimum_input_size((4, 8, 8))
    build_mini_xception(input_shape=(size, size, 3), filters=(4, 8, 8))
    with pytest.raises(ValueError, match=f"at least {size} pixels"):
        build_mini_xception(input_shape=(size - 1, 64, 3), filters=(4, 8, 8))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"conv_type": "depthwise"},
            r"`conv_type` to be one of \('separable', 'conv2d'\). Received: conv_type='depthwise'",
        ),
        ({"batchnorm": "after"}, "`batchnorm` to be one of"),
        ({"num_classes": 1}, "num_classes=1"),
        ({"num_classes": 2.0}, "num_classes=2.0"),
        ({"num_classes": True}, "num_classes=True"),
        ({"filters": ()}, "non-empty sequence"),
        ({"filters": (4, 0)}, r"filters=\(4, 0\)"),
        ({"filters": (4, 8.0)}, "positive integers"),
        ({"filters": 32}, "filters=32"),
        ({"input_shape": (32, 32)}, "1 or 3 channels"),
        ({"input_shape": (32, 32, 4)}, r"input_shape=\(32, 32, 4\)"),
        ({"input_shape": (32, None, 3)}, "positive integer sizes"),
        ({"dropout_rate": 1.0}, r"`dropout_rate` to be a number in \[0, 1\)"),
        ({"dropout_rate": -0.1}, "dropout_rate=-0.1"),
        ({"residual": "yes"}, "`residual` to be True or False"),
        ({"augmentation": 1}, "augmentation=1"),
        ({"name": ""}, "`name`"),
        ({"input_shape": (6, 6, 3)}, r"at least 7 pixels.*Received: input_shape=\(6, 6, 3\)"),
    ],
)
def test_mini_xception_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"Expected .*{message}"):
        build_mini_xception(**{**TINY, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (77, 77, 3)}, "at least 78 pixels"),
        ({"filters": (8, 8), "input_shape": (7, 7, 3)}, "at least 8 pixels"),
        ({"num_classes": 0}, "num_classes=0"),
        ({"dropout_rate": 1}, "dropout_rate=1"),
        ({"filters": [8, -1]}, "filters="),
    ],
)
def test_small_convnet_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"Expected .*{message}"):
        build_small_convnet(**kwargs)


# --------------------------------------------------------------------------------------
# Compiling
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "num_classes, expected_loss", [(2, "binary_crossentropy"), (3, "sparse_categorical_crossentropy")]
)
@pytest.mark.slow
def test_compile_classifier_trains_on_int_labels(num_classes, expected_loss):
    model = compile_classifier(build_mini_xception(**TINY, num_classes=num_classes), num_classes, optimizer="adam")
    assert model.loss == expected_loss
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(8, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, num_classes, size=8).astype("int32")
    history = model.fit(images, labels, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    accuracy = model.evaluate(images, labels, verbose=0, return_dict=True)["accuracy"]
    predictions = np.asarray(model(images, training=False))
    predicted = (predictions[:, 0] > 0.5) if num_classes == 2 else predictions.argmax(axis=1)
    assert accuracy == pytest.approx(np.mean(predicted == labels))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 3}, r"3 output unit\(s\) for num_classes=3"),
        ({"optimizer": "adagrad"}, "`optimizer` to be one of"),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"num_classes": 1}, "num_classes=1"),
    ],
)
def test_compile_classifier_rejects_bad_arguments(kwargs, message):
    model = build_mini_xception(**TINY)
    with pytest.raises(ValueError, match=f"Expected .*{message}"):
        compile_classifier(model, **{"num_classes": 2, **kwargs})


def test_minimum_small_convnet_size_is_the_smallest_that_builds():
    from cv_core.models import build_small_convnet, minimum_small_convnet_size

    filters = (8, 8, 8)
    size = minimum_small_convnet_size(filters)
    assert size == 18
    build_small_convnet(input_shape=(size, size, 3), filters=filters)
    with pytest.raises(ValueError, match="Expected"):
        build_small_convnet(input_shape=(size - 1, size - 1, 3), filters=filters)
    assert minimum_small_convnet_size() == 78
