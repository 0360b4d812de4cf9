"""The niche-task pages in Traditional Chinese (issue 18): Similarity, Keypoints and pose, Keypoint studio.

Each page is drawn in zh-TW and read back: its title, tabs, widget labels, metrics, chart titles and
table headers are Chinese, in the course's terms (影像相似性評分, 關鍵點偵測, 姿勢預估, 熱力圖), and
no label is left as its English words. The values behind the labels do not change with the language:
option values, joint names and URL parameters stay English, so a link made in one language opens the
same tabs and choices in the other.

The page's language comes from the URL (``?lang=zh-TW``) once ``ui.i18n`` installs it; before that,
``cv_core.i18n.set_language_source`` stands in for it (the fixture sets both).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core import i18n
from tests.app import keypoint_runs

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.slow  # the pages import TensorFlow; Similarity loads SqueezeNet


@pytest.fixture
def zh_tw(lab_roots, tmp_path, monkeypatch):
    """Pages drawn in Traditional Chinese (fresh runs and data folders); English again afterwards."""
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path / "cache"))
    i18n.set_language_source(lambda: "zh-TW")
    # AppTest formats widget values with their format_func in this (the test's) thread: it reads them
    # in the page's language, as the browser does.
    with i18n.use_language("zh-TW"):
        yield lab_roots
    i18n.set_language_source(None)


def chinese(message: str) -> str:
    with i18n.use_language("zh-TW"):
        return i18n._(message)


def open_page(page: str, query: dict | None = None, timeout: int = 240) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update({"lang": "zh-TW", **(query or {})})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


#: Widgets the task-page scaffold (ui/task_page.py, shared with detection and segmentation) draws: marked with
#: that file, not with these pages.
SCAFFOLD = ("_split", "_index", "_source", "_upload", "_camera")


def widget_labels(at: AppTest, prefixes: tuple[str, ...]) -> dict[str, str]:
    """``{key: label}`` of the page's own widgets (keys starting with ``prefixes``; not the scaffold's)."""
    kinds = ("selectbox", "multiselect", "number_input", "slider", "select_slider", "toggle", "checkbox", "radio",
             "text_input", "text_area", "button")
    found = {}
    for kind in kinds:
        for widget in getattr(at, kind):
            if widget.key and widget.key.startswith(prefixes) and not (
                    widget.key.startswith("keypoints_") and widget.key.endswith(SCAFFOLD)):
                found[widget.key] = widget.label
    for group in at.get("button_group"):  # segmented controls: the user key ends the element id
        key = getattr(group.proto, "id", "")
        if any(prefix in key for prefix in prefixes) and not ("keypoints_" in key and key.endswith(SCAFFOLD)):
            found[key] = group.proto.label
    return found


#: Words these pages share with others, translated by another area's entries (the navigation's page titles, the
#: data pages' split names, interpretation and detection's words): until those land on this branch they show in
#: English, and once they do they must show in Chinese.
SHARED = ("Train", "Score threshold", "Upload", "Camera", "Picture", "score", "hit", "Similarity", "Keypoints and pose",
          "Keypoint studio", "Split", "Dataset", "train", "validation", "test", "Upload a picture", "shapes")


def untranslated_shared() -> set[str]:
    return {word for word in SHARED if chinese(word) == word}


def shown(message: str) -> str:
    """What a page in Chinese shows for ``message``: its translation (the catalog's, for the shared words)."""
    return chinese(message)


def assert_chinese(labels, english_words: set[str]) -> None:
    """Every label has Chinese in it and none is left as an English msgid (but a shared word not translated yet)."""
    labels = [label for label in labels if label not in untranslated_shared()]
    assert labels
    assert [label for label in labels if not CJK.search(label)] == []
    assert set(labels).isdisjoint(english_words)


def figures(at: AppTest) -> dict:
    return {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
            for c in at.get("plotly_chart")}


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_the_catalog_speaks_the_course_terms():
    assert chinese("Similarity") in ("Similarity", "影像相似性評分")  # the navigation's entry, once it lands
    assert chinese("Keypoints and pose") in ("Keypoints and pose", "關鍵點偵測與姿勢預估")
    assert "姿勢預估" in chinese("Multi-person pose") and "熱力圖" in chinese("One joint's heatmap")
    assert "熱力圖" in chinese("Heatmaps vs regression") and "迴歸" in chinese("Heatmaps vs regression")
    assert "邊界框" in chinese(
        "Each skeleton joins the joints the model found; a filled dot is a joint its heatmap confirmed, a hollow "
        "one was only read from the person's centre. The dashed box is the person's box, and the white arrow "
        "points the way the torso is upright: 0° is straight up, positive angles lean to the left.")
    with i18n.use_language("zh-TW"):
        from cv_core.keypoints import joint_label

        assert joint_label("left_ankle") == "左腳踝" and joint_label("tail") == "tail"  # your own points keep names


def test_similarity_in_chinese(zh_tw):
    at = open_page("pages/similarity.py")
    assert at.title[0].value == shown("Similarity")
    assert [tab.label for tab in at.tabs] == ["兩張圖片", "最近鄰", "嵌入向量地圖", shown("Train")]
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"像素 · SSIM", "預訓練 · SqueezeNet 1.1 特徵", "學到的嵌入向量"}
    assert "為什麼它們看起來相像" in text(at) and "它們有多像？" in text(at)
    labels = widget_labels(at, ("similarity_a_", "similarity_b_", "similarity_features", "similarity_run"))
    assert_chinese(labels.values(), {"First picture", "Second picture", "Split", "Explain with", "Embedding"})
    # The source control shows Chinese while its value (kept in the URL of English links) stays the key.
    split = at.selectbox(key="similarity_a_split.zh-TW")  # its labels are translated: its own key (ui.i18n)
    assert split.value in ("validation", "test", "train") and shown("validation") in split.options
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert any("和第二張圖片相像的地方" in c for c in captions)


