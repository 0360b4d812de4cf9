"""Loading pickled numpy weights without letting the pickle run code.

A pickle is a small program: unpickling one may call any function it names (``os.system``
included). Weights that ship as pickles (SqueezeNet's, from the ``ndf`` package) are read
here in two steps:

1. the file's SHA-256 must equal the hash the caller expects, or nothing is unpickled;
2. a restricted unpickler admits only the globals numpy needs to rebuild arrays
   (``ndarray``, ``dtype``, ``_reconstruct``, ``scalar`` and, for protocol 5,
   ``_frombuffer``) and refuses every other one with
   :class:`UnsafePickleError`, naming it. Plain containers (dict, list, tuple, str, bytes,
   int, float, bool, None) need no globals.

Arrays of Python objects (dtype ``object``) are refused as well: the lab only ever needs
numbers.

>>> weights = load_safe_pickle("squeezenet_weights.pkl", sha256="f286bb...")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import numpy as np

__all__ = ["UnsafePickleError", "PickleChecksumError", "load_safe_pickle", "sha256_of"]

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

# (module, name) as written in the pickle -> the object it stands for. numpy 2 moved
# ``numpy.core`` to ``numpy._core``; pickles from either era name one or the other.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    # protocol 5 rebuilds contiguous arrays from a buffer
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
}

_PLAIN_TYPES = (str, bytes, int, float, bool, type(None))


class UnsafePickleError(ValueError):
    """A pickle was refused: it names a global outside the numpy allow-list, or holds
    something other than numbers, strings, arrays and plain containers."""


class PickleChecksumError(UnsafePickleError):
    """A pickle's SHA-256 differs from the expected one; nothing was unpickled."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"Refused to unpickle the global `{module}.{name}`: only numpy arrays, dtypes and "
                "scalars are allowed (a pickle naming anything else could run code)."
            ) from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"Refused a persistent reference in the pickle: {pid!r}.")


def sha256_of(data: bytes) -> str:
    """The hexadecimal SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _read(path_or_bytes) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), "the pickled bytes"
    if isinstance(path_or_bytes, (str, os.PathLike)):
        path = Path(path_or_bytes)
        try:
            return path.read_bytes(), str(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"No pickle file at {path}.") from None
    raise TypeError(
        "Expected `path_or_bytes` to be a path or bytes. "
        f"Received: path_or_bytes of type {type(path_or_bytes).__name__}"
    )


def _check_plain(value, where: str = "the pickle") -> None:
    """Refuse anything but plain containers, plain scalars and numeric numpy data."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise UnsafePickleError(f"Refused an array of Python objects in {where}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, where)
            _check_plain(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, where)
    elif not isinstance(value, _PLAIN_TYPES + (np.generic, np.dtype)):
        raise UnsafePickleError(f"Refused a {type(value).__name__} in {where}.")


def load_safe_pickle(path_or_bytes, *, sha256: str):
    """Unpickle trusted-by-hash numpy data without running any code from it.

    Args:
        path_or_bytes: a path to the pickle file, or its bytes.
        sha256: the expected SHA-256 of the file, as 64 hexadecimal digits.

    Returns:
        The unpickled object: plain containers holding numbers, strings and numpy arrays.
        Pickles of protocol 3 and later are supported (protocol 2 stores bytes through a
        codec call, which is refused).

    Raises:
        PickleChecksumError: the data's SHA-256 differs from ``sha256`` (nothing unpickled).
        UnsafePickleError: the pickle names a global other than numpy's array
            reconstruction, or holds other objects. ``PickleChecksumError`` is a subclass;
            both are ``ValueError``.
        FileNotFoundError: there is no file at the path.
        ValueError: ``sha256`` is not 64 hexadecimal digits.
    """
    expected = str(sha256).lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise ValueError(f"Expected `sha256` to be 64 hexadecimal digits. Received: sha256={sha256!r}")
    data, source = _read(path_or_bytes)
    actual = sha256_of(data)
    if actual != expected:
        raise PickleChecksumError(
            f"Refused to unpickle {source}: its SHA-256 is {actual}, expected {expected}. "
            "The file is not the one this code was written for (changed or corrupted)."
        )
    try:
        value = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated or malformed data
        raise UnsafePickleError(f"Could not unpickle {source}: {exc}") from exc
    _check_plain(value, source)
    return value
