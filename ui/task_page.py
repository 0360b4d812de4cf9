"""The scaffold every task page stands on (Segmentation, Detection, the tasks to come), so that a
task's page is its layout only:

* :func:`run_picker`: the task's trained runs in a selectbox kept in the URL as ``run``;
* :func:`run_model`: a run's best model, loaded once per file version (its resolved path and
  modification time) in one cache shared by every task page and session;
* :func:`run_dataset`: the run's dataset, opened once per folder version;
* :func:`picture_picker`: a picture of that dataset, or an upload (or a camera photo), decoded
  by :func:`cv_core.images.decode_image`, with a cache key that follows the dataset's files;
* :func:`requested`: a button whose request survives reruns until its inputs change;
* :func:`train_tab_view`: the **Train** tab, the model drawing titled by the task entry's ``anatomy``.

Session-state keys start with the page's prefix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset
from cv_core.i18n import N_, _
from cv_core.runs import RunInfo, best_model_path
from cv_core.runs.labels import dataset_id_label, variant_label
from ui.i18n import widget_key
from ui.memory import index_of, remember, remembered
from ui.run_panel import visible_runs

# --------------------------------------------------------------------------------------
# Runs and their models
# --------------------------------------------------------------------------------------


def task_runs(tasks: tuple[str, ...] | list[str], runs_root: str | None = None) -> list[RunInfo]:
    """The runs of ``tasks`` this browser may see that have saved a model, newest first."""
    return [run for run in visible_runs(runs_root)
            if run.task.name in tasks and best_model_path(run.dir).exists()]


def run_label(run: RunInfo) -> str:
    """"U-Net / conv2d · shapes 48 px · best val. mean IoU 0.712 · completed · <id>"."""
    spec = run.spec
    parts = [run.label]
    if spec:
        parts.append(_("{dataset} {size} px").format(dataset=dataset_id_label(spec.dataset), size=spec.image_size))
    if run.best_score is not None:
        parts.append(_("best val. {metric} {score}").format(metric=_(run.task.metric_label),
                                                           score=run.task.format_score(run.best_score)))
    return " · ".join([*parts, _(run.state), run.id])


def run_picker(prefix: str, runs: list[RunInfo], label: str, help: str,
               format_run: Callable[[RunInfo], str] = run_label) -> RunInfo:
    """A selectbox of ``runs`` (kept in the URL as ``run``, by id: a label changes while a run
    trains); returns the chosen one. ``runs`` must not be empty."""
    by_id = {run.id: run for run in runs}
    widget = f"{prefix}_model_run"
    initial = remembered(widget, "run", list(by_id), runs[0].id)
    chosen = st.selectbox(label, list(by_id), index=index_of(list(by_id), initial),
                          format_func=lambda rid: format_run(by_id[rid]), key=widget, help=help)
    remember(widget, "run", chosen)
    return by_id[chosen]


def model_version(run: RunInfo) -> str:
    """Which best-model file of the run, and which version of it: its resolved path (so the runs
    folder is part of it) and modification time. A new best epoch makes another version."""
    path = best_model_path(run.dir)
    try:
        return f"{path.resolve()}|{os.stat(path).st_mtime_ns}"
    except OSError:
        return f"{path}|missing"


@st.cache_resource(max_entries=4, show_spinner=False)
def _cached_best_model(run_dir: str, version: str):
    """The model of ``run_dir``'s best-model file at ``version`` (shared: never train or change it)."""
    from cv_core.runs import load_best_model

    return load_best_model(Path(run_dir))


def _best_model(run_dir: str, version: str):
    """:func:`_cached_best_model` under a spinner in the reader's language (a decorator's text is English)."""
    with st.spinner(_("Loading the model…")):
        return _cached_best_model(run_dir, version)


@dataclass(frozen=True)
class RunModel:
    """A run's best model as the task pages use it.

    Attributes:
        run: the run.
        model: the loaded Keras model (shared by every session: never train or change it).
        key: the model file's version (:func:`model_version`), for the keys of cached results.
        input_size: (height, width) the model takes: its view of every picture.
    """

    run: RunInfo
    model: object
    key: str
    input_size: tuple[int, int]


def run_model(run: RunInfo) -> RunModel | None:
    """The run's best model (loaded in safe mode once per file version), or None with the reason shown."""
    version = model_version(run)
    try:
        model = _best_model(str(run.dir), version)
    except Exception as exc:  # a corrupt file, safe mode refusing a layer...
        st.error(_("This model cannot be used: {reason}").format(reason=exc), icon=":material/error:")
        return None
    return RunModel(run, model, version, tuple(int(d) for d in model.input_shape[1:3]))


def run_dataset(run: RunInfo) -> Dataset | None:
    """The run's dataset, opened once per folder version; None (with the reason) if it cannot be."""
    from ui.data import load_dataset

    spec = run.spec
    if spec is None:
        return None
    try:
        return load_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    except Exception as exc:  # the folder moved, a user dataset was deleted...
        st.warning(_("The pictures of this run's dataset cannot be read: {reason}").format(reason=exc), icon=":material/folder_off:")
        return None


