"""Detection page glue: pick a run that finds boxes (a detector, or a segmentation model whose
objects become boxes) and a picture; cache its candidate boxes so that the score and NMS
sliders only filter them; score both approaches on the validation split.

Runs, models and pictures come from the task-page scaffold (:mod:`ui.task_page`, one model
cache for every task page); candidates and scores are cached results keyed by the model
file's version, what its outputs mean, and the picture. Session-state keys start with the
page's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset, resize_image
from cv_core.detection import RawDetections
from cv_core.i18n import N_, _
from cv_core.overlays import class_palette, upscale
from cv_core.runs import RunInfo
from ui.task_page import Picture, run_model, task_runs
from ui.task_page import picture_picker as pick_picture
from ui.task_page import run_label as task_run_label
from ui.task_page import run_picker as pick_run

#: Pictures are shown enlarged (nearest neighbour) to at least this side.
SHOW_SIDE = 360
#: Validation pictures scored by the page (the first ones of the split).
VALIDATION_LIMIT = 200
#: Tasks whose runs find boxes, and how the page names them (translated where shown).
KINDS = {"detection": N_("Detector"), "segmentation": N_("Boxes from segmentation")}
SOURCES = ["Sample", "Upload", "Camera"]


# --------------------------------------------------------------------------------------
# Runs and their models
# --------------------------------------------------------------------------------------


def box_runs(runs_root: str | None = None) -> list[RunInfo]:
    """Detection and segmentation runs this browser may see that have saved a model, newest first."""
    return task_runs(tuple(KINDS), runs_root)


def run_label(run: RunInfo) -> str:
    """"Detector · detector s4 / separable · shapes 64 px · best val. mAP@0.5 0.412 · completed · <id>"."""
    return _("{kind} · {run}").format(kind=_(KINDS[run.task.name]), run=task_run_label(run))


def run_picker(prefix: str, runs: list[RunInfo]) -> RunInfo:
    """A selectbox of the runs that find boxes (kept in the URL as ``run``); returns the chosen one."""
    return pick_run(prefix, runs, _("Model that finds the boxes"),
                    _("Detection runs, and segmentation runs: the box around each object of a predicted mask makes "
                      "a segmentation model a detector too."), run_label)


def picture_picker(prefix: str, dataset: Dataset | None) -> Picture | None:
    """A picture of the run's dataset (with its true boxes), an upload or a camera photo."""
    return pick_picture(prefix, dataset, SOURCES,
                        _("A picture of the run's dataset, with its true boxes; a picture of your own; or a photo "
                          "from your camera."))


@dataclass(frozen=True)
class BoxFinder:
    """What the chosen run finds boxes with, and what its boxes mean.

    Attributes:
        run: the run.
        kind: "detection" or "segmentation".
        model: the loaded model (shared: never train or change it).
        input_size: (height, width) the model takes: its view of every picture.
        class_names: the box classes (the dataset's object classes).
        class_map: for a segmentation model, ``{mask value: box class}``; None keeps mask values.
        background: for a segmentation model, the mask value that is no object.
        version: the model file's version (:func:`ui.task_page.model_version`).
    """

    run: RunInfo
    kind: str
    model: object
    input_size: tuple[int, int]
    class_names: list[str]
    class_map: dict | None = None
    background: int = 0
    version: str = ""

    @property
    def key(self) -> str:
        """The model file's version and what its outputs mean: a new best epoch, or another
        mapping of mask classes to box classes (another dataset), changes it."""
        mapping = sorted(self.class_map.items()) if self.class_map is not None else None
        return f"{self.run.id}|{self.version}|{mapping}|{self.background}"

    @property
    def shown_class_names(self) -> list[str]:
        """The box classes as the page shows them: in the reader's language where the catalog has
        the name (the shapes' circle, square, ...), as they are otherwise (a dataset's own names)."""
        return [_(name) for name in self.class_names]

    @property
    def palette(self) -> np.ndarray:
        return class_palette(max(1, len(self.class_names)), background_first=False)


