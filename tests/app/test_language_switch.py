"""The language: from the URL, the sidebar's switch or the browser; switching keeps cached models and widget state."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.i18n import _, use_language

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(autouse=True)
def quiet_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path / "runs"))
    for name in ("CONVNET_LAB_SERVE", "CONVNET_LAB_OPERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def switch(at: AppTest, language: str) -> None:
    """Move the sidebar's switch (AppTest drops the sidebar's elements from its tree after a page's
    first run, a Streamlit testing quirk: the widget's state is set as a click would)."""
    at.session_state["language_switch"] = language
    at.run()


def _texts(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in [*at.markdown, *at.caption, *at.subheader, *at.title])


def test_english_by_default_and_the_url_link_opens_in_chinese():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.session_state["_language"] == "en" and "lang" not in at.query_params
    assert "Where to go" in _texts(at)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh-TW"
    at.run()
    assert not at.exception
    with use_language("zh-TW"):
        where = _("Where to go")
    assert where != "Where to go" and where in _texts(at)
    assert at.radio(key="language_switch").value == "zh-TW"


def test_the_browser_language_is_the_default(monkeypatch):
    import ui.i18n

    monkeypatch.setattr(ui.i18n, "browser_language", lambda: "zh-TW")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.session_state["_language"] == "zh-TW"
    assert "lang" not in at.query_params  # a session that never chose leaves the URL alone
    at.radio(key="language_switch").set_value("en").run()
    assert at.session_state["_language"] == "en" and at.query_params["lang"] == "en"  # the choice is shared


@pytest.mark.slow
def test_switching_keeps_cached_models_widget_state_and_the_open_tab(monkeypatch):
    import ui.architecture

    measured = []
    original = ui.architecture._measure
    monkeypatch.setattr(ui.architecture, "_measure", lambda description: (measured.append(1), original(description))[1])
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/architecture_lab.py").run()
    at.radio(key="architecture_lab_quick_conv").set_value("conv2d").run()
    at.select_slider(key="architecture_lab_quick_size").set_value(64).run()
    assert not at.exception
    builds = len(measured)
    assert builds >= 1  # the anatomy was built (and cached) in English
    at.session_state["architecture_lab_tab"] = "Residual connections"
    at.run()
    switch(at, "zh-TW")
    # AppTest calls the last run's widgets' format_func in the test's thread, outside any session: there the
    # labels must be read in the language that run drew (use_language), as the app's own thread read them.
    with use_language("zh-TW"):
        assert not at.exception
        assert at.query_params["lang"] == "zh-TW" and at.query_params["architecture_lab_tab"] == "Residual connections"
        assert at.radio(key="architecture_lab_quick_conv").value == "conv2d"
        assert at.select_slider(key="architecture_lab_quick_size").value == 64
        assert at.radio(key="architecture_lab_preset.zh-TW").value == "quick"  # its own widget, same choice
        assert "殘差連接" in [t.label for t in at.tabs]
        at.session_state["architecture_lab_tab.zh-TW"] = _("Anatomy")  # back to the model: cached, not built again
        at.run()
        assert not at.exception
        switch(at, "en")
    assert not at.exception
    assert len(measured) == builds
    assert at.radio(key="architecture_lab_quick_conv").value == "conv2d"
    assert at.query_params["lang"] == "en"


def test_a_fragment_rerun_translates_too():
    """The language source reads the running session's state, not a value left by the last full run."""
    from cv_core import i18n
    import ui.i18n

    assert i18n._source is None or i18n._source is ui.i18n.session_language
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh-TW"
    at.run()
    assert i18n._source is ui.i18n.session_language
    # Outside a script run (a worker thread, a fragment's timer before its run), nothing is forced:
    assert ui.i18n.session_language() is None and i18n.current_language() == "en"
