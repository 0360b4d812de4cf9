"""Model files named by the operator (``CONVNET_LAB_MODEL_FILES``), loaded in Keras' safe mode.

Model files are never accepted from browser uploads: a model file can carry code (a ``Lambda``
layer's pickled function, a custom layer), so only files the person running the lab placed on
the machine are offered.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from cv_core.pretrained.errors import ModelFileError

MODEL_FILES_ENV = "CONVNET_LAB_MODEL_FILES"


def operator_model_files() -> list[Path]:
    """The ``.keras`` files the operator named in ``CONVNET_LAB_MODEL_FILES``.

    The variable holds ``os.pathsep``-separated (``:`` on Linux) entries: ``.keras`` files,
    and folders whose ``.keras`` files (not sub-folders') are listed in name order. Missing
    entries and other files are ignored; each file appears once.

    Returns:
        Resolved paths, in the order the variable names them.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for entry in os.environ.get(MODEL_FILES_ENV, "").split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        path = Path(entry).expanduser()
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.suffix == ".keras" and p.is_file())
        elif path.is_file() and path.suffix == ".keras":
            candidates = [path]
        else:
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found


def load_model_file(path: str | os.PathLike):
    """Load an operator's ``.keras`` model with ``safe_mode=True`` (no code in it is run).

    Only for files the operator placed on this machine (see :func:`operator_model_files`);
    never pass it a file uploaded through the browser.

    Args:
        path: a ``.keras`` file.

    Returns:
        The uncompiled ``keras.Model``.

    Raises:
        ModelFileError: the file is missing, is not a ``.keras`` file, is corrupt, or is
            refused by safe mode (it carries code, e.g. a ``Lambda`` layer).
        TypeError: ``path`` is not a path (bytes of an upload, say).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Expected `path` to be the path of a `.keras` file on this machine (model files are "
            f"never taken from uploads). Received: a {type(path).__name__}"
        )
    path = Path(path).expanduser()
    if path.suffix != ".keras":
        raise ModelFileError(f"Expected a `.keras` model file. Received: path={str(path)!r}")
    if not path.exists():
        raise ModelFileError(f"No model file at {path}.")
    if not path.is_file():
        raise ModelFileError(f"Expected a `.keras` file, but {path} is a folder.")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not a Keras model file (a `.keras` file is a zip archive).")
    from cv_core._tf import keras

    try:
        return keras().models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        text = str(exc)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ModelFileError(
                f"{path.name} was refused by Keras' safe mode: it carries Python code (such as a "
                "Lambda layer), which the lab never runs. Rebuild the model without it."
            ) from exc
        raise ModelFileError(f"{path.name} could not be loaded: {text}") from exc
