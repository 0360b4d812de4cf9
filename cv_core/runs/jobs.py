"""Starting, queueing, cancelling and resuming training runs as separate worker processes.

Every submitted run gets its own worker process at once (``python -m
cv_core.runs.worker RUN_DIR``, in a new session so that closing the browser or
restarting Streamlit does not kill it). Only one run trains at a time per runs root: a
waiting worker does not import TensorFlow; it polls until it is the oldest queued run
whose worker is alive, then takes an exclusive ``flock`` on ``<runs_root>/.train.lock``
(released by the kernel when the process ends, however it ends). Everything lives on
disk, so the queue survives app restarts.
"""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from cv_core.i18n import N_, LazyText, text_to_json
from cv_core.runs import files
from cv_core.runs.files import read_spec, read_status, update_status
from cv_core.runs.folders import RunStateError, create_run, require_run
from cv_core.runs.liveness import FINAL_STATES, process_start_time, reconcile_run, run_dirs, worker_alive
from cv_core.runs.spec import BATCHNORMS, CONV_TYPES, SpecError, TrainSpec, validate_spec

#: A resumed run's status message while it waits (``message`` in English, ``message_text`` to translate).
_WAITING_TO_RESUME = text_to_json(LazyText(N_("Waiting to resume from its last completed epoch")))

__all__ = [
    "CANCEL_ORIGINS",
    "CONTINUABLE_STATES",
    "RESUMABLE_STATES",
    "cancel_origin",
    "continue_run",
    "is_next_in_queue",
    "prepare_resume",
    "request_cancel",
    "resume_run",
    "start_worker",
    "submit_grid",
    "submit_run",
    "wait_for_turn",
]

RESUMABLE_STATES = ("interrupted", "cancelled")
CONTINUABLE_STATES = ("completed",)

#: Names the module that :func:`start_worker` runs instead of ``cv_core.runs.worker``. Only the
#: tests set it, to ``tests.fake_worker``: the real worker's queue and files, without TensorFlow.
WORKER_MODULE_ENV = "CONVNET_LAB_WORKER_MODULE"


def _package_parent() -> str:
    """The folder that holds the ``cv_core`` package, for the worker's PYTHONPATH."""
    return str(Path(__file__).resolve().parents[2])


