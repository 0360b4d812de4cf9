"""Tabs kept in the URL whose labels are translated.

``st.tabs(..., bind="query-params")`` keeps the open tab's *label* in the URL and in session
state. A translated label would make ``?detection_tab=Train`` open the first tab in Chinese,
and switching the language would lose the open tab. :func:`bound_tabs` maps a label of any
language in the URL or in the session to the current language's before the tabs are drawn, so
a shared link opens the same tab in both languages.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cv_core.i18n import LANGUAGES, _, translations


def _spellings(message: str) -> set[str]:
    """``message`` (English, a msgid) and its translation in every language the lab speaks."""
    return {message} | {translations(code).gettext(message) for code in LANGUAGES}


def current_label(value: str | None, messages: Sequence[str]) -> str | None:
    """The current language's label of the tab that ``value`` (a label in any language) names, or None."""
    if value is None:
        return None
    for message in messages:
        if value in _spellings(message):
            return _(message)
    return None


def bound_tabs(messages: Sequence[str], key: str):
    """``st.tabs`` of ``messages`` (English msgids, shown translated) bound to the URL under ``key``."""
    for value, store in ((st.query_params.get(key), st.query_params), (st.session_state.get(key), st.session_state)):
        label = current_label(value, messages)
        if label is not None and label != value:
            store[key] = label
    return st.tabs([_(message) for message in messages], key=key, bind="query-params")
