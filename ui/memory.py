"""Choices that survive a reload or a shared link (the URL) and a trip to another page (the session).

Widgets get their starting value through their ``index``/``value``/``default`` argument,
never by writing ``st.session_state[widget key]`` before creating them: a widget that
disappears for a run (its page stopped early, or the person visited another page) and comes
back with a value written into session state can show one value in the browser while the
script sees another (measured with Streamlit 1.67). Passing the value as an argument keeps
the two in step.
"""

from __future__ import annotations

import streamlit as st


def remembered(widget_key: str, param: str | None, options, default, shared: str | None = None):
    """The value a widget should start with.

    In order: the widget's own current value, the URL's ``param`` (a reload or a shared
    link), this session's last choice (``shared`` names a memory several pages share), else
    ``default``. Values not in ``options`` are skipped.
    """
    options = list(options)
    current = st.session_state.get(widget_key)
    if widget_key in st.session_state and current in options:
        return current
    if param and param in st.query_params:
        raw = st.query_params[param]
        for option in options:
            if str(option) == raw:
                return option
    memory = st.session_state.get(f"_keep_{shared or widget_key}")
    if memory in options:
        return memory
    return default if default in options or not options else options[0]


def remember(widget_key: str, param: str | None, value, shared: str | None = None) -> None:
    """Keep ``value`` for the next visit (session) and in the address bar (``param``)."""
    st.session_state[f"_keep_{shared or widget_key}"] = value
    if param:
        text = str(value)
        if st.query_params.get(param) != text:
            st.query_params[param] = text


def index_of(options, value) -> int:
    """``options.index(value)``, or 0 when it is not there."""
    options = list(options)
    return options.index(value) if value in options else 0


def from_link(param: str, options) -> object | None:
    """The URL's ``param`` on the first run that asks for it this session (a reload or a shared link), else None.

    For a choice that belongs to another choice (the enlarged channel of a layer, the page of a
    grid): the URL describes what was on screen when it was written, so it applies once; after
    that the page's own memory decides, and a new layer does not inherit the old layer's channel.
    Values not in ``options`` are skipped.
    """
    used = st.session_state.setdefault("_links_used", set())
    if param in used:
        return None
    used.add(param)
    raw = st.query_params.get(param)
    return next((option for option in options if str(option) == raw), None) if raw is not None else None


def set_link(param: str, value) -> None:
    """Write ``value`` into the address bar as ``param`` (unchanged values are left alone)."""
    text = str(value)
    if st.query_params.get(param) != text:
        st.query_params[param] = text
