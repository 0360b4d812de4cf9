"""Grad-CAM++ (Chattopadhay et al., 2018): pixel-wise weights from second and third powers
of the gradient, so that several instances of a class all light up, not just the largest.
"""

from __future__ import annotations

import numpy as np

from cv_core.interpret.base import BaseCAM

__all__ = ["GradCAMPlusPlus", "grad_cam_plus_plus"]


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++: alpha-weighted positive gradients (the closed form for an exponential score)."""

    name = "grad_cam_plus_plus"
    label = "Grad-CAM++"

    @staticmethod
    def weight_activations(tf, activations, gradients):
        grads2 = tf.square(gradients)
        grads3 = grads2 * gradients
        total = tf.reduce_sum(activations, axis=[1, 2], keepdims=True)
        denominator = 2.0 * grads2 + total * grads3
        denominator = tf.where(tf.abs(denominator) > 1e-12, denominator, tf.ones_like(denominator))
        alpha = grads2 / denominator
        weights = tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=[1, 2], keepdims=True)
        return tf.reduce_sum(weights * activations, axis=-1)


def grad_cam_plus_plus(model, image, class_index: int | None = None, layer_name: str | None = None,
                       augment: bool = False) -> np.ndarray:
    """Grad-CAM++ heatmap of one image: (H, W) float32 in [0, 1]. Arguments as :func:`grad_cam`."""
    return GradCAMPlusPlus(model, layer_name, augment=augment)(image, class_index)
