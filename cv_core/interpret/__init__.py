"""What convnets learn: activations, filter patterns and class-activation heatmaps.

One module per method over a shared base (``base.py`` holds the plumbing: tap models,
compiled passes, resizing, normalising, test-time smoothing)::

    >>> from cv_core.interpret import grad_cam, activations, overlay, last_conv_layer
    >>> heatmap = grad_cam(model, image)                 # (H, W) float32 in [0, 1]
    >>> picture = overlay(photo, heatmap, alpha=0.45)    # (H, W, 3) uint8

Importing this package does not import TensorFlow; the functions do, on first use.
"""

from __future__ import annotations

from cv_core.interpret._graph import as_batch, feature_map_layers, find_layer, iter_layers, last_conv_layer, layer_kind, tap_model
from cv_core.interpret.activations import LayerInfo, activation_layers, activations, describe_layer
from cv_core.interpret.base import BaseCAM, Explanation, class_probabilities, normalize_map
from cv_core.interpret.filters import filter_count, filter_patterns, pattern_scores
from cv_core.interpret.grad_cam import GradCAM, grad_cam
from cv_core.interpret.grad_cam_plus_plus import GradCAMPlusPlus, grad_cam_plus_plus
from cv_core.interpret.hires_cam import HiResCAM, hires_cam
from cv_core.interpret.score_cam import ScoreCAM, score_cam
from cv_core.interpret.smoothgrad import SmoothGrad, smoothgrad
from cv_core.interpret.trust import READING, causal_curves, deletion_curve, insertion_curve, keep_heat_region, \
    localisation, randomisation_groups, sanity_check, sanity_verdict, spearman
from cv_core.overlays import colorize, overlay, resize_map

#: Heatmap methods by registry name, in the order the pages offer them.
METHODS: dict[str, type[BaseCAM]] = {
    cls.name: cls for cls in (GradCAM, GradCAMPlusPlus, HiResCAM, ScoreCAM, SmoothGrad)
}


def explain(model, image, method: str = "grad_cam", class_index: int | None = None,
            layer_name: str | None = None, augment: bool = False, **options) -> Explanation:
    """Explain one image with any method of :data:`METHODS`.

    Args:
        model, image, class_index, layer_name, augment: as :func:`grad_cam`.
        method: a key of :data:`METHODS`.
        **options: the method's own options (e.g. ``batch_size`` for Score-CAM).

    Returns:
        An :class:`Explanation` (heatmap, class index, probabilities, method, layer).

    Raises:
        ValueError: an unknown method, layer or class, or an image of the wrong shape.
    """
    if method not in METHODS:
        raise ValueError(f"Expected `method` to be one of {tuple(METHODS)}. Received: method={method!r}")
    return METHODS[method](model, layer_name, augment=augment, **options).explain(image, class_index)


__all__ = [
    "METHODS", "BaseCAM", "Explanation", "GradCAM", "GradCAMPlusPlus", "HiResCAM", "LayerInfo", "ScoreCAM",
    "SmoothGrad", "activation_layers", "activations", "as_batch", "class_probabilities", "colorize",
    "describe_layer", "explain", "feature_map_layers", "find_layer", "grad_cam", "grad_cam_plus_plus", "hires_cam", "iter_layers",
    "last_conv_layer", "layer_kind", "normalize_map", "overlay", "resize_map", "score_cam", "smoothgrad",
    "tap_model",
    # filter patterns
    "filter_count", "filter_patterns", "pattern_scores",
    # trust scores
    "READING", "causal_curves", "deletion_curve", "insertion_curve", "keep_heat_region", "localisation",
    "randomisation_groups", "sanity_check", "sanity_verdict", "spearman",
]