def start_worker(run_dir: str | os.PathLike) -> int:
    """Start the worker process of a queued run and record its pid; returns the pid.

    The worker runs ``[sys.executable, "-m", "cv_core.runs.worker", run_dir]`` in a new
    session, with stdout and stderr appended to ``worker.log`` in the run directory.
    """
    run_dir = Path(run_dir).absolute()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_parent(), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    with open(run_dir / files.LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", env.get(WORKER_MODULE_ENV) or "cv_core.runs.worker", str(run_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    # Reap the worker when it ends (no zombie), without keeping a registry of children.
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    update_status(
        run_dir,
        only_if=lambda status: status.get("pid") in (None, process.pid),
        pid=process.pid,
        pid_start=process_start_time(process.pid),
        launched_at=time.time(),
    )
    return process.pid


def submit_run(spec: TrainSpec | dict, runs_root: str | os.PathLike | None = None, *,
               owner: str | None = None) -> Path:
    """Validate ``spec``, create its run directory and start its worker; returns the run dir.

    The run starts training once the runs before it in the queue are done.

    Args:
        spec: what to train.
        runs_root: where runs live.
        owner: who started it (an opaque browser id, shown as "my runs" to that browser).

    Raises:
        SpecError: the spec cannot run (nothing is created).
    """
    run_dir = create_run(spec, runs_root, owner=owner)
    start_worker(run_dir)
    return run_dir


def submit_grid(base_spec: TrainSpec | dict, conv_types: Sequence[str] = CONV_TYPES,
                batchnorms: Sequence[str] = BATCHNORMS, seeds: Sequence[int] = (0, 1, 2),
                runs_root: str | os.PathLike | None = None, *, owner: str | None = None) -> str:
    """Queue one run per conv type x batch norm placement x seed, as one experiment.

    Every variant is validated before any run is created. The runs share an
    ``experiment_id`` and each carries an ``experiment_label`` such as
    "separable / before_activation"; summarise them with
    :func:`cv_core.runs.summarise_experiment`.

    Returns:
        The experiment id.

    Raises:
        SpecError: an empty grid, or a variant that cannot run.
    """
    if not conv_types or not batchnorms or not seeds:
        raise SpecError(N_("Expected at least one conv type, batch norm placement and seed. Received: "
                           "conv_types={conv_types}, batchnorms={batchnorms}, seeds={seeds}"),
                        conv_types=tuple(conv_types), batchnorms=tuple(batchnorms), seeds=tuple(seeds))
    base = validate_spec(base_spec)
    from cv_core.datasets import open_dataset

    dataset = open_dataset(base.dataset, base.dataset_root, **base.dataset_options)
    experiment_id = f"exp-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(2).hex()}"
    specs = [
        validate_spec(
            base.replace(conv_type=conv, batchnorm=bn, seed=seed, experiment_id=experiment_id,
                         experiment_label=f"{conv} / {bn}"),
            dataset=dataset,
        )
        for conv in conv_types
        for bn in batchnorms
        for seed in seeds
    ]
    start = time.time()
    for place, spec in enumerate(specs):  # queued in the grid's order
        start_worker(create_run(spec, runs_root, dataset=dataset, owner=owner, queued_at=start + place * 1e-3))
    return experiment_id


def request_cancel(run_dir: str | os.PathLike, by: str | None = None) -> None:
    """Ask a run to stop. A running run stops within one batch; a queued one never trains.

    Writes the ``cancel.requested`` flag that the worker checks after every batch, and
    records who asked (``cancel_requested_by`` in ``status.json``), so that a page can say
    whether the run was cancelled from this browser or from elsewhere. A queued run whose
    worker is gone is marked cancelled here directly. A finished run is left alone.

    Args:
        run_dir: the run.
        by: who asks: an opaque browser id (see :mod:`cv_core.serving`), or None for the
            command line or a script.

    Raises:
        RunGoneError: the run's folder is gone (it was deleted).
    """
    run_dir = require_run(run_dir)
    if read_status(run_dir).get("state") in FINAL_STATES:
        return
    try:
        (run_dir / files.CANCEL_FILE).write_text(by or "", encoding="utf-8")
        update_status(run_dir, only_if=lambda status: status.get("state") not in FINAL_STATES,
                      cancel_requested_by=by, cancel_requested_at=time.time())
    except FileNotFoundError:  # deleted at this very moment
        require_run(run_dir)
        raise
    status = read_status(run_dir)
    if status.get("state") == "queued" and not worker_alive(status):
        update_status(run_dir, only_if=("queued",), state="cancelled", finished_at=time.time(),
                      message="Cancelled before it started.")


#: Where a cancel came from, as :func:`cancel_origin` tells it.
CANCEL_ORIGINS = ("here", "elsewhere", "outside", "unknown")


def cancel_origin(status: dict, me: str | None) -> str | None:
    """Where the cancel of a run came from, seen from browser ``me``; None if none was asked.

    Returns:
        "here" (browser ``me`` asked), "elsewhere" (another browser), "outside" (the command
        line or a script: no browser recorded) or "unknown" (a run cancelled before this was
        recorded); None when no cancel was asked for.
    """
    if status.get("cancel_requested_at") is None:
        return "unknown" if status.get("state") == "cancelled" else None
    by = status.get("cancel_requested_by")
    if not isinstance(by, str) or not by:
        return "outside"
    return "here" if by == me else "elsewhere"


def prepare_resume(run_dir: str | os.PathLike) -> dict:
    """Put an interrupted (or cancelled) run back in the queue, without starting a worker.

    Raises:
        RunStateError: the run is not in a resumable state.
        RunGoneError: the run's folder is gone (it was deleted).
    """
    run_dir = require_run(run_dir)
    reconcile_run(run_dir)
    state = read_status(run_dir).get("state")
    if state not in RESUMABLE_STATES:
        raise RunStateError(
            f"Expected a run in one of {RESUMABLE_STATES} to resume. Received: run "
            f"{run_dir.name!r} in state {state!r}"
        )
    try:
        os.unlink(run_dir / files.CANCEL_FILE)
    except FileNotFoundError:
        pass
    status = update_status(
        run_dir, only_if=(state,),
        state="queued", queued_at=time.time(), pid=None, pid_start=None,
        finished_at=None, error=None, error_text=None, message=_WAITING_TO_RESUME["en"], message_text=_WAITING_TO_RESUME,
        cancel_requested_by=None, cancel_requested_at=None,
        attempt=int(read_status(run_dir).get("attempt") or 1) + 1,
    )
    if status is None:
        raise RunStateError(N_("Run {run!r} changed state while resuming; try again."), run=run_dir.name)
    return status


def resume_run(run_dir: str | os.PathLike) -> int:
    """Restart the worker of an interrupted or cancelled run; returns the new worker's pid.

    The worker restores the last completed epoch from ``backup/`` (BackupAndRestore) and
    drops any metric rows of epochs after it, so no epoch is counted twice.
    """
    prepare_resume(run_dir)
    return start_worker(run_dir)


def continue_run(run_dir: str | os.PathLike, epochs: int, runs_root: str | os.PathLike | None = None, *,
                 learning_rate: float | None = None, owner: str | None = None, start: bool = True) -> Path:
    """Train a completed run for ``epochs`` more epochs, as a new run linked to it.

    The new run has the same spec (architecture, data, seed) with ``epochs`` epochs, a
    fresh optimizer (and learning-rate schedule over the new epochs), and starts from the
    completed run's final weights (``last.keras``; ``best.keras`` for runs saved before
    ``last.keras`` existed). Its spec names the run it continues in ``continues``.

    Args:
        run_dir: a completed run.
        epochs: how many more epochs, >= 1.
        runs_root: where the new run goes (the completed run's runs root by default).
        learning_rate: a different learning rate for the new epochs (default: the same).
        owner: who started it.
        start: start its worker (False only creates the queued run).

    Returns:
        The new run's directory.

    Raises:
        RunStateError: the run is not completed, or has no saved model.
        RunGoneError: the run's folder is gone (it was deleted).
        SpecError: the new spec cannot run (e.g. ``epochs`` <= 0).
    """
    run_dir = require_run(run_dir).absolute()
    state = read_status(run_dir).get("state")
    if state not in CONTINUABLE_STATES:
        raise RunStateError(
            f"Expected a run in one of {CONTINUABLE_STATES} to continue. Received: run {run_dir.name!r} in "
            f"state {state!r}" + (" (resume it instead)" if state in RESUMABLE_STATES else "")
        )
    spec = read_spec(run_dir)
    if spec is None:
        raise RunStateError(N_("Run {run!r} has no readable {file}; it cannot be continued."), run=run_dir.name,
                            file=files.SPEC_FILE)
    changes = {"epochs": epochs, "continues": str(run_dir), "experiment_id": None, "experiment_label": None,
               "notes": f"Continues {run_dir.name}"}
    if learning_rate is not None:
        changes["learning_rate"] = learning_rate
    new_dir = create_run(spec.replace(**changes), run_dir.parent if runs_root is None else runs_root, owner=owner)
    if start:
        start_worker(new_dir)
    return new_dir


# --------------------------------------------------------------------------------------
# The queue
# --------------------------------------------------------------------------------------


def is_next_in_queue(run_dir: str | os.PathLike) -> bool:
    """Whether ``run_dir`` is the oldest queued run (by ``queued_at``) with a live worker."""
    run_dir = Path(run_dir).absolute()
    waiting = []
    for other in run_dirs(run_dir.parent):
        status = read_status(other)
        if status.get("state") != "queued":
            continue
        if other.absolute() != run_dir and (not worker_alive(status) or files.cancel_requested(other)):
            continue
        queued_at = status.get("queued_at")
        waiting.append((queued_at if isinstance(queued_at, (int, float)) else float("inf"), other.name))
    return bool(waiting) and min(waiting)[1] == run_dir.name


def wait_for_turn(run_dir: str | os.PathLike, poll_seconds: float = 1.0,
                  on_wait: Callable[[], None] | None = None) -> int | None:
    """Block until this run may train, and return the held train lock's file descriptor.

    Keep the descriptor open while training and close it afterwards (the kernel releases
    the lock if the process dies). Returns None if a cancel is requested while waiting.

    Args:
        run_dir: the run waiting to train.
        poll_seconds: how often to look at the queue.
        on_wait: called on every poll while waiting (e.g. to update a message).
    """
    run_dir = Path(run_dir).absolute()
    fd = os.open(run_dir.parent / files.TRAIN_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            if files.cancel_requested(run_dir):
                os.close(fd)
                return None
            if is_next_in_queue(run_dir):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
            if on_wait is not None:
                on_wait()
            time.sleep(poll_seconds)
    except BaseException:
        os.close(fd)
        raise
