"""The skeleton of every task's per-epoch score callback: a fixed sample of a split, scored each epoch.

A task whose score is not a Keras metric (mAP, keypoint AP, mask AP) adds it to the epoch logs with a
subclass of :class:`SampledScoresCallback`, which says how to load the sample for the model and how to
score it; loading once and writing the logs happen here. Importing this module imports Keras.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core._tf import keras as _keras

keras = _keras()

__all__ = ["SampledScoresCallback"]


class SampledScoresCallback(keras.callbacks.Callback):
    """Adds the scores of the first ``limit`` pictures of ``split`` to every epoch's logs.

    The pictures are loaded once, at the first epoch's end, at the model's input size: the same
    pictures every epoch, so a curve follows the model, not the sample. Subclasses define
    :meth:`load_sample` and :meth:`score`. Place it before callbacks that read the logs (history,
    CSV, checkpoints monitoring the score).

    Args:
        dataset: the run's dataset.
        split: the split to score ("validation").
        limit: pictures scored (the first ones of the split); None for all.
        batch_size: pictures per forward pass.
        prefix: the log names' prefix.
    """

    def __init__(self, dataset, split: str = "validation", limit: int | None = 64, batch_size: int = 32,
                 prefix: str = "val_"):
        super().__init__()
        self.dataset, self.split, self.limit = dataset, split, limit
        self.batch_size, self.prefix = batch_size, prefix
        self._data = None

    def load_sample(self, model):
        """The pictures and truths to score, loaded for ``model``'s input size (called once)."""
        raise NotImplementedError

    def score(self, model, data) -> Mapping[str, float]:
        """The scores of ``model`` on ``data`` (what :meth:`load_sample` returned), by log name without the prefix."""
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self._data is None:
            self._data = self.load_sample(self.model)
        for name, value in self.score(self.model, self._data).items():
            logs[f"{self.prefix}{name}"] = value
