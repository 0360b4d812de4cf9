"""The pixel baseline: structural similarity (SSIM, Wang et al., 2004) via scikit-image.

It compares luminance, contrast and structure in local windows, pixel position by pixel
position: a shifted or re-lit copy of the same object scores low, which is why learned
features matter.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SSIM_SIZE", "ssim"]

#: The common size (height, width) both pictures are resized to.
SSIM_SIZE = (128, 128)


def _as_rgb(image, size) -> np.ndarray:
    from PIL import Image

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"Expected a picture of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
                         f"Received: shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(np.nan_to_num(array.astype(np.float64)), 0, 255).round().astype(np.uint8)
    picture = Image.fromarray(array).convert("RGB").resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(picture)


def ssim(image_a, image_b, size: tuple[int, int] = SSIM_SIZE) -> float:
    """SSIM of two pictures of any sizes and modes, both made RGB at ``size``.

    Args:
        image_a, image_b: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) arrays, uint8 (other
            dtypes are read as 0..255 and clipped). Alpha is dropped.
        size: (height, width) both are resized to (bilinear, aspect ratio not kept).

    Returns:
        A float in -1..1; the same picture twice gives 1.

    Raises:
        ValueError: an array that is not a picture.
    """
    from skimage.metrics import structural_similarity

    a, b = _as_rgb(image_a, size), _as_rgb(image_b, size)
    return float(structural_similarity(a, b, channel_axis=-1, data_range=255))
