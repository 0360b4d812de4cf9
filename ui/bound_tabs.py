"""Tabs kept in the URL whose labels are translated.

``st.tabs(..., bind="query-params")`` keeps the open tab's *label* in the URL, so a translated
label would make ``?detection_tab=Train`` open the first tab in Chinese, and a widget bound to a
query parameter in one language refuses that parameter to the next language's widget (a
``StreamlitAPIException`` after a switch). So the tabs here are not bound: the URL (``key``) and
the session name the open tab by its English label in every language, and each language has its
own tabs widget (``key.<language>``), started on the tab open before.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cv_core import i18n
from cv_core.i18n import _


def bound_tabs(labels: Sequence[str], key: str) -> list:
    """``st.tabs`` of ``labels`` (English, marked with ``N_``, shown translated), the open one in the URL as ``key``."""
    labels = list(labels)
    shown = [_(label) for label in labels]
    english_of = dict(zip(shown, labels)) | {label: label for label in labels}
    memory = f"_keep_{key}"
    wanted = english_of.get(st.query_params.get(key)) or st.session_state.get(memory)
    if wanted not in labels:
        wanted = labels[0]
    containers = st.tabs(shown, key=f"{key}.{i18n.current_language()}", default=_(wanted), on_change="rerun")
    opened = next((label for label, tab in zip(labels, containers) if getattr(tab, "open", False)), wanted)
    st.session_state[memory] = opened
    if opened == labels[0]:
        if key in st.query_params:
            del st.query_params[key]  # the first tab is the default: a plain link opens it
    elif st.query_params.get(key) != opened:
        st.query_params[key] = opened
    return containers
