"""Grad-CAM (Selvaraju et al., 2017): weight each channel by its mean gradient.

The book's recipe (listing 9.x): the gradient of the class score with respect to the last
convolutional feature map, averaged over space, says how much each channel matters; the
weighted sum of the channels, through a ReLU, is the heatmap.
"""

from __future__ import annotations

import numpy as np

from cv_core.interpret.base import BaseCAM

__all__ = ["GradCAM", "grad_cam"]


class GradCAM(BaseCAM):
    """Grad-CAM: channel weights are the spatial mean of the class score's gradient."""

    name = "grad_cam"
    label = "Grad-CAM"

    @staticmethod
    def weight_activations(tf, activations, gradients):
        weights = tf.reduce_mean(gradients, axis=[1, 2], keepdims=True)
        return tf.reduce_sum(weights * activations, axis=-1)


def grad_cam(model, image, class_index: int | None = None, layer_name: str | None = None,
             augment: bool = False) -> np.ndarray:
    """Grad-CAM heatmap of one image.

    Args:
        model: a built Keras classifier (Functional, Sequential or nested).
        image: one picture as the model takes it, (H, W, 3) or a batch of one, uint8 or
            float, already preprocessed for models that need it.
        class_index: the class to explain; None explains the top class.
        layer_name: the target layer; :func:`cv_core.interpret.last_conv_layer` by default.
        augment: average over the image, its mirror and zoomed copies (test-time smoothing).

    Returns:
        (H, W) float32 in [0, 1], at the input's height and width.

    Raises:
        ValueError: unknown layer, class index out of range, or an image of the wrong shape.
    """
    return GradCAM(model, layer_name, augment=augment)(image, class_index)
