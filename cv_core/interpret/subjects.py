"""The models the interpretation pages explain, behind one small interface.

A :class:`Subject` is a model plus what it takes to show it pictures: its class names, its
input size, how to turn a photo into its input, and where sample pictures (with true
masks, when there are any) come from. Three kinds of model:

* a pretrained ImageNet model (``pretrained:squeezenet``, ``pretrained:xception``) from
  :mod:`cv_core.pretrained`;
* a classification run of the run store (``run:<run id>``): its ``best.keras``, loaded with
  ``safe_mode=True``; its dataset's validation pictures are the samples;
* a ``.keras`` file the operator named in ``CONVNET_LAB_MODEL_FILES`` (``file:<path>``).

Model files uploaded through the browser are never accepted: a model file can carry code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cv_core.datasets import resize_image
from cv_core.i18n import N_, LazyText

__all__ = ["Subject", "SubjectSample", "object_mask", "subject_from_file", "subject_from_pretrained",
           "subject_from_run", "subject_samples"]


@dataclass(frozen=True)
class SubjectSample:
    """A picture to explain: the photo, and what is known about it.

    Attributes:
        name: a caption ("chelsea", "validation/12 · circle").
        photo: (H, W, 3) uint8 RGB, any size.
        label: the true class index, or None.
        mask: (H, W) bool, the true object's pixels, or None.
    """

    name: str
    photo: np.ndarray
    label: int | None = None
    mask: np.ndarray | None = None


@dataclass(frozen=True)
class Subject:
    """A model to explain, with how to feed it photos.

    Attributes:
        key: "pretrained:squeezenet", "run:<id>" or "file:<path>".
        label: what people see in the model picker.
        model: the ``keras.Model`` (shared: never train or change it).
        class_names: one name per class (2 for a one-unit sigmoid classifier).
        input_size: (height, width) the model takes.
        preprocess: photo (H, W, 3) uint8 -> float32 batch of one in the model's input space.
        preprocess_tensor: float tensor (N, H, W, 3) RGB in [0, 255] -> model input (for
            gradient ascent), or None when the model takes [0, 255] RGB itself.
        dataset: ``{"name", "root", "options"}`` of the run's dataset, or None.
        notes: a sentence about the model for the page, in English (marked for translation: a
            page shows ``_(notes)``).
    """

    key: str
    label: str
    model: object
    class_names: list[str]
    input_size: tuple[int, int]
    preprocess: Callable[[np.ndarray], np.ndarray]
    preprocess_tensor: Callable | None = None
    dataset: dict | None = None
    notes: str = ""
    comparison_layers: tuple[str, ...] = field(default_factory=tuple)

    def view(self, photo: np.ndarray) -> np.ndarray:
        """The photo resized to the model's input size, as uint8 RGB: what the model sees."""
        return resize_image(np.asarray(photo, dtype=np.uint8), self.input_size)


