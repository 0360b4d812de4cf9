"""Training on several machines: reading the cluster that ``TF_CONFIG`` describes.

TensorFlow's multi-worker training is configured by the ``TF_CONFIG`` environment variable
on every machine, for example on the first of two::

    TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                "task": {"type": "worker", "index": 0}}'

Every worker runs the same training step on its share of each batch and the gradients are
summed across machines (``tf.distribute.MultiWorkerMirroredStrategy``). Worker 0 (or the
task of type "chief", when there is one) is the chief: only it writes the run folder that
the lab lists; the others write theirs under ``<run folder>/workers/<index>/``, which the lab
never lists.
"""

from __future__ import annotations

import contextlib
import json
import os

__all__ = ["TF_CONFIG_ENV", "cluster_size", "is_chief", "keras_multi_worker", "task"]

TF_CONFIG_ENV = "TF_CONFIG"


def _config() -> dict:
    text = os.environ.get(TF_CONFIG_ENV, "").strip()
    if not text:
        return {}
    try:
        config = json.loads(text)
    except ValueError:
        raise ValueError(f"Expected ${TF_CONFIG_ENV} to be JSON. Received: {text[:200]!r}") from None
    if not isinstance(config, dict):
        raise ValueError(f"Expected ${TF_CONFIG_ENV} to be a JSON object. Received: {text[:200]!r}")
    return config


def cluster_size() -> int:
    """How many training tasks (chief and workers) ``TF_CONFIG`` names; 1 without a cluster."""
    cluster = _config().get("cluster") or {}
    return sum(len(cluster.get(kind) or []) for kind in ("chief", "worker")) or 1


def task() -> tuple[str, int]:
    """This process's ``(type, index)`` in the cluster; ``("worker", 0)`` without one."""
    info = _config().get("task") or {}
    return str(info.get("type", "worker")), int(info.get("index", 0))


def is_chief() -> bool:
    """Whether this process writes the run folder: the "chief" task, else worker 0."""
    cluster = _config().get("cluster") or {}
    kind, index = task()
    if cluster.get("chief"):
        return kind == "chief"
    return kind == "worker" and index == 0


@contextlib.contextmanager
def keras_multi_worker(model, strategy):
    """Let ``model.fit``/``evaluate`` run under ``MultiWorkerMirroredStrategy`` with Keras 3.

    Keras 3.15 does not work with this strategy out of the box (keras-team/keras#20585,
    open): ``fit`` fails in its symbolic build (``strategy.reduce`` on a tuple batch) and
    then when averaging the per-replica scalar logs (``reduce(..., axis=0)`` on a 0-d
    value). Inside this context both are avoided by patching Keras' private trainer
    helpers (:func:`cv_core._keras_private.keep_logs_averaged_across_workers`, the one place
    that does), and training runs in the strategy's scope. Outside a multi-worker strategy it
    does nothing.

    Raises:
        cv_core._keras_private.KerasPrivateApiError: the installed Keras moved what is patched.
    """
    from cv_core._tf import tensorflow

    tf = tensorflow()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        yield
        return
    from cv_core._keras_private import keep_logs_averaged_across_workers

    with keep_logs_averaged_across_workers(model, strategy), strategy.scope():
        yield
