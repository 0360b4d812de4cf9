"""SmoothGrad (Smilkov et al., 2017): the gradient of the class score with respect to the
input pixels, averaged over noisy copies of the image. A pixel-level saliency map, shown for
contrast with the coarse, layer-level class-activation maps.
"""

from __future__ import annotations

import numpy as np

from cv_core.i18n import N_

from cv_core.interpret.base import BaseCAM, _compiled_on_batch_and_class, _summed_class_score, compiled_forward

__all__ = ["SmoothGrad", "smoothgrad"]


class SmoothGrad(BaseCAM):
    """SmoothGrad saliency: mean absolute input gradient over noisy copies, max over colour.

    Args:
        model, augment: as :class:`BaseCAM` (``layer_name`` is ignored: it works on pixels).
        samples: noisy copies, passed through the model in one batch.
        noise: standard deviation of the noise, as a fraction of the image's value range.
        seed: seed of the noise, so the same image gives the same map.
    """

    name = "smoothgrad"
    label = N_("SmoothGrad (pixels)")  # translated where shown
    uses_layer = False

    def __init__(self, model, layer_name: str | None = None, augment: bool = False,
                 samples: int = 16, noise: float = 0.15, seed: int = 0) -> None:
        super().__init__(model, None, augment=augment)
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(f"Expected `samples` to be a positive integer. Received: samples={samples!r}")
        if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
            raise ValueError(f"Expected `noise` in [0, 1]. Received: noise={noise!r}")
        self.samples, self.noise, self.seed = samples, float(noise), seed

    def _input_gradients(self):
        def body(tf, model, x, class_index):
            with tf.GradientTape() as tape:
                tape.watch(x)
                target = _summed_class_score(tf, model(x, training=False)[-2], class_index)
            return tape.gradient(target, x)

        return _compiled_on_batch_and_class(self.taps, "input_gradients", body)

    def compute(self, batch: np.ndarray, class_index: int) -> tuple[np.ndarray, np.ndarray, int]:
        forward = compiled_forward(self.taps)
        probabilities = np.asarray(forward(batch[:1])[-1])[0]
        flat = probabilities.reshape(-1, probabilities.shape[-1]).mean(axis=0)
        chosen = int(np.argmax(flat)) if class_index < 0 else class_index
        gradients = self._input_gradients()
        rng = np.random.default_rng(self.seed)
        maps = []
        for image in batch:
            spread = float(image.max() - image.min()) or 1.0
            noisy = image[None] + rng.normal(0.0, self.noise * spread, (self.samples, *image.shape))
            grads = np.asarray(gradients(noisy.astype(np.float32), np.int32(chosen)))
            maps.append(np.abs(grads).mean(axis=0).max(axis=-1))
        return np.stack(maps).astype(np.float32), probabilities, chosen


def smoothgrad(model, image, class_index: int | None = None, layer_name: str | None = None,
               augment: bool = False, samples: int = 16, noise: float = 0.15) -> np.ndarray:
    """SmoothGrad saliency of one image: (H, W) float32 in [0, 1] (``layer_name`` is ignored)."""
    return SmoothGrad(model, augment=augment, samples=samples, noise=noise)(image, class_index)
