"""Streamlit-only glue shared by the pages: widgets that return plain values, cached loaders."""

import streamlit as st


def _leave_legacy_pages_mode() -> None:
    """Make sure ``app.py`` (the router) runs, even when the first visit is a deep link.

    Streamlit treats an app with a ``pages/`` folder as a legacy multipage app until some
    session has called ``st.navigation``. Until then, opening ``/datasets`` on a freshly
    started server runs ``pages/datasets.py`` on its own: no page config, no shared sidebar,
    a navigation listing every file. Every page imports ``ui``, so the first such run lands
    here: we switch Streamlit to ``st.navigation`` mode and rerun, which runs ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without this class
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def _keep_keras_state_between_reruns() -> None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every rerun.

    Streamlit's script runner "cleans problem modules" when a run ends: if Keras is imported,
    it clears the Keras session, which empties TensorFlow's kernel cache and runs a full garbage
    collection. Our models and their compiled functions live in ``st.cache_resource`` across
    reruns, so the next rerun paid for rebuilding kernels, and every click waited for the
    collection first: measured through py-spy on the Heatmaps page, the clean-up took as long as
    the page itself (``bench/interpret.py`` has the numbers). Code that builds throwaway models
    releases them itself (``ui.architecture``). Matplotlib figures are still closed.
    """
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:  # pragma: no cover - a future Streamlit that moved it
        return
    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is None or getattr(original, "keeps_keras", False):
        return

    def clean_problem_modules_but_keras() -> None:
        import sys

        if "matplotlib.pyplot" in sys.modules:
            try:
                sys.modules["matplotlib.pyplot"].close("all")
            except Exception:  # noqa: BLE001 - as Streamlit: never crash the app here
                pass

    clean_problem_modules_but_keras.keeps_keras = True
    script_runner._clean_problem_modules = clean_problem_modules_but_keras


_keep_keras_state_between_reruns()
_leave_legacy_pages_mode()
