"""Model anatomy: per-layer and per-block parameters, shapes and multiply-adds, and their figures."""

from __future__ import annotations

import pytest

from cv_core._tf import keras as _keras
from cv_core.anatomy import block_table, compare_anatomy, layer_table, total_mult_adds
from cv_core.models import build_mini_xception, build_small_convnet
from cv_core.plots.architecture import compare_figure, pyramid_figure
from tests.unit.layer_params import params_from_shapes

keras = _keras()
layers = keras.layers


@pytest.fixture(scope="module")
def vgg16():
    return keras.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))


@pytest.fixture(scope="module")
def xception():
    return keras.applications.Xception(weights=None, include_top=False, input_shape=(71, 71, 3))


@pytest.fixture(scope="module")
def mini_xception():
    return build_mini_xception()


@pytest.fixture(scope="module")
def mini_xception_conv2d():
    return build_mini_xception(conv_type="conv2d")


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_mult_adds_follow_the_documented_formulas():
    inputs = keras.Input((10, 10, 4), name="image")
    x = layers.Conv2D(6, 3, name="conv")(inputs)  # 8x8x6
    x = layers.Conv2D(4, 3, padding="same", groups=2, name="grouped")(x)  # 8x8x4
    x = layers.SeparableConv2D(5, 3, depth_multiplier=2, padding="same", strides=2, name="separable")(x)  # 4x4x5
    x = layers.DepthwiseConv2D(3, depth_multiplier=3, padding="same", name="depthwise")(x)  # 4x4x15
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Conv2DTranspose(2, 3, strides=2, padding="same", name="transpose")(x)  # 8x8x2
    x = layers.MaxPooling2D(2, name="pool")(x)  # 4x4x2
    x = layers.Dense(3, name="dense_per_pixel")(x)  # 4x4x3
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(7, name="dense")(x)
    model = keras.Model(inputs, outputs)

    rows = by_name(layer_table(model))
    assert rows["conv"]["mult_adds"] == 8 * 8 * 3 * 3 * 4 * 6
    assert rows["grouped"]["mult_adds"] == 8 * 8 * 3 * 3 * 6 * 4 // 2
    assert rows["separable"]["mult_adds"] == 4 * 4 * 3 * 3 * 4 * 2 + 4 * 4 * 4 * 2 * 5
    assert rows["depthwise"]["mult_adds"] == 4 * 4 * 3 * 3 * 5 * 3
    assert rows["transpose"]["mult_adds"] == 4 * 4 * 3 * 3 * 15 * 2
    assert rows["dense_per_pixel"]["mult_adds"] == 4 * 4 * 2 * 3
    assert rows["dense"]["mult_adds"] == 48 * 7
    for name in ("image", "bn", "pool", "flatten"):
        assert rows[name]["mult_adds"] == 0
    assert rows["separable"]["output_shape"] == (4, 4, 5)
    assert rows["separable"]["type"] == "SeparableConv2D"
    assert rows["bn"]["params"] == 4 * 15
    assert total_mult_adds(model) == sum(row["mult_adds"] for row in rows.values())


def test_layer_table_params_add_up(mini_xception, vgg16, xception):
    for model in (mini_xception, vgg16, xception):
        rows = layer_table(model)
        assert len(rows) == len(model.layers)
        assert sum(row["params"] for row in rows) == model.count_params()
        assert sum(row["params"] for row in block_table(model)) == model.count_params()


def test_mini_xception_block_table(mini_xception):
    rows = block_table(mini_xception)
    assert [row["block"] for row in rows] == ["stem", "block1", "block2", "block3", "block4", "block5", "head"]
    assert [row["output_shape"] for row in rows] == [
        (176, 176, 32), (88, 88, 32), (44, 44, 64), (22, 22, 128), (11, 11, 256), (6, 6, 512), (1,),
    ]  # fmt: skip
    block1 = rows[1]
    assert block1["layers"] == 9
    # Two separable convs on the 176x176x32 stem output plus the 1x1 strided shortcut.
    assert block1["mult_adds"] == 2 * 176 * 176 * (3 * 3 * 32 + 32 * 32) + 88 * 88 * 32 * 32
    assert rows[0]["mult_adds"] == 176 * 176 * 5 * 5 * 3 * 32
    assert rows[-1]["mult_adds"] == 512
    assert total_mult_adds(mini_xception) == sum(row["mult_adds"] for row in rows) == 383_028_992


def test_vgg16_mult_adds_match_the_published_count():
    model = keras.applications.VGG16(weights=None, include_top=False, input_shape=(224, 224, 3))
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128)]
    convs += [(56, 128, 256)] + [(56, 256, 256)] * 2 + [(28, 256, 512)] + [(28, 512, 512)] * 2 + [(14, 512, 512)] * 3
    expected = sum(size * size * 9 * c_in * c_out for size, c_in, c_out in convs)
    assert total_mult_adds(model) == expected == 15_346_630_656  # + 123.6 M in the top = the usual 15.5 G


def test_vgg16_pyramid(vgg16):
    rows = block_table(vgg16)
    assert [row["block"] for row in rows] == ["stem", "block1", "block2", "block3", "block4", "block5"]
    assert [row["output_shape"] for row in rows[1:]] == [
        (32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512), (2, 2, 512),
    ]  # fmt: skip


def test_xception_unnamed_residual_layers_join_their_block(xception):
    rows = layer_table(xception)
    blocks = [row["block"] for row in rows]
    assert blocks[0] == "stem"
    assert list(dict.fromkeys(blocks)) == ["stem"] + [f"block{i}" for i in range(1, 15)]
    for block in ("block2", "block3", "block4", "block13"):
        types = [row["type"] for row in rows if row["block"] == block]
        assert types.count("Add") == 1 and types.count("Conv2D") == 1
    assert {row["block"] for row in rows if row["type"] == "Add"} == {f"block{i}" for i in range(2, 14)}


