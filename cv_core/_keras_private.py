"""Every private Keras API that cv_core relies on, behind one door.

Keras' public API has no way to do five things the lab needs:

* replay a Functional model's graph with our own call around each layer (the interpretation
  methods record every layer's output and swap the classifier's softmax for its logits):
  ``Function._run_through_graph(inputs, operation_fn)``;
* find the layer that produced a symbolic tensor (the classifier head of a nested model):
  ``KerasTensor._keras_history.operation``;
* average the per-worker scalar logs of ``fit``/``evaluate`` under
  ``tf.distribute.MultiWorkerMirroredStrategy`` (keras-team/keras#20585, open):
  ``keras.src.backend.tensorflow.trainer.reduce_per_replica``, its helpers
  ``_collective_all_reduce_multi_worker`` and ``_is_per_replica_instance``, and the
  model's ``_distribute_strategy``;
* build a compiled model's optimizer, loss and metric state before ``fit`` traces its first
  step, as Keras itself does under a distribution strategy (without one it defers this to the
  trace, creates variables inside it, and so traces the training step twice: about a third
  of a tiny run's time here): ``Trainer._symbolic_build(data_batch=...)``;
* save a model without recomputing, on every save, what Keras' saving walk skips (Keras 3.15
  stores its cache under another key than it reads, so it never hits: a third of a small
  model's ``save``): ``keras.src.saving.saving_lib.get_attr_skipset`` and the global-state key
  it reads, ``saving_attr_skiplist_<type>``.

The rest of cv_core reaches them only through the functions below. :func:`check` compares the
installed Keras with the versions these were checked against (:data:`CHECKED_VERSIONS`) and looks
for each private attribute with the signature we call; the test ``tests/unit/test_private_adapters.py``
runs it, so an upgrade of Keras that moves one fails there first. At run time, a moved attribute
raises :class:`KerasPrivateApiError` naming it and what stops working (only the feature that needs
it stops); a Keras outside the checked versions gives one :class:`KerasPrivateApiWarning`.

Nothing here imports TensorFlow or Keras at module level.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import warnings

__all__ = [
    "CHECKED_VERSIONS",
    "PRIVATE_APIS",
    "KerasPrivateApiError",
    "KerasPrivateApiWarning",
    "build_before_first_step",
    "cache_saving_skipsets",
    "check",
    "keep_logs_averaged_across_workers",
    "producing_operation",
    "run_through_graph",
    "version_problem",
]

#: The Keras versions whose private APIs below were read and tested (a ``packaging`` specifier).
CHECKED_VERSIONS = ">=3.15,<3.16"

#: Each private API: what it is, and what stops working without it.
PRIVATE_APIS = {
    "graph": ("Functional model `_run_through_graph(inputs, operation_fn)`",
              "heatmaps, activations and filter patterns of Functional models cannot be computed"),
    "history": ("`KerasTensor._keras_history.operation`",
                "the classifier head of a model is guessed from its last layer instead of found from its output"),
    "multi_worker": ("`keras.src.backend.tensorflow.trainer.reduce_per_replica(values, strategy, reduction)` with "
                     "`_collective_all_reduce_multi_worker`, `_is_per_replica_instance` and a model's "
                     "`_distribute_strategy`",
                     "training on several machines (TF_CONFIG) cannot run; training on one machine is unaffected"),
    "build": ("a model's `_symbolic_build(iterator=None, data_batch=None)`",
              "a run's first epoch traces its training step twice (slower; nothing else changes)"),
    "saving": ("`keras.src.saving.saving_lib.get_attr_skipset(obj_type)` reading the global attribute "
               "`saving_attr_skiplist_<obj_type>`",
               "saving a model takes about a third longer (nothing else changes)"),
}

#: The object types whose skip sets Keras' saving walk asks for.
_SAVING_TYPES = ("Operation", "Layer", "Functional", "Sequential", "Metric", "Optimizer", "Loss")


#: The private method of a Functional model that replays its graph.
_GRAPH_METHOD = "_run_through_graph"


class KerasPrivateApiError(RuntimeError):
    """A private Keras API that cv_core needs is missing or changed in the installed Keras."""


class KerasPrivateApiWarning(UserWarning):
    """The installed Keras is outside the versions cv_core's private-API use was checked against."""


