"""Every model builder of the lab, in one flat list: the classifiers, the segmentation models, the detector.

Each task's package holds its own models (:mod:`cv_core.classification.models`,
:mod:`cv_core.segmentation.models`, :mod:`cv_core.detection.model`) on shared building blocks
(:mod:`cv_core.blocks`); this module gathers the builders and compile steps for notebooks:

>>> from cv_core.models import build_mini_xception, compile_classifier
>>> model = compile_classifier(build_mini_xception(num_classes=2), num_classes=2)

Every builder validates its arguments first and returns an uncompiled ``keras.Model`` whose
layers have stable names. Keras is imported inside the builders, so importing this module
does not import TensorFlow.
"""

from __future__ import annotations

from cv_core.blocks import BATCHNORM_PLACEMENTS, CONV_TYPES, OPTIMIZERS
from cv_core.classification.models import (
    build_mini_xception,
    build_small_convnet,
    compile_classifier,
    minimum_input_size,
    minimum_small_convnet_size,
)
from cv_core.detection.model import build_detector, compile_detector
from cv_core.segmentation.models import (
    SEGMENTATION_CONV_TYPES,
    build_segmentation_model,
    build_unet,
    compile_segmenter,
)

__all__ = [
    "BATCHNORM_PLACEMENTS",
    "CONV_TYPES",
    "OPTIMIZERS",
    "SEGMENTATION_CONV_TYPES",
    "build_detector",
    "build_mini_xception",
    "build_small_convnet",
    "build_segmentation_model",
    "build_unet",
    "compile_classifier",
    "compile_detector",
    "compile_segmenter",
    "minimum_input_size",
    "minimum_small_convnet_size",
]
