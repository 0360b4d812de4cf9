"""Detection page glue: pick a run that finds boxes (a detector, or a segmentation model whose
objects become boxes) and a picture; cache its candidate boxes so that the score and NMS
sliders only filter them; score both approaches on the validation split.

Models are cached per file version (``st.cache_resource``, shared by every session: never
changed); candidates and scores are cached results keyed by run, model file stamp and
picture. Session-state keys start with the page's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset, resize_image
from cv_core.detection import RawDetections
from cv_core.overlays import class_palette, upscale
from cv_core.runs import RunInfo, best_model_path, default_runs_root
from ui.interpret import camera_photo, digest
from ui.memory import index_of, remember, remembered
from ui.segmentation import model_stamp
from ui.training import visible_runs
from ui.uploads import image_upload

#: Pictures are shown enlarged (nearest neighbour) to at least this side.
SHOW_SIDE = 360
#: Validation pictures scored by the page (the first ones of the split).
VALIDATION_LIMIT = 200
#: Tasks whose runs find boxes, and how the page names them.
KINDS = {"detection": "Detector", "segmentation": "Boxes from segmentation"}
SOURCES = ["Sample", "Upload", "Camera"]


# --------------------------------------------------------------------------------------
# Runs and their models
# --------------------------------------------------------------------------------------


def box_runs(runs_root: str | None = None) -> list[RunInfo]:
    """Detection and segmentation runs this browser may see that have saved a model, newest first."""
    return [run for run in visible_runs(runs_root)
            if run.task.name in KINDS and best_model_path(run.dir).exists()]


def run_label(run: RunInfo) -> str:
    """"Detector · detector s4 / separable · shapes 64 px · best val. mAP@0.5 0.412 · completed · <id>"."""
    spec = run.spec
    where = f" · {spec.dataset} {spec.image_size} px" if spec else ""
    score = f" · best val. {run.task.metric_label} {run.task.format_score(run.best_score)}" \
        if run.best_score is not None else ""
    return f"{KINDS[run.task.name]} · {run.label}{where}{score} · {run.state} · {run.id}"


def run_picker(prefix: str, runs: list[RunInfo]) -> RunInfo:
    """A selectbox of the runs that find boxes (kept in the URL as ``run``); returns the chosen one."""
    by_id = {run.id: run for run in runs}
    widget = f"{prefix}_model_run"
    initial = remembered(widget, "run", list(by_id), runs[0].id)
    chosen = st.selectbox("Model that finds the boxes", list(by_id), index=index_of(list(by_id), initial),
                          format_func=lambda rid: run_label(by_id[rid]), key=widget,
                          help="Detection runs, and segmentation runs: the box around each object of a "
                               "predicted mask makes a segmentation model a detector too.")
    remember(widget, "run", chosen)
    return by_id[chosen]


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def _model(run_id: str, stamp: float):
    from cv_core.runs import load_best_model

    root = default_runs_root()
    run_dir = (root / run_id).resolve()
    if run_dir.parent != root.resolve():
        raise ValueError(f"Expected a run of the runs folder. Received: {run_id!r}")
    return load_best_model(run_dir)


def run_model(run: RunInfo):
    """The run's best model (loaded in safe mode once per file version), or None with the reason shown."""
    try:
        return _model(run.id, model_stamp(run))
    except Exception as exc:  # a corrupt file, safe mode refusing a layer...
        st.error(f"This model cannot be used: {exc}", icon=":material/error:")
        return None


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
    """

    run: RunInfo
    kind: str
    model: object
    input_size: tuple[int, int]
    class_names: list[str]
    class_map: dict | None = None
    background: int = 0

    @property
    def key(self) -> str:
        """The run and its model file's version: a new best epoch changes it."""
        return f"{self.run.id}|{model_stamp(self.run)}"

    @property
    def palette(self) -> np.ndarray:
        return class_palette(max(1, len(self.class_names)), background_first=False)


def box_finder(run: RunInfo, dataset: Dataset | None) -> BoxFinder | None:
    """The run's model with what its outputs mean; None (with the reason shown) if it cannot load."""
    model = run_model(run)
    if model is None:
        return None
    size = tuple(int(d) for d in model.input_shape[1:3])
    summary = run.summary or {}
    names = list(summary.get("class_names") or [])
    if run.task.name == "detection":
        from cv_core.detection import detector_geometry

        _, _, count = detector_geometry(model)
        if len(names) != count:
            names = [f"class {i}" for i in range(count)]
        return BoxFinder(run, "detection", model, size, names)
    from cv_core.segmentation import box_class_map

    count = int(model.output_shape[-1])
    if len(names) != count:
        names = [f"class {i}" for i in range(count)]
    background = summary.get("mask_background")
    background = background if isinstance(background, int) and 0 <= background < count else 0
    if dataset is not None and dataset.has_boxes and box_class_map(names, dataset.class_names):
        return BoxFinder(run, "segmentation", model, size, list(dataset.class_names),
                         box_class_map(names, dataset.class_names), background)
    return BoxFinder(run, "segmentation", model, size, names, None, background)


