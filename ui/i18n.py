"""The language a page is drawn in: the sidebar's switch, the URL's ``?lang=zh-TW``, the browser's language.

``app.py`` calls :func:`install_language` first on every run. The language lives in the session
(``st.session_state``), so every rerun of the session, fragments' own reruns included (the sidebar's
``run_every`` jobs list), translates into it, while another browser's session keeps its own:
:func:`cv_core.i18n.set_language_source` is given :func:`session_language`, which reads the session
of the script that is running, not a variable set by the last run.

Order, first that applies: the URL's ``lang`` (a shared link), the choice made with the switch this
session, the browser's language (``st.context.locale``), English. A choice made with the switch is
written into the URL (and put back after a page change, which clears the URL's parameters), so a
link opens in the same language; a session that never chose leaves the URL alone.

Switching reruns the page: cached models and results are kept (their keys do not hold the language)
and widgets with a ``key`` keep their values (Streamlit identifies them by key, not by label); see
:func:`tabs` for tabs, whose identity is their labels.
"""

from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from cv_core import i18n
from cv_core.i18n import LANGUAGES, SOURCE_LANGUAGE, _

#: The URL's parameter and the session's keys.
PARAM = "lang"
CHOSEN = "_language"             # the session's language
EXPLICIT = "_language_explicit"  # True once it came from the URL or the switch: then the URL carries it
SWITCH = "language_switch"       # the sidebar's widget


def _script_running() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None


def session_language() -> str | None:
    """The language of the session whose script (or fragment) is running; None outside a script."""
    if not _script_running():
        return None  # a worker thread: cv_core.i18n falls back to English
    return st.session_state.get(CHOSEN)


def browser_language() -> str | None:
    """The offered language the browser asks for (``st.context.locale``), if any."""
    try:
        return i18n.normalise_language(st.context.locale)
    except Exception:  # noqa: BLE001 - no browser (AppTest, a bare script run)
        return None


def install_language() -> str:
    """Install the language source and settle this run's language; returns it. Call first in ``app.py``."""
    i18n.set_language_source(session_language)
    linked = i18n.normalise_language(st.query_params.get(PARAM))
    switch = st.session_state.get(SWITCH)
    if linked is not None and linked != st.session_state.get(CHOSEN):  # a shared link, an edited address
        st.session_state[CHOSEN] = linked
        st.session_state[EXPLICIT] = True
    elif CHOSEN in st.session_state and switch in LANGUAGES and switch != st.session_state[CHOSEN]:
        _switched()  # the switch moved (its callback normally got here first)
    elif CHOSEN not in st.session_state:
        st.session_state[CHOSEN] = browser_language() or SOURCE_LANGUAGE
        st.session_state[EXPLICIT] = False
    language = st.session_state[CHOSEN]
    if st.session_state.get(EXPLICIT) and st.query_params.get(PARAM) != language:
        st.query_params[PARAM] = language  # back after a page change cleared it
    return language


def _switched() -> None:
    chosen = st.session_state.get(SWITCH)
    if chosen in LANGUAGES:
        st.session_state[CHOSEN] = chosen
        st.session_state[EXPLICIT] = True
        st.query_params[PARAM] = chosen


def language_switch() -> None:
    """English / 繁體中文 in the sidebar (the change applies to the rerun it starts), and the page's ``<html lang>``."""
    current = i18n.current_language()
    options = list(LANGUAGES)
    if SWITCH in st.session_state and st.session_state[SWITCH] != current:
        del st.session_state[SWITCH]  # the URL changed the language: show it
    st.radio(_("Language"), options, index=options.index(current), format_func=LANGUAGES.get, key=SWITCH,
             horizontal=True, on_change=_switched, label_visibility="collapsed")
    document_language()


#: The ``<html lang>`` of each language (BCP 47): screen readers pick their voice and rules from it, and
#: the browser its CJK glyph forms and line breaking.
HTML_LANG = {"en": "en", "zh-TW": "zh-Hant-TW"}
DOCUMENT_LANGUAGE = "lab_document_language"  # the key of the hidden container that sets it
_SET_LANG = "<script>document.documentElement.lang = {lang};</script>"
#: The container, and a wrapper that holds only it (Streamlit 1.67 wraps it in one), take no space: a
#: hidden element still counts in its column's flex gap unless the box in that column is hidden.
_HIDE = ("<style>.st-key-lab_document_language, :has(> .st-key-lab_document_language:only-child) "
         "{display: none;}</style>")


