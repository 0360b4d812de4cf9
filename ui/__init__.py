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


_leave_legacy_pages_mode()
