"""Model measurements kept on disk, so a model is built to be measured once per version of the code.

Measuring a model the lab describes (its parameters, multiply-adds and blocks,
:func:`cv_core.anatomy.summarise_in_subprocess`) starts a Python process that imports
TensorFlow and builds the model: 5–10 s of CPU each time a server starts and shows an estimate or
a reference model. The answer only depends on the description and on the code that builds it, so
it is kept in ``$CONVNET_LAB_CACHE/measurements`` (by default ``~/.cache/convnet_lab``), one JSON
file per description, in a folder named by a fingerprint of that code: every ``.py`` file of
``cv_core`` and the versions of Python, Keras and TensorFlow. Changing any of them starts a new
folder (older folders beyond the newest :data:`KEEP_VERSIONS` are deleted), so a stale number is
never read. Files are plain JSON, written to a temporary file then renamed into place; one that
cannot be read or does not match its description is ignored and measured again. Only successful
measurements are kept: a refusal is the builder's to give each time.

Results that are arrays (a pretrained model's filter patterns, half a minute of gradient ascent)
are kept the same way, as ``.npz`` files beside the JSON ones (:func:`recall_arrays`,
:func:`remember_arrays`), read without pickle.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import sys
from importlib import metadata
from pathlib import Path

from cv_core.pretrained.cache import cache_root, write_atomically

__all__ = ["KEEP_VERSIONS", "code_fingerprint", "measurements_dir", "recall", "recall_arrays", "remember",
           "remember_arrays"]

_log = logging.getLogger(__name__)

#: Folders of older code versions kept beside the current one (other checkouts may share the cache).
KEEP_VERSIONS = 4

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def code_fingerprint() -> str:
    """A hex digest of every ``.py`` file of ``cv_core`` (names and bytes) and of the Python,
    Keras and TensorFlow versions: what a model's measurement depends on besides its description."""
    digest = hashlib.sha256()
    for name in ("keras", "tensorflow"):
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=none\0".encode())
    digest.update(f"python={sys.version}\0".encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def measurements_dir() -> Path:
    """This code version's folder: ``$CONVNET_LAB_CACHE/measurements/<fingerprint>``."""
    return cache_root() / "measurements" / code_fingerprint()[:20]


def _file(description: dict, suffix: str = ".json") -> Path:
    key = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()
    return measurements_dir() / f"{key[:32]}{suffix}"


def _new_folder(folder: Path) -> None:
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _prune(folder)


def recall(description: dict) -> dict | None:
    """The measurement kept for ``description`` by this code version, or None."""
    try:
        kept = json.loads(_file(description).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("description") != json.loads(json.dumps(description)) \
            or not isinstance(kept.get("measurement"), dict):
        return None
    return kept["measurement"]


def remember(description: dict, measurement: dict) -> None:
    """Keep ``measurement`` (JSON-friendly) for ``description``; a cache that cannot be written
    (read-only home, full disk) is logged and skipped."""
    path = _file(description)
    try:
        _new_folder(path.parent)
        record = json.dumps({"description": description, "measurement": measurement})
        write_atomically(path, ".json", lambda temp: Path(temp).write_text(record))
    except OSError as exc:
        _log.warning("Could not keep the model's measurement at %s: %s", path, exc)


#: The name under which an ``.npz`` file keeps its description (JSON text).
_DESCRIPTION = "__description__"


def recall_arrays(description: dict) -> dict | None:
    """The arrays kept for ``description`` by this code version (name -> ``numpy.ndarray``), or None."""
    import zipfile

    import numpy as np

    try:
        with np.load(_file(description, ".npz"), allow_pickle=False) as kept:
            if _DESCRIPTION not in kept.files or \
                    json.loads(str(kept[_DESCRIPTION])) != json.loads(json.dumps(description)):
                return None
            return {name: kept[name] for name in kept.files if name != _DESCRIPTION}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing, truncated, not an npz, a pickle
        return None


def remember_arrays(description: dict, arrays: dict) -> None:
    """Keep ``arrays`` (name -> numeric ``numpy.ndarray``) for ``description``; a cache that cannot be
    written is logged and skipped, as for :func:`remember`."""
    import numpy as np

    path = _file(description, ".npz")
    try:
        _new_folder(path.parent)
        record = {**arrays, _DESCRIPTION: np.array(json.dumps(description, sort_keys=True))}
        write_atomically(path, ".npz", lambda temp: np.savez(Path(temp), **record))
    except OSError as exc:
        _log.warning("Could not keep the arrays at %s: %s", path, exc)


def _prune(current: Path) -> None:
    """Delete the folders of older code versions beyond the newest :data:`KEEP_VERSIONS`."""
    others = [p for p in current.parent.iterdir() if p.is_dir() and p != current]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_VERSIONS:]:
        shutil.rmtree(old, ignore_errors=True)
