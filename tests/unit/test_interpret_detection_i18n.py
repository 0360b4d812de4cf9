"""The sentences and charts cv_core gives the interpretation and detection pages, in Traditional
Chinese under ``use_language("zh-TW")`` and unchanged in English (issue 18)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cv_core.i18n import use_language
from cv_core.interpret.trust import READING, class_chance_note, read_trust, sanity_verdict
from cv_core.plots.detection import EMPTY_CURVES, outcomes_figure, precision_recall_figure
from cv_core.plots.interpret import causal_curves_figure, sanity_figure, top_predictions_figure
from cv_core.plots.labels import CHAR_WIDTH, WIDE_CHAR_WIDTH, label_extent, text_width

CJK = re.compile(r"[\u4e00-\u9fff]")


def _curve(auc: float, random_auc: float) -> dict:
    fractions = np.linspace(0, 1, 5)
    return {"fractions": fractions, "probabilities": fractions, "auc": auc, "random_auc": random_auc,
            "random_probabilities": fractions}


KEPT = {"probability_full": 0.9, "probability_kept": 0.8, "kept_fraction": 0.3, "change": -0.1}
WHERE = {"energy_inside": 0.7, "mask_fraction": 0.2, "pointing_hit": True}


def test_trust_sentences_follow_the_language():
    english = read_trust(_curve(0.1, 0.4), _curve(0.9, 0.4), KEPT, WHERE, probability=0.9, class_name="cat")
    with use_language("zh-TW"):
        chinese = read_trust(_curve(0.1, 0.4), _curve(0.9, 0.4), KEPT, WHERE, probability=0.9, class_name="cat")
    assert english["verdict"].status == chinese["verdict"].status == "good"
    assert english["verdict"].sentence.startswith("Every check agrees")
    assert "「cat」" in chinese["verdict"].sentence and CJK.search(chinese["verdict"].sentence)
    for check, reading in chinese["checks"].items():
        assert reading.status == english["checks"][check].status
        assert CJK.search(reading.sentence) and reading.sentence != english["checks"][check].sentence, check
    # The numbers are the same numbers in both languages.
    assert "0.100" in chinese["checks"]["deletion"].sentence and "70%" in chinese["checks"]["localisation"].sentence


def test_the_low_chance_note_and_the_sanity_verdicts_in_chinese():
    with use_language("zh-TW"):
        note = class_chance_note(0.0004, "snorkel")
        passes = sanity_verdict([1.0, 0.3, 0.1], ["original", "head", "body"])
        fails = sanity_verdict([1.0, 0.9, 0.95])
        vanished = sanity_verdict([1.0, 0.4, 0.0], ["original", "head", "body"], vanished=[False, False, True])
    assert "「snorkel」" in note and "0.0%" in note
    assert passes.startswith("通過") and "'head'" in passes and "0.10" in passes
    assert fails.startswith("未通過") and vanished.startswith("未通過") and "'body'" in vanished
    assert sanity_verdict([1.0, 0.9, 0.95]).startswith("Fails")  # English outside the block


def test_reading_texts_are_english_constants_translated_where_shown():
    from cv_core.i18n import _

    with use_language("zh-TW"):
        shown = {key: _(text) for key, text in READING.items()}
    assert all(CJK.search(text) for text in shown.values())
    assert READING["deletion"].startswith("The class probability")  # the constant itself stays English
    assert "熱力圖" in shown["deletion"] and "熱力圖" in shown["sanity_check"]


@pytest.mark.slow
def test_describe_layer_speaks_the_course_terms(tmp_path):
    from cv_core._tf import keras
    from cv_core.interpret import activation_layers

    k = keras()
    inputs = k.Input((16, 16, 3))
    x = k.layers.SeparableConv2D(8, 3, activation="relu", name="sep")(inputs)
    x = k.layers.BatchNormalization(name="bn")(x)
    x = k.layers.Conv2D(4, 3, strides=2, name="conv")(x)
    x = k.layers.MaxPooling2D(2, name="pool")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    model = k.Model(inputs, k.layers.Dense(2, activation="softmax", name="out")(x))
    english = {info.name: info.description for info in activation_layers(model)}
    with use_language("zh-TW"):
        chinese = {info.name: info.description for info in activation_layers(model)}
    assert english["sep"] == ("Depthwise separable convolution: one 3 × 3 filter per input channel, then 8 1 × 1 "
                              "filters mixing the channels, then relu.")
    assert english["conv"] == "Convolution: 4 filters of 3 × 3, stride 2 × 2."
    assert chinese["sep"].startswith("深度可分離卷積") and "過濾器" in chinese["sep"] and "relu 激活" in chinese["sep"]
    assert chinese["bn"].startswith("批次正規化") and "移動平均值" in chinese["bn"]
    assert chinese["conv"] == "卷積：4 個 3 × 3 的過濾器，步幅 2 × 2。"
    assert chinese["pool"].startswith("池化") and chinese["gap"].startswith("全域池化")


def test_interpretation_charts_in_chinese():
    with use_language("zh-TW"):
        top = top_predictions_figure([(285, "Egyptian cat", 0.7), (281, "tabby", 0.2)])
        curves = causal_curves_figure(_curve(0.1, 0.4), _curve(0.9, 0.4), class_name="cat")
        sanity = sanity_figure(["original", "conv10"], {"grad_cam": [1.0, 0.2]}, {"grad_cam": "Grad-CAM"},
                               vanished={"grad_cam": [False, True]})
    assert top.layout.title.text == "最可能的預測" and top.layout.xaxis.title.text == "機率"
    assert curves.layout.title.text == "最熱的像素被移除或顯露時，cat 的機率"
    assert [t.name for t in curves.data] == ["依熱度順序刪除（AUC 0.100）", "依隨機順序刪除（AUC 0.400）",
                                             "依熱度順序插入（AUC 0.900）", "依隨機順序插入（AUC 0.400）"]
    assert list(sanity.data[0].x) == ["原始", "conv10"]  # "original" is a word; block names stay
    assert sanity.data[1].name == "Grad-CAM：熱力圖消失" and sanity.layout.title.text.startswith("健全性檢查")
    english = top_predictions_figure([(285, "Egyptian cat", 0.7)])
    assert english.layout.title.text == "Top predictions"


def test_detection_charts_in_chinese():
    picture = np.zeros((32, 32, 3), np.uint8)
    boxes, truths = [(0, 2, 2, 10, 10, 0.9), (1, 20, 20, 30, 30, 0.4)], [(0, 2, 2, 10, 10), (1, 12, 2, 20, 8)]
    with use_language("zh-TW"):
        outcome = outcomes_figure(picture, boxes, [True, False], truths, [True, False], ["circle", "square"])
        empty = precision_recall_figure({}, ["circle"])
        curves = precision_recall_figure({0: ([0.5, 1.0], [1.0, 0.5], 0.75)}, ["circle"])
    names = [t.name for t in outcome.data if getattr(t, "showlegend", False)]
    assert names == ["真實邊界框，已找到（1）", "真實邊界框，漏檢（1）", "命中（1）", "偽陽性（1）"]
    assert outcome.layout.title.text == "與真實邊界框比較"
    assert empty.layout.annotations[0].text != EMPTY_CURVES["no_truth"] and "邊界框" in empty.layout.annotations[0].text
    assert curves.layout.xaxis.title.text == "召回率" and curves.layout.yaxis.title.text == "精確率"
    assert "召回率 %{x:.2f}" in curves.data[0].hovertemplate  # plotly's own fields survive the translation


@pytest.mark.parametrize("text, wide", [("star 0.09", 0), ("星形 0.09", 2), ("十字 3", 2)])
def test_chinese_labels_are_measured_wider(text, wide):
    narrow = len(text) - wide
    assert text_width(text) == pytest.approx(wide * WIDE_CHAR_WIDTH + narrow * CHAR_WIDTH)
    assert label_extent(text, 10)[0] == pytest.approx(text_width(text) * 10 + 4)
