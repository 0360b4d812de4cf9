"""Find UI strings that are not marked for translation (the AST check behind the catalog tests).

A *UI string* is a string literal (plain, f-string, ``"...".format``, or ``+`` of them) that a
Streamlit call shows: the label / body / message positions of ``st.*`` elements (``st.button("Go")``,
``col.caption(...)``, ``help=``, ``placeholder=``, ``st.tabs([...])``, ``st.Page(title=...)``), and in
``cv_core/plots`` the text plotly draws (``title=``, ``xaxis_title=``, ``name=``, ``hovertemplate=``).
A literal wrapped in ``_()``/``ngettext()`` is marked. Strings without words (icons, ``"—"``,
``"{x:.2f}"``) and words in ``locale/allowlist.txt`` (proper names: Grad-CAM, Keras...) need no marking.

    python -m tools.ui_strings [files...]   # lists unmarked strings (default: every checked file)
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "locale" / "allowlist.txt"
PENDING = ROOT / "locale" / "pending.txt"
#: Where UI strings live.
CHECKED = ("app.py", "pages", "ui", "cv_core/plots")

MARKERS = {"_", "ngettext", "gettext_", "N_"}
#: Streamlit calls whose first positional argument (and every positional one for ``write``) is shown.
FIRST_ARG = {
    "title", "header", "subheader", "markdown", "caption", "text", "write", "info", "warning", "error",
    "success", "toast", "button", "download_button", "link_button", "checkbox", "toggle", "radio",
    "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input", "text_area",
    "file_uploader", "camera_input", "color_picker", "date_input", "time_input", "expander", "popover",
    "form_submit_button", "spinner", "status", "metric", "segmented_control", "pills", "dialog",
    "chat_input", "audio_input", "badge",
}
#: Column configs: first argument is the header.
COLUMN_CONFIG = re.compile(r"^[A-Z]\w*Column$")
#: Keywords shown by any Streamlit call.
ST_KEYWORDS = {"label", "help", "caption", "placeholder", "text", "body", "title", "page_title", "show_spinner"}
#: Widgets that hold a value: a language switch changes their label, so they need a ``key`` to keep it.
STATEFUL = {"checkbox", "toggle", "radio", "selectbox", "multiselect", "slider", "select_slider", "number_input",
            "text_input", "text_area", "file_uploader", "camera_input", "color_picker", "date_input", "time_input",
            "segmented_control", "pills", "data_editor", "audio_input", "feedback"}
#: Keywords plotly draws (cv_core/plots), and the layout-dict keys it shows.
PLOT_KEYWORDS = {"title", "title_text", "xaxis_title", "yaxis_title", "zaxis_title", "name", "hovertemplate",
                 "legend_title_text", "legendgroup_title", "text", "texttemplate", "annotation_text",
                 "coloraxis_colorbar_title", "colorbar_title", "x_title", "y_title", "subplot_titles",
                 "column_titles", "row_titles", "labels"}
ICON = re.compile(r":material/[a-z0-9_]+:|:[a-z_]+:")
FIELD = re.compile(r"\{[^{}]*\}")
CODE = re.compile(r"`[^`]*`")
URL = re.compile(r"https?://\S+")
TAG = re.compile(r"<[^<>]*>")
WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def allowlist(path: Path = ALLOWLIST) -> list[str]:
    """Words and names that stay as they are in every language, longest first."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted({line for line in lines if line and not line.startswith("#")}, key=len, reverse=True)


def pending(path: Path = PENDING) -> set[str]:
    """Files whose strings are not marked yet (the check skips them; the README says they are English only)."""
    if not path.is_file():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


def english_words(text: str, allowed: list[str]) -> list[str]:
    """Words of ``text`` a person would read as English, once icons, fields, code and allowed names are gone."""
    for pattern in (ICON, FIELD, CODE, URL, TAG):
        text = pattern.sub(" ", text)
    for name in allowed:
        text = re.sub(r"(?<![A-Za-z])" + re.escape(name) + r"(?![A-Za-z])", " ", text)
    return WORD.findall(text)