def _plain_preprocess(size: tuple[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    def preprocess(photo: np.ndarray) -> np.ndarray:
        return resize_image(np.asarray(photo, dtype=np.uint8), size).astype(np.float32)[None]

    return preprocess


def _input_size(model) -> tuple[int, int]:
    shape = tuple(model.inputs[0].shape[1:3])
    if None in shape:
        return (224, 224)
    return int(shape[0]), int(shape[1])


def _spread_layers(model, count: int = 3) -> tuple[str, ...]:
    """Early, middle and late convolution layers: the book's block 2 / 4 / 8 comparison."""
    from cv_core.interpret._graph import iter_layers, layer_kind

    convs = [layer.name for layer in iter_layers(model)
             if layer_kind(layer) == "convolution" and len(layer.output.shape) == 4]
    if len(convs) <= count:
        return tuple(convs)
    picks = [round(i * (len(convs) - 1) / (count - 1)) for i in range(count)]
    picks[0] = min(1, len(convs) - 1)  # the stem sees raw pixels; its neighbour is more telling
    return tuple(dict.fromkeys(convs[i] for i in picks))


def _model_class_count(model) -> int:
    from cv_core.interpret._graph import tap_model

    return tap_model(model).num_classes


def class_numbers(count: int) -> list[str]:
    """Names for the classes of a model that has none: "class 0", "class 1", … in English, read in the
    reader's language where shown (``LazyText``: the subject is cached and shared by every session)."""
    return [LazyText(N_("class {index}"), index=i) for i in range(count)]


def run_subject_label(spec, run_id: str) -> str:
    """A run's model in the picker: "separable / none · seed 0 · shapes (run id)" in English, the variant,
    the dataset and the words around them in the reader's language where shown (``LazyText``)."""
    from cv_core.runs.labels import DisplayName, dataset_id_label, variant_label

    return LazyText(N_("{variant} · seed {seed} · {dataset} ({run})"),
                    variant=DisplayName(variant_label, spec.variant), seed=spec.seed,
                    dataset=DisplayName(dataset_id_label, spec.dataset), run=run_id)


def subject_from_pretrained(name: str, **options) -> Subject:
    """A pretrained ImageNet model ("squeezenet" works offline; "xception" downloads once).

    Raises:
        ValueError: an unknown name; the pretrained module's error when weights are unavailable.
    """
    from cv_core.pretrained import load_pretrained

    pretrained = load_pretrained(name, **options)
    layers = ("block2_sepconv1", "block4_sepconv1", "block8_sepconv1") if name == "xception" else \
        _spread_layers(pretrained.model)
    return Subject(
        key=f"pretrained:{name}",
        label=getattr(pretrained, "display_name", name),
        model=pretrained.model,
        class_names=list(pretrained.class_names),
        input_size=tuple(pretrained.input_size),
        preprocess=pretrained.preprocess,
        preprocess_tensor=getattr(pretrained, "preprocess_tensor", None),
        notes=(N_("SqueezeNet 1.1, trained on ImageNet (1000 classes); its weights ship in the `ndf` package, so it "
                  "works offline.") if name == "squeezenet" else
               N_("Xception, trained on ImageNet (1000 classes): the book's model for figures 9.17–9.20.")),
        comparison_layers=layers,
    )


def subject_from_run(run_dir: str | os.PathLike) -> Subject:
    """A classification run's best model; its dataset's validation pictures are the samples.

    Raises:
        cv_core.runs.RunModelError: the run has no usable ``best.keras`` yet.
    """
    from cv_core.runs import load_best_model, read_spec, read_summary

    run_dir = Path(run_dir)
    model = load_best_model(run_dir)
    spec = read_spec(run_dir)
    summary = read_summary(run_dir) or {}
    size = _input_size(model)
    classes = list(summary.get("class_names") or [])
    count = _model_class_count(model)
    if len(classes) != count:
        classes = class_numbers(count)
    dataset = None
    label = run_dir.name
    if spec is not None:
        dataset = {"name": spec.dataset, "root": spec.dataset_root, "options": dict(spec.dataset_options)}
        label = run_subject_label(spec, run_dir.name)
    return Subject(
        key=f"run:{run_dir.name}", label=label, model=model, class_names=classes, input_size=size,
        preprocess=_plain_preprocess(size), dataset=dataset,
        notes=N_("Trained in this lab; it takes pictures with values in [0, 255] and rescales them itself."),
        comparison_layers=_spread_layers(model),
    )


def subject_from_file(path: str | os.PathLike) -> Subject:
    """A ``.keras`` file the operator named (loaded with ``safe_mode=True``).

    The model is assumed to take RGB values in [0, 255] at its input size, like the lab's own.
    """
    from cv_core.pretrained import load_model_file

    model = load_model_file(path)
    size = _input_size(model)
    return Subject(
        key=f"file:{Path(path)}", label=Path(path).name, model=model,
        class_names=class_numbers(_model_class_count(model)), input_size=size,
        preprocess=_plain_preprocess(size),
        notes=N_("A model file named by the operator; it is assumed to take RGB values in [0, 255]."),
        comparison_layers=_spread_layers(model),
    )


def object_mask(dataset, label: int, mask: np.ndarray | None) -> np.ndarray | None:
    """The true object's pixels in a dataset mask, for localisation scores.

    Where the mask classes are "background" plus the image classes (shapes), the object is
    every pixel of the labelled class; otherwise (Oxford pets' trimaps) it is every pixel
    that is not the dataset's background value.
    """
    if mask is None:
        return None
    names = dataset.mask_class_names or []
    if list(names[1:]) == list(dataset.class_names):
        return mask == label + 1
    return mask != dataset.mask_background


def subject_samples(subject: Subject, count: int = 8, split: str = "validation", start: int = 0) -> list[SubjectSample]:
    """Pictures to explain: the run's dataset's pictures, or the bundled photos for the others."""
    if subject.dataset is None:
        from cv_core.pretrained import sample_photos

        return [SubjectSample(name, photo) for name, photo in sample_photos().items()]
    from cv_core.datasets import open_dataset

    dataset = open_dataset(subject.dataset["name"], subject.dataset["root"], **subject.dataset["options"])
    out = []
    for sample in dataset.samples(split, count=count, start=start):
        out.append(SubjectSample(
            name=f"{sample.source} · {dataset.class_names[sample.label]}", photo=sample.image,
            label=int(sample.label), mask=object_mask(dataset, sample.label, sample.mask),
        ))
    return out
