"""Instance segmentation page glue: pick an instance run and a picture; find its objects once (cached)
so that the score slider only filters them; set them against the true objects and against connected
components of a semantic mask; the validation scores of both; exports; a start with no run yet.

Runs, models and pictures come from the task-page scaffold (:mod:`ui.task_page`, one model cache
for every task page). The model's outputs are one cached forward pass per model version and
picture. Session-state keys start with the page's prefix, ``instances``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset, resize_image, resize_mask
from cv_core.i18n import N_, _
from cv_core.runs import RunInfo
from ui.task_page import Picture, run_model, task_runs
from ui.task_page import picture_picker as pick_picture
from ui.task_page import run_label
from ui.task_page import run_picker as pick_run

PREFIX = "instances"
#: The score slider's starting value.
DEFAULT_SCORE = 0.2
#: Validation pictures a semantic run is scored on when its scores are not stored (the first ones).
VALIDATION_LIMIT = 200
SOURCES = ["Sample", "Upload", "Camera"]
#: The semantic choice that means "the instance model's own semantic head".
OWN_HEAD = "own"


# --------------------------------------------------------------------------------------
# Runs and their models
# --------------------------------------------------------------------------------------


def instance_runs(runs_root: str | None = None) -> list[RunInfo]:
    """Instance segmentation runs this browser may see that have saved a model, newest first."""
    return task_runs(("instances",), runs_root)


def semantic_runs(runs_root: str | None = None) -> list[RunInfo]:
    """Segmentation runs this browser may see that have saved a model, newest first."""
    return task_runs(("segmentation",), runs_root)


def run_picker(runs: list[RunInfo], prefix: str = PREFIX) -> RunInfo:
    """A selectbox of the instance runs (kept in the URL as ``run``); returns the chosen one."""
    return pick_run(prefix, runs, _("Instance model"),
                    _("Instance segmentation runs with a saved model (their best epoch so far)."))


def picture_picker(dataset: Dataset | None, prefix: str = PREFIX) -> Picture | None:
    """A picture of the run's dataset (with its true objects), an upload or a camera photo."""
    return pick_picture(prefix, dataset, SOURCES,
                        _("A picture of the run's dataset, with its true objects; a picture of your own; or a photo "
                          "from your camera."))


@dataclass(frozen=True)
class InstanceFinder:
    """The chosen instance run's model and what its outputs mean.

    Attributes:
        run: the run.
        model: the loaded model (shared by every session: never train or change it).
        key: the run and its model file's version, for cached results.
        input_size: (height, width) the model takes.
        class_names: the mask classes, background included.
        background: the class that is no object.
    """

    run: RunInfo
    model: object
    key: str
    input_size: tuple[int, int]
    class_names: list[str]
    background: int = 0


def _class_names(run: RunInfo, count: int) -> tuple[list[str], int]:
    summary = run.summary or {}
    names = list(summary.get("class_names") or [])
    if len(names) != count:
        names = [_("class {index}").format(index=i) for i in range(count)]
    background = summary.get("mask_background")
    return names, background if isinstance(background, int) and 0 <= background < count else 0


def instance_finder(run: RunInfo) -> InstanceFinder | None:
    """The run's model with its classes; None (with the reason shown) when it cannot be used."""
    loaded = run_model(run)
    if loaded is None:
        return None
    try:
        count = int(loaded.model.get_layer("semantic").output.shape[-1])
        loaded.model.get_layer("offset")
    except (ValueError, AttributeError) as exc:
        st.error(_("This run's model is not an instance model this page can read: {error}").format(error=exc),
                 icon=":material/error:")
        return None
    names, background = _class_names(run, count)
    return InstanceFinder(run, loaded.model, f"{run.id}|{loaded.key}", loaded.input_size, names, background)


def model_view(size: tuple[int, int], picture: Picture) -> np.ndarray:
    """The picture as a model of input ``size`` sees it."""
    return resize_image(picture.image, size)