def _literal_parts(node: ast.AST) -> list[str] | None:
    """The text of an unmarked literal expression, or None when ``node`` is not (or is a marked) literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        parts = (_literal_parts(node.left) or []) + (_literal_parts(node.right) or [])
        return parts or None
    if isinstance(node, ast.IfExp):
        parts = (_literal_parts(node.body) or []) + (_literal_parts(node.orelse) or [])
        return parts or None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _literal_parts(node.func.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        parts = [p for element in node.elts for p in (_literal_parts(element) or [])]
        return parts or None
    return None


def _name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _root(func: ast.AST) -> str | None:
    while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
        func = func.func if isinstance(func, ast.Call) else func.value
    return func.id if isinstance(func, ast.Name) else None


def _shown_arguments(call: ast.Call, plots: bool) -> list[ast.AST]:
    name = _name(call.func)
    if name in MARKERS or name is None:
        return []
    shown: list[ast.AST] = []
    if plots:
        shown += [k.value for k in call.keywords if k.arg in PLOT_KEYWORDS]
        return shown
    is_method = isinstance(call.func, ast.Attribute)
    if name == "Page":
        return [k.value for k in call.keywords if k.arg == "title"]
    if is_method and (name in FIRST_ARG or COLUMN_CONFIG.match(name)) and call.args:
        shown += call.args if name == "write" else call.args[:1]
    if is_method and name == "tabs" and call.args:
        shown.append(call.args[0])
    if is_method and name in ("radio", "selectbox", "multiselect", "segmented_control", "pills", "select_slider") \
            and not any(k.arg == "format_func" for k in call.keywords):
        shown += [k.value for k in call.keywords if k.arg == "options"] + call.args[1:2]
    if is_method or _root(call.func) == "st":
        shown += [k.value for k in call.keywords if k.arg in ST_KEYWORDS]
    return shown


def unmarked(path: Path, allowed: list[str] | None = None) -> list[Finding]:
    """Unmarked UI strings in one file."""
    allowed = allowlist() if allowed is None else allowed
    relative = path.resolve().relative_to(ROOT).as_posix()
    plots = relative.startswith("cv_core/plots/")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for argument in _shown_arguments(node, plots):
            for text in _literal_parts(argument) or []:
                if english_words(text, allowed):
                    found.append(Finding(relative, argument.lineno, text))
    return found


def unkeyed_widgets(path: Path) -> list[Finding]:
    """Value-holding Streamlit widgets without ``key=``: their state would reset when the language changes."""
    relative = path.resolve().relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STATEFUL
                and not any(k.arg in ("key", None) for k in node.keywords)):
            found.append(Finding(relative, node.lineno, node.func.attr))
    return found


def rebinds_underscore(path: Path) -> list[int]:
    """Lines that assign to ``_`` in a file that imports the translation function ``_`` (it would shadow it)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    imports = any(isinstance(n, ast.ImportFrom) and n.module == "cv_core.i18n" and any(a.name == "_" for a in n.names)
                  for n in ast.walk(tree))
    if not imports:
        return []
    lines = []
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def visit(node: ast.AST, in_comprehension: bool) -> None:
        # A comprehension's variables are its own (``sum(n for n, _ in pairs)`` shadows nothing).
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store) and not in_comprehension:
            lines.append(node.lineno)
        elif isinstance(node, ast.arg) and node.arg == "_":
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_comprehension or isinstance(node, comprehensions))

    visit(tree, False)
    return lines


def checked_files() -> list[Path]:
    files = []
    for entry in CHECKED:
        target = ROOT / entry
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or checked_files()
    allowed = allowlist()
    total = 0
    for path in files:
        for finding in unmarked(path, allowed):
            total += 1
            print(finding)
    print(f"{total} unmarked UI strings")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