# --------------------------------------------------------------------------------------
# The picture
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A picture for a task page, with what the dataset knows of it.

    Attributes:
        key: identifies the picture and its file's version, for cached results.
        name: how the page names it ("validation picture 3 (…)", "your upload").
        image: (H, W, 3) uint8, as read.
        true_mask: its mask of classes, when the dataset has one.
        boxes: its true boxes in the dataset's classes; None when unknown (an upload).
        keypoints: its true objects' keypoints (:class:`~cv_core.keypoints.KeypointInstance`), in its
            own pixels, when the dataset has keypoints; None when unknown.
        instances: its instance map ((H, W) ids, :attr:`cv_core.datasets.Sample.instances`), when the
            dataset has instances; None when unknown.
    """

    key: str
    name: str
    image: np.ndarray
    true_mask: np.ndarray | None = None
    boxes: tuple | None = None
    keypoints: tuple | None = None
    instances: np.ndarray | None = None


#: The picture sources a task page offers, as a person reads them (the values stay English: URL and state).
SOURCE_LABELS = {"Sample": N_("Sample"), "Upload": N_("Upload"), "Camera": N_("Camera")}
#: The dataset splits, as a person reads them.
SPLIT_NAMES = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}


def picture_picker(prefix: str, dataset: Dataset | None, sources: list[str], help: str) -> Picture | None:
    """A picture of ``dataset`` (validation split by default), an upload or a camera photo.

    Args:
        sources: the choices offered, of "Sample", "Upload" and "Camera", in that order.
        help: the source control's help text.
    """
    from ui.interpret import camera_photo, digest
    from ui.uploads import image_upload

    widget = f"{prefix}_source"
    initial = remembered(widget, "source", sources, "Sample")
    source = st.segmented_control(_("Picture"), sources, default=initial, key=widget, help=help,
                                  format_func=lambda name: _(SOURCE_LABELS.get(name, name)))
    source = source or "Sample"
    remember(widget, "source", source)
    if source == "Upload":
        image = image_upload(_("Upload a picture"), key=f"{prefix}_upload")
        return None if image is None else Picture(f"upload|{digest(image)}", _("your upload"), image)
    if source == "Camera":
        image = camera_photo(_("Take a photo"), key=f"{prefix}_camera")
        return None if image is None else Picture(f"camera|{digest(image)}", _("camera photo"), image)
    if dataset is None:
        return None
    return dataset_picture(prefix, dataset)


def dataset_picture(prefix: str, dataset: Dataset) -> Picture | None:
    """A split and a picture number of ``dataset``; the picture with its true mask and boxes."""
    from ui.data import dataset_key

    splits = [s for s in ("validation", "test", "train") if dataset.count(s)]
    if not splits:
        st.info(_("The run's dataset has no pictures left."), icon=":material/folder_off:")
        return None
    cols = st.columns(2)
    split_name = lambda name: _(SPLIT_NAMES[name])  # noqa: E731
    split = cols[0].selectbox(_("Split"), splits, key=widget_key(f"{prefix}_split", splits, split_name),
                              bind="query-params", format_func=split_name)
    count = dataset.count(split)
    index = int(cols[1].number_input(_("Picture (0–{last})").format(last=count - 1), 0, count - 1, 0, key=f"{prefix}_index",
                                     bind="query-params"))
    try:
        sample = dataset.sample(split, index)
    except Exception as exc:  # an unreadable file
        st.error(_("Picture {index} of the {split} split cannot be used: {reason}").format(
            index=index, split=_(SPLIT_NAMES[split]), reason=exc), icon=":material/broken_image:")
        return None
    boxes = tuple(sample.boxes) if dataset.has_boxes else None
    keypoints = tuple(sample.keypoints or ()) if getattr(dataset, "has_keypoints", False) else None
    instances = sample.instances if getattr(dataset, "has_instances", False) else None
    name = _("{split} picture {index} ({source})").format(split=_(SPLIT_NAMES[split]), index=index, source=sample.source)
    return Picture(f"{dataset_key(dataset)}|{split}|{index}", name,
                   sample.image, sample.mask, boxes, keypoints, instances)


# --------------------------------------------------------------------------------------
# Requests and the Train tab
# --------------------------------------------------------------------------------------


def requested(prefix: str, name: str, label: str, icon: str, key: tuple) -> bool:
    """A button asking for a slow computation of ``key``'s inputs; True while the request stands.

    The request is recorded in a callback (a click survives a rerun that starts before the
    button), and stays until the inputs change: moving another widget keeps the result shown.
    """
    st.button(label, icon=icon, key=f"{prefix}_{name}",
              on_click=st.session_state.__setitem__, args=(f"{prefix}_{name}_for", key))
    return st.session_state.get(f"{prefix}_{name}_for") == key


def train_tab_view(prefix: str, task: str, empty_message: str) -> None:
    """A task page's **Train** tab: the variant form beside the model it builds (titled and
    captioned by the task entry's ``anatomy``), Train, and the live run.

    Args:
        prefix: the page's widget prefix (its URL keys).
        task: a key of the task table (``"segmentation"``, ``"detection"``, ...).
        empty_message: what to say while the task has no run yet.
    """
    from cv_core.runs import task_of
    from ui.architecture import describe_spec, show_anatomy
    from ui.run_panel import current_run, live_run_panel
    from ui.training import class_count, start_button, variant_form

    anatomy = task_of(task).anatomy
    form, main = st.columns([1, 2.2], gap="large")
    with form:
        st.subheader(_("Model and data"))
        spec = variant_form(prefix, task=task)
    with main:
        if spec is not None:
            classes, why = class_count(spec)
            if classes is None and why is not None:  # (None without a reason: a task with no class output)
                st.info(_("The model's size appears once the dataset is known. {reason}").format(reason=why), icon=":material/folder_open:")
            else:
                title, caption = anatomy(spec, classes) if anatomy else (variant_label(spec.variant), None)
                show_anatomy(describe_spec(spec, classes), title=title, caption=caption)
            start_button(spec, prefix)
        run_dir = current_run(prefix, task=task)
        if run_dir is None:
            st.info(empty_message)
        else:
            if run_dir.is_dir():  # (a run deleted elsewhere has nothing left to compare)
                st.page_link("pages/compare_runs.py", label=_("Compare this run with others"), icon=":material/compare:")
            live_run_panel(run_dir, prefix)
