"""Scoring a learned embedding while it trains, and once it has: retrieval scores, pair AUC, the map.

:class:`RetrievalScoresCallback` embeds a fixed set of validation pictures after every epoch
(one batched forward pass), adds ``val_precision_at_1``, ``val_recall_at_1``,
``val_recall_at_5``, ``val_map_at_r`` and ``val_pair_auc`` to the epoch logs (leave-one-out,
cosine: :func:`cv_core.similarity.retrieval_scores` and :func:`~cv_core.similarity.pair_auc`)
and writes the epoch's embedding map (:mod:`cv_core.similarity.snapshots`) into the run folder.
:func:`split_scores` gives the same scores and the pair threshold for a whole split at the end.
Importing this module imports TensorFlow.
"""

from __future__ import annotations

import math
import os

import numpy as np

from cv_core._tf import keras as _keras
from cv_core.datasets.base import DatasetError, check_split, resize_image
from cv_core.i18n import N_, LazyText
from cv_core.similarity.embed import embed_images
from cv_core.similarity.metrics import pair_auc, pair_threshold, retrieval_scores
from cv_core.similarity.projection import pca_2d
from cv_core.similarity.snapshots import embedding_snapshots, snapshot_path, write_snapshot

keras = _keras()

__all__ = ["SCORE_NAMES", "RetrievalScoresCallback", "similarity_scores", "split_pictures", "split_scores"]

#: The scores of an embedding on a split, in the order tables show them.
SCORE_NAMES = ("precision_at_1", "recall_at_1", "recall_at_5", "map_at_r", "pair_auc")


def split_pictures(dataset, split: str, image_size, limit: int | None = None):
    """A split's readable pictures at ``image_size``, with their classes and sample indices.

    Args:
        dataset: a :class:`~cv_core.datasets.Dataset`.
        split: "train", "validation" or "test".
        image_size: (height, width).
        limit: at most this many, spread evenly over the split (a split sorted by class still
            gives every class); None for all.

    Returns:
        ``(images uint8 (N, H, W, 3), labels int64 (N,), indices int64 (N,))``; unreadable
        files are skipped (and counted in ``dataset.skipped``).
    """
    check_split(split)
    count = dataset.count(split)
    if limit is None or limit >= count:
        positions = np.arange(count)
    else:
        positions = np.unique(np.linspace(0, count - 1, max(1, limit)).round().astype(np.int64))
    height, width = image_size
    images, labels, indices = [], [], []
    for index in positions:
        sample = dataset.readable_sample(split, int(index))
        if sample is None:
            continue
        images.append(resize_image(sample.image, (height, width)))
        labels.append(int(sample.label))
        indices.append(int(index))
    stacked = np.stack(images) if images else np.zeros((0, height, width, 3), np.uint8)
    return stacked, np.asarray(labels, np.int64), np.asarray(indices, np.int64)


def check_scorable(labels, split: str = "validation") -> None:
    """Refuse a split whose pictures cannot be scored: fewer than two classes, or no class of two.

    Raises:
        DatasetError: saying what the split needs.
    """
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    if counts.size < 2 or counts.max() < 2:
        raise DatasetError(
            N_("Expected the {split} split to hold at least two classes, one of them with two pictures or more, "
               "to score retrieval. Received: {pictures} readable picture(s) in {classes} class(es)."),
            split=LazyText(split) if split in ("train", "validation", "test") else split,
            pictures=int(counts.sum()), classes=int(counts.size))


def similarity_scores(embeddings, labels) -> dict:
    """Precision@1, recall@1, recall@5, MAP@R (leave-one-out, cosine) and the pair ROC AUC."""
    scores = retrieval_scores(embeddings, labels, ks=(1, 5))
    scores["pair_auc"] = pair_auc(embeddings, labels)
    return {name: scores[name] for name in SCORE_NAMES}


def split_scores(model, dataset, split: str, image_size, limit: int | None = None, batch_size: int = 64) -> dict:
    """A model's embedding scored on a split: :func:`similarity_scores`, the pair threshold, the count.

    Returns:
        ``{"precision_at_1", "recall_at_1", "recall_at_5", "map_at_r", "pair_auc", "threshold",
        "true_positive_rate", "false_positive_rate", "images"}``; a split that cannot be scored
        (one class...) gives ``{"images": N, "note": why}``.
    """
    images, labels, _ = split_pictures(dataset, split, image_size, limit)
    try:
        check_scorable(labels, split)
    except DatasetError as exc:
        return {"images": int(len(labels)), "note": str(exc)}
    embeddings = embed_images(model, images, batch_size=batch_size)
    threshold = pair_threshold(embeddings, labels)
    return {**similarity_scores(embeddings, labels), "threshold": threshold.threshold,
            "true_positive_rate": threshold.true_positive_rate,
            "false_positive_rate": threshold.false_positive_rate, "images": int(len(labels))}


class RetrievalScoresCallback(keras.callbacks.Callback):
    """Adds the retrieval scores of a validation subset to every epoch's logs, and maps the embeddings.

    Args:
        dataset: the run's dataset.
        image_size: (height, width) of the model's input.
        split: the split scored ("validation").
        limit: pictures scored (spread evenly over the split, loaded once: the same pictures
            every epoch, so a curve follows the model, not the sample); None for all.
        batch_size: pictures per forward pass.
        run_dir: the run folder that receives one embedding-map snapshot per epoch; None for none.
        prefix: the log names' prefix.

    Place it before callbacks that read the logs (the run's metrics, the best-model checkpoint).

    Raises:
        DatasetError: when training starts, if the split cannot be scored (one class...).
    """

    def __init__(self, dataset, image_size, split: str = "validation", limit: int | None = 300,
                 batch_size: int = 64, run_dir: str | os.PathLike | None = None, prefix: str = "val_"):
        super().__init__()
        self.dataset, self.image_size, self.split, self.limit = dataset, tuple(image_size), split, limit
        self.batch_size, self.run_dir, self.prefix = batch_size, run_dir, prefix
        self._data = None
        self._reference = None

    def on_train_begin(self, logs=None):
        if self._data is None:
            self._data = split_pictures(self.dataset, self.split, self.image_size, self.limit)
            check_scorable(self._data[1], self.split)

    def _previous_points(self, epoch: int):
        """The map of the epoch before ``epoch`` (1-based) on disk, if it shows the same pictures."""
        if self.run_dir is None or epoch < 2 or not snapshot_path(self.run_dir, epoch - 1).exists():
            return None
        for snapshot in embedding_snapshots(self.run_dir):
            if snapshot["epoch"] == epoch - 1 and np.array_equal(snapshot["indices"], self._data[2]):
                return snapshot["points"]
        return None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        self.on_train_begin()
        images, labels, indices = self._data
        embeddings = embed_images(self.model, images, batch_size=self.batch_size)
        try:
            scores = similarity_scores(embeddings, labels)
        except ValueError:  # a NaN or all-zero embedding: no score this epoch
            scores = {name: math.nan for name in SCORE_NAMES}
        for name, value in scores.items():
            logs[f"{self.prefix}{name}"] = value
        if self.run_dir is not None and not math.isnan(scores["map_at_r"]):
            number = epoch + 1
            reference = self._reference if self._reference is not None else self._previous_points(number)
            projection = pca_2d(embeddings)
            if reference is not None:
                projection = projection.oriented_like(reference)
            write_snapshot(self.run_dir, number, projection.points, labels, indices, self.dataset.class_names,
                           projection.explained)
            self._reference = projection.points