# --------------------------------------------------------------------------------------
# The picture
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A picture to find boxes in, with its true boxes (the dataset's classes) when known."""

    key: str
    name: str
    image: np.ndarray
    boxes: tuple | None = None


def picture_picker(prefix: str, dataset: Dataset | None) -> Picture | None:
    """A picture of the run's dataset (with its true boxes), an upload or a camera photo."""
    widget = f"{prefix}_source"
    initial = remembered(widget, "source", SOURCES, "Sample")
    source = st.segmented_control("Picture", SOURCES, default=initial, key=widget,
                                  help="A picture of the run's dataset, with its true boxes; a picture of your "
                                       "own; or a photo from your camera.")
    source = source or "Sample"
    remember(widget, "source", source)
    if source == "Upload":
        image = image_upload("Upload a picture", key=f"{prefix}_upload")
        return None if image is None else Picture(f"upload|{digest(image)}", "your upload", image)
    if source == "Camera":
        image = camera_photo("Take a photo", key=f"{prefix}_camera")
        return None if image is None else Picture(f"camera|{digest(image)}", "camera photo", image)
    if dataset is None:
        return None
    cols = st.columns(2)
    splits = [s for s in ("validation", "test", "train") if dataset.count(s)]
    if not splits:
        st.info("The run's dataset has no pictures left.", icon=":material/folder_off:")
        return None
    split = cols[0].selectbox("Split", splits, key=f"{prefix}_split", bind="query-params")
    count = dataset.count(split)
    index = int(cols[1].number_input(f"Picture (0–{count - 1})", 0, count - 1, 0, key=f"{prefix}_index",
                                     bind="query-params"))
    try:
        sample = dataset.sample(split, index)
    except Exception as exc:  # an unreadable file
        st.error(f"Picture {index} of the {split} split cannot be used: {exc}", icon=":material/broken_image:")
        return None
    from ui.data import dataset_key

    boxes = tuple(sample.boxes) if dataset.has_boxes else None
    return Picture(f"{dataset_key(dataset)}|{split}|{index}", f"{split} picture {index} ({sample.source})",
                   sample.image, boxes)


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


@st.cache_data(max_entries=64, show_spinner="Finding boxes…")
def _detector_candidates(_model, finder_key: str, picture_key: str, _view: np.ndarray) -> RawDetections:
    from cv_core.detection import predict_raw

    return predict_raw(_model, _view.astype(np.float32))


@st.cache_data(max_entries=64, show_spinner="Finding the objects in the mask…")
def _segmentation_candidates(_finder: BoxFinder, finder_key: str, picture_key: str, _view: np.ndarray) -> RawDetections:
    from cv_core.detection import candidates_from_boxes
    from cv_core.segmentation import mask_to_boxes
    from cv_core.segmenter import predict_mask

    probabilities = predict_mask(_finder.model, _view).probabilities
    boxes = mask_to_boxes(probabilities.argmax(axis=-1), probabilities, _finder.class_map, _finder.background)
    return candidates_from_boxes(boxes, _view.shape[:2], len(_finder.class_names))


def candidates(finder: BoxFinder, picture: Picture, view: np.ndarray) -> RawDetections:
    """Every candidate box of the picture before the thresholds: computed once per model version and
    picture, so moving a slider only filters them."""
    if finder.kind == "detection":
        return _detector_candidates(finder.model, finder.key, picture.key, view)
    return _segmentation_candidates(finder, finder.key, picture.key, view)


@st.cache_data(max_entries=16, show_spinner=False)
def _validation_boxes(_finder: BoxFinder, finder_key: str, _dataset: Dataset, dataset_key: str,
                      limit: int) -> tuple[list, list]:
    """Predicted and true boxes of the first ``limit`` validation pictures (each approach in its own pixels)."""
    if _finder.kind == "detection":
        from cv_core.detection import detection_samples, evaluate_detector

        images, truths = detection_samples(_dataset, "validation", _finder.input_size, limit)
        return evaluate_detector(_finder.model, images, truths).predictions, truths
    from cv_core.segmenter import box_predictions

    return box_predictions(_finder.model, _dataset, "validation", 0, limit, _finder.class_map)


def validation_scores(finder: BoxFinder, dataset: Dataset, limit: int):
    """:class:`cv_core.detection.BoxScores` of the finder's boxes on the first ``limit`` validation pictures."""
    from cv_core.detection import box_scores
    from ui.data import dataset_key

    predictions, truths = _validation_boxes(finder, finder.key, dataset, dataset_key(dataset), limit)
    return box_scores(predictions, truths)


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


def show(view: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's view enlarged with crisp pixels, and by how much."""
    big = upscale(view, SHOW_SIDE)
    return big, big.shape[0] / view.shape[0]


def boxes_table(boxes, hit: list[bool] | None, class_names: list[str]) -> list[dict]:
    """One row per shown box: class, score, corners and, when the truth is known, what it is."""
    rows = []
    for index, (cls, x0, y0, x1, y1, score) in enumerate(boxes):
        row = {"class": class_names[cls] if 0 <= cls < len(class_names) else f"class {cls}",
               "score": round(float(score), 3), "box (x0, y0, x1, y1)": f"{x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}"}
        if hit is not None:
            row["outcome"] = "hit" if hit[index] else "false positive"
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
        row = {"approach": label, "mAP@0.5": rounded(scores.map50), "mAP@0.5:0.95": rounded(scores.map50_95),
               "boxes": scores.boxes}
        for index, name in enumerate(class_names):
            row[f"AP@0.5 {name}"] = rounded(scores.ap50(index))
        rows.append(row)
    return rows
