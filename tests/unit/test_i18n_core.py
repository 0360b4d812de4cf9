"""cv_core.i18n: language choice, the catalog cache and fall-backs (the catalog's content is tested elsewhere)."""

import threading

import pytest

from cv_core import i18n


@pytest.mark.parametrize("code, expected", [
    ("en", "en"), ("en-GB", "en"), ("zh-TW", "zh-TW"), ("zh_TW", "zh-TW"), ("zh-tw", "zh-TW"),
    ("zh-Hant-TW", "zh-TW"), ("zh-HK", "zh-TW"), ("zh-CN", None), ("zh", None), ("fr", None),
    ("", None), (None, None)])
def test_normalise_language(code, expected):
    assert i18n.normalise_language(code) == expected


def test_english_passes_through_and_marking_does_not_translate():
    with i18n.use_language("en"):
        assert i18n._("Start training") == "Start training"
        assert i18n.ngettext("{n} picture", "{n} pictures", 1) == "{n} picture"
        assert i18n.ngettext("{n} picture", "{n} pictures", 2) == "{n} pictures"
    assert i18n.N_("Easy") == "Easy"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="Unknown language"):
        with i18n.use_language("xx"):
            pass


def test_source_decides_unless_overridden_and_a_failing_source_means_english(monkeypatch):
    monkeypatch.setattr(i18n, "_source", None)
    assert i18n.current_language() == "en"
    i18n.set_language_source(lambda: "zh_TW")
    try:
        assert i18n.current_language() == "zh-TW"
        with i18n.use_language("en"):
            assert i18n.current_language() == "en"
        i18n.set_language_source(lambda: 1 / 0)
        assert i18n.current_language() == "en"
    finally:
        i18n.set_language_source(None)


def test_override_is_per_thread():
    seen = {}
    with i18n.use_language("zh-TW"):
        thread = threading.Thread(target=lambda: seen.setdefault("other", i18n.current_language()))
        thread.start()
        thread.join()
        assert i18n.current_language() == "zh-TW"
    assert seen["other"] == "en"


def test_catalog_is_read_once_and_a_missing_catalog_gives_english(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("zh-TW") is i18n.translations("zh-TW")
        with i18n.use_language("zh-TW"):
            assert i18n._("Start training") == "Start training"
    finally:
        i18n.translations.cache_clear()


def test_po_is_read_without_a_compile_step_and_fuzzy_entries_are_left_out(tmp_path, monkeypatch):
    folder = tmp_path / "zh_TW" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "Start training"\nmsgstr "開始訓練"\n\n'
        '#, fuzzy\nmsgid "Stop"\nmsgstr "停止"\n\n'
        'msgid "{n} picture"\nmsgid_plural "{n} pictures"\nmsgstr[0] "{n} 張圖片"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with i18n.use_language("zh-TW"):
            assert i18n._("Start training") == "開始訓練"
            assert i18n._("Stop") == "Stop"
            assert i18n.ngettext("{n} picture", "{n} pictures", 5) == "{n} 張圖片"
    finally:
        i18n.translations.cache_clear()


class Refused(i18n.TranslatedError, ValueError):
    """A module-level error (pickle finds it by name, as with cv_core's)."""


def test_translated_error_reads_in_the_language_it_is_shown_in_and_pickles(tmp_path, monkeypatch):
    import pickle

    folder = tmp_path / "zh_TW" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Too small: {width} px."\nmsgstr "太小：{width} 像素。"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()

    try:
        error = Refused(i18n.N_("Too small: {width} px."), width=12)
        assert str(error) == "Too small: 12 px."
        with i18n.use_language("zh-TW"):
            assert str(error) == "太小：12 像素。"
            assert str(pickle.loads(pickle.dumps(error))) == "太小：12 像素。"  # st.cache_data pickles
        assert str(Refused("A {brace} in an already formatted message")) == "A {brace} in an already formatted message"
        assert isinstance(error, ValueError)
    finally:
        i18n.translations.cache_clear()
