"""Embeddings computed once per model file and set of pictures, kept on disk beside the run.

The key is a fingerprint of the model file (path, size, modification time and SHA-256 of its
bytes) and of the pictures (their files' paths, sizes and times, or the arrays' bytes). A
changed model or a changed picture gives another key, so a stale file is never read; the
older file of the same name is deleted when the new one is written. Files are plain ``.npy``
(loaded with ``allow_pickle=False``), written to a temporary file then renamed into place,
so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

__all__ = ["cached_embeddings", "model_fingerprint", "pictures_fingerprint"]

_READ_CHUNK = 1 << 20


def model_fingerprint(path: str | os.PathLike) -> str:
    """A hex digest that changes when the model file at ``path`` moves or changes.

    Raises:
        FileNotFoundError: no such file.
    """
    path = Path(path).resolve()
    stat = path.stat()
    digest = hashlib.sha256(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pictures_fingerprint(pictures: Iterable) -> str:
    """A hex digest of a list of pictures, in order: file paths (path, size, time) or arrays (bytes).

    Args:
        pictures: paths (``str``/``os.PathLike``) or array-likes, mixed freely.

    Raises:
        FileNotFoundError: a path that does not exist.
    """
    digest = hashlib.sha256()
    for item in pictures:
        if isinstance(item, (str, os.PathLike)):
            path = Path(item).resolve()
            stat = path.stat()
            digest.update(f"file\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        else:
            array = np.ascontiguousarray(item)
            digest.update(f"array\0{array.dtype.str}\0{array.shape}\0".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def _write_atomically(path: Path, array: np.ndarray) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npy", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, array, allow_pickle=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_embeddings(folder: str | os.PathLike, name: str, model_path: str | os.PathLike, pictures: Iterable,
                      compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The embeddings of ``pictures`` by the model at ``model_path``: from disk, or computed and saved.

    Args:
        folder: where the cache lives (a run's folder); created if missing.
        name: what is embedded (``"validation"``): one file per name is kept.
        model_path: the model file the embeddings come from.
        pictures: what :func:`pictures_fingerprint` takes, in the order ``compute`` embeds them.
        compute: called with no argument on a miss; returns (N, D) embeddings.

    Returns:
        (N, D) array, read-only when read back from disk.

    Raises:
        ValueError: ``name`` is not a plain file name part.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"Expected `name` of letters, digits, '-' or '_'. Received: name={name!r}")
    folder = Path(folder)
    key = hashlib.sha256(f"{model_fingerprint(model_path)}\0{pictures_fingerprint(pictures)}".encode()).hexdigest()
    path = folder / f"embeddings-{name}-{key[:32]}.npy"
    if path.exists():
        try:
            return np.load(path, allow_pickle=False, mmap_mode="r")
        except (ValueError, OSError):
            path.unlink(missing_ok=True)  # unreadable: compute it again
    embeddings = np.asarray(compute())
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, embeddings)
    for stale in folder.glob(f"embeddings-{name}-*.npy"):
        if stale != path and len(stale.stem) == len(path.stem):  # this name's, not "name-x"'s
            stale.unlink(missing_ok=True)
    return embeddings
