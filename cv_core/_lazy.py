"""Lazy re-exports: a package's public names, each imported from its module on first use.

So that ``import cv_core`` (or ``cv_core.detection``) stays cheap and loads TensorFlow only
when a name that needs it is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(namespace: dict, exports: Mapping[str, str]) -> tuple[Callable, Callable]:
    """A package's module-level ``__getattr__`` and ``__dir__`` for ``exports``.

    Args:
        namespace: the package's ``globals()``; a name, once imported, is stored there so
            later look-ups do not come back here.
        exports: public name -> the module that defines it.

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level.
    """
    package = namespace["__name__"]

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