def true_objects(finder: InstanceFinder, picture: Picture) -> list[dict] | None:
    """The picture's true objects at the model's view (``mask``, ``class``, ``box``), or None when unknown."""
    if picture.instances is None or picture.true_mask is None:
        return None
    from cv_core.instances import truth_objects

    mask = resize_mask(picture.true_mask, finder.input_size)
    ids = resize_mask(picture.instances, finder.input_size)
    objects = truth_objects(mask, ids, finder.background)
    for obj in objects:
        ys, xs = np.nonzero(obj["mask"])
        obj["box"] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        obj["area"] = int(obj["mask"].sum())
    return objects


# --------------------------------------------------------------------------------------
# Cached results
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)  # the caller shows a spinner in the reader's language
def _outputs(_model, model_key: str, picture_key: str, _view: np.ndarray, background: int):
    from cv_core.instances import decode_instances, predict_raw_instances

    raw = predict_raw_instances(_model, _view[None])
    found = decode_instances(raw["semantic"][0], raw["centre"][0], raw["offset"][0], background)
    return found, raw["semantic"][0]


def candidates(finder: InstanceFinder, picture: Picture, view: np.ndarray) -> tuple[list[dict], np.ndarray]:
    """Every object the model finds in the picture before the score threshold, best first, and its
    semantic head's (H, W, C) probabilities: one forward pass per model version and picture, so that
    moving the slider only filters them (:func:`cv_core.instances.filter_instances`)."""
    with st.spinner(_("Finding the objects…")):
        return _outputs(finder.model, finder.key, picture.key, view, finder.background)


@st.cache_data(max_entries=32, show_spinner=False)  # the caller shows a spinner in the reader's language
def _semantic_probabilities(_model, model_key: str, picture_key: str, _view: np.ndarray) -> np.ndarray:
    from cv_core.segmentation import predict_mask

    return predict_mask(_model, _view).probabilities


# --------------------------------------------------------------------------------------
# The semantic route beside the instance model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SemanticRoute:
    """Connected components of a semantic mask: the route the instance model is compared with.

    Attributes:
        run: the segmentation run, or None for the instance model's own semantic head.
        model: the segmentation model (None for the own head).
        key: its version, for cached results.
        input_size: its input (height, width).
        background: its background class.
        offered: how many segmentation runs with the instance model's classes there were to choose from.
    """

    run: RunInfo | None
    model: object = None
    key: str = ""
    input_size: tuple[int, int] = (0, 0)
    background: int = 0
    offered: int = 0

    @property
    def label(self) -> str:
        if self.run is None:
            return _("Connected components of the instance model's own semantic head")
        return _("Connected components of segmentation run {run}").format(run=self.run.id)


def compatible_semantic_runs(finder: InstanceFinder, runs: list[RunInfo]) -> list[RunInfo]:
    """Segmentation runs whose mask classes are the instance run's (same names, same order)."""
    return [run for run in runs if list((run.summary or {}).get("class_names") or []) == finder.class_names]


def id_selectbox(label: str, options: list[str], key: str, format_func, help: str) -> str:
    """A selectbox of ids kept in the URL by id under ``key`` (a run's label changes while it trains,
    so the label Streamlit's own binding would write could not be read back)."""
    from ui.memory import index_of, remember, remembered

    initial = remembered(key, key, options, options[0])
    chosen = st.selectbox(label, options, index=index_of(options, initial), format_func=format_func, key=key,
                          help=help)
    remember(key, key, chosen)
    return chosen


def semantic_picker(finder: InstanceFinder, prefix: str = PREFIX) -> SemanticRoute | None:
    """Choose the semantic run set beside the instance model (kept in the URL); its loaded model.

    Without a segmentation run of the same classes, the instance model's own semantic head is used
    (``offered`` 0: the page says so). None when the chosen run's model cannot load (the reason is shown).
    """
    runs = compatible_semantic_runs(finder, semantic_runs())
    by_id = {run.id: run for run in runs}
    options = [*by_id, OWN_HEAD]
    if not runs:
        return SemanticRoute(None, background=finder.background)
    chosen = id_selectbox(
        _("Semantic segmentation run beside it"), options, f"{prefix}_semantic",
        lambda o: _("The instance model's own semantic head") if o == OWN_HEAD else run_label(by_id[o]),
        _("A segmentation run with the same classes: its mask, split into connected regions (one object per "
          "region), is set beside the instance model's objects."))
    if chosen == OWN_HEAD or chosen not in by_id:
        return SemanticRoute(None, background=finder.background, offered=len(runs))
    loaded = run_model(by_id[chosen])
    if loaded is None:
        return None
    _names, background = _class_names(by_id[chosen], int(loaded.model.output_shape[-1]))
    return SemanticRoute(by_id[chosen], loaded.model, f"{chosen}|{loaded.key}", loaded.input_size, background,
                         len(runs))


