"""The zh-TW catalog against the code: every marked string translated, in the course's terms, and
every UI string in pages/ and ui/ marked (files listed in locale/pending.txt excepted, for now)."""

from __future__ import annotations

import io
import textwrap

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tools import translations, ui_strings

CATALOG = translations.catalog_path("zh_TW")


@pytest.fixture(scope="module")
def template():
    return translations.extract()


@pytest.fixture(scope="module")
def catalog():
    return translations.read_catalog(CATALOG, "zh_TW")


@pytest.fixture(scope="module")
def found(template, catalog):
    return translations.problems("zh_TW", template=template, catalog=catalog, pending=ui_strings.pending())


def test_strings_of_pending_files_may_wait_for_their_translation():
    template = Catalog()
    template.add("Only in a pending page", locations=[("pages/later.py", 3)])
    template.add("Also on a finished page", locations=[("pages/later.py", 4), ("pages/home.py", 9)])
    found = translations.problems("zh_TW", template=template, catalog=Catalog(locale="zh_TW"),
                                  pending={"pages/later.py"})["missing"]
    assert len(found) == 1 and "Also on a finished page" in found[0]


# --- (a) every marked string has a finished translation --------------------------------------------

def test_every_marked_string_has_a_translation(found):
    assert found["missing"] == [], "untranslated:\n" + "\n".join(found["missing"])


def test_no_translation_is_fuzzy(found):
    assert found["fuzzy"] == [], "fuzzy (check and remove the flag):\n" + "\n".join(found["fuzzy"])


def test_extraction_finds_the_marked_strings_of_every_area(template):
    """The map in babel.cfg reaches app.py, pages/, ui/ and cv_core/, with ngettext's plural."""
    files = {location.split("/")[0] for message in template for location, _line in message.locations}
    assert {"app.py", "pages", "ui"} <= files
    assert any(message.pluralizable for message in template)


# --- (b) the course's terms ------------------------------------------------------------------------

def test_translations_use_the_glossary_terms(found):
    assert found["glossary"] == [], "\n".join(found["glossary"])


def test_the_glossary_holds_the_issues_terms():
    chinese = {term.chinese for term in translations.glossary()}
    assert {"影像分類", "影像分割", "物體偵測", "邊界框", "電腦視覺的小眾任務", "影像相似性評分", "關鍵點偵測",
            "姿勢預估", "語義分割", "實體分割", "分割遮罩", "模型架構", "假設空間", "模組化、階層化、及重複使用",
            "金字塔式的結構", "殘差連接", "梯度消失", "批次正規化", "移動平均值", "移動變異數", "深度可分離卷積",
            "逐點卷積", "過濾器", "激活函數", "訓練和驗證準確度", "訓練和驗證損失", "中間層的激活結果", "梯度上升",
            "類別激活熱力圖"} <= chinese


def _catalog(*entries, comments=()):
    catalog = Catalog(locale="zh_TW")
    for (msgid, msgstr), comment in zip(entries, list(comments) + [None] * len(entries)):
        catalog.add(msgid, msgstr, user_comments=[comment] if comment else [])
    return catalog


def test_the_glossary_check_catches_a_different_term_and_honours_a_skip():
    empty = Catalog()
    bad = _catalog(("Residual connections help", "跳躍連接有幫助"), ("Filters of a layer", "層的濾鏡"),
                   ("Filter the runs", "篩選訓練"), comments=[None, None, "glossary-skip: filter"])
    found = translations.problems("zh_TW", template=empty, catalog=bad)["glossary"]
    assert len(found) == 2 and "殘差連接" in found[0] and "過濾器" in found[1]
    good = _catalog(("Residual connections help", "殘差連接有幫助"), ("Prefiltered", "預先處理"))
    assert translations.problems("zh_TW", template=empty, catalog=good)["glossary"] == []


# --- (c) every UI string is marked -----------------------------------------------------------------

def test_every_ui_string_outside_pending_files_is_marked():
    pending = ui_strings.pending()
    allowed = ui_strings.allowlist()
    findings = [str(f) for path in ui_strings.checked_files()
                if path.relative_to(ui_strings.ROOT).as_posix() not in pending
                for f in ui_strings.unmarked(path, allowed)]
    assert findings == [], "mark these with _() (or add the file to locale/pending.txt):\n" + "\n".join(findings)