def box_finder(run: RunInfo, dataset: Dataset | None) -> BoxFinder | None:
    """The run's model with what its outputs mean; None (with the reason shown) if it cannot load."""
    loaded = run_model(run)
    if loaded is None:
        return None
    model, size, version = loaded.model, loaded.input_size, loaded.key
    summary = run.summary or {}
    names = list(summary.get("class_names") or [])
    if run.task.name == "detection":
        from cv_core.detection import detector_geometry

        count = detector_geometry(model)[2]
        if len(names) != count:
            names = [_("class {index}").format(index=i) for i in range(count)]
        return BoxFinder(run, "detection", model, size, names, version=version)
    from cv_core.segmentation import box_class_map

    count = int(model.output_shape[-1])
    if len(names) != count:
        names = [f"class {i}" for i in range(count)]
    background = summary.get("mask_background")
    background = background if isinstance(background, int) and 0 <= background < count else 0
    if dataset is not None and dataset.has_boxes and box_class_map(names, dataset.class_names):
        return BoxFinder(run, "segmentation", model, size, list(dataset.class_names),
                         box_class_map(names, dataset.class_names), background, version)
    return BoxFinder(run, "segmentation", model, size, names, None, background, version)


def model_view(finder: BoxFinder, picture: Picture) -> np.ndarray:
    """The picture as the model sees it (its input size)."""
    return resize_image(picture.image, finder.input_size)


def true_boxes(finder: BoxFinder, picture: Picture) -> list[tuple] | None:
    """The picture's true boxes moved to the model's view, or None when unknown (or in other classes)."""
    if picture.boxes is None or (finder.kind == "segmentation" and finder.class_map is None):
        return None
    from cv_core.detection import rescale_boxes

    return rescale_boxes(picture.boxes, picture.image.shape[:2], finder.input_size)


# --------------------------------------------------------------------------------------
# Cached results
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _detector_candidates(_model, finder_key: str, picture_key: str, _view: np.ndarray) -> RawDetections:
    from cv_core.detection import predict_raw

    return predict_raw(_model, _view.astype(np.float32))


@st.cache_data(max_entries=64, show_spinner=False)
def _segmentation_candidates(_finder: BoxFinder, finder_key: str, picture_key: str, _view: np.ndarray) -> RawDetections:
    from cv_core.detection import candidates_from_boxes
    from cv_core.segmentation import mask_to_boxes
    from cv_core.segmentation import predict_mask

    probabilities = predict_mask(_finder.model, _view).probabilities
    boxes = mask_to_boxes(probabilities.argmax(axis=-1), probabilities, _finder.class_map, _finder.background)
    return candidates_from_boxes(boxes, _view.shape[:2], len(_finder.class_names))


def candidates(finder: BoxFinder, picture: Picture, view: np.ndarray) -> tuple[RawDetections, np.ndarray]:
    """Every candidate box of the picture before the thresholds: computed once per model version and
    picture, so moving a slider only filters them. Boxes under one pixel wide or tall are left out
    (:func:`cv_core.detection.drop_tiny_boxes`); the second value marks them."""
    from cv_core.detection import drop_tiny_boxes

    if finder.kind == "detection":
        with st.spinner(_("Finding boxes…")):
            raw = _detector_candidates(finder.model, finder.key, picture.key, view)
    else:
        with st.spinner(_("Finding the objects in the mask…")):
            raw = _segmentation_candidates(finder, finder.key, picture.key, view)
    return drop_tiny_boxes(raw)


@st.cache_data(max_entries=16, show_spinner=False)
def _validation_boxes(_finder: BoxFinder, finder_key: str, _dataset: Dataset, dataset_key: str,
                      limit: int) -> tuple[list, list]:
    """Predicted and true boxes of the first ``limit`` validation pictures (each approach in its own pixels)."""
    if _finder.kind == "detection":
        from cv_core.detection import detection_samples, evaluate_detector

        images, truths = detection_samples(_dataset, "validation", _finder.input_size, limit)
        return evaluate_detector(_finder.model, images, truths).predictions, truths
    from cv_core.segmentation import box_predictions

    return box_predictions(_finder.model, _dataset, "validation", 0, limit, _finder.class_map)


def validation_scores(finder: BoxFinder, dataset: Dataset, limit: int):
    """:class:`cv_core.detection.BoxScores` of the finder's boxes on the first ``limit`` validation pictures."""
    from cv_core.detection import box_scores
    from ui.data import dataset_key

    predictions, truths = _validation_boxes(finder, finder.key, dataset, dataset_key(dataset), limit)
    return box_scores(predictions, truths)