def semantic_components(route: SemanticRoute, picture: Picture, own_semantic: np.ndarray,
                        size: tuple[int, int]) -> list[dict]:
    """The semantic route's objects on the picture, at ``size`` (the instance model's view)."""
    from cv_core.instances import connected_components, resize_objects

    if route.model is None:
        return connected_components(own_semantic, route.background)
    view = model_view(route.input_size, picture)
    with st.spinner(_("Predicting the semantic mask…")):
        probabilities = _semantic_probabilities(route.model, route.key, picture.key, view)
    return resize_objects(connected_components(probabilities, route.background), size)


def pairs_on_picture(objects: list[dict], truths: list[dict]) -> tuple[int, int]:
    """``(separated, touching)`` same-class pairs of true objects on one picture."""
    from cv_core.instances import separated_pairs

    return separated_pairs([objects], [truths])


# --------------------------------------------------------------------------------------
# Validation scores
# --------------------------------------------------------------------------------------


def stored_scores(run: RunInfo | None) -> dict | None:
    """A run's final scores (``scores.json``), or None."""
    if run is None:
        return None
    from cv_core.runs.files import read_scores

    return read_scores(run.dir)


@st.cache_data(max_entries=8, show_spinner=False)
def _semantic_validation(_model, model_key: str, _dataset: Dataset, dataset_key: str, size: tuple[int, int],
                         limit: int, background: int) -> dict:
    from cv_core.instances import evaluate_semantic_model, instance_samples

    images, truths = instance_samples(_dataset, "validation", size, limit)
    result = evaluate_semantic_model(_model, images, truths, background)
    return {**result, "images": int(len(images))}


def semantic_validation_scores(route: SemanticRoute, dataset: Dataset, limit: int) -> dict | None:
    """The semantic run's connected components scored on the first ``limit`` validation pictures of
    ``dataset`` (the instance run's), at the semantic model's own input size: stored scores come
    first where its ``scores.json`` has them (``instance_components``)."""
    stored = (stored_scores(route.run) or {}).get("validation") or {}
    if isinstance(stored.get("instance_components"), dict):
        return stored["instance_components"]
    from ui.data import dataset_key

    with st.spinner(_("Scoring the semantic run's connected components on {count} validation pictures…").format(
            count=limit)):
        return _semantic_validation(route.model, route.key, dataset, dataset_key(dataset), route.input_size, limit,
                                    route.background)


def _rounded(value):
    return None if value is None or value != value else round(float(value), 3)


def score_row(label: str, scores: dict | None, images: int | None = None) -> dict:
    """One row of the validation table: mask AP, AP50, AP75, touching pairs separated, pictures."""
    scores = scores or {}
    pairs = (_("{separated} of {pairs}").format(separated=scores["pairs_separated"], pairs=scores["touching_pairs"])
             if "pairs_separated" in scores and "touching_pairs" in scores else None)
    return {_("approach"): label, _("mask AP"): _rounded(scores.get("mask_ap")),
            _("AP50"): _rounded(scores.get("mask_ap50")), _("AP75"): _rounded(scores.get("mask_ap75")),
            _("touching same-class pairs separated"): pairs,
            _("pictures"): images if images is not None else scores.get("images")}


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


def object_rows(objects: list[dict], labels: list[str], class_names: list[str], outcomes=None) -> list[dict]:
    """One row per shown object: label, class, score, area, box and, against the truth, its outcome and IoU."""
    rows = []
    for index, (obj, label) in enumerate(zip(objects, labels)):
        cls = int(obj["class"])
        row = {_("object"): label,
               _("class"): class_names[cls] if 0 <= cls < len(class_names) else _("class {index}").format(index=cls),
               _("score"): round(float(obj["score"]), 3), _("area (px)"): int(obj["area"]),
               _("box (x0, y0, x1, y1)"): ", ".join(str(int(v)) for v in obj["box"])}
        if outcomes is not None:
            row[_("outcome")] = _("hit") if outcomes.hit[index] else _("false positive")
            row[_("mask IoU")] = round(outcomes.iou[index], 3) if outcomes.hit[index] else None
        rows.append(row)
    return rows


