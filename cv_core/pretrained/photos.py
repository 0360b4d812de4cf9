"""Sample photos bundled with scikit-image, so the interpretation pages work with no upload."""

from __future__ import annotations

import numpy as np

SAMPLE_PHOTO_NAMES = ("chelsea", "coffee", "astronaut", "rocket")


def sample_photos() -> dict[str, np.ndarray]:
    """Four photos bundled with scikit-image (no download): name → uint8 ``(H, W, 3)`` RGB.

    ``chelsea`` (a tabby cat, 300 × 451), ``coffee`` (a cup of coffee, 400 × 600),
    ``astronaut`` (Eileen Collins, 512 × 512), ``rocket`` (a launch, 427 × 640).
    """
    import skimage.data

    return {
        name: np.ascontiguousarray(getattr(skimage.data, name)(), dtype=np.uint8)
        for name in SAMPLE_PHOTO_NAMES
    }
