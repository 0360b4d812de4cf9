"""Scoring an instance model: its objects and connected components of its semantic head, and the epoch callback.

The same pictures are scored two ways, so that the gain is measured, not claimed: the **instance
model** (centres and offsets, :func:`cv_core.instances.decode.decode_instances`) and **connected
components** of its own semantic head (:func:`cv_core.instances.decode.connected_components`), both
by :func:`cv_core.instances.scores.score_instances` (mask AP, per class, touching pairs separated).
Importing this module imports Keras (the callback).
"""

from __future__ import annotations

import numpy as np

from cv_core.instances.metrics import mask_average_precision
from cv_core.instances.scores import instance_samples, score_instances
from cv_core.runs.epoch_scores import SampledScoresCallback

__all__ = ["InstanceScoresCallback", "evaluate_instance_model", "evaluate_semantic_model"]


def evaluate_instance_model(model, images: np.ndarray, truths: list[list[dict]], background: int = 0,
                            batch_size: int = 16) -> dict:
    """Score an instance model, and connected components of its own semantic head, on the same pictures.

    Returns:
        ``{"instances": score_instances(...), "components": score_instances(...), "images": N}``.
    """
    from cv_core.instances.decode import connected_components, decode_instances, predict_raw_instances

    raw = predict_raw_instances(model, images, batch_size)
    found = [decode_instances(raw["semantic"][i], raw["centre"][i], raw["offset"][i], background)
             for i in range(len(images))]
    components = [connected_components(raw["semantic"][i], background) for i in range(len(images))]
    return {"instances": score_instances(found, truths), "components": score_instances(components, truths),
            "images": int(len(images))}


def evaluate_semantic_model(model, images: np.ndarray, truths: list[list[dict]], background: int = 0,
                            batch_size: int = 16) -> dict:
    """Score connected components of a segmentation model's output (the semantic route) on the same pictures.

    Args:
        model: a segmentation model (per-pixel class probabilities), e.g. a segmentation run's best model.
        images: (N, H, W, 3) pictures at the model's input size.
        truths: the true objects, as :func:`cv_core.instances.instance_samples` gives them.

    Returns:
        :func:`cv_core.instances.score_instances` of the connected components.
    """
    from cv_core.instances.decode import connected_components

    images = np.asarray(images, np.float32)
    probabilities = np.concatenate([np.asarray(model.predict_on_batch(images[i:i + batch_size]))
                                    for i in range(0, len(images), batch_size)]) if len(images) else []
    return score_instances([connected_components(p, background) for p in probabilities], truths)


class InstanceScoresCallback(SampledScoresCallback):
    """Adds ``val_mask_ap``, ``val_mask_ap50`` and ``val_mask_ap75`` to every epoch's logs.

    Scores the first ``limit`` pictures of ``split`` (the same every epoch), at ``size`` (the model's
    input size when None), with the model as it is at the epoch's end, as :func:`evaluate_instance_model`
    does (instances only); a score of nothing (NaN) is logged as 0.
    """

    def __init__(self, dataset, split: str = "validation", size: tuple[int, int] | None = None, limit: int = 64,
                 batch_size: int = 16):
        super().__init__(dataset, split, limit, batch_size)
        self.size = size

    def load_sample(self, model):
        size = self.size or tuple(int(d) for d in model.inputs[0].shape[1:3])
        return instance_samples(self.dataset, self.split, size, self.limit)

    def score(self, model, data) -> dict:
        from cv_core.instances.decode import decode_instances, predict_raw_instances

        images, truths = data
        raw = predict_raw_instances(model, images, self.batch_size)
        found = [decode_instances(raw["semantic"][i], raw["centre"][i], raw["offset"][i],
                                  self.dataset.mask_background) for i in range(len(images))]
        ap = mask_average_precision(found, truths)
        return {key: float(value) if value == value else 0.0
                for key, value in (("mask_ap", ap["AP"]), ("mask_ap50", ap["AP50"]), ("mask_ap75", ap["AP75"]))}
