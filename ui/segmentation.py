"""Segmentation page glue: a trained segmentation run and a picture (through the task-page
scaffold, :mod:`ui.task_page`, which caches the models), its masks, objects, boxes and where
it looked. Predictions, box scores and heatmaps are cached results keyed by the model file's
version and the picture's. Session-state keys start with the page's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset, resize_image, resize_mask
from cv_core.i18n import N_, _, ngettext
from cv_core.overlays import class_palette, colorize_mask, mask_legend, overlay_mask, upscale
from cv_core.runs import RunInfo
from cv_core.runs.labels import variant_label
from cv_core.segmentation import box_class_map, dice, iou, mask_to_objects, region_sizes
from ui.task_page import Picture, RunModel, run_label, task_runs
from ui.task_page import picture_picker as pick_picture
from ui.task_page import run_picker as pick_run

#: Pictures shown on the page are enlarged (nearest neighbour) to at least this side.
SHOW_SIDE = 320
#: Validation pictures scored per cached chunk of the box scores.
BOX_CHUNK = 50


# --------------------------------------------------------------------------------------
# Runs and their classes
# --------------------------------------------------------------------------------------


def segmentation_runs(runs_root: str | None = None) -> list[RunInfo]:
    """The segmentation runs this browser may see that have saved a model, newest first."""
    return task_runs(("segmentation",), runs_root)


def run_picker(prefix: str, runs: list[RunInfo]) -> RunInfo:
    """A selectbox of segmentation runs (kept in the URL as ``run``); returns the chosen one."""
    return pick_run(prefix, runs, _("Trained segmentation run"),
                    _("Every segmentation run that has saved a model (its best epoch so far)."))


def picture_picker(prefix: str, dataset: Dataset | None) -> Picture | None:
    """A picture of the run's dataset (validation split by default), with its true mask, or an upload."""
    return pick_picture(prefix, dataset, ["Sample", "Upload"],
                        _("A picture of the run's dataset, with its true mask, or a picture of your own."))


@dataclass(frozen=True)
class RunClasses:
    """What a segmentation run's output channels mean."""

    names: list[str]
    background: int
    palette: np.ndarray


def run_classes(run: RunInfo, count: int) -> RunClasses:
    """The run's mask class names and background (from its ``summary.json``) and their colours."""
    summary = run.summary or {}
    names = list(summary.get("class_names") or [])
    if len(names) != count:
        names = [_("class {index}").format(index=i) for i in range(count)]
    background = summary.get("mask_background")
    background = background if isinstance(background, int) and 0 <= background < count else 0
    return RunClasses(names, background, class_palette(count, background_first=background == 0))


# --------------------------------------------------------------------------------------
# Cached results
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def _predict(_subject: RunModel, subject_key: str, picture_key: str, view: np.ndarray) -> np.ndarray:
    from cv_core.segmentation import predict_mask

    return predict_mask(_subject.model, view).probabilities


def predict(_subject: RunModel, subject_key: str, picture_key: str, view: np.ndarray) -> np.ndarray:
    """(H, W, C) probabilities of the model's view of a picture (cached per model version and picture)."""
    with st.spinner(_("Predicting the mask…")):
        return _predict(_subject, subject_key, picture_key, view)


@st.cache_data(max_entries=64, show_spinner=False)
def box_chunk(_subject: RunModel, subject_key: str, _dataset: Dataset, dataset_key: str, start: int,
              count: int, min_area: int) -> tuple[list, list]:
    """Predicted and true boxes of ``count`` validation pictures from ``start`` (cached per chunk)."""
    from cv_core.segmentation import box_predictions

    names = _dataset.mask_class_names or []
    return box_predictions(_subject.model, _dataset, "validation", start, count,
                           box_class_map(names, _dataset.class_names), min_area)


