"""Xception from ``keras.applications`` (the book's figures 9.17 and 9.18), downloaded on first use.

Keras downloads the ImageNet weights (about 90 MB) into ``~/.keras/models`` the first time;
offline, with none cached yet, loading raises :class:`PretrainedUnavailableError` with a message
that says what to copy where.

This module fills the slots :mod:`cv_core.pretrained.registry` reads from each model module.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from cv_core.pretrained.errors import PretrainedUnavailableError

_log = logging.getLogger(__name__)

#: Where Keras keeps Xception's ImageNet weights, under ``~/.keras/models`` (``$KERAS_HOME/models``).
XCEPTION_WEIGHTS_FILE = "xception_weights_tf_dim_ordering_tf_kernels.h5"


@dataclasses.dataclass(frozen=True)
class SignedUnit:
    """RGB scaled to [-1, 1] (Xception, Inception: ``mode="tf"`` in Keras)."""

    def to_model(self, rgb: np.ndarray) -> np.ndarray:
        return rgb / np.float32(127.5) - np.float32(1.0)

    def from_model(self, x: np.ndarray) -> np.ndarray:
        return (x + np.float32(1.0)) * np.float32(127.5)

    def to_model_tensor(self, tf, rgb):
        return rgb / 127.5 - 1.0


DISPLAY_NAME = "Xception"
INPUT_SIZE = (299, 299)
PIXELS = SignedUnit()
USES_CACHE_FOLDER = False


def weights_file() -> Path | None:
    """Xception's ImageNet weights where Keras keeps them (``$KERAS_HOME/models``, by default
    ``~/.keras/models``; ``/tmp/.keras/models`` where the home folder is read-only), or None
    when they are not on this machine (loading would then try to download them)."""
    import os

    homes = [Path(os.environ.get("KERAS_HOME") or Path("~") / ".keras").expanduser(), Path("/tmp") / ".keras"]
    for home in homes:
        path = home / "models" / XCEPTION_WEIGHTS_FILE
        if path.is_file():
            return path
    return None


def load_model(weights: str | None, folder: Path):
    """Xception with ``weights`` (``"imagenet"`` or ``None``); ``folder`` is unused (Keras caches)."""
    from cv_core._tf import keras

    try:
        return keras().applications.Xception(weights=weights)
    except Exception as exc:
        if weights is None:
            raise
        text = str(exc)
        if "URL fetch failure" in text or isinstance(exc, OSError):
            _log.warning("Xception's weights could not be downloaded: %s", text)  # the details, for the operator
            raise PretrainedUnavailableError(
                "No internet connection: Xception's ImageNet weights are downloaded from the internet on first "
                "use (about 90 MB) and this machine could not reach the download server. SqueezeNet works "
                "offline: choose it instead. To use Xception here, open the lab once on a machine with internet "
                "(or run `python -c \"import keras; keras.applications.Xception()\"` there) and copy "
                f"`~/.keras/models/{XCEPTION_WEIGHTS_FILE}` into `~/.keras/models/` on this machine."
            ) from exc
        raise PretrainedUnavailableError(f"Xception's ImageNet weights could not be loaded: {text}") from exc
