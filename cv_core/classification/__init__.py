"""Image classification (chapters 8 and 9): one label for the whole picture.

- :mod:`~cv_core.classification.models`: the book's mini-Xception, its variants, and chapter 8's
  plain convnet, with the compile step that picks the matching loss;
- :mod:`~cv_core.classification.task`: the task's entry in :data:`cv_core.runs.tasks.TASKS`
  (its targets are the dataset's class indices, its metric accuracy).

Importing this package does not import TensorFlow.
"""

from __future__ import annotations

from cv_core.classification import models
from cv_core.classification.models import (build_mini_xception, build_small_convnet, compile_classifier,
                                           minimum_input_size, minimum_small_convnet_size)

__all__ = list(models.__all__)
