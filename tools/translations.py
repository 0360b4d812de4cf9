"""The translation catalogs' commands: extract, update, compile, check.

    python -m tools.translations extract   # marked strings -> locale/messages.pot
    python -m tools.translations update    # merge the template into each catalog (sorted, no locations)
    python -m tools.translations compile   # .po -> .mo beside it (git ignores .mo; the app reads a stale .po anyway)
    python -m tools.translations check     # what the catalog tests check, as a report; exit 1 on a problem

Babel does the work (``babel.cfg`` says which files; keywords ``_``, ``ngettext``, ``N_``). The catalog
is written deterministically, sorted by message and without file locations, so two branches that add
entries merge cleanly and a re-run of ``update`` changes nothing. ``update`` rewrites the catalog: run
it on the main branch, not while several branches append to the catalog (they append under
``# area:`` comments; see the README's *Translations*).
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
TEMPLATE = LOCALE / "messages.pot"
GLOSSARY = LOCALE / "glossary.tsv"
MAPPING = ROOT / "babel.cfg"
#: Catalogs kept in the repository, by Babel's locale code.
CATALOG_LOCALES = ("zh_TW",)
PROJECT = "Convnet Lab"
#: A translator comment that exempts one entry from one glossary term, e.g. ``# glossary-skip: filter``
#: where "filter" is the verb (篩選), not a convolution's filter (過濾器).
GLOSSARY_SKIP = re.compile(r"glossary-skip:\s*(.+)")


def catalog_path(locale: str) -> Path:
    return LOCALE / locale / "LC_MESSAGES" / "messages.po"


def extract(root: Path = ROOT) -> Catalog:
    """Every marked string in the files ``babel.cfg`` names, as a template catalog (with locations)."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    template = Catalog(project=PROJECT, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=DEFAULT_KEYWORDS,
            directory_filter=lambda path: not Path(path).name.startswith((".", "__pycache__"))):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write sorted, without locations or line numbers, so the same content gives the same bytes."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, sort_output=True, include_previous=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def update(template: Catalog, locale: str) -> Catalog:
    """The catalog of ``locale`` merged with ``template``: new strings added, vanished ones kept as obsolete."""
    catalog = read_catalog(catalog_path(locale), locale)
    catalog.update(template, update_creation_date=False)
    return catalog


def compile_catalog(locale: str) -> Path:
    """Write ``messages.mo`` beside the ``.po`` (fuzzy entries left out); raise on a broken entry."""
    catalog = read_catalog(catalog_path(locale), locale)
    errors = [f"{message.id!r}: {error}" for message, errs in catalog.check() for error in errs]
    if errors:
        raise ValueError("The catalog has broken entries:\n" + "\n".join(errors))
    target = catalog_path(locale).with_suffix(".mo")
    with target.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    return target


# --- checks (the catalog tests call these) ---------------------------------------------------------

def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a format string (``{n:,}`` → ``n``); an unparsable string has none."""
    try:
        return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text)
                if field is not None}
    except ValueError:
        return set()


@dataclass(frozen=True)
class Term:
    english: tuple[str, ...]
    chinese: str
    pattern: re.Pattern


def glossary(path: Path = GLOSSARY) -> list[Term]:
    """The course's terms: English variants (``|``-separated) and the one Chinese term for them all."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, chinese, *_note = line.split("\t")
        variants = tuple(v.strip() for v in english.split("|") if v.strip())
        # Whole words, case-insensitive, the last word in singular or plural; a hyphen or space
        # between words matches either ("batch-norm", "batch norm").
        alternatives = []
        for variant in variants:
            words = [re.escape(w) for w in re.split(r"[\s-]+", variant)]
            alternatives.append(r"[\s-]+".join(words) + r"(?:s|es)?")
        terms.append(Term(variants, chinese.strip(),
                          re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)))
    return terms


def glossary_skips(message) -> set[str]:
    skips = set()
    for comment in message.user_comments:
        found = GLOSSARY_SKIP.search(comment)
        if found:
            skips |= {s.strip().lower() for s in found.group(1).split(",")}
    return skips


def problems(locale: str = "zh_TW", template: Catalog | None = None, catalog: Catalog | None = None,
             terms: list[Term] | None = None, pending: set[str] | None = None) -> dict[str, list[str]]:
    """What is wrong with a catalog against the code: missing, fuzzy, placeholder and glossary problems.

    A string used only in ``pending`` files (``locale/pending.txt``: not finished, English for now) may
    lack its translation; once its file leaves the list, it may not.
    """
    if pending is None:
        from tools.ui_strings import pending as pending_files

        pending = pending_files()
    template = template if template is not None else extract()
    catalog = catalog if catalog is not None else read_catalog(catalog_path(locale), locale)
    found: dict[str, list[str]] = {"missing": [], "fuzzy": [], "placeholders": [], "glossary": [], "broken": []}
    for message, errs in catalog.check():
        found["broken"] += [f"{message.id!r}: {e}" for e in errs]
    for wanted in template:
        if not wanted.id:
            continue
        if wanted.locations and all(Path(f).as_posix() in pending for f, _n in wanted.locations):
            continue
        message = catalog.get(wanted.id, context=wanted.context)
        where = ", ".join(f"{f}:{n}" for f, n in wanted.locations[:2])
        if message is None or not all(_strings(message)):
            found["missing"].append(f"{_ids(wanted)[0]!r} ({where})")
        elif message.fuzzy:
            found["fuzzy"].append(f"{_ids(wanted)[0]!r} ({where})")
    terms = glossary() if terms is None else terms
    for message in catalog:
        if not message.id or not all(_strings(message)):
            continue
        expected = set().union(*(placeholders(i) for i in _ids(message)))
        for translated in _strings(message):
            if placeholders(translated) != expected:
                found["placeholders"].append(
                    f"{_ids(message)[0]!r}: {sorted(placeholders(translated))} instead of {sorted(expected)}")
        skips = glossary_skips(message)
        for term in terms:
            if {v.lower() for v in term.english} & skips:
                continue
            if any(term.pattern.search(i) for i in _ids(message)) and not all(
                    term.chinese in s for s in _strings(message)):
                found["glossary"].append(f"{_ids(message)[0]!r} says {term.english[0]!r}: its translation "
                                         f"should use {term.chinese!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.translations", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["extract", "update", "compile", "check"])
    args = parser.parse_args(argv)
    if args.command == "extract":
        template = extract()
        write_catalog(template, TEMPLATE)
        print(f"{len(template)} messages -> {TEMPLATE.relative_to(ROOT)}")
    elif args.command == "update":
        template = extract()
        for locale in CATALOG_LOCALES:
            catalog = update(template, locale)
            write_catalog(catalog, catalog_path(locale))
            untranslated = sum(1 for m in catalog if m.id and not all(_strings(m)))
            print(f"{catalog_path(locale).relative_to(ROOT)}: {len(catalog)} messages, {untranslated} untranslated")
    elif args.command == "compile":
        for locale in CATALOG_LOCALES:
            print(f"-> {compile_catalog(locale).relative_to(ROOT)}")
    else:
        bad = 0
        for locale in CATALOG_LOCALES:
            for kind, lines in problems(locale).items():
                bad += len(lines)
                for line in lines:
                    print(f"{locale} {kind}: {line}")
        print("ok" if not bad else f"{bad} problems")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
