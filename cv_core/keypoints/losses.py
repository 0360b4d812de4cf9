"""The keypoint models' losses: focal on heatmaps (the detector's), L1 on the labelled joints only.

- **Heatmaps** (``centre``, ``joint_heatmap``): CenterNet's penalty-reduced focal loss,
  :class:`cv_core.detection.losses.HeatmapFocalLoss`, the one the detector trains with.
- **Everything measured in cells or pixels** (``size``, ``offset``, ``joint_offsets``,
  ``joint_refine``, ``joints``): :class:`MaskedL1Loss`, the mean absolute error over the values
  whose mask is 1. A target carries its masks after its values: ``n`` masks for ``2 n``
  values ``(x1, y1, x2, y2, ...)``, one mask per point. A box's size and offset have one mask
  (1 at a person's centre); joints have one each (1 where the joint is labelled: visible or
  hidden behind something, never a joint outside the picture), so a joint nobody labelled never
  teaches the model anything.

The weights follow CenterNet's multi-person pose (sizes, in cells, count a tenth; everything
else 1). Both losses are registered Keras serialisables, so a compiled model saves and loads with
``safe_mode=True`` once this module is imported (:func:`cv_core.keypoints.load_keypoint_model`).
"""

from __future__ import annotations

from cv_core._tf import keras as _keras
from cv_core.detection.losses import HeatmapFocalLoss

keras = _keras()
ops = keras.ops

__all__ = ["LOSS_WEIGHTS", "HeatmapFocalLoss", "MaskedL1Loss", "keypoint_losses"]

#: The weight of each output's loss in the total (CenterNet's multi-person pose weights).
LOSS_WEIGHTS = {"centre": 1.0, "size": 0.1, "offset": 1.0, "joint_offsets": 1.0, "joint_heatmap": 1.0,
                "joint_refine": 1.0, "joints": 1.0}
_HEATMAPS = ("centre", "joint_heatmap")


@keras.saving.register_keras_serializable(package="cv_core")
class MaskedL1Loss(keras.losses.Loss):
    """Mean absolute error over the points whose mask is 1.

    Takes targets ``(..., 3 n)`` (``2 n`` values, then ``n`` masks, one per ``(x, y)`` pair) and
    predictions ``(..., 2 n)``; returns the mean absolute error per masked coordinate over the
    whole batch (0 when nothing is masked in).
    """

    def __init__(self, name="masked_l1_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        values = ops.shape(y_pred)[-1]
        mask = ops.repeat(y_true[..., values:], 2, axis=-1)
        error = ops.abs(y_pred - y_true[..., :values]) * mask
        return ops.sum(error) / ops.maximum(ops.sum(mask), 1.0)


def keypoint_losses(kind: str) -> tuple[dict, dict]:
    """``(losses, weights)`` by output name for a model of ``kind`` ("pose", "heatmap", "regression")."""
    from cv_core.keypoints.models import KEYPOINT_KINDS

    heads = KEYPOINT_KINDS[kind]
    losses = {head: HeatmapFocalLoss() if head in _HEATMAPS else MaskedL1Loss() for head in heads}
    return losses, {head: LOSS_WEIGHTS[head] for head in heads}