def export_buttons(objects: list[dict], finder: InstanceFinder, picture: Picture, prefix: str = PREFIX) -> None:
    """Download the shown objects as a COCO instance file and as a PNG instance map, in the picture's own pixels."""
    from cv_core.instances import coco_json, instance_map_png, resize_objects

    size = picture.image.shape[:2]
    at_size = resize_objects(objects, size)
    stem = "picture" if picture.key.startswith(("upload", "camera")) else picture.key.split("|")[-2:]
    stem = stem if isinstance(stem, str) else "-".join(stem)
    cols = st.columns(2)
    cols[0].download_button(
        _("COCO JSON"), coco_json(f"{stem}.png", at_size, finder.class_names, size, finder.background),
        file_name=f"{stem}-instances.json", mime="application/json", icon=":material/data_object:",
        key=f"{prefix}_coco", disabled=not at_size, on_click="ignore",
        help=_("The objects shown, in the picture's own pixels: one annotation each with its mask (RLE), box, area, "
               "class and score, as COCO's instance files have them."))
    cols[1].download_button(
        _("PNG instance map"), instance_map_png(at_size, size), file_name=f"{stem}-instances.png",
        mime="image/png", icon=":material/image:", key=f"{prefix}_png", disabled=not at_size, on_click="ignore",
        help=_("One pixel a pixel of the picture: 0 where no object, 1, 2, … on the objects in the table's order. "
               "A map, not a picture (it looks black): read it back with cv_core.instances.read_instance_map."))


# --------------------------------------------------------------------------------------
# No run yet
# --------------------------------------------------------------------------------------

#: The presets the page offers to start with no run yet, and their buttons.
START_PRESETS = {"quick": N_("Train the Quick preset (about 10 minutes)"),
                 "tiny": N_("Train the Tiny preset (seconds, to see the page work)")}


def _ask_start(prefix: str, preset: str) -> None:
    st.session_state[f"{prefix}_start"] = preset
    st.session_state[f"{prefix}_tab"] = _("Train")


def no_run_message(prefix: str = PREFIX) -> None:
    """Say there is no instance model yet, with buttons that start the Quick or the Tiny preset."""
    st.info(_("No instance segmentation model yet. Start one here: the Quick preset learns to tell touching shapes "
              "apart in about ten minutes on a CPU; the Tiny preset takes seconds and learns nothing, but shows the "
              "page at work. The **Train** tab has every setting."), icon=":material/model_training:")
    cols = st.columns(len(START_PRESETS))
    for col, (preset, label) in zip(cols, START_PRESETS.items()):
        col.button(_(label), key=f"{prefix}_start_{preset}", icon=":material/play_arrow:",
                   type="primary" if preset == "quick" else "secondary", on_click=_ask_start, args=(prefix, preset))


def start_requested_preset(prefix: str = PREFIX, runs_root: str | None = None) -> Path | None:
    """Start the preset a no-run button asked for (once); the page then follows it in its Train tab."""
    preset = st.session_state.pop(f"{prefix}_start", None)
    if preset not in START_PRESETS:
        return None
    from cv_core.runs import SpecError, preset_spec, submit_run, validate_spec
    from cv_core.serving import AccessError
    from ui.access import browser_id, is_operator, policy
    from ui.run_panel import follow_run
    from ui.training import flash, my_active_runs

    try:
        spec = validate_spec(preset_spec(preset, task="instances"))
        policy().check_queue(my_active_runs(runs_root), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(_("This run cannot start: {reason}").format(reason=exc), icon=":material/block:")
        return None
    run_dir = submit_run(spec, runs_root, owner=browser_id())
    follow_run(prefix, run_dir)
    flash(_("Training started in the background. Its objects appear on this page after its first epoch."),
          ":material/rocket_launch:")
    return run_dir
