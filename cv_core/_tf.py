"""One place that imports TensorFlow, with thread settings that suit a small CPU box.

TensorFlow takes seconds to import, so library modules call :func:`tensorflow` inside the
functions that need it instead of importing it at module level. Pages that only browse
data (Home, Datasets) therefore never pay for it.
"""

from __future__ import annotations

import os

_DEFAULTS = {
    # Use every core for one op, and run at most two ops side by side: on a 2-core
    # machine more inter-op threads only add contention.
    "TF_NUM_INTRAOP_THREADS": str(os.cpu_count() or 2),
    "TF_NUM_INTEROP_THREADS": "2",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "KERAS_BACKEND": "tensorflow",
}


def configure_environment() -> None:
    """Set TensorFlow's thread and logging variables, keeping any the user already set."""
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)


def tensorflow():
    """Import and return the ``tensorflow`` module, configured for this machine."""
    configure_environment()
    import tensorflow as tf

    return tf


def keras():
    """Import and return the ``keras`` module (Keras 3 on the TensorFlow backend)."""
    configure_environment()
    import keras as _keras

    return _keras
