"""The Heatmaps, Activations, Filters and Detection pages in Traditional Chinese (issue 18).

Each page is drawn in zh-TW and every widget label, metric, tab and chart title it shows must be
Chinese (not its English msgid), with the course's terms (類別激活熱力圖, 中間層的激活結果, 過濾器,
物體偵測, 邊界框); the values behind the widgets (the keys kept in the URL) stay English, so a link
and the page's state work in both languages.

The language comes from the URL (``?lang=zh-TW``, read by ``ui.i18n``) and, for a branch where that
is not installed yet, from a language source this module installs for the test. AppTest formats a
widget's value with its ``format_func`` in the test's own thread (to read it, and to send the
widgets' state with each run): the test thread translates into the language the page was last
drawn in (``use_language``), as the browser's page would.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from cv_core import i18n
from tests.app import detection_runs, segmentation_runs
from tests.app.test_interpret_pages import APP, fake_run

CJK = re.compile(r"[\u4e00-\u9fff]")
#: Labels that are proper names, the same in every language (issue 18).
PROPER = {"mAP@0.5", "mAP@0.5:0.95"}
#: Widgets the Detection page takes from ui/task_page.py (the picture picker every task page shares):
#: another area of the translation, checked with that file.
SHARED = {"detection_source", "detection_split", "detection_index", "detection_upload", "detection_camera"}


class _Language:
    """The language the pages under test are drawn in (a mutable source for ``cv_core.i18n``)."""

    def __init__(self, stack: contextlib.ExitStack):
        self.code = "zh-TW"
        self.stack = stack
        stack.enter_context(i18n.use_language(self.code))  # this (the test's) thread

    def __call__(self) -> str:
        return self.code


@pytest.fixture
def language():
    previous = i18n._source
    with contextlib.ExitStack() as stack:
        chosen = _Language(stack)
        i18n.set_language_source(chosen)
        yield chosen
    i18n.set_language_source(previous)


def open_page(path: str, language: _Language, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"lang": language.code, **(query or {})})
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def switch_language(at: AppTest, language: _Language, code: str) -> None:
    """Open ``at``'s page in ``code`` (as the URL does); the widgets on screen are still in the old one."""
    language.code = code
    at.query_params["lang"] = code
    at.run()
    language.stack.enter_context(i18n.use_language(code))
    assert not at.exception, at.exception


def labels(at: AppTest) -> dict[str, str]:
    """Every widget's and metric's label on the page, by key (metrics by position)."""
    found = {}
    for kind in ("selectbox", "slider", "select_slider", "toggle", "segmented_control", "multiselect", "number_input",
                 "button", "radio"):
        for widget in getattr(at, kind):
            if widget.key != "language_switch" and widget.key not in SHARED:
                found[widget.key or f"{kind}{len(found)}"] = widget.label
    for n, metric in enumerate(at.metric):
        found[f"metric{n}"] = metric.label
    return found


def assert_chinese(texts, what: str) -> None:
    english = [t for t in texts if t and t not in PROPER and not CJK.search(t)]
    assert english == [], f"{what} still in English: {english}"


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def title(figure: dict) -> str:
    value = figure["layout"].get("title", {})
    return value.get("text", "") if isinstance(value, dict) else str(value)


def tab_labels(at: AppTest) -> list[str]:
    return [tab.label for tab in at.tabs]


@pytest.mark.slow
def test_heatmaps_in_chinese_keep_english_keys_and_survive_a_language_switch(runs_root, language):
    at = open_page("pages/heatmaps.py", language)
    shown = labels(at)
    assert_chinese(shown.values(), "Heatmaps labels")
    assert shown["heatmaps_method"] == "方法" and shown["heatmaps_layer"] == "目標層"
    assert shown["heatmaps_opacity"] == "熱力圖不透明度" and shown["heatmaps_model"] == "模型"
    # The values stay the English keys: the URL and the state mean the same in both languages.
    assert at.selectbox(key="heatmaps_method").value == "grad_cam"
    assert at.segmented_control(key="heatmaps_compare_kind").value == "Two methods"
    assert at.query_params["compare"] == "Two methods" and at.query_params["source"] == "Sample"
    assert "類別激活熱力圖" in text(at)
    assert "這張熱力圖可信嗎？" in [s.value for s in at.subheader]
    top5 = figures(at)[0]
    assert title(top5) == "模型認為這是什麼" and top5["layout"]["xaxis"]["title"]["text"] == "機率"
    curves = next(f for f in figures(at) if "AUC" in json.dumps(f["data"]))
    assert {trace["name"].split("（")[0] for trace in curves["data"]} >= {"依熱度順序刪除", "依熱度順序插入"}
    verdict = [e.value for kind in ("success", "warning", "error", "info") for e in getattr(at, kind)
               if "**結論。**" in str(e.value)]
    assert len(verdict) == 1 and CJK.search(verdict[0].replace("**結論。**", ""))
    # A choice made in Chinese is still there in English, and back.
    at.selectbox(key="heatmaps_method").set_value("hires_cam").run()
    switch_language(at, language, "en")
    assert at.selectbox(key="heatmaps_method").value == "hires_cam"
    assert labels(at)["heatmaps_method"] == "Method" and "Can you trust this heatmap?" in [s.value for s in at.subheader]
    switch_language(at, language, "zh-TW")
    assert at.selectbox(key="heatmaps_method").value == "hires_cam" and labels(at)["heatmaps_method"] == "方法"


