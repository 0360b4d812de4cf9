"""The embedding map of a training run: its validation embeddings in 2-D, one snapshot per epoch.

The training callback (:mod:`cv_core.similarity.training`) projects the epoch's embeddings with
:func:`cv_core.similarity.pca_2d` (PCA, fitted afresh every epoch) and turns each axis round
where it runs against the previous epoch's map (:meth:`~cv_core.similarity.Projection.oriented_like`:
PCA fixes an axis only up to its sign, so a map could otherwise flip while nothing changed). It
writes one ``npz`` per epoch into ``run_dir/embedding_map/`` with :func:`write_snapshot`;
:func:`embedding_snapshots` reads them back. Numpy only: no TensorFlow.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["EMBEDDING_MAP_DIR", "embedding_snapshots", "snapshot_path", "write_snapshot"]

#: The folder of a run that holds its embedding-map snapshots.
EMBEDDING_MAP_DIR = "embedding_map"


def snapshot_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    """Where the snapshot of 1-based ``epoch`` lives: ``run_dir/embedding_map/epoch_0007.npz``."""
    return Path(run_dir) / EMBEDDING_MAP_DIR / f"epoch_{int(epoch):04d}.npz"


def write_snapshot(run_dir: str | os.PathLike, epoch: int, points, labels, indices, class_names,
                   explained=(0.0, 0.0)) -> Path:
    """Save one epoch's map atomically (a reader never sees half a file); returns its path.

    Args:
        run_dir: the run's folder.
        epoch: 1-based epoch, as in ``metrics.jsonl``.
        points: (N, 2) coordinates.
        labels: (N,) class index of each picture.
        indices: (N,) each picture's index in the validation split.
        class_names: the dataset's class names, which ``labels`` index.
        explained: the share of variance of each axis.
    """
    path = snapshot_path(run_dir, epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "epoch": np.int64(epoch),
        "points": np.asarray(points, np.float32).reshape(-1, 2),
        "labels": np.asarray(labels, np.int64).reshape(-1),
        "indices": np.asarray(indices, np.int64).reshape(-1),
        "class_names": np.asarray([str(name) for name in class_names], dtype=np.str_),
        "explained": np.asarray(explained, np.float32).reshape(2),
    }
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".epoch-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {
            "epoch": int(data["epoch"]),
            "points": np.asarray(data["points"], np.float32),
            "labels": np.asarray(data["labels"], np.int64),
            "indices": np.asarray(data["indices"], np.int64),
            "class_names": [str(name) for name in data["class_names"]],
            "explained": np.asarray(data["explained"], np.float32) if "explained" in data else np.zeros(2, np.float32),
        }


def embedding_snapshots(run_dir: str | os.PathLike) -> list[dict]:
    """Every embedding-map snapshot of a run, oldest first.

    Returns:
        A list of ``{"epoch": int, "points": (N, 2) float32, "labels": (N,) int64, "indices":
        (N,) int64 (validation sample indices), "class_names": list[str], "explained": (2,)
        float32 (the share of variance of each axis)}``; empty for a run without any (another
        task, or no epoch finished yet). A file that cannot be read is left out.
    """
    folder = Path(run_dir) / EMBEDDING_MAP_DIR
    snapshots = []
    for path in sorted(folder.glob("epoch_*.npz")) if folder.is_dir() else []:
        try:
            snapshots.append(_read(path))
        except (OSError, ValueError, KeyError):
            continue
    return sorted(snapshots, key=lambda snapshot: snapshot["epoch"])
