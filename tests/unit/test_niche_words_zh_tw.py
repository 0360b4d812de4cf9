"""The niche tasks' library words in Traditional Chinese: joint names, the keypoint and similarity figures'
titles, legends and hover text, and the refusals a page shows (a clip, a keypoint dataset), while the
keys behind them (joint names, trace order, dataset fields) stay the same in every language."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.i18n import use_language
from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, KeypointInstance, compare_with_truth, joint_label


def _face(offset=(0.0, 0.0)):
    points = np.array([[60, 40], [40, 40], [50, 52], [58, 62], [42, 62], [50, 75]], np.float32) + offset
    return KeypointInstance(points=points, visibility=np.full(6, 2, np.uint8), box=(40.0, 40.0, 60.0, 75.0),
                            area=700.0, score=0.8)


def test_joint_names_are_translated_for_people_and_kept_as_keys():
    assert [joint_label(j) for j in PEOPLE.joints[:3]] == ["head", "neck", "left_shoulder"]  # English: unchanged
    with use_language("zh-TW"):
        assert [joint_label(j) for j in PEOPLE.joints[:3]] == ["頭", "頸", "左肩"]
        assert [joint_label(j) for j in FACE_LANDMARKS.joints] == ["左眼", "右眼", "鼻尖", "左嘴角", "右嘴角", "下巴"]
        assert joint_label("tail") == "tail"  # a point of your own skeleton keeps the name you gave it
    assert PEOPLE.joints[0] == "head"


def test_the_keypoint_figures_speak_chinese():
    from cv_core.plots.keypoints import heatmap_figure, joint_errors_figure, outcomes_figure, skeleton_figure

    picture = np.zeros((100, 100, 3), np.uint8)
    found, truth = [_face()], [_face((30.0, 0.0))]  # every joint 30 px off: all misses
    comparison = compare_with_truth(found, truth, FACE_LANDMARKS)
    with use_language("zh-TW"):
        skeleton = skeleton_figure(picture, found, FACE_LANDMARKS, labels=["臉 1"])
        outcomes = outcomes_figure(picture, found, truth, comparison, FACE_LANDMARKS)
        heat = heatmap_figure(picture, np.zeros((25, 25)), 4, points=[(10, 10)])
        errors = joint_errors_figure({"熱力圖": [1.0] * 6}, [joint_label(j) for j in FACE_LANDMARKS.joints])
    assert skeleton.layout.title.text == "找到的關鍵點"
    (joints,) = [t for t in skeleton.data if t.name == "臉 1"]
    assert joints.text[0].startswith("<b>左眼</b>")
    names = [t.name for t in outcomes.data if getattr(t, "showlegend", False)]
    assert names == ["真實骨架", "未命中"] and outcomes.layout.title.text == "與真實答案比對"
    (missed,) = [t for t in outcomes.data if t.name == "未命中"]
    assert "px（PCK 容許" in missed.text[0] and missed.text[0].startswith("<b>左眼</b><br>偏差 ")
    assert heat.layout.title.text == "關節熱力圖"
    assert [t.name for t in heat.data[1:]] == ["熱力圖", "在這裡找到"]
    assert errors.layout.title.text == "每個關節的誤差（像素）" and list(errors.data[0].x)[-1] == "下巴"
    # English stays the default.
    assert outcomes_figure(picture, found, truth, comparison, FACE_LANDMARKS).data[2].name == "true skeleton"


def test_the_map_and_the_track_chart_speak_chinese():
    from cv_core.plots.keypoint_video import joint_tracks_figure
    from cv_core.plots.similarity import QUERY_TRACE, embedding_map_figure

    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    with use_language("zh-TW"):
        embedding = embedding_map_figure(points, [0, 5], ["circle"], query=np.array([0.5, 0.5]))
        tracks = joint_tracks_figure({0: np.zeros((3, 14, 2))}, [0.0, 0.1, 0.2], PEOPLE.joints, ["left_ankle"])
    names = [t.name for t in embedding.data]  # a class without a name: "class {index}", the detection area's words
    assert names[0] == "circle" and names[2] == "你的圖片" and len(names) == 3
    assert "圖片 %{customdata}" in embedding.data[0].hovertemplate
    assert QUERY_TRACE == "your picture"  # the constant stays English; the figure shows it translated
    assert {t.name for t in tracks.data} == {"人物 0 · 左腳踝"}
    assert tracks.layout.xaxis2.title.text == "時間（秒）" and tracks.layout.yaxis.title.text == "x（像素）"


def test_refusals_a_page_shows_are_translated():
    from cv_core.datasets import DatasetError, UserKeypointStore
    from cv_core.datasets.user_keypoints import parse_skeleton_text
    from cv_core.keypoints.video import VideoInputError, read_clip

    with use_language("zh-TW"):
        with pytest.raises(VideoInputError, match="這個檔案是空的"):
            read_clip(b"")
        with pytest.raises(VideoInputError, match="不是 GIF、MP4 或 WebM 影片"):
            read_clip(b"not a clip at all")
        with pytest.raises(ValueError, match="請至少輸入一個點的名稱"):
            parse_skeleton_text("")
        with pytest.raises(ValueError, match="用到了不存在的關節 'tail'"):
            parse_skeleton_text("nose\near", "nose - tail")
        with pytest.raises(DatasetError, match="不是 zip 壓縮檔"):
            UserKeypointStore("/nonexistent-root").import_zip("dogs", b"not a zip")
    with pytest.raises(VideoInputError, match="The file is empty"):  # English stays the default
        read_clip(b"")
