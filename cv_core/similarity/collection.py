"""A dataset split as a searchable collection: its pictures embedded in order, one row per picture.

Row ``i`` is picture ``i`` of the split, so a search result's row is the picture's index.
A picture that cannot be read gets a row of NaN, and a picture whose embedding is all zeros
(nothing for the model to see) keeps its zero row: :func:`usable_rows` says which rows a
search or a map may use.

>>> from cv_core.similarity import embed_dataset, embed_pretrained
>>> rows = embed_dataset(dataset, "validation", lambda pictures: embed_pretrained(pictures))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["dataset_pictures", "embed_dataset", "usable_rows"]

def embed_dataset(dataset, split: str, embed: Callable, start: int = 0, count: int | None = None,
                  batch_size: int = 64) -> np.ndarray:
    """Embed pictures ``start .. start + count - 1`` of a dataset split, in order.

    Args:
        dataset: a :class:`cv_core.datasets.Dataset`.
        split: "train", "validation" or "test".
        embed: ``list of (H, W, 3) uint8 pictures -> (n, D) array``, e.g.
            ``lambda pictures: embed_pretrained(pictures)``.
        start: the first picture.
        count: how many (None: to the end of the split).
        batch_size: pictures read and embedded at once.

    Returns:
        (count, D) float32; the row of a picture that cannot be read is NaN.

    Raises:
        ValueError: ``start`` or ``count`` outside the split, or no picture readable at all
            (the width of the rows is then unknown).
    """
    total = dataset.count(split)
    count = total - start if count is None else count
    if start < 0 or count < 0 or start + count > total:
        raise ValueError(f"Expected pictures within the {total} of the {split} split. "
                         f"Received: start={start}, count={count}")
    rows: list[np.ndarray | None] = []
    width = None
    for first in range(start, start + count, batch_size):
        indices = range(first, min(first + batch_size, start + count))
        samples = [dataset.readable_sample(split, i) for i in indices]
        pictures = [s.image for s in samples if s is not None]
        found = iter(np.asarray(embed(pictures), np.float32)) if pictures else iter(())
        for sample in samples:
            row = next(found) if sample is not None else None
            if row is not None:
                width = row.shape[0]
            rows.append(row)
    if count and width is None:
        raise ValueError(f"Expected at least one readable picture. Received: none of the {count} "
                         f"{split} pictures from {start} on could be read.")
    out = np.full((count, width or 0), np.nan, np.float32)
    for i, row in enumerate(rows):
        if row is not None:
            out[i] = row
    return out


def usable_rows(embeddings) -> np.ndarray:
    """(N,) bool: rows that are finite and not all zeros (a direction, so a cosine similarity)."""
    array = np.asarray(embeddings, np.float32)
    return np.isfinite(array).all(axis=1) & (np.abs(array).sum(axis=1) > 0)


def dataset_pictures(dataset, split: str, count: int | None = None) -> list:
    """What identifies a split's first ``count`` pictures, for
    :func:`~cv_core.similarity.pictures_fingerprint`: their files where the dataset reads files
    (path, size and time are checked); for shapes, its generator's settings with its first and
    last pictures (the same seed draws the same pictures); else every picture's pixels.

    Args:
        dataset: a :class:`cv_core.datasets.Dataset`.
        split: the split.
        count: the first ``count`` pictures (None: all).

    Returns:
        A list for :func:`~cv_core.similarity.pictures_fingerprint` (paths and arrays).
    """
    total = dataset.count(split)
    count = total if count is None else min(int(count), total)
    files = getattr(dataset, "files", None)
    if isinstance(files, dict) and split in files:
        return [entry[0] for entry in files[split][:count]]
    from cv_core.datasets import ShapesDataset

    if not isinstance(dataset, ShapesDataset):  # pictures in a store of its own: their bytes
        samples = (dataset.readable_sample(split, index) for index in range(count))
        return [s.image if s is not None else np.zeros(1, np.uint8) for s in samples]
    settings = (dataset.seed, dataset.image_size, dataset.difficulty, dataset.sizes)
    identity = f"shapes|{settings}|{split}|{count}"
    pictures: list = [np.frombuffer(identity.encode(), np.uint8)]
    for index in sorted({0, count - 1}) if count else []:
        pictures.append(dataset.sample(split, index).image)
    return pictures
