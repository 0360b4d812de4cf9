"""The folder where converted models are kept, and a save that never leaves half a file there."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

_log = logging.getLogger(__name__)

CACHE_ENV = "CONVNET_LAB_CACHE"


def cache_root() -> Path:
    """The lab's cache folder: ``$CONVNET_LAB_CACHE``, by default ``~/.cache/convnet_lab``."""
    return Path(os.environ.get(CACHE_ENV) or os.path.join("~", ".cache", "convnet_lab")).expanduser()


def cache_dir() -> Path:
    """Where converted models are kept: ``$CONVNET_LAB_CACHE/models``, by default
    ``~/.cache/convnet_lab/models``."""
    return cache_root() / "models"


def write_atomically(path: Path, suffix: str, write) -> None:
    """Write ``path`` by ``write(temporary_path)`` on a temporary file beside it, then rename it into
    place (a reader never sees half a file); the temporary file is removed if anything fails,
    and the error is raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(temp)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the cache is not secret
        os.replace(temp, path)
    except BaseException:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise


def save_atomically(model, path: Path) -> None:
    """Save ``model`` to ``path`` via a temporary file, or log why not (the model still works)."""
    try:
        write_atomically(path, ".keras", model.save)
    except Exception as exc:  # read-only home, full disk, ...: keep working from memory
        _log.warning("Could not cache the converted model at %s: %s", path, exc)