def test_activations_in_chinese_describe_each_layer_in_chinese(runs_root, language):
    run_id = fake_run(runs_root)
    at = open_page("pages/activations.py", language, {"model": f"run:{run_id}"})
    assert_chinese(labels(at).values(), "Activations labels")
    assert "上一個" in labels(at).values() and "下一個" in labels(at).values()
    assert any(m.label == "激活值比例" for m in at.metric)
    # The layer's sentence comes from cv_core in the page's language (cached per language).
    descriptions = [c.value for c in at.caption if c.value.startswith(("卷積", "深度可分離卷積", "激活", "池化"))]
    assert descriptions, [c.value for c in at.caption]
    assert all(title(f) and CJK.search(title(f)) for f in figures(at))
    switch_language(at, language, "en")
    assert not any(CJK.search(c.value) for c in at.caption if c.value.startswith(("Convolution", "Depthwise")))


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_filters_in_chinese(runs_root, language):
    run_id = fake_run(runs_root)
    at = open_page("pages/filters.py", language, {"model": f"run:{run_id}"})
    assert_chinese(labels(at).values(), "Filters labels")
    assert tab_labels(at) == ["單一層", "前段、中段和後段的層"]
    assert "過濾器" in text(at)
    patterns = [img.proto.imgs[0].caption for img in at.get("image") if "過濾器 " in img.proto.imgs[0].caption]
    assert len(patterns) >= 8 and all("激發" in c or "搜尋失敗" in c for c in patterns)
    assert at.query_params["fourier"] == "on" and at.query_params["steps"] == "30"


def test_detection_in_chinese_with_english_links(lab_roots, language):
    roots = lab_roots[0]
    segmentation_runs.built_run(roots)
    detector = detection_runs.built_run(roots)
    at = open_page("pages/detection.py", language, {"detection_score": "0.1"})
    assert tab_labels(at) == ["找出邊界框", "訓練"]
    assert_chinese(labels(at).values(), "Detection labels")
    assert at.selectbox(key="detection_model_run").value == detector.name and at.query_params["run"] == detector.name
    shown = {m.label for m in at.metric}
    assert {"顯示的邊界框", "命中", "偽陽性", "漏檢"} <= shown
    titles = [title(f) for f in figures(at)]
    assert "與真實邊界框比較" in titles and any(t.endswith("個預測邊界框（滑過可看類別、分數、角點座標）") for t in titles)
    outcome = next(f for f in figures(at) if title(f) == "與真實邊界框比較")
    assert any(trace.get("name", "").startswith("真實邊界框") for trace in outcome["data"])
    table = next(df.value for df in at.dataframe if "結果" in df.value.columns)
    assert set(table["結果"]) <= {"命中", "偽陽性"} and "邊界框 (x0, y0, x1, y1)" in table.columns
    assert "邊界框" in text(at)
    at.button(key="detection_score_validation").click().run()
    assert not at.exception
    titles = [title(f) for f in figures(at)]
    assert "各類別在 IoU 0.5 下的精確率–召回率" in titles and "各類別的 AP@0.5，並排比較" in titles
    comparison = next(df.value for df in at.dataframe if "做法" in df.value.columns)
    assert [a.split("（")[0] for a in comparison["做法"]] == ["偵測器", "由分割得到的邊界框"]


def test_a_detection_link_in_english_opens_the_same_tab_in_chinese(lab_roots, language):
    at = open_page("pages/detection.py", language, {"detection_tab": "Train"})
    assert tab_labels(at) == ["找出邊界框", "訓練"]
    # Only the open tab runs (bound tabs): the Train tab's empty message, not the Find boxes tab's.
    assert "還沒有物體偵測的訓練紀錄" in text(at) and "還沒有偵測器" not in text(at)
    switch_language(at, language, "en")
    assert tab_labels(at) == ["Find boxes", "Train"]
    assert "No detection runs yet" in text(at) and "No detector yet" not in text(at)
    switch_language(at, language, "zh-TW")
    assert "還沒有物體偵測的訓練紀錄" in text(at) and "還沒有偵測器" not in text(at)
