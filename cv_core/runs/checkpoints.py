"""Writing a run's checkpoints (the best model, the backup) off the training thread.

Saving a small model costs Keras 0.1-0.2 s of Python (walking the model, one HDF5 dataset per
variable), as long as a few hundred training steps of the Quick presets' models: after every
epoch the backup, and on improving epochs the best model, held training up by that much.
:class:`CheckpointWriter` takes the weights as numpy arrays on the training thread (a few
milliseconds), then a background thread puts them into a *twin* of the model (the same
architecture and compilation, built once before ``fit``) and saves the twin with Keras' own
``save``/``save_weights``: the files are exactly those Keras would have written from the model.

Each file is written under a temporary name and renamed into place, so a process killed at any
moment leaves the previous complete file (a loadable ``best.keras``, a resumable backup). One
epoch's writes wait for the previous epoch's, in order; :meth:`CheckpointWriter.wait` waits for
all of them (the run does before it records that ``fit`` completed, and when ``fit`` stops).

:class:`BestModelCheckpoint` and :class:`BackupCheckpoint` are Keras' ``ModelCheckpoint`` and
``BackupAndRestore`` with only their writing handed to the writer: when to save, what ``best``
is, and how a run resumes stay Keras'.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
from pathlib import Path

import numpy as np

from cv_core._tf import keras as _keras
from cv_core.runs.files import write_json_atomic

keras = _keras()

__all__ = ["BackupCheckpoint", "BestModelCheckpoint", "CheckpointWriter"]


def _state_variables(model) -> list:
    """Every variable a checkpoint holds, in a fixed order: the model's, then its optimizer's."""
    optimizer = getattr(model, "optimizer", None)
    return [*model.weights, *(optimizer.variables if optimizer is not None else [])]


class CheckpointWriter:
    """Saves snapshots of ``model`` from a background thread, one write after another.

    Args:
        model: a compiled model, before ``fit`` (its twin is built now, on this thread, outside
            any distribution strategy's scope; the Python random state is left as it was, so the
            run's random draws do not change).
    """

    def __init__(self, model) -> None:
        from cv_core._keras_private import cache_saving_skipsets

        cache_saving_skipsets()
        self.model = model
        state = random.getstate()
        try:
            twin = keras.models.clone_model(model, clone_function=_same_dtype_policy)
            if model.compiled:
                twin.compile_from_config(model.get_compile_config())
        finally:
            random.setstate(state)
        self._twin = twin
        self._twin_built = False
        self._snapshot: tuple[object, list[np.ndarray]] | None = None
        self._threads: list[tuple[object, threading.Thread]] = []
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    # -- the training thread ---------------------------------------------------------------
    def save_model(self, path: str | os.PathLike) -> None:
        """Write the model as it is now to ``path`` (a ``.keras`` archive, as ``model.save``)."""
        self._submit(lambda twin: _replace_atomically(Path(path), twin.save))

    def save_weights(self, path: str | os.PathLike, before=None, after=None) -> None:
        """Write the model's weights as they are now to ``path`` (as ``model.save_weights``).

        ``before()`` and ``after()`` run in the same background turn, before and after the write
        (e.g. to keep the previous file, to record what was saved).
        """

        def write(twin):
            if before is not None:
                before()
            _replace_atomically(Path(path), twin.save_weights)
            if after is not None:
                after()

        self._submit(write)

    def wait(self) -> None:
        """Wait for every write submitted so far; re-raise the first one that failed."""
        for _, thread in self._threads:
            thread.join()
        self._threads = []
        self._raise_error()

    # -- internals -------------------------------------------------------------------------
    def _raise_error(self) -> None:
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error

    def _submit(self, write) -> None:
        # The training step the weights are at: the saves of one epoch end share one snapshot.
        optimizer = getattr(self.model, "optimizer", None)
        tag = int(np.asarray(optimizer.iterations)) if optimizer is not None else object()
        # Writes of earlier steps finish first (each file is written by one epoch at a time).
        earlier = [thread for t, thread in self._threads if t != tag]
        if earlier:
            for thread in earlier:
                thread.join()
            self._threads = [(t, thread) for t, thread in self._threads if t == tag]
        self._raise_error()
        if self._snapshot is None or self._snapshot[0] != tag:
            self._snapshot = (tag, [np.array(v.numpy(), copy=True) for v in _state_variables(self.model)])
        values = self._snapshot[1]
        previous = self._threads[-1][1] if self._threads else None
        thread = threading.Thread(target=self._write, args=(previous, values, write), name="checkpoint-writer")
        self._threads.append((tag, thread))
        thread.start()

    def _write(self, previous: threading.Thread | None, values: list[np.ndarray], write) -> None:
        if previous is not None:
            previous.join()
        try:
            twin = self._twin
            if not self._twin_built:
                optimizer = getattr(twin, "optimizer", None)
                if optimizer is not None and not optimizer.built:
                    optimizer.build(twin.trainable_variables)
                self._twin_built = True
            variables = _state_variables(twin)
            if len(variables) != len(values):
                raise RuntimeError(f"Expected the model's twin to hold {len(values)} variables like the model. "
                                   f"Received: {len(variables)}.")
            for variable, value in zip(variables, values):
                variable.assign(value)
            write(twin)
        except BaseException as error:  # handed to the training thread at its next submit or wait
            with self._lock:
                if self._error is None:
                    self._error = error


def _same_dtype_policy(layer):
    """A new layer from ``layer``'s config, holding the very dtype policy object ``layer`` holds.

    Keras marks a policy shared by several layers in the saved config; sharing the model's
    objects keeps those marks, so the twin's config is the model's.
    """
    twin = layer.__class__.from_config(layer.get_config())
    twin.dtype_policy = layer.dtype_policy
    return twin


def _replace_atomically(path: Path, save) -> None:
    """``save(temporary path)``, then rename it to ``path``: readers see the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".weights.h5") else path.suffix
    temporary = path.with_name(f".{path.name}.writing{suffix}")  # Keras checks the extension
    save(str(temporary))
    os.replace(temporary, path)


class BestModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint(save_best_only=True)`` whose saves are written by a :class:`CheckpointWriter`."""

    def __init__(self, filepath, writer: CheckpointWriter, **kwargs) -> None:
        super().__init__(filepath, save_best_only=True, **kwargs)
        self.writer = writer

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if self._should_save_model(epoch, batch, logs, filepath):
            self.writer.save_model(filepath)


class BackupCheckpoint(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose backups are written by a :class:`CheckpointWriter`.

    The files are Keras' (``latest.weights.h5`` and ``training_metadata.json``, with the
    previous pair kept as ``.bkp`` when ``double_checkpoint``), restored by Keras' own code.
    The metadata, which says which epoch is done, is written after the weights.
    """

    def __init__(self, backup_dir, writer: CheckpointWriter, **kwargs) -> None:
        super().__init__(backup_dir, **kwargs)
        self.writer = writer

    def _save_model(self):
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        weights, record = Path(self._weights_path), Path(self._training_metadata_path)
        pairs = ((weights, Path(self._prev_weights_path)), (record, Path(self._prev_training_metadata_path)))

        def keep_previous():
            for current, previous in pairs if self.double_checkpoint else ():
                if current.exists():
                    _copy_atomically(current, previous)

        self.writer.save_weights(weights, before=keep_previous, after=lambda: write_json_atomic(record, metadata))

    def on_train_end(self, logs=None):
        self.writer.wait()
        super().on_train_end(logs)


def _copy_atomically(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.writing")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)
