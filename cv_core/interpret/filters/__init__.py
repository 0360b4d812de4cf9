"""Filter patterns (the book's second interpretation technique): the picture each filter of a
layer responds to most, found by gradient ascent in input space.

Start from a noisy grey image and repeatedly nudge its pixels in the direction that raises
one filter's mean activation (leaving out a 2-pixel border of the feature map, as the book
does). What comes out shows what the filter looks for: edges and colours early in the
network, textures deeper in.

Every requested filter is optimised at once, as one batch (image ``i`` climbs filter
``filter_indices[i]``), by a compiled ``tf.function`` that takes the filter indices as a
tensor: a layer compiles once per parameterisation, image size and ``preprocess``, and later
calls with other filters, other batch sizes or other regulariser settings reuse it.

Two parameterisations of the image:

* ``"pixels"`` (the book's): the raw pixels, moved along the L2-normalised gradient by
  ``learning_rate`` per step, then displayed the book's way (centred, scaled to a standard
  deviation of 64 around grey, the border cropped to grey).
* ``"fourier"`` (Lucid's, Olah et al., 2017, "Feature Visualization"): the image is a
  spectrum scaled by 1/frequency, turned into pixels by an inverse real FFT, mixed from a
  decorrelated colour space into RGB and squashed into [0, 255] by a sigmoid; Adam climbs
  the spectrum. A step changes every scale of the image in proportion to natural images'
  spectrum, where a raw-pixel step mostly adds high-frequency noise: the patterns come out
  far cleaner.

A filter that is silent on the start image would get no gradient at all and stay grey. Once
an image's gradient comes out zero, the rest of its batch runs with Lucid's "redirected
ReLU": a ReLU that blocks every gradient of an image lets through the part that would raise
its input, until the filter wakes up. (Kept off otherwise: it costs about a tenth of a step.)

Optional regularisers (Yosinski et al., 2015; Mordvintsev et al., 2015): random ``jitter``
(the image is rolled a few pixels each step before the model sees it), Gaussian ``blur``
every few steps, and L2 ``decay`` towards grey.

Modules: :mod:`~cv_core.interpret.filters.options` (settings and argument checks),
:mod:`~cv_core.interpret.filters.ascent` (the compiled ascent and the display) and
:mod:`~cv_core.interpret.filters.patterns` (the public functions).
"""

from __future__ import annotations

from cv_core.interpret.filters.options import (
    BORDER,
    CROP_FRACTION,
    DEFAULT_IMAGE_SIZE,
    FOURIER_INIT_SD,
    FOURIER_STEP_SCALE,
    MAX_FILTERS,
    PARAMETERIZATIONS,
)
from cv_core.interpret.filters.patterns import SLICE_PIXELS, filter_count, filter_patterns, pattern_scores, search_gain, slice_size

__all__ = [
    "BORDER",
    "CROP_FRACTION",
    "DEFAULT_IMAGE_SIZE",
    "FOURIER_INIT_SD",
    "FOURIER_STEP_SCALE",
    "MAX_FILTERS",
    "PARAMETERIZATIONS",
    "SLICE_PIXELS",
    "filter_count",
    "filter_patterns",
    "pattern_scores",
    "search_gain",
    "slice_size",
]
