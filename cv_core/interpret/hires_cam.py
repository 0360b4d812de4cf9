"""HiResCAM (Draelos & Carin, 2020): multiply gradients and activations element-wise
before summing over channels, instead of averaging the gradients over space first. For
models that end in global average pooling and one dense layer it is provably faithful:
the map sums exactly to the class score (up to the bias).
"""

from __future__ import annotations

import numpy as np

from cv_core.interpret.base import BaseCAM

__all__ = ["HiResCAM", "hires_cam"]


class HiResCAM(BaseCAM):
    """HiResCAM: the element-wise product of gradients and activations, summed over channels."""

    name = "hires_cam"
    label = "HiResCAM"

    @staticmethod
    def weight_activations(tf, activations, gradients):
        return tf.reduce_sum(gradients * activations, axis=-1)


def hires_cam(model, image, class_index: int | None = None, layer_name: str | None = None,
              augment: bool = False) -> np.ndarray:
    """HiResCAM heatmap of one image: (H, W) float32 in [0, 1]. Arguments as :func:`grad_cam`."""
    return HiResCAM(model, layer_name, augment=augment)(image, class_index)
