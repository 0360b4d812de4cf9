"""The lab's words in English or Traditional Chinese: gettext catalogs managed with Babel.

Every sentence a person reads is written in English in the code and marked for translation::

    from cv_core.i18n import _, ngettext, N_

    st.button(_("Start training"))
    st.caption(_("Trained for {epochs} epochs.").format(epochs=n))      # placeholders, never "+"
    st.caption(ngettext("{n} picture", "{n} pictures", n).format(n=n))  # plural forms
    LABELS = {"easy": N_("Easy")}   # marked where it is written, translated where it is shown:
    st.radio(_("Difficulty"), LABELS, format_func=lambda key: _(LABELS[key]))

The catalogs live in ``locale/<language>/LC_MESSAGES/messages.po`` (Babel's layout; see the
README's *Translations* for the extract / update / compile commands). A catalog is read once per
language and kept (``translations``); a compiled ``.mo`` older than its ``.po`` is ignored and the
``.po`` is read instead, so an edited translation shows without a compile step.

Which language ``_`` translates into, first that applies:

1. ``use_language(code)`` around a block (notebooks, tests, a worker that reports in a language);
2. the *language source* the app installs (``set_language_source``): a function that returns the
   language of the person whose page is being drawn (Streamlit's session state), so each browser
   session has its own language even though the server's threads share this module;
3. English.

This module never imports Streamlit (cv_core's rule); ``ui.i18n`` installs the source.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
from pathlib import Path
from typing import Callable, Iterator

#: Folder of the catalogs: ``locale/<language>/LC_MESSAGES/messages.po``.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
#: gettext domain (one catalog per language for the whole lab).
DOMAIN = "messages"
#: Languages offered, by the code used in the URL (``?lang=zh-TW``), with their own names.
LANGUAGES: dict[str, str] = {"en": "English", "zh-TW": "繁體中文"}
#: The language of the code's own strings.
SOURCE_LANGUAGE = "en"

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("convnet_lab_language", default=None)
_source: Callable[[], str | None] | None = None


def normalise_language(code: str | None) -> str | None:
    """The offered language a code names (``"zh_TW"``, ``"zh-tw"``, ``"zh-Hant-TW"`` → ``"zh-TW"``), or None.

    Chinese written in Traditional characters (Taiwan, Hong Kong, Macau, ``Hant``) maps to
    ``zh-TW``; any English maps to ``en``; other languages (Simplified Chinese included) map to None.
    """
    if not code:
        return None
    parts = str(code).replace("_", "-").strip().lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh" and ({"tw", "hk", "mo", "hant"} & set(parts[1:])):
        return "zh-TW"
    return None


def _catalog_code(language: str) -> str:
    """Babel's folder name for a language code (``zh-TW`` → ``zh_TW``)."""
    return language.replace("-", "_")


@functools.lru_cache(maxsize=None)
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of one language, read once and kept (English: no catalog, words pass through).

    Reads ``messages.mo`` when it is at least as new as ``messages.po``, otherwise parses the
    ``.po`` with Babel (fuzzy entries are left out, as a compile would). A missing catalog gives
    the English words back rather than failing: a half-installed lab still runs.
    """
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / _catalog_code(language) / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po.is_file():
        return gettext.NullTranslations()
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=_catalog_code(language))
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def set_language_source(source: Callable[[], str | None] | None) -> None:
    """Install the function that says which language the current page is drawn in (None removes it)."""
    global _source
    _source = source


def current_language() -> str:
    """The language ``_`` translates into now (see the module docstring for the order)."""
    override = _override.get()
    if override:
        return override
    if _source is not None:
        try:
            chosen = normalise_language(_source())
        except Exception:  # noqa: BLE001 - outside a page (a worker thread): English
            chosen = None
        if chosen:
            return chosen
    return SOURCE_LANGUAGE


@contextlib.contextmanager
def use_language(language: str) -> Iterator[str]:
    """Translate into ``language`` inside the block (this thread/context only)."""
    chosen = normalise_language(language)
    if chosen is None:
        raise ValueError(f"Unknown language {language!r}: the lab speaks {', '.join(LANGUAGES)}.")
    token = _override.set(chosen)
    try:
        yield chosen
    finally:
        _override.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (itself when there is no translation)."""
    if not message:
        return message
    return translations(current_language()).gettext(message)