def test_an_english_link_opens_the_same_tab_in_chinese(zh_tw):
    at = open_page("pages/similarity.py", {"similarity_tab": "Train"})
    assert "還沒有相似性的訓練紀錄" in text(at)  # the Train tab is open, in Chinese
    at = open_page("pages/keypoints.py", {"keypoints_tab": "Heatmaps vs regression"})
    assert "這個比較需要兩個在臉部特徵點上的訓練紀錄" in text(at)  # the comparison tab, said in Chinese
    at = open_page("pages/keypoints.py", {"keypoints_tab": chinese("Heatmaps vs regression")})
    assert "這個比較需要兩個在臉部特徵點上的訓練紀錄" in text(at)  # a Chinese link too


def test_an_english_links_choices_open_in_chinese_and_a_switch_keeps_them(zh_tw):
    """Widgets bound to the URL whose labels are translated have a key (and URL parameter) per language
    (``ui.i18n.widget_key``); the English parameters of a link still choose the same options in Chinese."""
    at = open_page("pages/similarity.py", {"similarity_a_source": "Photo", "similarity_a_photo": "coffee",
                                           "similarity_b_split": "test"})
    assert at.get("button_group")  # (the source controls)
    assert at.button_group(key="similarity_a_source.zh-TW").value == "Photo"
    assert at.selectbox(key="similarity_a_photo").value == "coffee"
    assert at.selectbox(key="similarity_b_split.zh-TW").value == "test"
    assert at.button_group(key="similarity_b_source.zh-TW").value == "Dataset"  # not in the link: the default
    at.session_state["language_switch"] = "en"  # the sidebar's switch (see tests/app/test_language_switch.py)
    at.run()
    assert not at.exception, at.exception
    with i18n.use_language("en"):
        assert at.query_params["lang"] == "en"
        assert at.button_group(key="similarity_a_source").value == "Photo"
        assert at.selectbox(key="similarity_b_split").value == "test"
    # A link written in Chinese opens the same choices in English.
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"lang": "en", "similarity_a_source.zh-TW": chinese("Photo"),
                            "similarity_b_split.zh-TW": chinese("test")})
    at.run()
    at.switch_page("pages/similarity.py").run()
    assert not at.exception, at.exception
    with i18n.use_language("en"):
        assert at.button_group(key="similarity_a_source").value == "Photo"
        assert at.selectbox(key="similarity_b_split").value == "test"