def _keras():
    from cv_core._tf import keras

    return keras()


def version_inside(version: str, specifiers: str) -> bool:
    """Whether ``version`` is inside ``specifiers`` (PEP 440, e.g. ``">=3.10,<3.14"``); False if it is not a version.

    Each adapter of private APIs (this one for Keras, ``ui._streamlit_patches`` for Streamlit) checks
    the installed version against the range it was checked with.
    """
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) in SpecifierSet(specifiers)
    except InvalidVersion:
        return False


def version_problem(version: str | None = None) -> str | None:
    """A sentence if ``version`` (default: the installed Keras) is outside :data:`CHECKED_VERSIONS`."""
    version = version if version is not None else _keras().__version__
    if version_inside(version, CHECKED_VERSIONS):
        return None
    return (f"Keras {version} is outside the versions whose private APIs Convnet Lab was checked against "
            f"({CHECKED_VERSIONS}); if one of them moved, the feature that needs it will say so.")


def _moved(key: str, detail: str) -> str:
    name, consequence = PRIVATE_APIS[key]
    return (f"The installed Keras {_keras().__version__} changed the private API {name} ({detail}): "
            f"{consequence}. Convnet Lab was checked with Keras {CHECKED_VERSIONS}.")


def _parameters(function) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


def _graph_problem() -> str | None:
    keras = _keras()
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    method = getattr(model, _GRAPH_METHOD, None)
    if method is None:
        return _moved("graph", f"{type(model).__name__} has no `{_GRAPH_METHOD}`")
    if not {"inputs", "operation_fn"} <= set(_parameters(method)):
        return _moved("graph", f"its parameters are now {_parameters(method)}")
    return None


def _history_problem() -> str | None:
    history = getattr(_keras().Input((1,)), "_keras_history", None)
    if history is None or not hasattr(history, "operation"):
        return _moved("history", "a symbolic tensor has no `_keras_history.operation`")
    return None


def _trainer_module():
    import importlib

    return importlib.import_module("keras.src.backend.tensorflow.trainer")


def _multi_worker_problem() -> str | None:
    try:
        trainer = _trainer_module()
    except ImportError:
        return _moved("multi_worker", "the module `keras.src.backend.tensorflow.trainer` is gone")
    missing = [name for name in ("reduce_per_replica", "_collective_all_reduce_multi_worker",
                                 "_is_per_replica_instance", "tree") if not hasattr(trainer, name)]
    if missing:
        return _moved("multi_worker", f"missing: {', '.join(missing)}")
    if _parameters(trainer.reduce_per_replica) != ["values", "strategy", "reduction"]:
        return _moved("multi_worker", f"`reduce_per_replica` now takes {_parameters(trainer.reduce_per_replica)}")
    keras = _keras()
    inputs = keras.Input((1,))
    if not hasattr(keras.Model(inputs, inputs), "_distribute_strategy"):
        return _moved("multi_worker", "a model has no `_distribute_strategy`")
    return None


def _saving_module():
    import importlib

    return importlib.import_module("keras.src.saving.saving_lib")


def _saving_problem() -> str | None:
    try:
        saving = _saving_module()
    except ImportError:
        return _moved("saving", "the module `keras.src.saving.saving_lib` is gone")
    if not callable(getattr(saving, "get_attr_skipset", None)) or not hasattr(saving, "global_state"):
        return _moved("saving", "`get_attr_skipset` or its `global_state` is missing")
    if _parameters(saving.get_attr_skipset) != ["obj_type"]:
        return _moved("saving", f"`get_attr_skipset` now takes {_parameters(saving.get_attr_skipset)}")
    return None


def _build_problem() -> str | None:
    keras = _keras()
    inputs = keras.Input((1,))
    method = getattr(keras.Model(inputs, inputs), "_symbolic_build", None)
    if method is None:
        return _moved("build", "a model has no `_symbolic_build`")
    if "data_batch" not in _parameters(method):
        return _moved("build", f"its parameters are now {_parameters(method)}")
    return None