def test_pending_files_exist():
    missing = [p for p in ui_strings.pending() if not (ui_strings.ROOT / p).is_file()]
    assert missing == []


def test_no_file_that_imports_the_translation_function_rebinds_underscore():
    """``for x, *_ in ...`` after ``from cv_core.i18n import _`` would make every later ``_()`` fail."""
    bad = {path.name: lines for path in ui_strings.checked_files() + sorted((ui_strings.ROOT / "cv_core").rglob("*.py"))
           if (lines := ui_strings.rebinds_underscore(path))}
    assert bad == {}


def test_the_ui_string_check_finds_unmarked_and_passes_marked(tmp_path, monkeypatch):
    source = textwrap.dedent('''
        import streamlit as st
        from cv_core.i18n import _
        st.button("Start training")
        st.caption(f"Trained for {n} epochs.")
        col.markdown("**Loss** " + value)
        st.slider(_("Epochs"), 1, 10, help="How many passes")
        st.tabs([_("Train"), "Runs"])
        st.Page("pages/a.py", title="Home", url_path="home")
        st.caption(_("Trained for {n} epochs.").format(n=n))
        st.markdown(":material/home: —")
        st.caption("Grad-CAM · Xception")
        st.write(value)
    ''')
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "demo.py").write_text(source)
    monkeypatch.setattr(ui_strings, "ROOT", tmp_path)
    texts = [f.text for f in ui_strings.unmarked(folder / "demo.py", ui_strings.allowlist())]
    assert sorted(texts) == sorted(["Start training", "Trained for  epochs.", "**Loss** ", "How many passes", "Runs",
                                    "Home"])


# --- (d) the catalog parses, compiles, and keeps every placeholder ---------------------------------

def test_catalog_parses_and_compiles(catalog):
    assert catalog.num_plurals == 1  # Chinese: one form for every count
    errors = [(m.id, e) for m, errs in catalog.check() for e in errs]
    assert errors == []
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    assert buffer.getvalue()[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")


def test_catalog_has_no_duplicate_msgid():
    """A union merge of two branches that added the same msgid would leave it twice."""
    seen: dict[tuple, int] = {}
    current: list[str] = []
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid ") or (current and line.startswith('"') and not line.startswith('msgstr')):
            if line.startswith("msgid "):
                current = [line[6:]]
            elif current is not None and len(current) and not line.startswith("msgstr"):
                current.append(line)
        elif line.startswith(("msgstr", "msgid_plural")) and current:
            key = tuple(current)
            seen[key] = seen.get(key, 0) + 1
            current = []
    duplicates = [k for k, n in seen.items() if n > 1 and k != ('""',)]
    assert duplicates == []


def test_placeholders_match(found):
    assert found["placeholders"] == [], "\n".join(found["placeholders"])


def test_placeholder_check_catches_a_renamed_field():
    catalog = _catalog(("Trained for {epochs} epochs.", "訓練了 {epoch} 個週期。"))
    found = translations.problems("zh_TW", template=Catalog(), catalog=catalog)["placeholders"]
    assert len(found) == 1


def test_update_is_deterministic(tmp_path, monkeypatch, template):
    """update twice = update once, sorted and without locations (so branches merge cleanly)."""
    monkeypatch.setattr(translations, "LOCALE", tmp_path)
    target = translations.catalog_path("zh_TW")
    target.parent.mkdir(parents=True)
    target.write_bytes(CATALOG.read_bytes())
    translations.write_catalog(translations.update(template, "zh_TW"), target)
    once = target.read_bytes()
    translations.write_catalog(translations.update(template, "zh_TW"), target)
    assert target.read_bytes() == once
    text = once.decode("utf-8")
    assert "\n#: " not in text
    ids = [m.id for m in read_po(io.BytesIO(once)) if m.id]
    keys = [i if isinstance(i, str) else i[0] for i in ids]
    assert keys == sorted(keys)


def test_widgets_in_translated_files_have_keys():
    """A widget without a key is identified by its label: switching the language would reset it."""
    pending = ui_strings.pending()
    findings = [str(f) for path in ui_strings.checked_files()
                if path.relative_to(ui_strings.ROOT).as_posix() not in pending and "plots" not in path.parts
                for f in ui_strings.unkeyed_widgets(path)]
    assert findings == [], "give these widgets a key=:\n" + "\n".join(findings)
