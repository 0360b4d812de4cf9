"""Loading what a run produced: its best model, for interpretation, prediction and fine-tuning."""

from __future__ import annotations

import os
from pathlib import Path

from cv_core.runs.files import BEST_MODEL_FILE

__all__ = ["RunModelError", "best_model_path", "load_best_model"]


class RunModelError(ValueError):
    """A run has no usable saved model; the message says why and what to do."""


def best_model_path(run_dir: str | os.PathLike) -> Path:
    """Where a run's best model lives (``<run_dir>/best.keras``), whether it exists yet or not."""
    return Path(run_dir) / BEST_MODEL_FILE


def load_best_model(run_dir: str | os.PathLike):
    """Load a run's ``best.keras`` with ``safe_mode=True`` (no code inside the file is run).

    Args:
        run_dir: a run directory under the runs root.

    Returns:
        The ``keras.Model`` saved at the run's best validation epoch (uncompiled use is fine:
        the optimizer state is restored but never needed for inference).

    Raises:
        RunModelError: the run has not saved a model yet (no epoch finished), or the file
            is unreadable or refused by safe mode.
    """
    path = best_model_path(run_dir)
    if not path.is_file():
        raise RunModelError(
            f"Run {Path(run_dir).name!r} has no saved model yet: {BEST_MODEL_FILE} appears after "
            "its first finished epoch."
        )
    from cv_core._tf import keras

    try:
        return keras().models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # a corrupt zip, a Lambda layer refused by safe mode, ...
        raise RunModelError(f"The model of run {Path(run_dir).name!r} could not be loaded: {exc}") from exc
