"""The worker process of one run: wait for its turn, train, record the outcome.

Started as ``python -m cv_core.runs.worker RUN_DIR`` by :func:`cv_core.runs.submit_run`
(and run in the foreground by ``python -m cv_core.train``). It

1. records its pid and process start time in ``status.json`` and starts a heartbeat
   thread that refreshes ``heartbeat`` every two seconds;
2. waits, without importing TensorFlow, until it is first in the queue and holds the
   runs root's train lock (:func:`cv_core.runs.jobs.wait_for_turn`);
3. trains with :func:`run_training`: the model, its compilation, its data and its metrics
   come from the spec's task (:data:`cv_core.runs.tasks.TASKS`); it is fit with the
   callbacks of :mod:`cv_core.runs.callbacks` (resuming from ``backup/`` if an earlier
   attempt was interrupted), then ``best.keras`` is evaluated on the test split (and the
   task's final scores, such as per-class IoU, are saved);
4. ends in "completed", "failed" (with the reason: an exception or a NaN loss),
   "cancelled" or "interrupted" (SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

from cv_core.i18n import N_, LazyText, text_to_json
from cv_core.runs import files, jobs
from cv_core.runs.callbacks import RunMonitor, RunStopped, make_callbacks
from cv_core.runs.cluster import keras_multi_worker
from cv_core.runs.files import read_metrics, read_spec, read_status, update_status, write_json_atomic
from cv_core.runs.liveness import process_start_time
from cv_core.runs.model import build_model, compile_model
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import task_of

__all__ = ["Heartbeat", "build_model", "main", "run_training", "weights_digest"]

HEARTBEAT_SECONDS = 2.0


class Heartbeat:
    """A daemon thread that writes ``heartbeat = time.time()`` into ``status.json`` periodically."""

    def __init__(self, run_dir: str | os.PathLike, interval: float = HEARTBEAT_SECONDS) -> None:
        self.run_dir = Path(run_dir)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Write one heartbeat now and keep writing them in the background."""
        update_status(self.run_dir, heartbeat=time.time())
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                update_status(self.run_dir, heartbeat=time.time())
            except OSError:  # the run directory was deleted under us: nothing to report to
                return

    def stop(self) -> None:
        """Stop the thread (waits for it)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


#: A run's status message while its worker waits in the queue (translated where it is shown).
_WAITING_FOR_TURN = text_to_json(LazyText(N_("Waiting for its turn to train")))


def _strategy(tf):
    """The distribution strategy for this process.

    ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names a cluster of more than one
    worker (see :mod:`cv_core.runs.cluster`), ``MirroredStrategy`` over all GPUs when there
    are several, else the default strategy.
    """
    from cv_core.runs.cluster import cluster_size

    if cluster_size() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _param_counts(model) -> dict:
    """Keras' own counts: ``count_params()`` in all, and of the trainable weights (as ``summary()``)."""
    import math

    total = int(model.count_params())
    trainable = int(sum(math.prod(weight.shape) for weight in model.trainable_weights))
    return {"params": total, "trainable_params": trainable, "non_trainable_params": total - trainable}