def test_models_without_block_names_get_a_row_per_layer():
    inputs = keras.Input((8, 8, 3), name="image")
    outputs = layers.Conv2D(2, 3, name="conv")(inputs)
    rows = block_table(keras.Model(inputs, outputs))
    assert [row["block"] for row in rows] == ["image", "conv"]


def test_nested_models_are_expanded(vgg16):
    inputs = keras.Input((64, 64, 3), name="image")
    x = layers.GlobalAveragePooling2D(name="global_pool")(vgg16(inputs))
    model = keras.Model(inputs, layers.Dense(3, name="predictions")(x))
    rows = block_table(model)
    assert [row["block"] for row in rows] == ["stem", "block1", "block2", "block3", "block4", "block5", "head"]
    assert sum(row["params"] for row in rows) == model.count_params()


def test_unknown_input_size_gives_none_and_total_raises():
    inputs = keras.Input((None, None, 3), name="image")
    model = keras.Model(inputs, layers.Conv2D(2, 3, name="block1_conv")(inputs))
    assert by_name(layer_table(model))["block1_conv"]["mult_adds"] is None
    assert block_table(model)[-1]["mult_adds"] is None
    with pytest.raises(ValueError, match="Expected a model with a fixed input size.*block1_conv"):
        total_mult_adds(model)


def test_compare_anatomy_shows_where_separable_convs_save(mini_xception_conv2d, mini_xception):
    rows = compare_anatomy(mini_xception_conv2d, mini_xception)
    assert [row["block"] for row in rows] == ["stem", "block1", "block2", "block3", "block4", "block5", "head"]
    for row in rows[1:-1]:
        assert row["output_shape_a"] == row["output_shape_b"]
        assert row["params_ratio"] < 0.2
        assert row["mult_adds_ratio"] < 0.16
        assert row["params_ratio"] == pytest.approx(row["params_b"] / row["params_a"])
    assert rows[0]["params_ratio"] == rows[0]["mult_adds_ratio"] == rows[-1]["params_ratio"] == 1.0
    assert sum(row["params_a"] for row in rows) == params_from_shapes(mini_xception_conv2d)  # no published count
    assert sum(row["params_b"] for row in rows) == 721_857


def test_compare_anatomy_with_different_blocks():
    small = build_small_convnet(input_shape=(78, 78, 3))
    mini = build_mini_xception(input_shape=(78, 78, 3), filters=(8, 8, 8, 8, 8, 8))
    rows = {row["block"]: row for row in compare_anatomy(small, mini)}
    assert list(rows) == ["stem", "block1", "block2", "block3", "block4", "block5", "head", "block6"]
    assert rows["block6"]["params_a"] == 0 and rows["block6"]["params_ratio"] is None
    assert rows["block6"]["output_shape_a"] is None and rows["block6"]["params_b"] > 0
    assert rows["stem"]["params_ratio"] is None  # the small convnet's stem has no weights


def test_pyramid_figure(vgg16):
    rows = block_table(vgg16)
    fig = pyramid_figure(rows, title="VGG16")
    bars, line = fig.data
    assert list(bars.x) == ["stem", "block1", "block2", "block3", "block4", "block5"]
    assert list(bars.y) == [64, 32, 16, 8, 4, 2]
    assert list(line.y) == [3, 64, 128, 256, 512, 512]
    assert bars.name and line.name
    assert fig.layout.title.text == "VGG16"
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text and fig.layout.xaxis.title.text
    with pytest.raises(ValueError, match=r"Expected block rows with \(H, W, C\)"):
        pyramid_figure([{"block": "head", "output_shape": (10,)}])


def test_compare_figure(mini_xception_conv2d, mini_xception):
    rows = compare_anatomy(mini_xception_conv2d, mini_xception)
    fig = compare_figure(rows, labels=("Conv2D", "SeparableConv2D"))
    assert len(fig.data) == 4
    assert [trace.name for trace in fig.data] == ["Conv2D", "SeparableConv2D"] * 2
    assert [trace.showlegend for trace in fig.data] == [True, True, False, False]
    assert list(fig.data[1].y) == [row["params_b"] for row in rows]
    assert list(fig.data[3].y) == [row["mult_adds_b"] for row in rows]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert compare_figure(rows, log_scale=False).layout.yaxis.type == "linear"


def _rss_mb() -> float:
    from pathlib import Path

    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


@pytest.mark.slow
def test_a_big_model_is_measured_in_another_process_and_leaves_no_memory_behind(monkeypatch, tmp_path):
    from cv_core.anatomy import summarise_in_subprocess

    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path))  # measured here, not read from the suite's cache
    before = _rss_mb()
    summary = summarise_in_subprocess({"kind": "application", "name": "VGG16", "input_shape": [224, 224, 3]})
    assert summary["params"] == 138_357_544 and summary["mult_adds"] == 15_470_264_320
    assert {"block1", "block5", "head"} <= {row["block"] for row in summary["blocks"]}
    assert _rss_mb() - before < 100  # building it here would add over 1 GB for good


def test_measuring_in_another_process_reports_the_builders_message():
    from cv_core.anatomy import summarise_in_subprocess

    spec = {"model": "mini_xception", "conv_type": "separable", "batchnorm": "none", "residual": True,
            "filters": [8, 16, 32, 64, 128, 256], "image_size": 20, "augmentation": False, "dropout_rate": 0.0}
    with pytest.raises(ValueError, match="Expected `input_shape` height and width of at least 37 pixels"):
        summarise_in_subprocess({"kind": "spec", "spec": spec, "num_classes": 5})
