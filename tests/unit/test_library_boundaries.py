"""cv_core is a library a notebook can import: it never imports Streamlit, in any of its modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_importing_any_cv_core_module_never_imports_streamlit():
    code = (
        "import importlib, pkgutil, sys, cv_core\n"
        "names = [m.name for m in pkgutil.walk_packages(cv_core.__path__, 'cv_core.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "for name in list(cv_core.__all__):\n"
        "    getattr(cv_core, name)\n"
        "print(len(names), 'streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    count, imported = out.stdout.split()[-2:]
    assert int(count) > 20  # every module was really imported
    assert imported == "False", "a cv_core module imports streamlit"


def test_the_boundary_check_can_fail(tmp_path):
    """The same check sees a module that does import streamlit."""
    package = tmp_path / "fake_lib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "leaky.py").write_text("import streamlit\n")
    code = (
        "import importlib, pkgutil, sys, fake_lib\n"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(fake_lib.__path__, 'fake_lib.')]\n"
        "print('streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.split()[-1] == "True"