@contextlib.contextmanager
def _expected_end_of_data():
    """Silence Keras' "input ran out of data" warning, which is expected here.

    The datasets' tf.data pipelines filter out unreadable files, so their length is
    unknown and Keras finds the end of an epoch by running out of data.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        yield


def run_training(spec: TrainSpec, run_dir: str | os.PathLike,
                 echo: Callable[[str], None] | None = None, callbacks_first: tuple = (),
                 callbacks_last: tuple = ()) -> dict:
    """Train ``spec`` into ``run_dir`` and evaluate the best model on the test split.

    This is the whole training job, run in the worker after it holds the train lock;
    the benchmark calls it in-process. It resumes from ``run_dir/backup`` when an earlier
    attempt was interrupted, and skips straight to the test evaluation when the earlier
    attempt had already finished ``fit``.

    Args:
        spec: a validated spec.
        run_dir: an existing run directory (``status.json`` is updated as training goes).
        echo: receives progress lines (the CLI prints them).
        callbacks_first, callbacks_last: Keras callbacks to run before and after the run's
            own (``bench/train_throughput.py`` times epochs with them).

    Returns:
        The test metrics dict written to ``test_metrics.json``.

    Raises:
        RunStopped: cancelled, or the loss stopped being finite.
    """
    from cv_core._tf import keras as _keras
    from cv_core._tf import tensorflow
    from cv_core.datasets import open_dataset
    from cv_core.runs.cost import check_resources
    from cv_core.runs.folders import best_epoch_row

    run_dir = Path(run_dir)
    tf = tensorflow()
    keras = _keras()
    strategy = _strategy(tf)  # first: a multi-worker strategy must exist before any TF op
    keras.utils.set_random_seed(spec.seed)
    tf.config.experimental.enable_op_determinism()  # the same seed gives the same curves

    task = task_of(spec)
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    num_classes = task.num_classes(dataset)
    # The spec was validated when the run was created, but spec.json may have been edited
    # since, or the folder may have grown: check the budget again before building anything.
    check_resources(spec, num_classes=num_classes, train_images=dataset.count("train"),
                    cached_images=dataset.count("train") + dataset.count("validation"))
    train_ds = task.targets(dataset, "train", spec, True)
    val_ds = task.targets(dataset, "validation", spec, False)
    if strategy.num_replicas_in_sync > 1:
        train_ds, val_ds = (_shard_by_data(tf, ds) for ds in (train_ds, val_ds))
    steps_per_epoch = dataset.steps_per_epoch("train", spec.batch_size)

    with strategy.scope():
        model = build_model(spec, num_classes)
        compile_model(spec, model, num_classes, steps_per_epoch)
    if spec.continues and not read_status(run_dir).get("fit_completed"):
        start = _starting_weights(Path(spec.continues))
        fresh = _load_starting_weights(model, start)
        if echo:
            echo(f"Starting from the weights of {start}"
                 + (f" (new: {', '.join(fresh)}, whose shapes differ)" if fresh else ""))
    write_json_atomic(run_dir / files.SUMMARY_FILE, {
        **_param_counts(model),
        "task": task.name,
        "model_name": model.name,
        "layers": len(model.layers),
        "input_shape": [spec.image_size, spec.image_size, 3],
        "num_classes": num_classes,
        "class_names": task.class_names(dataset),
        "mask_background": dataset.mask_background if dataset.has_masks else None,
        "train_images": dataset.count("train"),
        "validation_images": dataset.count("validation"),
        "test_images": dataset.count("test"),
        "replicas": strategy.num_replicas_in_sync,
    })

    if not read_status(run_dir).get("fit_completed"):
        from cv_core.runs.checkpoints import CheckpointWriter

        writer = CheckpointWriter(model)  # the best model and the backup are written off the training thread
        monitor = RunMonitor(run_dir, spec.epochs, steps_per_epoch, echo=echo,
                             metrics=tuple(m for m, _ in task.curves if m != "loss"))
        callbacks = [*callbacks_first, *task.callbacks(dataset, spec, run_dir),
                     *make_callbacks(monitor, run_dir, (task.monitor, task.mode), writer), *callbacks_last]
        if strategy.num_replicas_in_sync == 1:  # several: keras_multi_worker defers building (a Keras bug)
            from cv_core._keras_private import build_before_first_step

            build_before_first_step(model, train_ds.element_spec)  # fit traces its step once, not twice
        try:
            with _expected_end_of_data(), keras_multi_worker(model, strategy):
                model.fit(train_ds, validation_data=val_ds, epochs=spec.epochs, shuffle=False, callbacks=callbacks,
                          verbose=0)
        except BaseException:
            with contextlib.suppress(Exception):  # the reason fit stopped is the one to report
                writer.wait()
            raise
        model.save(run_dir / files.LAST_MODEL_FILE)
        update_status(run_dir, trainable_weights_sha256=weights_digest(model))

    update_status(run_dir, message="Evaluating the best model on the test split")
    best_path = run_dir / files.BEST_MODEL_FILE
    if best_path.exists():  # its weights into this model: evaluate reuses the traced validation step
        with strategy.scope():
            model.load_weights(best_path)
    best = best_epoch_row(read_metrics(run_dir), (task.monitor, task.mode))
    best_epoch = best["epoch"] if best else None
    results = {"model": best_path.name if best_path.exists() else "final weights", "best_epoch": best_epoch}
    if dataset.count("test"):
        test_ds = task.targets(dataset, "test", spec, False)
        if strategy.num_replicas_in_sync > 1:
            test_ds = _shard_by_data(tf, test_ds)
        with _expected_end_of_data(), keras_multi_worker(model, strategy):
            scores = model.evaluate(test_ds, verbose=0, return_dict=True)
        results.update({key: float(value) for key, value in scores.items()})
        results["images"] = dataset.count("test")
    else:
        results["note"] = f"The {spec.dataset!r} dataset has no test split."
    if task.final_scores is not None:
        update_status(run_dir, message="Scoring the best model class by class")
        final = task.final_scores(model, dataset, spec)
        write_json_atomic(run_dir / files.SCORES_FILE, final)
        test = final.get("test") if isinstance(final, dict) else None
        if task.test_metric not in results and isinstance(test, dict) and task.test_metric in test:
            results[task.test_metric] = test[task.test_metric]  # a score model.evaluate cannot give (mAP)
    write_json_atomic(run_dir / files.TEST_METRICS_FILE, results)
    if echo:
        echo(f"test {task.metric_label} {results.get(task.test_metric, float('nan')):.4f} (best epoch {best_epoch})")
    return results


def _load_starting_weights(model, path: Path) -> list[str]:
    """Load the weights a run starts from; returns the layers left fresh because their shapes differ.

    A continued run has exactly the earlier run's architecture. A fine-tuned segmentation run
    may predict other classes (another dataset): then its last layer cannot take the earlier
    weights and starts from its fresh initialisation, while every other layer is loaded.
    """
    import numpy as np

    before = {layer.name: [np.array(w) for w in layer.get_weights()] for layer in model.layers}
    try:
        model.load_weights(path)
        return []
    except ValueError:  # raised at the first layer of another shape, after loading the ones before it
        model.load_weights(path, skip_mismatch=True)
        return [layer.name for layer in model.layers
                if all(np.array_equal(a, b) for a, b in zip(before[layer.name], layer.get_weights()))
                and layer.get_weights()]


def weights_digest(model) -> str:
    """SHA-256 of a model's trainable weights, in order: equal on every worker that trained in step.

    Batch-norm moving statistics are left out: each worker averages the statistics of its own
    share of every batch (Keras' BatchNormalization is not synchronised across workers), so
    they differ slightly from worker to worker by design.
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for variable in model.trainable_weights:
        digest.update(np.ascontiguousarray(np.asarray(variable)).tobytes())
    return digest.hexdigest()


def _starting_weights(parent: Path) -> Path:
    """The weights a continued run starts from: the earlier run's final model, else its best."""
    for name in (files.LAST_MODEL_FILE, files.BEST_MODEL_FILE):
        if (parent / name).is_file():
            return parent / name
    raise FileNotFoundError(f"Expected {files.LAST_MODEL_FILE} or {files.BEST_MODEL_FILE} in {str(parent)!r}.")


def _shard_by_data(tf, ds):
    """Shard a pipeline across workers by element (it reads no files, so it cannot shard by file)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


#: TensorFlow 2.21's oneDNN kernels corrupt the heap on this kind of CPU (the process aborts
#: with "malloc(): corrupted top size") when they train a strided 1x1 convolution on fewer than
#: 16 channels at 60 px or more: e.g. the Tiny preset's mini-Xception (filters 8, 16) at 64 px.
#: A run with any layer that narrow trains with oneDNN's optimisations off: the same model and
#: numbers, computed by TensorFlow's own kernels. Wider runs keep them.
ONEDNN_MIN_FILTERS = 16


def avoid_onednn_crash(spec: TrainSpec) -> bool:
    """Turn oneDNN off for ``spec`` if it is narrow, before TensorFlow is imported; True if done.

    Nothing changes when TensorFlow is already imported in this process (too late) or the
    person set ``TF_ENABLE_ONEDNN_OPTS`` themselves.
    """
    if min(spec.filters, default=ONEDNN_MIN_FILTERS) >= ONEDNN_MIN_FILTERS:
        return False
    if "tensorflow" in sys.modules or "TF_ENABLE_ONEDNN_OPTS" in os.environ:
        return False
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    return True


def main(run_dir: str | os.PathLike, echo: Callable[[str], None] | None = None,
         poll_seconds: float = 1.0, queue: bool = True) -> str:
    """Run the worker for ``run_dir`` in this process and return the run's final state.

    Args:
        run_dir: a run directory in the "queued" state.
        echo: receives progress lines (the CLI prints them); None prints them to stdout,
            which for a worker process is ``worker.log``.
        poll_seconds: how often to look at the queue while waiting.
        queue: wait for its turn in the runs root's queue (a multi-worker run does not: its
            cluster already decides when it trains).
    """
    run_dir = Path(run_dir).absolute()
    say = echo or (lambda line: print(line, flush=True))
    status = read_status(run_dir)
    if status.get("state") != "queued":
        say(f"Run {run_dir.name} is {status.get('state')!r}, not queued: nothing to do.")
        return str(status.get("state"))
    spec = read_spec(run_dir)
    pid = os.getpid()
    update_status(run_dir, pid=pid, pid_start=process_start_time(pid),
                  worker_started_at=time.time(), message=_WAITING_FOR_TURN["en"], message_text=_WAITING_FOR_TURN)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
    heartbeat = Heartbeat(run_dir).start()
    lock_fd = None
    final: dict = {}
    try:
        if spec is None:
            raise ValueError(f"Expected a readable {files.SPEC_FILE} in {str(run_dir)!r}.")
        lock_fd = jobs.wait_for_turn(run_dir, poll_seconds=poll_seconds) if queue else -1
        if lock_fd is None:
            final = {"state": "cancelled", "message": "Cancelled before it started."}
        else:
            update_status(run_dir, state="running", started_at=time.time(),
                          message="Starting TensorFlow and building the model")
            say(f"Training {run_dir.name} ({spec.variant}, {spec.epochs} epochs)")
            if avoid_onednn_crash(spec):
                say(f"Layers narrower than {ONEDNN_MIN_FILTERS} filters: TensorFlow's oneDNN optimisations are "
                    "off for this run (they crash on such layers here).")
            results = run_training(spec, run_dir, echo=say)
            task = task_of(spec)
            score = results.get(task.test_metric)
            final = {"state": "completed",
                     "message": "Completed" + (f": test {task.metric_label} {score:.3f}" if score is not None else "")}
    except RunStopped as stop:
        final = {"state": stop.state, "message": str(stop.reason)}
        if stop.state == "failed":
            final["error"] = str(stop.reason)
            final["error_text"] = text_to_json(stop.reason)  # read in the reader's language
    except KeyboardInterrupt:
        final = {"state": "interrupted", "message": "Stopped by a signal; resume it to continue.",
                 "error": "Stopped by a signal"}
    except Exception as exc:
        traceback.print_exc()
        reason = f"{type(exc).__name__}: {exc}"
        final = {"state": "failed", "message": f"Failed: {reason}", "error": reason,
                 "error_text": text_to_json(exc)}  # a TranslatedError: read in the reader's language
    finally:
        heartbeat.stop()
        if final:
            update_status(run_dir, finished_at=time.time(), heartbeat=time.time(), **final)
        if lock_fd is not None and lock_fd >= 0:
            os.close(lock_fd)
    say(f"Run {run_dir.name}: {final.get('state')} - {final.get('message')}")
    return str(final.get("state"))


EXIT_CODES = {"completed": 0, "failed": 1, "cancelled": 3, "interrupted": 4}


def cli(argv: list[str] | None = None) -> int:
    """Command line entry point: ``python -m cv_core.runs.worker RUN_DIR``."""
    parser = argparse.ArgumentParser(prog="python -m cv_core.runs.worker",
                                     description="Train one queued run directory (started by submit_run).")
    parser.add_argument("run_dir", help="the run directory to train")
    args = parser.parse_args(argv)
    if not (Path(args.run_dir) / files.STATUS_FILE).exists():
        parser.error(f"expected a run directory with {files.STATUS_FILE}; received {args.run_dir!r}")
    return EXIT_CODES.get(main(args.run_dir), 1)


if __name__ == "__main__":
    sys.exit(cli())