def gettext_(message: str) -> str:
    """The same as ``_`` (a name for places where ``_`` is taken)."""
    return _(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (Chinese has one form)."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (constants, tables, labels)."""
    return message


def _read(message: str, fields: dict) -> str:
    """``message`` translated and filled in; the English when the translation's fields are broken."""
    translated = _(message)
    if not fields:  # a plain sentence (or one already formatted): no braces are read
        return translated
    for text in (translated, message):
        try:
            return text.format(**fields)
        except (KeyError, IndexError, ValueError):
            continue
    return message


class LazyText(str):
    """A sentence for people that cv_core keeps (a dataset's description): English as a ``str``, read
    in the reader's language by ``str(text)`` (what ``st.markdown`` and f-strings do).

    ``LazyText(N_("Images from {folder}, one class per sub-folder."), folder=root)``
    """

    def __new__(cls, message: str, fields: dict | None = None, /, **more):
        fields = {**(fields or {}), **more}
        text = super().__new__(cls, message.format(**fields) if fields else message)
        text.message, text.fields = message, fields
        return text

    def __str__(self) -> str:
        return _read(self.message, self.fields)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return (LazyText, (self.message, self.fields))


class TranslatedError(Exception):
    """An error a person reads, translated when it is shown rather than when it is raised.

    ``raise ImageInputError(N_("This file looks damaged ({detail})."), detail=exc)``: ``str(error)``
    gives the message in the language of whoever reads it, so an error raised (or cached, or pickled)
    in one session reads right in another. Subclass it together with the usual base
    (``class ImageInputError(TranslatedError, ValueError)``).
    """

    def __init__(self, message: str, fields: dict | None = None, /, **more):
        fields = {**(fields or {}), **more}
        super().__init__(message, fields)
        self.message, self.fields = message, fields

    def __str__(self) -> str:
        return _read(self.message, self.fields)


def text_to_json(text) -> dict | None:
    """A sentence to translate (a :class:`LazyText` or a :class:`TranslatedError`) as plain JSON, for
    files another process reads (a run's ``status.json``, a measuring child's report); None for other text.

    ``{"en": the English, "message": the sentence to translate, "fields": {...}}``: a field that is itself
    a LazyText keeps its sentence; text and numbers stay; anything else becomes its English text.
    ``en`` lets a reader check that the stored English still says the same (see
    :func:`cv_core.runs.files.status_text`).
    """
    if not isinstance(text, (TranslatedError, LazyText)):
        return None
    message, fields = text.message, text.fields or {}
    with use_language("en"):
        english = str(text)

    def encode(value):
        if isinstance(value, LazyText):
            return text_to_json(value)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        with use_language("en"):
            return str(value)

    return {"en": english, "message": message, "fields": {str(k): encode(v) for k, v in fields.items()}}


def text_from_json(data) -> LazyText | None:
    """The sentence :func:`text_to_json` wrote, as a :class:`LazyText` read in the reader's language.

    Args:
        data: what :func:`text_to_json` returned (read back from JSON); anything else gives None.
            (Whether the English it was stored beside still says the same is the reader's check:
            :func:`cv_core.runs.files.status_text`.)

    Returns:
        The LazyText, or None where ``data`` is not such a sentence.
    """
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return None
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}

    def decode(value):
        return (text_from_json(value) or str(value.get("en", ""))) if isinstance(value, dict) else value

    return LazyText(data["message"], {str(k): decode(v) for k, v in fields.items()})