def document_language() -> None:
    """Set the page's ``<html lang>`` to the session's language (Streamlit's page says ``en``).

    Streamlit 1.67 has no setting for it; ``st.html(..., unsafe_allow_javascript=True)`` runs a one-line
    script in the page itself (not an iframe: no request, nothing loaded). Its container is hidden by its
    ``key`` class (``st-key-...``, which Streamlit documents for styling), with the wrapper that holds only
    it, so it adds no gap to the sidebar.
    The script runs again when its text changes, that is when the language does.
    """
    import json

    lang = HTML_LANG.get(i18n.current_language(), "en")
    st.html(_HIDE)  # style only: Streamlit puts it in its event container, which takes no space
    with st.container(key=DOCUMENT_LANGUAGE):
        st.html(_SET_LANG.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


def tabs(labels: Sequence[str], key: str) -> list:
    """``st.tabs`` with translated labels; the open tab stays open through a language switch.

    ``labels`` are English (marked with ``N_``). The URL's ``key`` parameter and
    ``st.session_state[key]`` name the open tab by its English label in every language, so links
    and tests written in English keep working. Streamlit identifies tabs by their labels: in another
    language they are another widget (key ``key.<lang>``), started on the tab open before.
    """
    labels = list(labels)
    language = i18n.current_language()
    shown = [_(label) for label in labels]
    english_of = dict(zip(shown, labels)) | {label: label for label in labels}
    memory = f"_keep_{key}"
    wanted = (english_of.get(st.session_state.get(key)) or english_of.get(st.query_params.get(key))
              or st.session_state.get(memory))
    if wanted not in labels:
        wanted = labels[0]
    # Not bind="query-params": it would write the translated label, and a parameter bound in one
    # language cannot be written in the other. The URL is kept here instead.
    widget = key if language == SOURCE_LANGUAGE else f"{key}.{language}"
    containers = st.tabs(shown, key=widget, default=_(wanted), on_change="rerun")
    opened = next((label for label, tab in zip(labels, containers) if getattr(tab, "open", False)), wanted)
    st.session_state[memory] = opened
    if st.query_params.get(key) != opened:
        st.query_params[key] = opened
    return containers


def widget_key(key: str, options: Sequence | None = None, format_func: Callable[[object], object] | None = None,
               *, multiple: bool = False) -> str:
    """The key for a widget bound to the URL whose option labels are translated (a radio of presets).

    ``bind="query-params"`` keeps the *label* in the URL, so "Tiny" means nothing to the same widget in
    Chinese, which would start over at its default. Each language therefore has its own widget (``key``
    in English, ``key.zh-TW`` in Chinese, each bound to its own URL parameter), and the first time one is
    drawn it starts from the value the other language's widget had: switching keeps the choice.

    Given the widget's ``options`` and ``format_func``, a link written in another language is read too:
    ``?similarity_a_source=Photo&lang=zh-TW`` opens the Chinese widget on the same option (the label is
    looked up among the options' labels in the link's language); ``multiple=True`` for a multiselect
    (its labels are repeated parameters).
    """
    language = i18n.current_language()
    own = key if language == SOURCE_LANGUAGE else f"{key}.{language}"
    if own not in st.session_state:
        for other in [key, *(f"{key}.{code}" for code in LANGUAGES if code != SOURCE_LANGUAGE)]:
            if other != own and other in st.session_state:
                st.session_state[own] = st.session_state[other]  # before the widget exists: allowed
                break
        else:
            if options is not None and format_func is not None and own not in st.query_params:
                found = _linked_value(key, own, options, format_func, multiple)
                if found:
                    st.session_state[own] = found[0]
    return own


def _linked_value(key: str, own: str, options: Sequence, format_func: Callable[[object], object],
                  multiple: bool = False) -> tuple:
    """``(value,)`` of the option whose label another language's URL parameter of ``key`` holds (``(values,)``
    of a multiselect's labels); ``()`` when there is none, or no label is an option's in that language."""
    for code in LANGUAGES:
        param = key if code == SOURCE_LANGUAGE else f"{key}.{code}"
        if param == own or param not in st.query_params:
            continue
        labels = st.query_params.get_all(param) if multiple else [st.query_params[param]]
        with i18n.use_language(code):
            value_of = {str(format_func(option)): option for option in reversed(options)}  # the first one wins
        matches = [value_of[label] for label in labels if label in value_of]
        if matches:
            return (list(dict.fromkeys(matches)),) if multiple else (matches[0],)
    return ()