_PROBLEMS = {"graph": _graph_problem, "history": _history_problem, "multi_worker": _multi_worker_problem,
             "saving": _saving_problem, "build": _build_problem}
_FOUND: dict[str, str | None] = {}
_LOCK = threading.Lock()


def check() -> list[str]:
    """Every problem with the installed Keras: outside the checked versions, or a private API moved.

    An empty list means every private API cv_core uses is where it expects it.
    """
    problems = [version_problem()]
    problems += [finder() for finder in _PROBLEMS.values()]
    return [problem for problem in problems if problem]


def _require(key: str) -> bool:
    """True if the private API ``key`` is usable; warns once about an unchecked Keras version."""
    with _LOCK:
        if "version" not in _FOUND:
            _FOUND["version"] = version_problem()
            if _FOUND["version"]:
                warnings.warn(_FOUND["version"], KerasPrivateApiWarning, stacklevel=3)
        if key not in _FOUND:
            _FOUND[key] = _PROBLEMS[key]()
        return _FOUND[key] is None


def run_through_graph(model, inputs, operation_fn):
    """Run a Functional ``model``'s graph on ``inputs``, calling ``operation_fn(op)(*args, **kwargs)`` per node.

    Raises:
        KerasPrivateApiError: the installed Keras no longer has this private method.
    """
    if not _require("graph"):
        raise KerasPrivateApiError(_FOUND["graph"])
    return getattr(model, _GRAPH_METHOD)(inputs, operation_fn=operation_fn)


def producing_operation(tensor):
    """The layer (operation) whose output ``tensor`` is, or None when Keras no longer records it."""
    if not _require("history"):
        return None
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


@contextlib.contextmanager
def keep_logs_averaged_across_workers(model, strategy):
    """Inside: ``model.fit``/``evaluate`` under ``MultiWorkerMirroredStrategy`` work with Keras 3.

    Two Keras bugs are avoided (keras-team/keras#20585): the model defers building to its first
    traced step (its variables were still created in the strategy's scope), and per-replica
    scalar logs are averaged across workers with ``axis=None`` instead of ``axis=0``. The
    patched function is restored on the way out.

    Raises:
        KerasPrivateApiError: the installed Keras moved one of the private names this patches.
    """
    if not _require("multi_worker"):
        raise KerasPrivateApiError(_FOUND["multi_worker"])
    trainer = _trainer_module()
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction not in ("auto", "mean") or not trainer._collective_all_reduce_multi_worker(strategy):
            return original(values, strategy, reduction)

        def reduce(value):
            if not trainer._is_per_replica_instance(value):
                return value
            rank = value.values[0].shape.rank
            return strategy.reduce("MEAN", value, axis=0 if rank else None)

        return trainer.tree.map_structure(reduce, values)

    reduce_per_replica.averages_scalars = True
    model._distribute_strategy = None
    trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        trainer.reduce_per_replica = original


def build_before_first_step(model, element_spec) -> bool:
    """Create a compiled ``model``'s optimizer, loss and metric variables now; True if built.

    ``element_spec`` is the training dataset's (``tf.data.Dataset.element_spec``: shapes and
    dtypes, no data is read). Keras builds these itself before ``fit`` only under a
    distribution strategy; otherwise inside the first traced step, which TensorFlow then traces
    again without them. Built first, ``fit`` traces each step function once (the same graph,
    the same numbers). Without the private API (a moved name) nothing changes but the speed.
    """
    if not _require("build"):
        return False
    model._symbolic_build(data_batch=element_spec)
    return True


def cache_saving_skipsets() -> bool:
    """Let Keras' saving walk find the attribute skip sets it computes; True if they are cached.

    Each set is Keras' own (computed by ``get_attr_skipset``), stored under the key Keras reads,
    so saves write the same files, faster. Without the private API (a moved name) nothing
    changes but the speed.
    """
    if not _require("saving"):
        return False
    saving = _saving_module()
    for obj_type in _SAVING_TYPES:
        key = f"saving_attr_skiplist_{obj_type}"
        if saving.global_state.get_global_attribute(key, None) is None:
            saving.global_state.set_global_attribute(key, saving.get_attr_skipset(obj_type))
    return True
