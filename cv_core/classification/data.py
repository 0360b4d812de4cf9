"""A classifier's targets: each picture's class index, through the one pipeline (:mod:`cv_core.pipeline`).

The pictures are augmented inside the model (its random flip, rotation and zoom layers), so
the pipeline only reads, caches, shuffles and batches them.
"""

from __future__ import annotations

import numpy as np

from cv_core.pipeline import TargetEncoding

__all__ = ["LABELS"]


def _label(sample, size) -> tuple[np.ndarray]:
    return (np.int32(0 if sample is None else sample.label),)


#: Each sample's class index, int32: batches of ``(images, labels (B,))``.
LABELS = TargetEncoding(encode=_label, dtypes=("int32",), shapes=lambda height, width: ((),))
