"""The instance model's losses: one per head, all already in the lab.

- ``semantic``: sparse categorical cross-entropy, the segmentation model's loss.
- ``centre``: CenterNet's penalty-reduced focal loss on the centre heatmap
  (:class:`cv_core.detection.losses.HeatmapFocalLoss`): targets are Gaussian bumps exactly 1 at
  each object's centre pixel.
- ``offset``: the mean absolute error over object pixels only
  (:class:`cv_core.keypoints.losses.MaskedL1Loss` with one point: targets ``(dy, dx, mask)``), so
  background pixels, which belong to no centre, teach nothing.

Importing this module imports Keras and registers those losses (safe-mode loading).
"""

from __future__ import annotations

from cv_core.detection.losses import HeatmapFocalLoss
from cv_core.keypoints.losses import MaskedL1Loss

__all__ = ["HeatmapFocalLoss", "MaskedL1Loss", "instance_losses"]


def instance_losses() -> dict:
    """The loss of each output of :func:`cv_core.instances.build_instance_unet`, by name."""
    return {"semantic": "sparse_categorical_crossentropy", "centre": HeatmapFocalLoss(), "offset": MaskedL1Loss()}
