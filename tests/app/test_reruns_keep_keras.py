"""Streamlit must not clear the Keras session after every rerun: the models and compiled
functions the pages keep in ``st.cache_resource`` would lose TensorFlow's kernels, and every
click would wait for a full garbage collection first (see ``ui/_streamlit_patches.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_a_finished_rerun_leaves_the_keras_session_alone(monkeypatch):
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from ui import install_streamlit_patches

    install_streamlit_patches()
    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(a))
    script_runner._clean_problem_modules()
    assert calls == []
    assert getattr(script_runner._clean_problem_modules, "keeps_keras", False)


def test_matplotlib_figures_are_still_closed(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    from ui import install_streamlit_patches

    install_streamlit_patches()
    closed = []

    class FakePyplot:
        @staticmethod
        def close(which):
            closed.append(which)

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", FakePyplot)
    script_runner._clean_problem_modules()
    assert closed == ["all"]


#: Runs the app (Home) as Streamlit would from the project folder, then reruns it, counting
#: explicit collections and Keras session clears; then the same rerun with Streamlit's default
#: ``runner.postScriptGC = true``, to show the count would see a forced collection. AppTest's
#: runner skips the end-of-run collection that a server does, so it is given the server's
#: end-of-run step (``ScriptRunner._on_script_finished``, which reads the option).
RERUNS = """
import gc, json
import keras
from streamlit import config
from streamlit.runtime.scriptrunner import ScriptRunner
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

LocalScriptRunner._on_script_finished = ScriptRunner._on_script_finished

collected, cleared = [], []
real_collect = gc.collect
def counting_collect(generation=2):
    collected.append(generation)
    return real_collect(generation)
gc.collect = counting_collect
keras.backend.clear_session = lambda *a, **k: cleared.append(1)

at = AppTest.from_file("app.py", default_timeout=120).run()
at.run()
result = {"option": config.get_option("runner.postScriptGC"), "collected": list(collected),
          "cleared": len(cleared), "errors": [str(e.value) for e in at.exception]}
config.set_option("runner.postScriptGC", True)
collected.clear()
at.run()
result["collected_with_streamlit_default"] = list(collected)
print(json.dumps(result))
"""


@pytest.mark.slow
def test_reruns_of_the_app_force_no_full_collection_and_keep_the_keras_session(tmp_path):
    env = dict(os.environ, CONVNET_LAB_RUNS=str(tmp_path / "runs"), CONVNET_LAB_DATA=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", RERUNS], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["option"] is False  # .streamlit/config.toml's value, as Streamlit reads it
    assert 2 not in result["collected"]  # no forced full collection after a run
    assert result["cleared"] == 0  # app.py installed the patch: the Keras session survives reruns
    assert 2 in result["collected_with_streamlit_default"]  # the check can see one
