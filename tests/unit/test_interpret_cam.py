"""Heatmap methods: known answers on hand-built models (Functional, Sequential, nested),
shapes and ranges, class choice, test-time smoothing, and friendly errors."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.interpret import (
    METHODS,
    activation_layers,
    activations,
    class_probabilities,
    explain,
    grad_cam,
    last_conv_layer,
    overlay,
)

SIZE = 32
REGION = (slice(4, 14), slice(18, 28))  # rows, columns the class score depends on


def _keras():
    from cv_core._tf import keras

    return keras()


def _region_layer():
    """A layer that zeroes everything outside REGION (a fixed, weightless multiplication)."""
    keras = _keras()

    class KeepRegion(keras.layers.Layer):
        def call(self, x):
            mask = np.zeros((1, SIZE, SIZE, 1), np.float32)
            mask[0, REGION[0], REGION[1]] = 1.0
            return x * mask

    return KeepRegion(name="keep_region")


def _feature_layers():
    keras = _keras()
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv", kernel_initializer="he_uniform",
                               bias_initializer="zeros")
    return [_region_layer(), conv, keras.layers.Activation("relu", name="conv_act")]


def _head_layers():
    keras = _keras()
    dense = keras.layers.Dense(3, activation="softmax", name="predictions")
    return [keras.layers.GlobalAveragePooling2D(name="pool"), dense]


def _set_head(model):
    """Class 1 grows with every feature, class 0 shrinks, class 2 ignores them."""
    dense = next(layer for layer in model.layers if layer.name == "predictions") \
        if any(layer.name == "predictions" for layer in model.layers) else None
    kernel = np.zeros((4, 3), np.float32)
    kernel[:, 0], kernel[:, 1] = -1.0, 1.0
    dense.set_weights([kernel, np.zeros(3, np.float32)])
    conv = next(l for l in _all_layers(model) if l.name == "conv")
    kernel, bias = conv.get_weights()
    conv.set_weights([np.abs(kernel), bias])  # positive responses to positive pixels
    return model


def _all_layers(model):
    keras = _keras()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def functional_model():
    keras = _keras()
    x = inputs = keras.Input((SIZE, SIZE, 3), name="image")
    for layer in _feature_layers() + _head_layers():
        x = layer(x)
    return _set_head(keras.Model(inputs, x, name="functional"))


def sequential_model():
    keras = _keras()
    model = keras.Sequential(_feature_layers() + _head_layers(), name="sequential")
    model.build((None, SIZE, SIZE, 3))
    return _set_head(model)


def nested_model():
    keras = _keras()
    x = inner_in = keras.Input((SIZE, SIZE, 3), name="inner_image")
    for layer in _feature_layers():
        x = layer(x)
    inner = keras.Model(inner_in, x, name="backbone")
    outer_in = keras.Input((SIZE, SIZE, 3), name="image")
    x = inner(outer_in)
    for layer in _head_layers():
        x = layer(x)
    return _set_head(keras.Model(outer_in, x, name="nested"))


BUILDERS = {"functional": functional_model, "sequential": sequential_model, "nested": nested_model}


@pytest.fixture(scope="module", params=list(BUILDERS))
def region_model(request):
    return BUILDERS[request.param]()


def _image(seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)


def _inside_share(heatmap):
    inside = heatmap[REGION].sum()
    return inside / max(heatmap.sum(), 1e-12)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_peaks_in_the_region_the_score_depends_on(region_model, method):
    result = explain(region_model, _image(), method=method)
    heatmap = result.heatmap
    assert heatmap.shape == (SIZE, SIZE) and heatmap.dtype == np.float32
    assert 0.0 <= heatmap.min() and heatmap.max() == pytest.approx(1.0)
    peak = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    # bilinear upsampling may spread a pixel or two over the region's edge
    assert 3 <= peak[0] <= 14 and 17 <= peak[1] <= 28, f"peak at {peak}"
    assert _inside_share(heatmap) > 0.8
    assert result.class_index == 1  # the only class the features raise


def test_last_conv_layer_finds_the_conv_in_every_kind_of_model(region_model):
    assert last_conv_layer(region_model) == "conv_act"


def test_class_index_is_respected_and_checked(region_model):
    result = explain(region_model, _image(), method="grad_cam", class_index=0)
    assert result.class_index == 0
    assert result.heatmap.max() == 0.0  # every feature lowers class 0: nothing to show after ReLU
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(region_model, _image(), class_index=3)


def test_probabilities_match_the_model(region_model):
    image = _image(3)
    expected = np.asarray(region_model(image[None], training=False))[0]
    np.testing.assert_allclose(class_probabilities(region_model, image), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explain(region_model, image).probabilities, expected, rtol=1e-5, atol=1e-6)


def red_detector():
    """Features respond to red pixels wherever they are, so the answer moves with the content."""
    keras = _keras()
    x = inputs = keras.Input((SIZE, SIZE, 3), name="image")
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv")
    x = keras.layers.Activation("relu", name="conv_act")(conv(x))
    for layer in _head_layers():
        x = layer(x)
    model = keras.Model(inputs, x, name="red_detector")
    kernel = np.zeros((3, 3, 3, 4), np.float32)
    kernel[:, :, 0, :] = 1.0  # red in, every feature out
    kernel[:, :, 1:, :] = -1.0
    conv.set_weights([kernel, np.zeros(4, np.float32)])
    head = np.zeros((4, 3), np.float32)
    head[:, 1] = 1.0
    model.get_layer("predictions").set_weights([head, np.zeros(3, np.float32)])
    return model


@pytest.mark.parametrize("method", ["grad_cam", "grad_cam_plus_plus", "score_cam"])
def test_test_time_smoothing_keeps_the_answer(method):
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    image[REGION] = (1.0, 0.0, 0.0)
    model = red_detector()
    plain = explain(model, image, method=method).heatmap
    smoothed = explain(model, image, method=method, augment=True).heatmap
    assert smoothed.shape == (SIZE, SIZE)
    assert _inside_share(plain) > 0.6 and _inside_share(smoothed) > 0.6
    assert not np.allclose(plain, smoothed)  # the extra views did change the map


def test_smoothgrad_with_smoothing_is_a_valid_map_and_seeded():
    model = functional_model()
    first = explain(model, _image(), method="smoothgrad", augment=True).heatmap
    again = explain(model, _image(), method="smoothgrad", augment=True).heatmap
    assert first.shape == (SIZE, SIZE) and first.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(first, again)


def test_grad_cam_accepts_a_batch_of_one_and_uint8():
    model = functional_model()
    image = (_image() * 255).astype(np.uint8)
    np.testing.assert_allclose(grad_cam(model, image[None]), grad_cam(model, image), atol=1e-6)


def test_wrong_image_shape_and_layer_give_clear_errors():
    model = functional_model()
    with pytest.raises(ValueError, match="Resize"):
        grad_cam(model, np.zeros((16, 16, 3)))
    with pytest.raises(ValueError, match="one image"):
        grad_cam(model, np.zeros((2, SIZE, SIZE, 3)))
    with pytest.raises(ValueError, match="layer_name"):
        grad_cam(model, _image(), layer_name="no_such_layer")
    with pytest.raises(ValueError, match="method"):
        explain(model, _image(), method="magic")


def test_a_two_class_sigmoid_model_explains_both_classes():
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=2, filters=(4, 8), augmentation=False)
    image = np.random.default_rng(1).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    p = float(np.asarray(model(image[None], training=False))[0, 0])
    result = explain(model, image, class_index=0)
    np.testing.assert_allclose(result.probabilities, [1 - p, p], rtol=1e-5)
    assert explain(model, image, class_index=1).class_index == 1


def test_activations_of_the_mini_xception_match_sub_models():
    from cv_core._tf import keras
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(40, 40, 3), num_classes=5, filters=(4, 8, 16), augmentation=False)
    image = np.random.default_rng(2).uniform(0, 255, (40, 40, 3)).astype(np.float32)
    result = activations(model, image)
    names = [info.name for info in activation_layers(model)]
    assert list(result) == names
    assert {"stem_conv", "block1_bn1", "block1_act1", "block1_sepconv1", "block3_pool", "global_pool"} <= set(names)
    assert "block1_add" not in names and "predictions" not in names  # neither conv, pool, norm nor activation
    for name in ("block1_sepconv1", "block3_pool", "global_pool"):
        sub = keras().Model(model.input, model.get_layer(name).output)
        np.testing.assert_allclose(result[name], np.asarray(sub(image[None], training=False)), rtol=1e-4, atol=1e-4)
    assert result["block1_sepconv1"].shape == (1, 36, 36, 4)
    only = activations(model, image, ["block2_act1"])
    assert list(only) == ["block2_act1"]


def test_activations_reach_inside_nested_models():
    model = nested_model()
    result = activations(model, _image())
    assert {"conv", "conv_act", "pool"} <= set(result)
    assert result["conv"].shape == (1, SIZE, SIZE, 4)


def test_layer_descriptions_say_what_each_layer_does():
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(40, 40, 3), num_classes=5, filters=(4, 8), augmentation=False)
    info = {i.name: i for i in activation_layers(model)}
    assert "separable" in info["block1_sepconv1"].description.lower()
    assert "8 1 × 1 filters" in info["block2_sepconv1"].description
    assert info["block1_pool"].kind == "pooling" and "3 × 3" in info["block1_pool"].description
    assert info["block1_bn1"].kind == "normalization"
    assert info["block1_sepconv1"].output_shape == (36, 36, 4)


def test_overlay_blends_and_checks_its_arguments():
    photo = np.full((20, 30, 3), 100, np.uint8)
    heat = np.zeros((5, 5), np.float32)
    heat[2, 2] = 1.0
    assert np.array_equal(overlay(photo, heat, 0.0), photo)
    full = overlay(photo, heat, 1.0)
    assert full.shape == (20, 30, 3) and full.dtype == np.uint8
    centre, corner = full[10, 15].astype(int), full[0, 0].astype(int)
    assert centre[0] > corner[0] and corner[2] > corner[0]  # hot is red, cold is blue
    with pytest.raises(ValueError, match="alpha"):
        overlay(photo, heat, 1.5)
    with pytest.raises(ValueError, match="2-D"):
        overlay(photo, np.zeros((2, 2, 2)), 0.5)
