"""Streamlit must not clear the Keras session after every rerun: the models and compiled
functions the pages keep in ``st.cache_resource`` would lose TensorFlow's kernels, and every
click would wait for a full garbage collection first (see ``ui._keep_keras_state_between_reruns``)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_finished_rerun_leaves_the_keras_session_alone(monkeypatch):
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    import ui  # noqa: F401 - importing the glue installs the change

    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(a))
    script_runner._clean_problem_modules()
    assert calls == []
    assert getattr(script_runner._clean_problem_modules, "keeps_keras", False)


def test_matplotlib_figures_are_still_closed(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    import ui  # noqa: F401

    closed = []

    class FakePyplot:
        @staticmethod
        def close(which):
            closed.append(which)

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", FakePyplot)
    script_runner._clean_problem_modules()
    assert closed == ["all"]


def test_no_forced_garbage_collection_after_each_rerun():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
