"""The Segmentation and Instance segmentation pages, the run panel (a task page's Train tab) and Compare
runs' run actions, opened in Traditional Chinese (``?lang=zh-TW``): their labels read in Chinese.

The expected words come from the catalog (``_`` under ``use_language("zh-TW")``), and each is first
checked to differ from the English, so a string the catalog lacks fails here rather than passing as
English. A few course terms are asserted literally (the glossary's 影像分割, 實體分割, 分割遮罩).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.i18n import _, use_language
from tests.app.helpers import open_in_chinese
from tests.app.segmentation_runs import built_run

APP = str(Path(__file__).resolve().parents[2] / "app.py")

pytestmark = pytest.mark.slow  # the pages import TensorFlow to load a model


def zh(english: str) -> str:
    """``english`` in Traditional Chinese, from the catalog; it must be translated."""
    with use_language("zh-TW"):
        text = _(english)
    assert text != english, f"not translated: {english!r}"
    return text


def texts(at: AppTest) -> str:
    kinds = ("title", "markdown", "caption", "info", "warning", "error", "success", "subheader")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def labels(at: AppTest) -> set[str]:
    widgets = [*at.selectbox, *at.slider, *at.number_input, *at.button, *at.radio, *at.get("segmented_control")]
    return {str(getattr(w, "label", "")) for w in widgets} | {str(e.label) for e in at.expander}


def test_segmentation_predict_tab_in_chinese(lab_roots):
    runs_root, _data = lab_roots
    built_run(runs_root)
    at = open_in_chinese("pages/segmentation.py")
    assert at.title[0].value == zh("Segmentation") == "影像分割"
    shown = texts(at)
    for english in ("Predicted mask", "From the mask to objects", "Where the model looked",
                    "**This picture, class by class**"):
        assert zh(english) in shown, english
    assert "分割遮罩" in zh("Predicted mask")  # the course's term for a segmentation mask
    widgets = labels(at)
    for english in ("Trained segmentation run", "Picture", "Split", "Mask opacity over the picture",
                    "Smallest object (pixels)", "Class", "Method", "Target layer"):
        assert zh(english) in widgets, english
    # The picture's split: English option values (kept in the URL), Chinese labels.
    # (AppTest calls a widget's format_func in the test's thread: the language is set around it.)
    split = at.selectbox(key="segmentation_split.zh-TW")
    with use_language("zh-TW"):
        assert split.value == "validation" and split.format_func(split.value) == zh("validation")
    # The picture-source control shows Chinese labels for its English values.
    (source,) = at.get("segmented_control")
    with use_language("zh-TW"):
        assert source.value == "Sample" and source.format_func("Sample") == zh("Sample")
    # No English sentence left among the captions and messages (proper names and numbers aside).
    assert not re.search(r"\b(the|of|and|a picture|pixels)\b", shown), shown


def test_train_tab_and_run_panel_in_chinese(lab_roots):
    runs_root, _data = lab_roots
    run_dir = built_run(runs_root)
    at = open_in_chinese("pages/segmentation.py", {"segmentation_tab": "Train"})
    shown = texts(at)
    assert zh("Model and data") in shown
    # The followed run's panel: its title line, the completed message with the task's metric, final scores.
    assert "隨機種子" in shown and run_dir.name in shown
    (done,) = at.success
    assert done.value.startswith(zh("Completed: {outcome}.").split("{")[0])
    assert zh("best validation {metric} {score}").split("{")[0] in done.value
    assert zh("mean IoU") in done.value and "best validation" not in done.value
    widgets = labels(at)
    assert zh("More epochs") in widgets and zh("Continue for more epochs") in widgets
    # The open tab is still named in English in the URL.
    assert at.query_params["segmentation_tab"] == ["Train"] or at.query_params["segmentation_tab"] == "Train"


def test_compare_runs_run_actions_in_chinese(lab_roots):
    runs_root, _data = lab_roots
    built_run(runs_root)
    at = open_in_chinese("pages/compare_runs.py")
    assert zh("Manage these runs") in labels(at)
    # The run's line names its state in Chinese (the state itself stays "completed" on disk).
    assert f"**{zh('completed')}**" in texts(at)


def test_instance_segmentation_page_without_a_run_in_chinese(lab_roots):
    at = open_in_chinese("pages/instances.py")
    assert at.title[0].value == zh("Instance segmentation") == "實體分割"
    assert zh("No instance segmentation model yet. Start one here: the Quick preset learns to tell touching "
              "shapes apart in about ten minutes on a CPU; the Tiny preset takes seconds and learns nothing, but "
              "shows the page at work. The **Train** tab has every setting.") in texts(at)
    buttons = {b.label for b in at.button}
    assert zh("Train the Quick preset (about 10 minutes)") in buttons
    assert zh("Train the Tiny preset (seconds, to see the page work)") in buttons
