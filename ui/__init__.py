"""Streamlit-only glue shared by the pages: widgets that return plain values, cached loaders.

Importing ``ui`` changes nothing in Streamlit. :func:`install_streamlit_patches` does, explicitly:
``app.py`` and every page script call it first.
"""

import streamlit as st

__all__ = ["install_streamlit_patches"]

# The legacy pages mode is left once per process, as Streamlit itself leaves it for good on the
# first ``st.navigation``. AppTest sets Streamlit's flag anew for every script run: switching it
# (and rerunning) each time would swallow the button click that run carries.
_LEFT_LEGACY_PAGES_MODE = False


def install_streamlit_patches() -> None:
    """Apply the lab's two Streamlit patches (``ui/_streamlit_patches.py``); call it first in every script.

    Reruns keep the Keras session, and a deep link opened first on a fresh server runs
    ``app.py`` (the router) rather than its page alone: when that is what just happened, this
    reruns the script at once. Calling it again is harmless. A patch whose private Streamlit name
    moved is left out with a warning in the server log; the app keeps running. It also settles the
    page's language (:func:`ui.i18n.install_language`).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui import _streamlit_patches

    global _LEFT_LEGACY_PAGES_MODE

    _streamlit_patches.install()
    if get_script_run_ctx(suppress_warning=True) is None:
        return
    from ui.i18n import install_language

    install_language()  # before any words, in app.py and in a page run alone (a deep link, AppTest)
    if _LEFT_LEGACY_PAGES_MODE:
        return
    _LEFT_LEGACY_PAGES_MODE = True
    if _streamlit_patches.leave_legacy_pages_mode():
        st.rerun()
