"""load_safe_pickle: numpy weights load; code-running pickles and changed files are refused unrun."""

from __future__ import annotations

import hashlib
import os
import pickle
import shlex
import sys

import numpy as np
import pytest

from cv_core.pretrained.squeezenet import SQUEEZENET_WEIGHTS_SHA256, _squeezenet_weights_path
from cv_core.safe_pickle import PickleChecksumError, UnsafePickleError, load_safe_pickle


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _RunsShell:
    """Unpickling this calls os.system(command): what a malicious weights file would do."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _touch_command(marker) -> str:
    return f"{shlex.quote(sys.executable)} -c \"open({str(marker)!r}, 'w').close()\""


def test_the_squeezenet_weights_load_as_plain_numpy():
    weights = load_safe_pickle(_squeezenet_weights_path(), sha256=SQUEEZENET_WEIGHTS_SHA256)
    assert len(weights) == 26  # conv1, 8 fire modules × 3 convolutions, conv10
    kernel, bias = weights["fire2/expand3x3"]
    assert kernel.shape == (3, 3, 16, 64) and bias.shape == (64,)
    assert kernel.dtype == np.float32


@pytest.mark.parametrize(
    "value",
    [
        {"a": [np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros(3, np.int64)]},
        [1, 2.5, "x", b"y", None, True, (np.float32(3.0), np.dtype("float16"))],
        np.array([[1, 2], [3, 4]], dtype=np.uint8),
    ],
)
@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_numpy_data_round_trips_at_every_protocol(value, protocol):
    data = pickle.dumps(value, protocol=protocol)
    loaded = load_safe_pickle(data, sha256=_sha(data))
    assert pickle.dumps(loaded, protocol=protocol) == data


def test_a_pickle_that_runs_a_command_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    data = pickle.dumps({"conv1": [np.zeros(2)], "evil": _RunsShell(_touch_command(marker))})
    # The command works when unpickled the ordinary way, so the test proves something.
    pickle.loads(data)
    assert marker.exists()
    marker.unlink()

    with pytest.raises(UnsafePickleError, match=r"`(posix|os|nt)\.system`"):
        load_safe_pickle(data, sha256=_sha(data))
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        (eval, ("1 + 1",)),
        (getattr, (0, "real")),
        (__import__, ("os",)),
    ],
    ids=["eval", "getattr", "import"],
)
def test_builtins_are_refused(payload):
    class Reduce:
        def __reduce__(self):
            return payload

    data = pickle.dumps(Reduce())
    with pytest.raises(UnsafePickleError, match="builtins"):
        load_safe_pickle(data, sha256=_sha(data))


def test_an_array_of_python_objects_is_refused():
    data = pickle.dumps(np.array([1, "two", None], dtype=object))
    with pytest.raises(UnsafePickleError, match="Python objects"):
        load_safe_pickle(data, sha256=_sha(data))


def test_a_file_with_another_hash_is_refused_before_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "weights.pkl"
    path.write_bytes(pickle.dumps(_RunsShell(_touch_command(marker))))
    with pytest.raises(PickleChecksumError, match="SHA-256 is .* expected " + SQUEEZENET_WEIGHTS_SHA256):
        load_safe_pickle(path, sha256=SQUEEZENET_WEIGHTS_SHA256)
    assert not marker.exists()


def test_one_changed_byte_in_the_real_weights_is_refused(tmp_path):
    data = bytearray(_squeezenet_weights_path().read_bytes())
    data[len(data) // 2] ^= 1
    with pytest.raises(PickleChecksumError):
        load_safe_pickle(bytes(data), sha256=SQUEEZENET_WEIGHTS_SHA256)


def test_errors_are_value_errors_with_clear_messages(tmp_path):
    assert issubclass(UnsafePickleError, ValueError)
    assert issubclass(PickleChecksumError, UnsafePickleError)
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        load_safe_pickle(b"", sha256="abc")
    with pytest.raises(FileNotFoundError, match="No pickle file"):
        load_safe_pickle(tmp_path / "missing.pkl", sha256="0" * 64)
    with pytest.raises(TypeError, match="path or bytes"):
        load_safe_pickle(123, sha256="0" * 64)
    truncated = pickle.dumps({"a": np.zeros(4)})[:-5]
    with pytest.raises(UnsafePickleError, match="Could not unpickle"):
        load_safe_pickle(truncated, sha256=_sha(truncated))
