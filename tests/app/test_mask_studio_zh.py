"""AppTest: the Mask studio in Traditional Chinese (``?lang=zh-TW``): labels, messages and the
errors cv_core raises are read in Chinese, keys and saved data stay the same, and switching the
language keeps the choices of the widgets bound to the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.datasets import SHAPE_CLASSES, UserMaskStore
from cv_core.i18n import _, use_language

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/mask_studio.py"


@pytest.fixture
def store(tmp_path, monkeypatch) -> UserMaskStore:
    monkeypatch.setenv("CONVNET_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path / "runs"))
    return UserMaskStore(tmp_path / "data" / "user_masks")


def zh(message: str) -> str:
    """The catalog's Chinese for ``message`` (and proof that there is one)."""
    with use_language("zh-TW"):
        text = _(message)
    assert text != message, f"no translation for {message!r}"
    return text


def open_in_chinese() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh-TW"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def labels(at: AppTest) -> set[str]:
    """The studio's widget and metric labels (the training form below it, ui/segmentation.py's
    ``mask_studio_train_*`` widgets, belongs to the Segmentation page's translation)."""
    found = set()
    for kind in ("button", "radio", "selectbox", "text_input", "text_area", "number_input", "slider",
                 "select_slider", "button_group", "checkbox", "toggle", "metric"):
        found |= {str(w.label) for w in at.get(kind) if getattr(w, "label", None)
                  and not str(getattr(w, "key", None) or "").startswith("mask_studio_train_")}
    return found


def test_the_studio_speaks_chinese_and_saves_the_same_data(store):
    # AppTest calls the widgets' format_func in the test's thread: it reads them in Chinese here.
    with use_language("zh-TW"):
        _studio_in_chinese(store)


def _studio_in_chinese(store: UserMaskStore) -> None:
    at = open_in_chinese()
    assert at.title[0].value == zh("Mask studio") == "遮罩工作室"
    assert zh("Choose a dataset to save into, or create one: give it a name and its classes.") in at.info[0].value
    assert {zh("Dataset name"), zh("Create dataset"), zh("Shapes"), zh("Save masks into")} <= labels(at)

    at.button(key="mask_studio_preset_shapes").click().run()
    at.text_input(key="mask_studio_new_name").input("my_shapes").run()
    at.button(key="mask_studio_create").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("已建立資料集 **my_shapes**")
    # Class names are data: stored as given, in English.
    assert store.dataset_info("my_shapes")["class_names"] == ["background", *SHAPE_CLASSES]

    # Widgets bound to the URL whose labels are translated have their own key in Chinese; values stay.
    start = at.radio(key="mask_studio_start.zh-TW")
    assert start.value == "true" and start.label == zh("Start from")
    assert start.format_func("true") == "資料集的真實遮罩"
    assert at.button_group(key="mask_studio_source.zh-TW").value == "sample"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"與資料集的真實遮罩的平均 IoU": "1.000", "改變的像素": "0.0%"}
    assert zh("Brush size") in labels(at) and zh("Undo") in labels(at)
    assert not any(label.isascii() and label.strip() and label not in {"IoU"} for label in labels(at)
                   if not label.startswith(("0 ·", "1 ·"))), labels(at)

    # A refusal from cv_core (DatasetError) is read in Chinese, and nothing is written.
    at.text_input(key="mask_studio_item_name").input("bad name!").run()
    at.button(key="mask_studio_save").click().run()
    error = at.error[0].value
    assert error.startswith("沒有儲存任何內容。") and "不是簡單的名稱" in error and "項目名稱" in error
    assert store.list_items("my_shapes") == []

    at.text_input(key="mask_studio_item_name").input("").run()
    at.button(key="mask_studio_save").click().run()
    assert at.success[0].value.startswith("已存成 **my_shapes** 中的新項目 **0001**")
    assert store.list_items("my_shapes") == ["0001"]


def test_switching_to_english_keeps_the_studio_choices(store):
    store.create("pets", ["background", "foreground", "boundary"])
    with use_language("zh-TW"):  # (AppTest reads format_func in the test's thread)
        at = open_in_chinese()
        at.selectbox(key="mask_studio_dataset").set_value("pets").run()
        at.radio(key="mask_studio_start.zh-TW").set_value("empty").run()
        at.button_group(key="mask_studio_tool.zh-TW").set_value("rect").run()
        assert not at.exception, at.exception
        assert at.radio(key="mask_studio_start.zh-TW").label == "起始遮罩"
        # The sidebar switch, as a click sets it; the run sends the Chinese widgets' values back, which
        # AppTest formats in the test's thread (so still in Chinese); the page then draws in English.
        at.session_state["language_switch"] = "en"
        at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Mask studio"
    assert at.radio(key="mask_studio_start").value == "empty"
    assert at.radio(key="mask_studio_start").label == "Start from"
    assert at.button_group(key="mask_studio_tool").value == "rect"
    assert "No IoU: you started from an empty mask." in " ".join(c.value for c in at.caption)
