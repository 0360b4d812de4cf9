"""Score-CAM (Wang et al., 2020): no gradients at all. Each channel of the target layer,
upsampled and scaled to [0, 1], is used as a mask on the input; the channel's weight is how
much the masked image raises the class probability above a blank baseline.

It needs one forward pass per channel, so the masked images go through the model in
batches (``batch_size`` at a time); channels are capped at ``max_channels`` (the most
active ones), which keeps SqueezeNet's 1000-channel ``conv10`` affordable.
"""

from __future__ import annotations

import numpy as np

from cv_core.interpret.base import BaseCAM, compiled_forward

__all__ = ["ScoreCAM", "score_cam"]


class ScoreCAM(BaseCAM):
    """Score-CAM with batched masked forward passes.

    Args:
        model, layer_name, augment: as :class:`BaseCAM`.
        batch_size: masked images per forward pass (1 gives the unbatched recipe).
        max_channels: use at most this many channels, the most active on average.
    """

    name = "score_cam"
    label = "Score-CAM"

    def __init__(self, model, layer_name: str | None = None, augment: bool = False,
                 batch_size: int = 8, max_channels: int = 256) -> None:
        super().__init__(model, layer_name, augment=augment)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"Expected `batch_size` to be a positive integer. Received: batch_size={batch_size!r}")
        if isinstance(max_channels, bool) or not isinstance(max_channels, int) or max_channels < 1:
            raise ValueError(f"Expected `max_channels` to be a positive integer. Received: max_channels={max_channels!r}")
        self.batch_size = batch_size
        self.max_channels = max_channels

    @staticmethod
    def _class_score(probabilities: np.ndarray, class_index: int) -> np.ndarray:
        scores = probabilities[..., class_index]
        return scores.reshape(len(scores), -1).mean(axis=1)

    def _one(self, image: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray, int]:
        from cv_core._tf import tensorflow

        tf = tensorflow()
        forward = compiled_forward(self.taps)
        activations, _, probabilities = (np.asarray(t) for t in forward(image[None]))
        probabilities = probabilities[0]
        flat = probabilities.reshape(-1, probabilities.shape[-1]).mean(axis=0)
        chosen = int(np.argmax(flat)) if class_index < 0 else class_index
        maps = activations[0]  # (h, w, C)
        channels = np.argsort(-maps.mean(axis=(0, 1)))[: self.max_channels]
        maps = maps[..., channels]
        height, width = image.shape[:2]
        masks = np.asarray(tf.image.resize(maps[None], (height, width), method="bilinear"))[0]
        low = masks.min(axis=(0, 1), keepdims=True)
        span = masks.max(axis=(0, 1), keepdims=True) - low
        masks = np.where(span > 0, (masks - low) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)
        masks = np.moveaxis(masks, -1, 0)  # (K, H, W)
        baseline = np.zeros_like(image)
        base_score = self._class_score(np.asarray(forward(baseline[None])[-1]), chosen)[0]
        gains = []
        for start in range(0, len(masks), self.batch_size):
            chunk = masks[start:start + self.batch_size, ..., None]
            masked = baseline + (image - baseline)[None] * chunk
            gains.append(self._class_score(np.asarray(forward(masked.astype(np.float32))[-1]), chosen) - base_score)
        weights = np.concatenate(gains) if gains else np.zeros(0, np.float32)
        cam = np.maximum(np.tensordot(maps, weights, axes=([-1], [0])), 0.0).astype(np.float32)
        cam = np.asarray(tf.image.resize(cam[None, ..., None], (height, width), method="bilinear"))[0, ..., 0]
        return cam, probabilities, chosen

    def compute(self, batch: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray, int]:
        cam, probabilities, chosen = self._one(batch[0], class_index)
        cams = [cam] + [self._one(image, chosen)[0] for image in batch[1:]]
        return np.stack(cams), probabilities, chosen


def score_cam(model, image, class_index: int | None = None, layer_name: str | None = None,
              augment: bool = False, batch_size: int = 8, max_channels: int = 256) -> np.ndarray:
    """Score-CAM heatmap of one image: (H, W) float32 in [0, 1].

    Arguments as :func:`cv_core.interpret.grad_cam`, plus ``batch_size`` (masked images per
    forward pass) and ``max_channels`` (the most active channels used as masks).
    """
    return ScoreCAM(model, layer_name, augment=augment, batch_size=batch_size,
                    max_channels=max_channels)(image, class_index)
