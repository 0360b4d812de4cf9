"""The detector's losses, as CenterNet trains it, and the compile step that wires them up.

- **Heatmap: penalty-reduced focal loss.** At a true centre (target exactly 1) the loss is
  ``-(1 - p)^α log(p)``: confident hits cost almost nothing, so the rare centres are not
  drowned by the tens of thousands of background cells. Elsewhere it is
  ``-(1 - y)^β p^α log(1 - p)``: a cell close to a centre (``y`` near 1 on its Gaussian
  bump) is barely punished for firing. The sum over all cells is divided by the number of
  objects in the batch. α = 2, β = 4.
- **Size and offset: L1 at the centres.** The targets carry a mask channel (1 at object
  centres); the absolute error is summed where the mask is 1 and divided by the number of
  values there, so it is the mean error per coordinate over the batch's objects.

The total is ``heatmap + 0.1 × size + 1 × offset`` (CenterNet's weights: sizes are in grid
cells and run to tens, offsets are in [0, 1)). Each loss returns one number for the whole
batch (normalised by the batch's objects, as CenterNet), so Keras' per-sample reduction has
nothing left to average.

Both losses are registered Keras serialisables (package ``cv_core``): a compiled detector
saves and loads with ``safe_mode=True`` once this module is imported
(:func:`cv_core.detection.load_detector` does it). :func:`compile_detector`, which wires them
up, lives beside the builder in :mod:`cv_core.detection.model` (so that importing it does
not import TensorFlow, as for every name ``cv_core`` exports) and is re-exported here.
"""

from __future__ import annotations

from cv_core._tf import keras as _keras
from cv_core.detection.model import compile_detector  # noqa: F401  (re-exported)

keras = _keras()
ops = keras.ops

__all__ = ["LOSS_WEIGHTS", "CenterL1Loss", "HeatmapFocalLoss", "compile_detector"]

#: CenterNet's weights of the three losses in the total.
LOSS_WEIGHTS = {"heatmap": 1.0, "size": 0.1, "offset": 1.0}

_EPSILON = 1e-4


@keras.saving.register_keras_serializable(package="cv_core")
class HeatmapFocalLoss(keras.losses.Loss):
    """CenterNet's penalty-reduced focal loss on sigmoid heatmaps (see the module docstring).

    Args:
        alpha: focusing exponent on the prediction (2).
        beta: how much the Gaussian bump around a centre softens the penalty (4).

    Takes targets and predictions of the same shape ``(batch, H, W, classes)``, targets in
    [0, 1] with exactly 1 at object centres; returns a scalar.
    """

    def __init__(self, alpha=2.0, beta=4.0, name="heatmap_focal_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        p = ops.clip(y_pred, _EPSILON, 1 - _EPSILON)
        positive = ops.cast(ops.greater_equal(y_true, 1.0), p.dtype)
        positive_loss = ops.log(p) * ops.power(1 - p, self.alpha) * positive
        negative_loss = (
            ops.log(1 - p) * ops.power(p, self.alpha) * ops.power(1 - y_true, self.beta) * (1 - positive)
        )
        objects = ops.maximum(ops.sum(positive), 1.0)
        return -(ops.sum(positive_loss) + ops.sum(negative_loss)) / objects

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="cv_core")
class CenterL1Loss(keras.losses.Loss):
    """Mean absolute error at object centres only.

    Takes targets ``(batch, H, W, k + 1)`` whose last channel is the mask (1 at object
    centres) and predictions ``(batch, H, W, k)``; returns the mean absolute error per
    coordinate over the masked cells (0 when the batch has no object).
    """

    def __init__(self, name="center_l1_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        mask = y_true[..., -1:]
        error = ops.abs(y_pred - y_true[..., :-1]) * mask
        values = ops.sum(mask) * ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
        return ops.sum(error) / ops.maximum(values, 1.0)
