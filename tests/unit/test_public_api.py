"""``cv_core`` re-exports its public API as one flat list, as a notebook user expects
(``from cv_core import grad_cam``), without importing TensorFlow until a name is used."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import cv_core

REPO = Path(__file__).resolve().parents[2]


def test_the_notebook_use_of_the_style_guide_works():
    from cv_core import build_mini_xception, grad_cam, overlay
    from cv_core.interpret.grad_cam import grad_cam as defined
    from cv_core.overlays import overlay as overlay_defined
    from cv_core.models import build_mini_xception as builder

    assert grad_cam is defined and overlay is overlay_defined and build_mini_xception is builder


@pytest.mark.parametrize("name", cv_core.__all__)
def test_every_exported_name_is_the_public_object_of_its_module(name):
    module = importlib.import_module(cv_core._EXPORTS[name])
    assert getattr(cv_core, name) is getattr(module, name)
    public = getattr(module, "__all__", None)  # a module without __all__: every name without "_"
    assert name in public if public is not None else not name.startswith("_"), \
        f"{name} is not public in {module.__name__}"


def test_the_list_is_flat_sorted_and_listed_by_dir():
    assert cv_core.__all__ == sorted(set(cv_core.__all__))
    assert set(cv_core.__all__) <= set(dir(cv_core))
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        cv_core.no_such_thing  # noqa: B018
    with pytest.raises(ImportError):
        from cv_core import no_such_thing  # noqa: F401


def test_importing_cv_core_alone_imports_neither_tensorflow_nor_keras():
    code = "import sys, cv_core\nprint(sorted(m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_tensorflow_check_can_fail():
    """The same check sees TensorFlow once a name that needs it is used."""
    code = ("import sys, cv_core\ncv_core.build_mini_xception(input_shape=(32, 32, 3), num_classes=2)\n"
            "print('tensorflow' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "True"
