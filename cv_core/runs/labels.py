"""Names of runs, model variants and datasets for people, in the reader's language.

A run's spec keeps its variant in the code's own words: a grid run stores ``experiment_label``
"conv2d / none", and ``TrainSpec.variant`` says "separable / before_activation" or "heatmaps / conv2d".
Those strings are keys (run folders, grid summaries, URL parameters, old runs) and never change. What a
page shows is built here from the same spec fields:

>>> from cv_core.i18n import use_language
>>> grid_label("conv2d", "none")
'conv2d / none'
>>> with use_language("zh-TW"):
...     grid_label("conv2d", "none")
'一般卷積 / 不使用批次正規化'

English shows the spec's values as they are (what a notebook user types, and what the lab has always
shown); other languages show the Train form's words (``N_`` messages below, translated in the catalog).
Words that are data stay as they are: a user dataset's name, a label a script gave its own grid.
"""

from __future__ import annotations

import re

from cv_core.i18n import N_, SOURCE_LANGUAGE, _, current_language

__all__ = ["DATASET_LABELS", "VARIANT_WORDS", "DisplayName", "dataset_id_label", "dataset_label",
           "experiment_row_label", "grid_label", "run_label", "variant_label"]

#: The convolution types of a variant (``TrainSpec.conv_type``), as a person reads them.
CONV_TYPE_WORDS = {"separable": N_("separable convolutions"), "conv2d": N_("regular convolutions")}
#: Where batch normalization goes (``TrainSpec.batchnorm``), as a person reads it.
BATCHNORM_WORDS = {"before_activation": N_("batch normalization before the activation"),
                   "after_activation": N_("batch normalization after the activation"),
                   "none": N_("no batch normalization")}
#: Every word of the tasks' variant names (``Architecture.variant``, parts joined by " / ").
VARIANT_WORDS = {
    **CONV_TYPE_WORDS,
    **BATCHNORM_WORDS,
    "no residual": N_("no residual connections"),
    "small_convnet": N_("Plain convnet (chapter 8)"),
    "book's model": N_("book's model"),
    "instance U-Net": N_("instance U-Net"),
    "embedding": N_("embedding"),
    "pose": N_("pose"),
    "heatmaps": N_("heatmaps"),
    "regression": N_("regression"),
}
#: The detectors' variant word, "detector s8": the model's stride.
_DETECTOR = re.compile(r"detector s(\d+)")

#: The built-in datasets by their ids (``TrainSpec.dataset``), as a person reads them.
DATASET_LABELS = {
    "shapes": N_("Shapes (built in)"),
    "image_folder": N_("Image folder (your own)"),
    "cats_vs_dogs": N_("Cats vs dogs (local copy)"),
    "oxford_pets": N_("Oxford-IIIT Pets (local copy)"),
    "people": N_("People (built in)"),
    "landmarks": N_("Face landmarks (built in)"),
    "coco_keypoints": N_("COCO keypoints folder (your own)"),
}


def _in_code_words() -> bool:
    return current_language() == SOURCE_LANGUAGE


def _variant_word(part: str) -> str:
    if part in VARIANT_WORDS:
        return _(VARIANT_WORDS[part])
    detector = _DETECTOR.fullmatch(part)
    if detector:
        return _("detector, stride {stride}").format(stride=detector.group(1))
    return part  # a word the lab does not know (a script's own label): data


def variant_label(variant: str) -> str:
    """A variant's name (``TrainSpec.variant``: "separable / before_activation", "heatmaps / conv2d",
    "embedding / conv2d / none / no residual") in the reader's language; itself in English.

    Each part between " / " is translated on its own; a part the lab does not know stays as it is.
    """
    variant = str.__str__(variant)
    if _in_code_words():
        return variant
    return " / ".join(_variant_word(part) for part in variant.split(" / "))


def grid_label(conv_type: str, batchnorm: str) -> str:
    """A grid variant's name from its spec's fields: "conv2d / none" in English (what
    :func:`cv_core.runs.submit_grid` stores as ``experiment_label``), the Train form's words otherwise."""
    return variant_label(f"{conv_type} / {batchnorm}")


def run_label(spec) -> str:
    """A run's short name for people: a grid run's variant, else its variant and seed.

    The grid's own label ("conv2d / none") is read from the spec's ``conv_type`` and ``batchnorm``; a
    label a script chose (anything else in ``experiment_label``) is shown as it is.
    """
    stored = spec.experiment_label
    if stored:
        if stored == f"{spec.conv_type} / {spec.batchnorm}":
            return grid_label(spec.conv_type, spec.batchnorm)
        return stored
    return _("{variant} (seed {seed})").format(variant=variant_label(spec.variant), seed=spec.seed)


def experiment_row_label(row: dict) -> str:
    """The ``variant`` of a :func:`cv_core.runs.summarise_experiment` row, for people."""
    variant = str(row.get("variant", ""))
    if variant == f"{row.get('conv_type')} / {row.get('batchnorm')}":
        return grid_label(row["conv_type"], row["batchnorm"])
    return variant_label(variant)


def dataset_label(name: str) -> str:
    """A dataset id (``TrainSpec.dataset``) for people: the built-in datasets' names, a user dataset's
    own name with what it is; other ids as they are."""
    from cv_core.datasets import KEYPOINTS_PREFIX, USER_PREFIX

    name = str(name)
    if name.startswith(KEYPOINTS_PREFIX):
        return _("Your keypoints: {name}").format(name=name[len(KEYPOINTS_PREFIX):])
    if name.startswith(USER_PREFIX):
        return _("{name} · your masks").format(name=name[len(USER_PREFIX):])
    return _(DATASET_LABELS[name]) if name in DATASET_LABELS else name


def dataset_id_label(name: str) -> str:
    """A dataset in a short label (a grid's title, a Heatmaps model): its id in English, as the lab has
    always shown it ("shapes", "user:flowers"), :func:`dataset_label` in other languages."""
    return str.__str__(str(name)) if _in_code_words() else dataset_label(name)


class DisplayName(str):
    """A name that a cached object keeps (a Heatmaps model's label): the English as a ``str`` (equal,
    hashable and sorted as before), read in the reader's language by ``str(name)``, f-strings and
    ``format``.

    ``DisplayName(variant_label, "conv2d / none")`` shows :func:`variant_label` of its text.
    """

    def __new__(cls, show, text: str):
        name = super().__new__(cls, str(text))
        name.show = show
        return name

    def __str__(self) -> str:
        return self.show(str.__str__(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):
        return (DisplayName, (self.show, str.__str__(self)))