def test_keypoints_in_chinese(zh_tw):
    run = keypoint_runs.built_run(zh_tw[0])
    at = open_page("pages/keypoints.py")
    assert at.title[0].value == shown("Keypoints and pose")
    assert [tab.label for tab in at.tabs] == ["找出關鍵點", "熱力圖與迴歸對照", "影片", shown("Train")]
    assert at.selectbox(key="keypoints_model_run").value == run.name
    at.slider(key="keypoints_score").set_value(0.0).run()
    assert not at.exception, at.exception
    metrics = {m.label for m in at.metric}
    assert {"顯示的物體", "OKS，最佳物體", "PCK@0.2，最佳物體", "漏掉的真實物體"} <= metrics
    titles = set(figures(at))
    assert any(title.startswith("找到 ") for title in titles)
    assert "與真實答案比對：綠色關節命中，紅色關節未命中" in titles
    assert "頭的熱力圖" in titles  # the joint's name translated in the chart, not in the URL
    outcomes = figures(at)["與真實答案比對：綠色關節命中，紅色關節未命中"]
    assert "真實骨架" in {t.get("name") for t in outcomes["data"]}
    (table,) = [df.value for df in at.dataframe]
    assert {"物體", shown("score"), "姿態", "方向（°）", "命中的關節"} <= set(table.columns)
    joint = at.selectbox(key="keypoints_joint.zh-TW")
    assert joint.value == "head" and "左手腕" in joint.options
    joint.set_value("left_wrist").run()
    assert "左手腕的熱力圖" in figures(at), dict(at.query_params)
    labels = widget_labels(at, ("keypoints_",))
    assert_chinese(labels.values(), {"Score threshold", "Joint", "Keypoint model"})
    assert "熱力圖" in text(at) and "邊界框" in text(at)
    # The joint of an English link (its value, which is also its English label) opens in Chinese.
    at = open_page("pages/keypoints.py", {"keypoints_score": "0.0", "keypoints_joint": "right_knee"})
    assert at.selectbox(key="keypoints_joint.zh-TW").value == "right_knee"
    assert f"{chinese('right_knee')}的熱力圖" in figures(at)


def test_the_video_tab_in_chinese(zh_tw):
    at = open_page("pages/keypoints.py", {"keypoints_tab": "Video"})
    assert "影片" in [tab.label for tab in at.tabs]
    assert "畫出的骨架是影片的真實關節" in text(at)
    joints = at.multiselect(key="kpvideo_joints.zh-TW")  # its labels are translated: its own key (ui.i18n)
    assert joints.value == ["left_ankle", "right_ankle"] and "左腳踝" in joints.options
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in chart["data"]} >= {"人物 0 · 左腳踝", "人物 0 · 右腳踝"}
    assert chart["layout"]["xaxis2"]["title"]["text"] == "時間（秒）"
    assert_chinese(widget_labels(at, ("kpvideo_",)).values(), {"Frame", "Joints to chart", "Clip"})
    # An English link's joints (repeated parameters, English labels) chart the same joints in Chinese.
    at = open_page("pages/keypoints.py", {"keypoints_tab": "Video", "kpvideo_joints": ["left wrist", "head"]})
    assert at.multiselect(key="kpvideo_joints.zh-TW").value == ["left_wrist", "head"]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in chart["data"]} >= {"人物 0 · 左手腕", "人物 0 · 頭"}


def test_keypoint_studio_in_chinese(zh_tw):
    at = open_page("pages/keypoint_studio.py", timeout=60)
    assert at.title[0].value == shown("Keypoint studio")
    skeleton = at.radio(key="keypoint_studio_skeleton")
    assert skeleton.value == "people" and "人物（14 個關節）" in skeleton.options
    at.text_input(key="keypoint_studio_new_name").input("dogs").run()
    at.button(key="keypoint_studio_create").click().run()
    assert not at.exception, at.exception
    assert "已建立資料集 **dogs**" in text(at)
    assert at.selectbox(key="keypoint_studio_dataset").value == "dogs"  # the dataset's name, not a label
    assert "下一個點：頭" in text(at)
    (table,) = [df.value for df in at.dataframe]
    assert {"點", "狀態"} <= set(table.columns) and "頭" in set(table["點"])
    labels = widget_labels(at, ("keypoint_studio_",))
    assert_chinese(labels.values(), {"Save points into", "Picture number", "The next click places it as"})