def validation_boxes(subject: RunModel, dataset: Dataset, min_area: int) -> tuple[list, list]:
    """Predicted and true boxes of every validation picture, chunk by chunk under a progress bar."""
    from ui.data import dataset_key

    total = dataset.count("validation")
    bar = st.progress(0.0, text=_("Predicting the validation pictures…"))
    predictions, truths = [], []
    for start in range(0, total, BOX_CHUNK):
        found, true = box_chunk(subject, subject.key, dataset, dataset_key(dataset), start,
                                min(BOX_CHUNK, total - start), min_area)
        predictions += found
        truths += true
        done = min(total, start + BOX_CHUNK)
        bar.progress(done / max(1, total), text=_("{done} of {total} validation pictures").format(done=done, total=total))
    bar.empty()
    return predictions, truths


@st.cache_data(max_entries=32, show_spinner=False)
def _activation_map(_subject: RunModel, subject_key: str, picture_key: str, view: np.ndarray, method: str,
                    class_index: int, layer: str) -> np.ndarray:
    from cv_core.interpret import explain

    return explain(_subject.model, view.astype(np.float32), method=method, class_index=class_index,
                   layer_name=layer).heatmap


def activation_map(_subject: RunModel, subject_key: str, picture_key: str, view: np.ndarray, method: str,
                   class_index: int, layer: str) -> np.ndarray:
    """The heatmap of one class over its predicted region (cached)."""
    with st.spinner(_("Computing the class-activation map…")):
        return _activation_map(_subject, subject_key, picture_key, view, method, class_index, layer)


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


def show(picture: np.ndarray) -> np.ndarray:
    """A picture enlarged with crisp pixels for the screen."""
    return upscale(picture, SHOW_SIDE)


def class_scores_table(truth: np.ndarray, mask: np.ndarray, classes: RunClasses) -> list[dict]:
    """Per-class IoU and Dice of this picture's prediction, for the classes in either mask."""
    count = len(classes.names)
    ious, dices = iou(truth, mask, count), dice(truth, mask, count)
    return [{_("class"): _("{index} · {name}").format(index=i, name=classes.names[i]),
             _("true pixels"): int((truth == i).sum()),
             _("predicted pixels"): int((mask == i).sum()), "IoU": round(float(ious[i]), 3),
             "Dice": round(float(dices[i]), 3)}
            for i in range(count) if not np.isnan(ious[i])]


def objects_picture(view: np.ndarray, objects: list[dict], classes: RunClasses):
    """Each object in its own colour with a labelled box (labels never overlap), enlarged, as a
    plotly figure; and the objects' labels ("cross 2": the second cross in reading order)."""
    from cv_core.plots.segmentation import objects_figure

    counts: dict[int, int] = {}
    labels = []
    for obj in objects:
        counts[obj["class_index"]] = counts.get(obj["class_index"], 0) + 1
        labels.append(_("{name} {number}").format(name=classes.names[obj["class_index"]],
                                                   number=counts[obj["class_index"]]))
    colours = class_palette(max(1, len(objects)), background_first=False)
    instance_map = np.zeros(view.shape[:2], np.int32)
    for number, obj in enumerate(objects, start=1):
        instance_map[obj["mask"]] = number
    palette = np.concatenate([np.zeros((1, 3), np.uint8), colours])
    big = show(overlay_mask(view, instance_map, len(palette), 0.55, ignore=(0,), palette=palette))
    title = ngettext("{n} object, in its own colour", "{n} objects, each in its own colour", len(objects)).format(
        n=len(objects))
    return objects_figure(big, objects, labels, colours, big.shape[0] / view.shape[0], title=title), labels


