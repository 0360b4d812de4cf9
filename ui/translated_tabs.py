"""Tabs kept in the URL whose names are translated: a link and a switch of language keep the open tab.

``st.tabs(..., bind="query-params")`` keeps the open tab's *label* in the URL and in the session,
and has no ``format_func``: once the labels are translated, ``?keypoints_tab=Train`` would not
name a tab of the Chinese page, and switching the language would fall back to the first tab.
:func:`translated_tabs` takes the tabs' English names (marked with ``N_``), reads the tab named in
the URL or the session in *any* offered language, and hands it to ``st.tabs`` in the page's
language, so that an English link opens the right tab of a Chinese page and the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cv_core.i18n import LANGUAGES, _, translations


def _names_by_label(names: Sequence[str]) -> dict[str, str]:
    """Every offered language's label of each tab → the tab's English name."""
    known = {}
    for language in LANGUAGES:
        catalog = translations(language)
        for name in names:
            known.setdefault(catalog.gettext(name), name)
    for name in names:  # English last-but-strongest: a label that is an English name means that name
        known[name] = name
    return known


def translated_tabs(names: Sequence[str], key: str):
    """``st.tabs`` of ``names`` (English, marked with ``N_``) shown in the page's language, bound to the URL
    under ``key``; a tab named in the URL or session in another language opens as the same tab.

    Returns:
        The tab containers, in the order of ``names`` (each with ``.open``).
    """
    labels = [_(name) for name in names]
    known = _names_by_label(names)
    for wanted in (st.query_params.get(key), st.session_state.get(key)):
        name = known.get(wanted) if isinstance(wanted, str) else None
        if name is None:
            continue
        label = labels[list(names).index(name)]
        if label != wanted:
            st.session_state[key] = label
            if label == labels[0]:  # the default tab: Streamlit keeps it out of the URL
                st.query_params.pop(key, None)
            else:
                st.query_params[key] = label
        break
    return st.tabs(labels, key=key, bind="query-params")
