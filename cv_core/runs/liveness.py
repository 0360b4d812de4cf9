"""Is a run's worker still alive? Noticing workers that died, and marking their runs.

A run folder says "running" until its worker writes the outcome; a worker killed with
SIGKILL (or a machine that rebooted) never does. :func:`reconcile_run` notices: it checks
the worker's pid *and* the process start time recorded with it (a dead worker's pid may be
reused), and marks the run interrupted (or cancelled, if a cancel was pending).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from cv_core.runs.files import (
    SPEC_FILE,
    STATUS_FILE,
    cancel_requested,
    default_runs_root,
    read_status,
    update_status,
)

__all__ = [
    "ACTIVE_STATES", "FINAL_STATES", "HEARTBEAT_STALE_SECONDS", "START_GRACE_SECONDS", "STATES",
    "process_start_time", "reconcile_run", "reconcile_runs", "run_dirs", "worker_alive",
]

STATES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "failed", "cancelled", "interrupted")

#: A worker writes its heartbeat every ~2 s; one this old is considered dead when its
#: process cannot be checked directly (no /proc).
HEARTBEAT_STALE_SECONDS = 30.0
#: How long a queued run may wait for its worker process to record its pid.
START_GRACE_SECONDS = 60.0


def _proc_stat(pid: int) -> tuple[str, int] | str | None:
    """("state letter", start time in ticks) from /proc, "gone" if no such process, None if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone" if os.path.isdir("/proc/self") else None
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    info = _proc_stat(pid)
    return info[1] if isinstance(info, tuple) else None


def worker_alive(status: dict, now: float | None = None) -> bool | None:
    """Whether the worker recorded in ``status`` is still running.

    A pid alone is not enough: a dead worker's pid may be reused by another process, so
    the process start time recorded with it must match too. Zombies count as dead (and
    are reaped if they are our children). Where /proc is unavailable, a heartbeat older
    than ``HEARTBEAT_STALE_SECONDS`` marks the worker dead.

    Returns:
        True or False, or None when no worker pid was recorded yet.
    """
    pid = status.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    info = _proc_stat(pid)
    if info == "gone":
        return False
    if isinstance(info, tuple):
        state, started = info
        if state in ("Z", "X"):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            return False
        expected = status.get("pid_start")
        return expected is None or expected == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    heartbeat = status.get("heartbeat")
    now = time.time() if now is None else now
    return not (isinstance(heartbeat, (int, float)) and now - heartbeat > HEARTBEAT_STALE_SECONDS)


def run_dirs(root: str | os.PathLike) -> list[Path]:
    """The run directories directly under ``root`` (those holding a status or spec file)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    dirs = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = Path(entry.path)
        if (path / STATUS_FILE).exists() or (path / SPEC_FILE).exists():
            dirs.append(path)
    return dirs


def reconcile_run(run_dir: str | os.PathLike, now: float | None = None) -> str | None:
    """Mark one queued/running run whose worker is gone as interrupted (or cancelled).

    Returns:
        The new state if it changed, else None.
    """
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    state = status.get("state")
    if state not in ACTIVE_STATES:
        return None
    now = time.time() if now is None else now
    alive = worker_alive(status, now)
    if alive:
        return None
    pid = status.get("pid")
    if alive is None:
        since = status.get("queued_at") or status.get("created_at") or 0
        if isinstance(since, (int, float)) and now - since < START_GRACE_SECONDS:
            return None
        reason = "Its worker process never started."
    elif state == "running":
        epoch = status.get("epoch") or 0
        where = f" during epoch {epoch}" if epoch else ""
        reason = f"Its worker process (pid {pid}) stopped{where} without finishing; resume it to continue."
    else:
        reason = f"Its worker process (pid {pid}) stopped while it was waiting in the queue."
    new_state = "cancelled" if state == "queued" and cancel_requested(run_dir) else "interrupted"
    if new_state == "cancelled":
        reason = "Cancelled before it started."
    changed = update_status(
        run_dir,
        only_if=lambda current: current.get("state") == state and current.get("pid") == pid,
        state=new_state, finished_at=now, message=reason,
        **({"error": reason} if new_state == "interrupted" else {}),
    )
    return new_state if changed is not None else None


def reconcile_runs(runs_root: str | os.PathLike | None = None) -> list[str]:
    """Mark every queued/running run whose worker process is gone as interrupted.

    Call it when the app starts and whenever runs are listed: a worker killed (or a
    machine rebooted) leaves its run "running" on disk, and this is how it is noticed.

    Returns:
        The ids of the runs whose state changed.
    """
    changed = []
    for run_dir in run_dirs(default_runs_root(runs_root)):
        if reconcile_run(run_dir) is not None:
            changed.append(run_dir.name)
    return changed
