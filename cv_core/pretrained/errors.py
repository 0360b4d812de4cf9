"""The two ways a pretrained or operator-named model can fail to load."""

from __future__ import annotations


class PretrainedUnavailableError(RuntimeError):
    """A pretrained model's weights cannot be had here (e.g. offline on first use)."""


class ModelFileError(ValueError):
    """An operator-named model file is missing, of the wrong kind, corrupt or refused."""