def no_objects_message(sizes: dict[int, tuple[int, int]], classes: RunClasses, min_area: int) -> str:
    """Why a mask gives no object: only background, or every region of a class under ``min_area``.

    Args:
        sizes: :func:`cv_core.segmentation.region_sizes` of the predicted mask.
    """
    if not sizes:
        return _("No objects: the model predicts only the background here.")
    hint = _("Lower **Smallest object (pixels)** to count these regions as objects.")
    if len(sizes) == 1:
        ((cls, (pixels, largest)),) = sizes.items()
        return "  \n".join([_("No objects in this mask."),
                            ngettext("The model marks {pixels} pixel of {name}, but no region of them reaches the "
                                     "smallest object size of {min_area} pixels (the largest has {largest}).",
                                     "The model marks {pixels} pixels of {name}, but no region of them reaches the "
                                     "smallest object size of {min_area} pixels (the largest has {largest}).",
                                     pixels).format(pixels=pixels, name=classes.names[cls], min_area=min_area,
                                                    largest=largest),
                            hint])
    lines = [ngettext("- {name}: {pixels} pixel, the largest region {largest}.",
                      "- {name}: {pixels} pixels, the largest region {largest}.", pixels).format(
                 name=classes.names[cls], pixels=pixels, largest=largest)
             for cls, (pixels, largest) in sizes.items()]
    return "\n".join([_("No objects in this mask."),
                      _("The model marks pixels of {n} classes, but no region of them reaches the smallest object "
                        "size of {min_area} pixels:").format(n=len(sizes), min_area=min_area),
                      "", *lines, "", hint])


def specks_note(objects: list[dict], sizes: dict[int, tuple[int, int]], min_area: int) -> str | None:
    """How many predicted pixels are left out as specks (regions under ``min_area``), or None."""
    kept = sum(obj["area"] for obj in objects)
    left = sum(pixels for pixels, _largest in sizes.values()) - kept
    if left <= 0:
        return None
    return ngettext("{n} predicted pixel in regions smaller than {min_area} pixels is left out as a speck.",
                    "{n} predicted pixels in regions smaller than {min_area} pixels are left out as specks.",
                    left).format(n=left, min_area=min_area)


def objects_table(objects: list[dict], labels: list[str], classes: RunClasses) -> list[dict]:
    """One row per object: its label, class, area, box and mean confidence."""
    return [{_("object"): label, _("class"): classes.names[obj["class_index"]], _("area (px)"): obj["area"],
             _("box (x0, y0, x1, y1)"): ", ".join(str(v) for v in obj["box"]),
             _("mean confidence"): round(obj["confidence"], 3) if obj["confidence"] is not None else None}
            for obj, label in zip(objects, labels)]


def find_objects(mask: np.ndarray, probabilities: np.ndarray, classes: RunClasses, min_area: int) -> list[dict]:
    """The predicted mask's objects (connected regions of each non-background class)."""
    return mask_to_objects(mask, probabilities, background=classes.background, min_area=min_area)


def predicted_regions(mask: np.ndarray, classes: RunClasses) -> dict[int, tuple[int, int]]:
    """Pixels and largest region of each object class in the predicted mask (why objects are missing)."""
    return region_sizes(mask, background=classes.background)


def legend(classes: RunClasses, width: int = 640) -> np.ndarray:
    """A strip naming each class's colour (the background left out when it is black)."""
    skip = (classes.background,) if classes.background == 0 else ()
    return mask_legend(classes.names, classes.palette, width, skip=skip)


def masks_row(view: np.ndarray, mask: np.ndarray, truth: np.ndarray | None, classes: RunClasses) -> None:
    """The book's figure 9.6: the picture, the predicted mask and, when known, the true mask."""
    count = len(classes.names)
    cols = st.columns(3)
    cols[0].image(show(view), caption=_("The picture, as the model sees it"), width="stretch")
    cols[1].image(show(colorize_mask(mask, count, classes.palette)), caption=_("Predicted mask"), width="stretch")
    if truth is not None:
        cols[2].image(show(colorize_mask(truth, count, classes.palette)), caption=_("True mask"), width="stretch")
    else:
        cols[2].info(_("No true mask for an upload: the scores need one."), icon=":material/info:")
    st.image(legend(classes), width="stretch")


