"""Segmentation model builders: the book's exact model, the U-Net, names, checks, compiling."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cv_core.models import build_segmentation_model, build_unet, compile_segmenter
from cv_core.segmentation import class_confusion, iou_from_confusion

TINY_UNET = dict(img_size=(32, 32), num_classes=4, filters=(4, 8))
SEGMENTATION_NAME = re.compile(r"^(image|rescaling|down\d+_conv[12]|up\d+_deconv[12]|predictions)$")
UNET_NAME = re.compile(
    r"^(image|rescaling|(enc|dec)\d+_((sep)?conv[12]|bn[12]|act[12])|enc\d+_pool"
    r"|dec\d+_(upsample|concat)|predictions)$"
)


def names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def conv_params(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def test_book_segmentation_model_is_exact():
    model = build_segmentation_model()
    assert model.count_params() == 2_880_643
    assert tuple(model.input.shape) == (None, 200, 200, 3)
    assert tuple(model.output.shape) == (None, 200, 200, 3)
    assert names(model) == [
        "image", "rescaling",
        "down1_conv1", "down1_conv2", "down2_conv1", "down2_conv2", "down3_conv1", "down3_conv2",
        "up1_deconv1", "up1_deconv2", "up2_deconv1", "up2_deconv2", "up3_deconv1", "up3_deconv2",
        "predictions",
    ]
    layer = model.get_layer
    assert layer("down1_conv1").strides == (2, 2) and layer("down1_conv2").strides == (1, 1)
    assert layer("up1_deconv1").strides == (1, 1) and layer("up1_deconv2").strides == (2, 2)
    assert [layer(f"down{i}_conv2").filters for i in (1, 2, 3)] == [64, 128, 256]
    assert [layer(f"up{i}_deconv2").filters for i in (1, 2, 3)] == [256, 128, 64]
    assert layer("predictions").activation.__name__ == "softmax"
    assert all(layer(n).padding == "same" for n in names(model)[2:])


@pytest.mark.parametrize(
    "kwargs, params, output_shape",
    [
        # Each down stage: a strided conv c_in -> f and a conv f -> f, 3x3 with bias; the up
        # stages mirror them with transposed convs (same parameter count as a conv).
        (dict(img_size=(64, 48), num_classes=2, filters=(8, 16)),
         conv_params(3, 3, 8) + conv_params(3, 8, 8) + conv_params(3, 8, 16) + conv_params(3, 16, 16)
         + conv_params(3, 16, 16) + conv_params(3, 16, 16)   # up1: transposed, 16 -> 16 twice
         + conv_params(3, 16, 8) + conv_params(3, 8, 8)      # up2: 16 -> 8, then 8 -> 8
         + conv_params(3, 8, 2),
         (None, 64, 48, 2)),
        (dict(img_size=(16, 16), num_classes=5, filters=(4,)),
         conv_params(3, 3, 4) + conv_params(3, 4, 4) + 2 * conv_params(3, 4, 4) + conv_params(3, 4, 5),
         (None, 16, 16, 5)),
    ],
)
def test_segmentation_model_variants(kwargs, params, output_shape):
    model = build_segmentation_model(**kwargs)
    assert model.count_params() == params
    assert tuple(model.output.shape) == output_shape
    assert all(SEGMENTATION_NAME.match(n) for n in names(model))


def test_unet_defaults():
    model = build_unet()
    assert tuple(model.output.shape) == (None, 200, 200, 3)
    assert all(UNET_NAME.match(n) for n in names(model)), names(model)
    # Skip connections: each decoder level concatenates the upsampled map with the encoder's.
    concat = model.get_layer("dec1_concat")
    assert {t._keras_history[0].name for t in concat.input} == {"dec1_upsample", "enc1_act2"}
    assert model.get_layer("dec2_concat").output.shape[-1] == 32 + 32
    assert model.get_layer("enc3_act2").output.shape[1:3] == (50, 50)


@pytest.mark.parametrize("conv_type", ["conv2d", "separable"])
@pytest.mark.parametrize("filters, num_classes", [((16, 32, 64), 3), ((4, 8), 2), ((8, 16, 32, 64), 6)])
def test_unet_levels_follow_the_filters(conv_type, filters, num_classes):
    """Each encoder level is two units of its width; each decoder level doubles back to the
    width of the encoder level it joins, concatenates it, and has two units of that width."""
    model = build_unet(img_size=(32, 32), num_classes=num_classes, filters=filters, conv_type=conv_type)
    prefix = "sepconv" if conv_type == "separable" else "conv"
    layer = model.get_layer
    for level, width in enumerate(filters, start=1):
        assert [layer(f"enc{level}_{prefix}{unit}").filters for unit in (1, 2)] == [width, width]
        assert layer(f"enc{level}_act2").output.shape[1:3] == (32 // 2 ** (level - 1),) * 2
    for level, width in enumerate(filters[:-1], start=1):
        assert layer(f"dec{level}_concat").output.shape[-1] == 2 * width
        assert [layer(f"dec{level}_{prefix}{unit}").filters for unit in (1, 2)] == [width, width]
    assert tuple(model.output.shape) == (None, 32, 32, num_classes)


def test_unet_is_much_smaller_than_the_book_model():
    book = 2_880_643  # the book's model (Deep Learning with Python, chapter 9)
    assert build_unet().count_params() * 20 < book
    assert build_unet(conv_type="separable").count_params() * 4 < build_unet().count_params()


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_segmentation_model(),
        lambda: build_unet(),
        lambda: build_unet(conv_type="separable"),
    ],
)
def test_layer_names_are_stable_across_builds(build):
    assert names(build()) == names(build())


@pytest.mark.parametrize(
    "build, kwargs, message",
    [
        (build_segmentation_model, dict(img_size=(100, 100)), "multiples of 8"),
        (build_segmentation_model, dict(img_size=(200,)), "img_size"),
        (build_segmentation_model, dict(img_size="200"), "img_size"),
        (build_segmentation_model, dict(num_classes=1), "num_classes"),
        (build_segmentation_model, dict(num_classes=257), "num_classes"),
        (build_segmentation_model, dict(filters=()), "filters"),
        (build_segmentation_model, dict(name=""), "name"),
        (build_unet, dict(conv_type="depthwise"), r"Expected `conv_type` to be one of \('conv2d', 'separable'\)"),
        (build_unet, dict(filters=(16,)), "at least two levels"),
        (build_unet, dict(img_size=(30, 30)), "multiples of 4"),
        (build_unet, dict(num_classes=True), "num_classes"),
    ],
)
def test_bad_arguments_are_refused(build, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_compile_segmenter_trains_and_its_mean_iou_is_the_pixel_iou():
    model = compile_segmenter(build_unet(**TINY_UNET), num_classes=4)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    masks = rng.integers(0, 4, (8, 32, 32)).astype("int32")
    history = model.fit(images, masks, epochs=1, batch_size=4, verbose=0)
    assert {"loss", "accuracy", "mean_iou"} <= set(history.history)
    results = model.evaluate(images, masks, batch_size=8, verbose=0, return_dict=True)
    predicted = model.predict(images, verbose=0).argmax(-1)
    confusion = class_confusion(masks, predicted, 4)
    assert results["accuracy"] == pytest.approx(np.trace(confusion) / confusion.sum(), abs=1e-5)
    # Keras averages over classes present in the truth or the prediction, as nanmean does.
    assert results["mean_iou"] == pytest.approx(np.nanmean(iou_from_confusion(confusion)), abs=1e-5)


def test_compiled_segmenter_saves_and_loads_safely(tmp_path):
    from cv_core._tf import keras

    model = compile_segmenter(build_segmentation_model(img_size=(16, 16), num_classes=2, filters=(4, 8)), 2)
    model.optimizer.build(model.trainable_variables)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras().models.load_model(path, safe_mode=True)
    assert names(loaded) == names(model)
    x = np.zeros((1, 16, 16, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_classes=3), r"output shape \(batch, H, W, 3\)"),
        (dict(num_classes=4, learning_rate=0), "learning_rate"),
        (dict(num_classes=4, learning_rate=float("nan")), "learning_rate"),
        (dict(num_classes=4, optimizer="adagrad"), "optimizer"),
    ],
)
def test_compile_segmenter_refuses_mismatches(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compile_segmenter(build_unet(**TINY_UNET), **kwargs)
