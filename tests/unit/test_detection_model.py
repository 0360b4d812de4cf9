"""The CenterNet-style detector: shapes, parameter counts, stable names, saving in safe mode."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cv_core.detection import (
    CenterL1Loss,
    HeatmapFocalLoss,
    build_detector,
    compile_detector,
    detector_geometry,
    load_detector,
)

from tests.unit.layer_params import params_from_shapes

REPO = Path(__file__).resolve().parents[2]
TINY = dict(img_size=(32, 32), backbone_filters=(8, 16), head_width=8)


@pytest.mark.parametrize(
    "kwargs, grid",
    [
        ({}, (32, 32, 5)),
        (dict(conv_type="conv2d"), (32, 32, 5)),
        (dict(img_size=(64, 64), backbone_filters=(8, 16, 32), head_width=16), (16, 16, 5)),
        (dict(img_size=(64, 96), backbone_filters=(8, 16, 32), output_stride=8, head_width=16), (8, 12, 5)),
        (dict(img_size=(32, 32), num_classes=1, backbone_filters=(8, 16), output_stride=2, head_width=8), (16, 16, 1)),
    ],
)
def test_output_shapes_and_parameter_counts(kwargs, grid):
    model = build_detector(**kwargs)
    # no published count for this detector: its layers' shapes give it, by the textbook formulas
    assert model.count_params() == params_from_shapes(model)
    assert set(model.output) == {"heatmap", "size", "offset"}
    assert tuple(model.output["heatmap"].shape) == (None, *grid)
    assert tuple(model.output["size"].shape) == (None, *grid[:2], 2)
    assert tuple(model.output["offset"].shape) == (None, *grid[:2], 2)


def test_a_forward_pass_gives_probabilities_and_the_documented_shapes():
    from cv_core._tf import keras

    keras().utils.set_random_seed(0)
    model = build_detector(**TINY, num_classes=3)
    out = model.predict_on_batch(np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32"))
    assert out["heatmap"].shape == (2, 8, 8, 3) and out["size"].shape == out["offset"].shape == (2, 8, 8, 2)
    assert 0 < out["heatmap"].min() and out["heatmap"].max() < 1
    # The heatmap starts near CenterNet's prior of 0.1 everywhere.
    assert abs(float(np.median(out["heatmap"])) - 0.1) < 0.05


def names(model) -> list[str]:
    return [layer.name for layer in model.layers]


@pytest.mark.parametrize("conv_type, conv", [("separable", "sepconv"), ("conv2d", "conv")])
def test_layer_names_are_stable_and_meaningful(conv_type, conv):
    kwargs = dict(img_size=(64, 64), backbone_filters=(8, 16, 32), conv_type=conv_type)
    first, second = names(build_detector(**kwargs)), names(build_detector(**kwargs))
    assert first == second
    for expected in ("image", "rescaling", "stem_conv", f"block1_{conv}1", f"block2_{conv}2", "block3_add",
                     "neck2_upsample", "neck2_concat", f"neck2_{conv}", "neck2_bn", "neck2_act",
                     "heatmap_conv", "heatmap_act", "heatmap", "size_conv", "size", "offset_conv", "offset"):
        assert expected in first
    auto = re.compile(r"^(conv2d|separable_conv2d|batch_normalization|activation|add|max_pooling2d|"
                      r"up_sampling2d|concatenate|rescaling|input_layer)_\d+$")
    assert not [name for name in first if auto.match(name)]


def test_the_backbone_is_the_mini_xceptions_blocks():
    from cv_core.models import build_mini_xception

    detector = build_detector(img_size=(64, 64), backbone_filters=(8, 16, 32))
    classifier = build_mini_xception((64, 64, 3), 5, filters=(8, 16, 32), augmentation=False)
    for name in ("block1_sepconv1", "block2_sepconv2", "block3_residual"):
        assert detector.get_layer(name).get_config()["filters"] == classifier.get_layer(name).get_config()["filters"]
        assert detector.get_layer(name).count_params() == classifier.get_layer(name).count_params()
    # Block i of the detector has stride exactly 2 ** i (the stem is padded).
    assert [detector.get_layer(f"block{i}_add").output.shape[1] for i in (1, 2, 3)] == [32, 16, 8]


def test_geometry_is_read_from_the_model():
    assert detector_geometry(build_detector(img_size=(64, 96), backbone_filters=(8, 16, 32), output_stride=8,
                                            num_classes=2)) == ((64, 96), 8, 2)
    from cv_core.models import build_mini_xception

    with pytest.raises(ValueError, match="Expected a detector"):
        detector_geometry(build_mini_xception((32, 32, 3), 2, filters=(4, 8), augmentation=False))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_classes=0), "Expected `num_classes` to be an integer >= 1. Received: num_classes=0"),
        (dict(num_classes=True), "num_classes=True"),
        (dict(backbone_filters=()), "Expected `backbone_filters` to be a non-empty sequence"),
        (dict(backbone_filters=(16, -1)), r"Received: backbone_filters=\(16, -1\)"),
        (dict(output_stride=3), r"Expected `output_stride` to be one of \(2, 4, 8, 16\) .*Received: output_stride=3"),
        (dict(output_stride=32), "output_stride=32"),
        (dict(conv_type="depthwise"), r"Expected `conv_type` to be one of \('separable', 'conv2d'\). "
                                      "Received: conv_type='depthwise'"),
        (dict(head_width=0), "Expected `head_width` to be a positive integer. Received: head_width=0"),
        (dict(img_size=(100, 128)), r"multiple of 16 .* Received: img_size=\(100, 128\)"),
        (dict(img_size="128"), "Received: img_size='128'"),
        (dict(name=""), "Expected `name` to be a non-empty string"),
    ],
)
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_detector(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_classes=4), "Expected a detector with 4 heatmap channels for num_classes=4. Received: a heatmap with 3"),
        (dict(num_classes=3, optimizer="lbfgs"), "Expected `optimizer` to be one of"),
        (dict(num_classes=3, learning_rate=0), "Expected `learning_rate` to be a positive number"),
    ],
)
def test_compile_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compile_detector(build_detector(**TINY, num_classes=3), **kwargs)


def test_compile_uses_one_loss_per_output_with_centernets_weights():
    model = compile_detector(build_detector(**TINY, num_classes=3), 3)
    assert isinstance(model.loss["heatmap"], HeatmapFocalLoss)
    assert isinstance(model.loss["size"], CenterL1Loss) and isinstance(model.loss["offset"], CenterL1Loss)
    assert model.get_compile_config()["loss_weights"] == {"heatmap": 1.0, "size": 0.1, "offset": 1.0}


@pytest.mark.slow
def test_saves_and_loads_in_safe_mode_with_its_losses(tmp_path):
    from cv_core._tf import keras

    from cv_core.detection.targets import encode_batch

    model = compile_detector(build_detector(**TINY, num_classes=2), 2)
    images = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    heatmap, size, offset = encode_batch(np.tile([[[4, 4, 20, 28]]], (4, 1, 1)), np.ones((4, 1)), (32, 32), 2)
    targets = {"heatmap": heatmap, "size": size, "offset": offset}
    model.fit(images, targets, epochs=1, batch_size=2, verbose=0)
    path = tmp_path / "detector.keras"
    model.save(path)
    loaded = keras().models.load_model(path, safe_mode=True)
    again = load_detector(path)
    for other in (loaded, again):
        assert names(other) == names(model)
        expected, got = model.predict_on_batch(images), other.predict_on_batch(images)
        for key in ("heatmap", "size", "offset"):
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
        assert isinstance(other.loss["heatmap"], HeatmapFocalLoss)
        other.fit(images, targets, epochs=1, batch_size=2, verbose=0)  # still trains after loading
    assert "Lambda" not in path.read_bytes().decode("latin-1")


def test_focal_loss_rewards_confident_hits_and_spares_the_bump():
    from cv_core._tf import keras

    loss = HeatmapFocalLoss()
    truth = np.zeros((1, 3, 3, 1), "float32")
    truth[0, 1, 1, 0] = 1.0
    truth[0, 1, 2, 0] = 0.8  # on the Gaussian bump next to the centre
    good = np.full_like(truth, 0.01)
    good[0, 1, 1, 0] = 0.99
    firing_on_bump = good.copy()
    firing_on_bump[0, 1, 2, 0] = 0.9
    firing_far = good.copy()
    firing_far[0, 0, 0, 0] = 0.9
    values = [float(loss(truth, p)) for p in (good, firing_on_bump, firing_far)]
    assert values[0] < 0.01
    assert values[0] < values[1] < values[2]  # near-misses cost less than far false alarms
    assert keras().losses.deserialize(keras().losses.serialize(loss)).get_config() == loss.get_config()


def test_center_l1_loss_looks_only_at_object_centres():
    loss = CenterL1Loss()
    truth = np.zeros((1, 2, 2, 3), "float32")
    truth[0, 0, 0] = (2.0, 4.0, 1.0)  # w, h, mask
    prediction = np.full((1, 2, 2, 2), 100.0, "float32")  # wild everywhere but at the centre...
    prediction[0, 0, 0] = (3.0, 4.0)  # ...where it is off by 1 in w
    assert float(loss(truth, prediction)) == pytest.approx(0.5)  # mean over the 2 coordinates
    assert float(loss(np.zeros_like(truth), prediction)) == 0.0  # no objects, no loss


def test_importing_the_package_or_reading_its_names_does_not_import_tensorflow():
    code = (
        "import sys, cv_core.detection as d; "
        "assert 'build_detector' in d.__all__ and 'decode_detections' in dir(d); "
        "d.mean_average_precision; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tf imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
