"""The private Keras and Streamlit APIs the lab depends on, each behind one adapter module.

These tests fail when an upgrade moves one of them: the names are looked up where the adapters
expect them, with the signatures they call, and each patch's effect is observed. A moved name
gives a clear message naming it and what stops working, never a crash of the app.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------
# Keras: cv_core/_keras_private.py
# --------------------------------------------------------------------------------------


@pytest.fixture
def keras_private(monkeypatch):
    from cv_core import _keras_private

    monkeypatch.setattr(_keras_private, "_FOUND", {})  # forget what earlier calls found
    return _keras_private


def tiny_model():
    from cv_core._tf import keras

    k = keras()
    inputs = k.Input((4, 4, 1), name="tiny_input")
    x = k.layers.Conv2D(2, 3, name="conv")(inputs)
    x = k.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = k.layers.Dense(3, activation="softmax", name="head")(x)
    return k.Model(inputs, outputs, name="tiny")


def test_every_private_keras_api_is_where_cv_core_expects_it(keras_private):
    assert keras_private.check() == []


def test_the_graph_replay_calls_our_function_for_every_layer(keras_private):
    from cv_core._tf import keras

    model = tiny_model()
    seen = []

    def operation_fn(op):
        def call(*args, **kwargs):
            seen.append(op.name)
            return op(*args, **kwargs)
        return call

    out = keras_private.run_through_graph(model, keras().Input((4, 4, 1)), operation_fn)
    assert seen == ["conv", "pool", "head"]
    replayed = keras().Model(model.inputs, model.outputs)  # same layers: same numbers
    batch = np.random.default_rng(0).random((2, 4, 4, 1)).astype(np.float32)
    assert tuple(out.shape) == (None, 3)
    np.testing.assert_allclose(replayed.predict(batch, verbose=0), model.predict(batch, verbose=0))


def test_the_layer_that_produced_a_tensor_is_found(keras_private):
    model = tiny_model()
    assert keras_private.producing_operation(model.outputs[0]) is model.get_layer("head")
    assert keras_private.producing_operation(np.zeros(2)) is None  # not a symbolic tensor


def test_a_moved_graph_method_is_named_by_the_feature_that_needs_it(keras_private, monkeypatch):
    from cv_core.interpret import tap_model

    # Keras itself calls the method while building any Functional model, so a Keras that renamed
    # it is simulated by looking for a name no Keras has.
    model = tiny_model()
    monkeypatch.setattr(keras_private, "_GRAPH_METHOD", "_run_through_renamed_graph")
    problems = keras_private.check()
    assert len(problems) == 1 and "_run_through_renamed_graph" in problems[0] and "heatmaps" in problems[0]
    with pytest.raises(keras_private.KerasPrivateApiError, match="_run_through_renamed_graph"):
        tap_model(model, ["conv"])


def test_a_lost_tensor_history_falls_back_to_the_last_layer(keras_private, monkeypatch):
    from cv_core.interpret import _graph

    monkeypatch.setitem(keras_private._PROBLEMS, "history", lambda: "moved")
    model = tiny_model()
    assert keras_private.producing_operation(model.outputs[0]) is None
    assert _graph._head_layer(model) is model.layers[-1]


def test_the_multi_worker_patch_is_in_place_only_inside_and_keeps_other_strategies_as_they_were(keras_private):
    import importlib

    from cv_core._tf import tensorflow

    tf = tensorflow()
    trainer = importlib.import_module("keras.src.backend.tensorflow.trainer")
    original = trainer.reduce_per_replica
    model = tiny_model()
    strategy = tf.distribute.get_strategy()
    values = {"loss": tf.constant(2.5), "accuracy": tf.constant([0.5])}
    with keras_private.keep_logs_averaged_across_workers(model, strategy):
        patched = trainer.reduce_per_replica
        assert patched is not original and patched.averages_scalars
        assert model._distribute_strategy is None
        # Not a multi-worker strategy: exactly what Keras' own function returns.
        mine, keras_own = patched(values, strategy, "auto"), original(values, strategy, "auto")
        assert {k: np.asarray(v).tolist() for k, v in mine.items()} == \
            {k: np.asarray(v).tolist() for k, v in keras_own.items()}
    assert trainer.reduce_per_replica is original


def test_a_moved_multi_worker_helper_stops_only_multi_worker_training_with_a_clear_error(keras_private, monkeypatch):
    import importlib

    trainer = importlib.import_module("keras.src.backend.tensorflow.trainer")
    monkeypatch.delattr(trainer, "_is_per_replica_instance")
    problems = keras_private.check()
    assert len(problems) == 1 and "_is_per_replica_instance" in problems[0] and "several machines" in problems[0]
    with pytest.raises(keras_private.KerasPrivateApiError, match="one machine is unaffected"):
        with keras_private.keep_logs_averaged_across_workers(tiny_model(), None):
            pass


def _variables_created_while_tracing(model, data) -> list[str]:
    """Names of the variables ``model.fit`` creates inside a traced function (graph mode)."""
    from cv_core._tf import tensorflow

    tf = tensorflow()
    created = []

    def creator(next_creator, **kwargs):
        if not tf.executing_eagerly():
            created.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        model.fit(data, epochs=1, verbose=0)
    return created


def _compiled_tiny_model_and_data():
    from cv_core._tf import tensorflow

    tf = tensorflow()
    model = tiny_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    data = tf.data.Dataset.from_tensor_slices((rng.random((8, 4, 4, 1)).astype(np.float32),
                                               rng.integers(0, 3, 8))).batch(4)
    return model, data


def test_a_model_built_before_its_first_step_creates_no_variable_while_tracing(keras_private):
    # Keras without a distribution strategy creates Adam's slots and the loss and metric trackers
    # inside the first traced step (which makes TensorFlow trace it again): the adapter's reason to exist.
    model, data = _compiled_tiny_model_and_data()
    assert _variables_created_while_tracing(model, data)  # Keras' own behaviour, still there

    model, data = _compiled_tiny_model_and_data()
    assert keras_private.build_before_first_step(model, data.element_spec) is True
    assert model.optimizer.built and len(model.optimizer.variables) > 2  # iterations, learning rate, slots
    assert _variables_created_while_tracing(model, data) == []


def test_a_moved_symbolic_build_leaves_the_model_to_keras_with_the_feature_named(keras_private, monkeypatch):
    import importlib

    monkeypatch.delattr(importlib.import_module("keras.src.trainers.trainer").Trainer, "_symbolic_build")
    problems = keras_private.check()
    assert len(problems) == 1 and "_symbolic_build" in problems[0] and "traces its training step twice" in problems[0]
    model, data = _compiled_tiny_model_and_data()
    assert keras_private.build_before_first_step(model, data.element_spec) is False
    assert not model.optimizer.built  # nothing done: fit builds it as Keras always did


def test_a_keras_outside_the_checked_versions_is_said_once(keras_private):
    from cv_core._tf import keras

    assert keras_private.version_problem(keras().__version__) is None
    message = keras_private.version_problem("3.99.0")
    assert "Keras 3.99.0" in message and keras_private.CHECKED_VERSIONS in message
    assert "Keras nightly" in keras_private.version_problem("nightly")  # not a version: outside, said so
    assert keras_private.version_inside("3.10.1", ">=3.10,<3.14") and not keras_private.version_inside("3.14", "<3.14")


# --------------------------------------------------------------------------------------
# Streamlit: ui/_streamlit_patches.py
# --------------------------------------------------------------------------------------


@pytest.fixture
def patches(monkeypatch):
    from ui import _streamlit_patches

    monkeypatch.setattr(_streamlit_patches, "_WARNED", set())
    return _streamlit_patches


def test_every_private_streamlit_name_is_where_the_patches_expect_it(patches):
    assert patches.check() == []
    assert patches.install() == []


def test_importing_ui_changes_nothing_in_streamlit():
    code = (
        "import ui, ui.sidebar, ui.data\n"
        "from streamlit.runtime.scriptrunner import script_runner\n"
        "print(getattr(script_runner._clean_problem_modules, 'keeps_keras', False))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "False"


def test_a_moved_streamlit_name_leaves_its_patch_out_with_a_warning_never_an_error(patches, monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    with pytest.warns(patches.StreamlitPrivateApiWarning, match="clears the Keras session after every rerun"):
        problems = patches.install()
    assert len(problems) == 1 and "_clean_problem_modules" in problems[0]
    assert not hasattr(script_runner, "_clean_problem_modules")  # nothing half-installed


def test_a_script_runner_that_stops_using_the_patched_names_is_noticed(patches, monkeypatch):
    monkeypatch.setattr(patches, "_run_loop_names", lambda: set())
    problems = patches.check()
    assert any("_clean_problem_modules" in p for p in problems)
    assert any("uses_pages_directory" in p and "deep link" in p for p in problems)
    assert patches.leave_legacy_pages_mode() is False


def test_a_streamlit_outside_the_checked_versions_is_said(patches):
    import streamlit

    assert patches.version_problem(streamlit.__version__) is None
    message = patches.version_problem("1.99.0")
    assert "Streamlit 1.99.0" in message and patches.CHECKED_VERSIONS in message


LEGACY_APP = {
    "main.py": (
        "import streamlit as st\n"
        "st.session_state['router_ran'] = True\n"
        "page = st.navigation([st.Page('pages/first.py', default=True), st.Page('pages/deep.py')])\n"
        "page.run()\n"
    ),
    "pages/first.py": "import streamlit as st\nst.write('first page')\n",
}


@pytest.mark.parametrize("patched", [True, False])
def test_a_deep_link_on_a_fresh_server_runs_the_router_only_with_the_patch(tmp_path, monkeypatch, patched):
    """Streamlit starts an app with a ``pages/`` folder in its legacy mode: a deep link runs the page alone.

    Without the patch (the control) that is what happens; with it, the page switches the mode off
    and reruns, and the router (``main.py``) runs.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    (tmp_path / "pages").mkdir()
    for name, text in LEGACY_APP.items():
        (tmp_path / name).write_text(text)
    call = "from ui import install_streamlit_patches\ninstall_streamlit_patches()\n" if patched else ""
    (tmp_path / "pages" / "deep.py").write_text(f"import streamlit as st\n{call}st.write('deep page')\n")
    import ui

    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)  # as on a freshly started server
    monkeypatch.setattr(ui, "_LEFT_LEGACY_PAGES_MODE", False)
    at = AppTest.from_file(str(tmp_path / "main.py"), default_timeout=30).switch_page("pages/deep.py").run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["deep page"]
    assert ("router_ran" in at.session_state) is patched


def test_every_page_installs_the_patches_first():
    """A deep link runs its page before ``app.py``: each page script installs the patches itself."""
    pages = sorted((REPO / "pages").glob("*.py"))
    assert pages
    missing = [page.name for page in pages if "\ninstall_streamlit_patches()" not in page.read_text()]
    assert missing == []
    assert "\ninstall_streamlit_patches()" in (REPO / "app.py").read_text()