def default_target_layer(model) -> str:
    """The last feature map before the per-pixel classifier (the classifier's own output is
    already the class probabilities: a heatmap of it would only repeat the mask)."""
    from cv_core.interpret import feature_map_layers, last_conv_layer

    layers = feature_map_layers(model)
    head = model.layers[-1].name
    candidates = [name for name in layers if name != head]
    return candidates[-1] if candidates else last_conv_layer(model)


def upload_view(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A picture as the model sees it (its input size)."""
    return resize_image(image, size)


def truth_view(mask: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """A true mask at the model's input size (nearest neighbour: classes never blend)."""
    return None if mask is None else resize_mask(mask, size)


# --------------------------------------------------------------------------------------
# Training on a mask dataset of your own (the Mask studio)
# --------------------------------------------------------------------------------------

#: Image sizes offered for training on a user dataset (multiples of 8: every default depth fits).
USER_SIZES = (64, 96, 128, 160, 200)


def _fine_tune_choices(runs: list[RunInfo]) -> dict[str, RunInfo]:
    return {run.id: run for run in runs if run.state == "completed"}


def user_dataset_training(prefix: str, dataset_name: str, store_root: str) -> None:
    """Train a segmentation model on ``user:<dataset_name>`` from scratch, or fine-tune a
    completed segmentation run's final weights on it; then follow the run here.

    Fine-tuning keeps the earlier run's model (architecture and filters); where the classes
    differ in number, its last layer starts afresh (the worker says so in its log).
    """
    from cv_core.datasets import USER_PREFIX
    from cv_core.runs import SpecError, preset_spec, submit_run, task_of, validate_spec
    from cv_core.serving import AccessError
    from ui.access import browser_id, is_operator, policy
    from ui.run_panel import current_run, follow_run, live_run_panel
    from ui.training import flash, my_active_runs

    task = task_of("segmentation")
    dataset = f"{USER_PREFIX}{dataset_name}"
    st.caption(_("Trains in the background like any run (the Segmentation page and Compare runs list it). Pictures "
                 "are split 70 / 15 / 15 into training, validation and test by a stable hash of their names; at least "
                 "two saved masks are needed (one to learn from, one to pick the best epoch)."))
    parents = _fine_tune_choices(segmentation_runs())
    options = ["scratch", *parents]
    start = st.selectbox(_("Start from"), options, key=f"{prefix}_train_from",
                         format_func=lambda o: _("Scratch (random weights)") if o == "scratch" else
                         _("Fine-tune {run}").format(run=run_label(parents[o])),
                         help=_("Fine-tuning starts from a completed segmentation run's final weights: with a few "
                                "masks of your own it learns far faster than from scratch."))
    parent = parents.get(start)
    cols = st.columns(3)
    if parent is None:
        models = list(task.architectures)
        model = cols[0].selectbox(_("Model"), models, format_func=lambda m: _(task.architectures[m].label),
                                  key=f"{prefix}_train_model")
        base = preset_spec("quick", task="segmentation", model=model,
                           filters=task.architectures[model].default_filters)
    else:
        base = parent.spec
        cols[0].markdown(_("**Model**  \n{variant}, filters {filters}").format(
            variant=variant_label(base.variant), filters=", ".join(str(f) for f in base.filters)))
    size = cols[1].select_slider(_("Image size (px)"), USER_SIZES, 128, key=f"{prefix}_train_size")
    epochs = cols[2].number_input(_("Epochs"), 1, 200, 20, key=f"{prefix}_train_epochs")
    # The request is recorded in a callback: a click survives a rerun that starts before this line.
    st.button(_("Train on {dataset}").format(dataset=dataset_name), type="primary", icon=":material/model_training:", key=f"{prefix}_train_go",
              on_click=st.session_state.__setitem__, args=(f"{prefix}_train_asked", dataset_name))
    if st.session_state.pop(f"{prefix}_train_asked", None) == dataset_name:
        try:
            opened = validate_dataset_for_training(dataset, store_root)
            spec = preset_spec(
                "quick", task="segmentation", dataset=dataset, dataset_root=store_root, dataset_options={},
                model=base.model, filters=tuple(base.filters), conv_type=base.conv_type, image_size=int(size),
                epochs=int(epochs), batch_size=max(1, min(16, opened.count("train"))), augmentation=True,
                continues=str(parent.dir) if parent is not None else None,
                notes=f"Trained from the Mask studio on {dataset}" + (f", from run {parent.id}" if parent else ""),
            )
            spec = validate_spec(spec, dataset=opened)
            policy().check_queue(my_active_runs(None), 1, operator=is_operator())
        except (SpecError, AccessError) as exc:
            st.error(_("This run cannot start: {reason}").format(reason=exc), icon=":material/block:")
        else:
            follow_run(prefix, submit_run(spec, owner=browser_id()))
            flash(_("Training on {dataset} started in the background.").format(dataset=dataset_name), ":material/rocket_launch:")
            st.rerun()
    run_dir = current_run(prefix, task="segmentation") if st.session_state.get(f"{prefix}_run") else None
    if run_dir is not None:
        live_run_panel(run_dir, prefix)


def validate_dataset_for_training(dataset: str, root: str):
    """The opened user dataset, or a SpecError that says why it cannot train yet."""
    from cv_core.datasets import open_dataset
    from cv_core.runs import SpecError

    try:
        opened = open_dataset(dataset, root)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    if opened.count("train") == 0 or opened.count("validation") == 0:
        raise SpecError(N_("{dataset} needs at least two saved masks: one to train on and one to validate on (it has "
                           "{count})."), dataset=dataset, count=sum(opened.count(s) for s in ("train", "validation", "test")))
    return opened


# --------------------------------------------------------------------------------------
# From the mask to objects, with an instance model
# --------------------------------------------------------------------------------------

#: The "Objects from" choice that splits the mask into connected components.
COMPONENTS = "components"


def objects_source(prefix: str, classes: RunClasses):
    """What splits the picture into objects: connected components of this mask (the default), or an
    instance run with the same classes (kept in the URL as ``<prefix>_objects_from``).

    Returns:
        The chosen instance model (:class:`ui.instances.InstanceFinder`), or None for connected
        components (also when no instance run has these classes: nothing is shown then, but a caption).
    """
    from ui.instances import id_selectbox, instance_finder, instance_runs
    from ui.task_page import run_label as label_of

    runs = [run for run in instance_runs() if list((run.summary or {}).get("class_names") or []) == classes.names]
    if not runs:
        st.caption(_("An instance segmentation model with these classes would find the objects of touching shapes "
                     "apart; train one on the Instance segmentation page and choose it here."))
        return None
    by_id = {run.id: run for run in runs}
    chosen = id_selectbox(
        _("Objects from"), [COMPONENTS, *by_id], f"{prefix}_objects_from",
        lambda o: _("Connected components of this mask") if o == COMPONENTS else
        _("Instance model · {run}").format(run=label_of(by_id[o])),
        _("Connected components make one object of each connected region of a class: two touching objects "
               "of one class become one. An instance model finds each object's own mask."))
    if chosen == COMPONENTS or chosen not in by_id:
        return None
    return instance_finder(by_id[chosen])


def instance_objects(finder, picture: Picture, size: tuple[int, int], score: float) -> list[dict]:
    """An instance model's objects on the picture scoring at least ``score``, moved to ``size`` (the
    segmentation model's view), as :func:`find_objects` gives objects (its score as the confidence).

    The instance model runs once per picture (the Instance segmentation page's cache)."""
    from cv_core.instances import filter_instances, resize_objects
    from ui.instances import candidates, model_view

    found, _semantic = candidates(finder, picture, model_view(finder.input_size, picture))
    return [{"class_index": int(o["class"]), "mask": o["mask"], "area": o["area"], "box": tuple(o["box"]),
             "confidence": float(o["score"])} for o in resize_objects(filter_instances(found, score), size)]