def validation_results(finder: BoxFinder, other: RunInfo | None, dataset: Dataset,
                       limit: int) -> tuple[dict, str | None]:
    """The scores of the finder's boxes and, when it can be scored, of ``other``'s (the other
    approach), by label ("Detector (ab12)", in the current language); and why ``other`` was left out, or None."""
    results = {_("{kind} ({run})").format(kind=_(KINDS[finder.kind]), run=finder.run.id[-4:]):
               validation_scores(finder, dataset, limit)}
    if other is None:
        return results, None
    other_finder = box_finder(other, dataset)
    if other_finder is None:
        return results, None
    if other_finder.kind == "detection" or other_finder.class_map is not None:
        results[_("{kind} ({run})").format(kind=_(KINDS[other_finder.kind]), run=other.id[-4:])] = \
            validation_scores(other_finder, dataset, limit)
        return results, None
    return results, _("Run {run} predicts mask classes that are not the dataset's object classes "
                      "({classes}): its boxes cannot be scored against the true ones.").format(
                          run=other.id, classes=", ".join(finder.class_names))


def curve_gap_notes(curves, class_names: list[str]) -> list[str]:
    """Why classes have no precision–recall curve, one sentence per reason (none when it is every
    class: the chart itself says so)."""
    from cv_core.detection import curve_gaps

    gaps = {why: classes for why, classes in curve_gaps(curves, len(class_names)).items()
            if len(classes) < len(class_names)}

    def names_of(classes: list[int]) -> str:
        return ", ".join(class_names[c] for c in classes)

    notes = []
    if gaps.get("no_truth"):
        notes.append(_("Classes with no true box in these pictures, so no curve: {classes}.").format(
            classes=names_of(gaps["no_truth"])))
    if gaps.get("no_box"):
        notes.append(_("Classes the model found no box of on these pictures, so their curves are empty: "
                       "{classes}.").format(classes=names_of(gaps["no_box"])))
    if gaps.get("no_hit"):
        notes.append(_("Classes whose boxes never land on a true box of theirs (IoU ≥ 0.5), so their curves stay at "
                       "zero: {classes}.").format(classes=names_of(gaps["no_hit"])))
    return notes


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


def show(view: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's view enlarged with crisp pixels, and by how much."""
    big = upscale(view, SHOW_SIDE)
    return big, big.shape[0] / view.shape[0]


def _pixels(value: float) -> str:
    """A coordinate as a whole number when it is one, else to a tenth of a pixel."""
    value = float(value)
    return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"


def boxes_table(boxes, hit: list[bool] | None, class_names: list[str]) -> list[dict]:
    """One row per shown box: class, score, corners, size and, when the truth is known, what it is.

    Corners are in the model's view, x1/y1 exclusive, to a tenth of a pixel where a detector
    gives fractions (rounded to whole pixels, a box a pixel wide could read as (27, 18, 27, 19)).
    """
    rows = []
    columns = {"class": _("class"), "score": _("score"), "box": _("box (x0, y0, x1, y1)"), "size": _("size (w × h)"),
               "outcome": _("outcome")}
    for index, (cls, x0, y0, x1, y1, score) in enumerate(boxes):
        name = class_names[cls] if 0 <= cls < len(class_names) else _("class {index}").format(index=cls)
        row = {columns["class"]: name,
               columns["score"]: round(float(score), 3),
               columns["box"]: ", ".join(_pixels(v) for v in (x0, y0, x1, y1)),
               columns["size"]: f"{_pixels(x1 - x0)} × {_pixels(y1 - y0)}"}
        if hit is not None:
            row[columns["outcome"]] = _("hit") if hit[index] else _("false positive")
        rows.append(row)
    return rows


def other_approach_runs(run: RunInfo, runs: list[RunInfo]) -> list[RunInfo]:
    """Runs of the other kind (detector ↔ segmentation) trained on the same dataset as ``run``."""
    spec = run.spec
    if spec is None:
        return []
    return [other for other in runs if other.task.name != run.task.name and other.spec is not None
            and other.spec.dataset == spec.dataset and other.spec.dataset_root == spec.dataset_root]


def comparison_rows(results: dict, class_names: list[str]) -> list[dict]:
    """One row per approach: mAP@0.5, mAP@0.5:0.95, boxes, then AP@0.5 of each class."""
    def rounded(value):
        return None if value is None or value != value else round(float(value), 3)

    rows = []
    for label, scores in results.items():
        row = {_("approach"): label, "mAP@0.5": rounded(scores.map50), "mAP@0.5:0.95": rounded(scores.map50_95),
               _("boxes"): scores.boxes}
        for index, name in enumerate(class_names):
            row[f"AP@0.5 {name}"] = rounded(scores.ap50(index))
        rows.append(row)
    return rows
