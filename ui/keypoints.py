"""Keypoints and pose page glue: pick a keypoints run and a picture; find its objects' joints once
(cached) so that the score slider only filters them; read each object's pose; compare with the truth.

Runs, models and pictures come from the task-page scaffold (:mod:`ui.task_page`, one model cache
for every task page); the model's outputs (candidates and joint heatmaps, one forward pass) are a
cached result keyed by the model file's version and the picture. Session-state keys start with the
page's prefix, ``keypoints``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset, resize_image
from cv_core.i18n import N_, _, ngettext
from cv_core.keypoints.decode import RawKeypoints
from cv_core.overlays import upscale
from cv_core.runs import RunInfo, best_model_path
from ui.task_page import Picture, run_model, task_runs
from ui.task_page import picture_picker as pick_picture
from ui.task_page import run_label
from ui.task_page import run_picker as pick_run

PREFIX = "keypoints"
#: Pictures are shown enlarged (nearest neighbour) to at least this side.
SHOW_SIDE = 384
#: The score slider's starting value: the threshold PCK is scored at in training.
DEFAULT_THRESHOLD = 0.3
SOURCES = ["Sample", "Upload", "Camera"]
#: The architectures of the keypoints task, as the page names them.
MODEL_NAMES = {"pose_centernet": N_("Multi-person pose"), "keypoint_heatmap": N_("One object, heatmaps"),
               "keypoint_regression": N_("One object, regression")}
#: How the page says a posture (the library's words are its keys; shown translated).
POSTURE_WORDS = {"standing": N_("standing"), "sitting": N_("sitting"), "lying": N_("lying")}
#: What each kind of model does with a picture, one sentence each (shown translated).
KIND_CAPTIONS = {
    "pose": N_("A multi-person pose model: every peak of its person-centre heatmap is a candidate person, whose "
               "joints are read from offsets and snapped to each joint's own heatmap; the slider below only filters "
               "them."),
    "heatmap": N_("A single-object heatmap model: each joint sits at the peak of its own heatmap, refined within its "
                  "cell; the object's score is the mean of those peaks."),
    "regression": N_("A single-object regression model: a dense layer outputs each joint's coordinates directly, so "
                     "it always gives exactly one object, with score 1, and has no heatmaps to show."),
}

#: How to read the skeletons drawn, per kind of model (shown translated).
SKELETON_CAPTIONS = {
    "pose": N_("Each skeleton joins the joints the model found; a filled dot is a joint its heatmap confirmed, a "
               "hollow one was only read from the person's centre. The dashed box is the person's box, and the white "
               "arrow points the way the torso is upright: 0° is straight up, positive angles lean to the left."),
    "heatmap": N_("The skeleton joins the landmarks the model found; a filled dot is one whose heatmap peak is clear, "
                  "a hollow one a faint peak. The dashed box surrounds the landmarks, and the white arrow points the "
                  "way the face is upright (its tilt: 0° is straight up, positive angles lean to the left)."),
    "regression": N_("The skeleton joins the landmarks the dense layer placed. The dashed box surrounds them, and the "
                     "white arrow points the way the face is upright (its tilt: 0° is straight up, positive angles "
                     "lean to the left)."),
}

# --------------------------------------------------------------------------------------
# Runs and their models
# --------------------------------------------------------------------------------------


def keypoint_runs(runs_root: str | None = None) -> list[RunInfo]:
    """Keypoints runs this browser may see that have saved a model, newest first."""
    return task_runs(("keypoints",), runs_root)


def runs_without_model(runs_root: str | None = None) -> list[RunInfo]:
    """Keypoints runs that are over (not queued or training) and have no model file to use."""
    from cv_core.runs import ACTIVE_STATES
    from ui.run_panel import visible_runs

    return [run for run in visible_runs(runs_root) if run.task.name == "keypoints"
            and run.state not in ACTIVE_STATES and not best_model_path(run.dir).exists()]


def model_label(run: RunInfo) -> str:
    """"One object, heatmaps · heatmaps / separable · landmarks 64 px · best val. keypoint AP 0.879 · completed · <id>"."""
    name = (_(MODEL_NAMES[run.spec.model]) if run.spec.model in MODEL_NAMES else run.spec.model) if run.spec \
        else _("Keypoints")
    return f"{name} · {run_label(run)}"


def run_picker(runs: list[RunInfo], prefix: str = PREFIX) -> RunInfo:
    """A selectbox of the keypoints runs (kept in the URL as ``run``); returns the chosen one."""
    return pick_run(prefix, runs, _("Keypoint model"),
                    _("Keypoints runs with a saved model: a multi-person pose model on people, or a single-object "
                      "heatmap or regression model (on the face landmarks, say)."), model_label)


def picture_picker(dataset: Dataset | None, prefix: str = PREFIX) -> Picture | None:
    """A picture of the run's dataset (with its true keypoints), an upload or a camera photo."""
    return pick_picture(prefix, dataset, SOURCES,
                        _("A picture of the run's dataset, with its true keypoints; a picture of your own; or a "
                          "photo from your camera."))


@dataclass(frozen=True)
class KeypointFinder:
    """The chosen run's model and what its outputs mean.

    Attributes:
        run: the run.
        model: the loaded model (shared by every session: never train or change it).
        key: the model file's version (:func:`ui.task_page.model_version`).
        input_size: (height, width) the model takes.
        kind: "pose", "heatmap" or "regression".
        stride: input pixels per heatmap cell (None for regression).
        skeleton: the joints' :class:`~cv_core.keypoints.Skeleton`.
    """

    run: RunInfo
    model: object
    key: str
    input_size: tuple[int, int]
    kind: str
    stride: int | None
    skeleton: object


def run_skeleton(run: RunInfo, dataset: Dataset | None, num_joints: int):
    """The skeleton of the run's joints: its dataset's, else the one its ``scores.json`` recorded, else a
    known skeleton of that many joints; None when none fits."""
    from cv_core.keypoints import SKELETONS, Skeleton
    from cv_core.runs.files import read_scores

    skeleton = getattr(dataset, "skeleton", None)
    if skeleton is not None and skeleton.num_joints == num_joints:
        return skeleton
    recorded = (read_scores(run.dir) or {}).get("skeleton")
    if recorded:
        try:
            skeleton = Skeleton.from_dict(recorded)
        except ValueError:
            skeleton = None
        if skeleton is not None and skeleton.num_joints == num_joints:
            return skeleton
    if run.spec is not None and run.spec.dataset in SKELETONS and SKELETONS[run.spec.dataset].num_joints == num_joints:
        return SKELETONS[run.spec.dataset]
    return None


def keypoint_finder(run: RunInfo, dataset: Dataset | None) -> KeypointFinder | None:
    """The run's model with its skeleton; None (with the reason shown) when it cannot be used."""
    from cv_core.keypoints import keypoint_model_geometry

    loaded = run_model(run)
    if loaded is None:
        return None
    try:
        geometry = keypoint_model_geometry(loaded.model)
    except ValueError as exc:
        st.error(_("This run's model is not a keypoint model this page can read: {error}").format(error=exc),
                 icon=":material/error:")
        return None
    skeleton = run_skeleton(run, dataset, geometry.num_joints)
    if skeleton is None:
        st.error(ngettext("This model finds {count} joint, but the lab cannot tell which: its dataset cannot be "
                          "read and its scores do not name it.",
                          "This model finds {count} joints, but the lab cannot tell which: its dataset cannot be "
                          "read and its scores do not name them.", geometry.num_joints).format(
                              count=geometry.num_joints), icon=":material/error:")
        return None
    return KeypointFinder(run, loaded.model, loaded.key, geometry.image_size, geometry.kind, geometry.output_stride,
                          skeleton)


def model_view(finder: KeypointFinder, picture: Picture) -> np.ndarray:
    """The picture as the model sees it (its input size)."""
    return resize_image(picture.image, finder.input_size)


def true_instances(finder: KeypointFinder, picture: Picture) -> list | None:
    """The picture's true objects moved to the model's view, or None when unknown (an upload)."""
    if picture.keypoints is None:
        return None
    from cv_core.keypoints import scale_instances

    return scale_instances(list(picture.keypoints), picture.image.shape[:2], finder.input_size)


# --------------------------------------------------------------------------------------
# Cached results
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _outputs(_model, model_key: str, picture_key: str, _view: np.ndarray) -> tuple[RawKeypoints, np.ndarray | None]:
    from cv_core.keypoints import keypoint_model_geometry, predict_keypoint_outputs, raw_keypoints

    geometry = keypoint_model_geometry(_model)
    outputs = predict_keypoint_outputs(_model, _view.astype(np.float32))
    raw = raw_keypoints(outputs, geometry.output_stride or 1, geometry.image_size)
    heatmaps = outputs.get("joint_heatmap")
    return raw, None if heatmaps is None else heatmaps[0]


def candidates(finder: KeypointFinder, picture: Picture, view: np.ndarray) -> tuple[RawKeypoints, np.ndarray | None]:
    """Every candidate object of the picture before the score threshold, and the joint heatmaps
    ((H/s, W/s, K), None for regression): one forward pass per model version and picture, so that
    moving the slider only filters them (:func:`cv_core.keypoints.filter_keypoints`)."""
    with st.spinner(_("Finding the keypoints…")):
        return _outputs(finder.model, f"{finder.run.id}|{finder.key}", picture.key, view)


# --------------------------------------------------------------------------------------
# What the page shows
# --------------------------------------------------------------------------------------


def show(view: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's view enlarged with crisp pixels, and by how much."""
    big = upscale(view, SHOW_SIDE)
    return big, big.shape[0] / view.shape[0]


def readings(instances: list, skeleton) -> list:
    """Each object's :class:`~cv_core.keypoints.PoseReading` (orientation, posture, arrow anchor)."""
    from cv_core.keypoints import read_pose

    return [read_pose(instance.points, instance.visibility, skeleton) for instance in instances]


def object_label(number: int, score: float, reading) -> str:
    """What is written above an object's box, one whole phrase per case."""
    if reading.kind == "person" and reading.angle is not None and reading.posture is not None:
        return _("Person {number}: {score:.2f}, {posture}, {angle:+.0f}°").format(
            number=number, score=score, posture=posture_word(reading.posture), angle=reading.angle)
    if reading.kind == "person":
        return _("Person {number}: {score:.2f}").format(number=number, score=score)
    if reading.kind == "face" and reading.angle is not None and reading.yaw is not None:
        return _("Face {number}: {score:.2f}, tilted {angle:+.0f}°, turned {yaw:+.0f}°").format(
            number=number, score=score, angle=reading.angle, yaw=reading.yaw)
    if reading.kind == "face" and reading.angle is not None:
        return _("Face {number}: {score:.2f}, tilted {angle:+.0f}°").format(number=number, score=score,
                                                                           angle=reading.angle)
    if reading.kind == "face":
        return _("Face {number}: {score:.2f}").format(number=number, score=score)
    return _("Object {number}: {score:.2f}").format(number=number, score=score)


def posture_word(posture: str | None) -> str:
    """A posture (the library's word: "standing", "sitting", "lying") in the page's language; "—" for none."""
    if not posture:
        return "—"
    return _(POSTURE_WORDS[posture]) if posture in POSTURE_WORDS else posture


def _rounded(value, digits: int = 3):
    return None if value is None or value != value else round(float(value), digits)


def object_rows(instances: list, found_readings: list, comparison) -> list[dict]:
    """One row per shown object: score, posture, orientation, turn and, against the truth, OKS, PCK@0.2
    and how many joints hit."""
    rows = []
    for index, (instance, reading) in enumerate(zip(instances, found_readings)):
        row = {_("object"): index + 1, _("score"): _rounded(instance.score),
               _("posture"): posture_word(reading.posture),
               _("orientation (°)"): _rounded(reading.angle, 1)}
        if reading.kind == "face":
            row[_("turn (°)")] = _rounded(reading.yaw, 1)
        if comparison is not None:
            match = comparison.for_prediction(index)
            row["OKS"] = _rounded(match.oks) if match else None
            row["PCK@0.2"] = _rounded(match.pck) if match else None
            row[_("joints hit")] = f"{int(match.hit.sum())} / {int(match.labelled.sum())}" if match else "—"
        rows.append(row)
    return rows


def truth_summary(comparison, count: int) -> str:
    """One sentence on how the shown objects pair with the true ones."""
    found, missed, extra = len(comparison.matches), len(comparison.missed), len(comparison.unmatched)
    if count == 0:
        return _("This picture has no true object with a labelled joint, so there is nothing to compare with.")
    if found == 0:
        return _("None of the {count} true object(s) is paired with a found one: lower the score threshold, or the "
                 "model has not learned to find them yet.").format(count=count)
    return _("{found} of {count} true object(s) paired with a found one (COCO's rule: the best-scored first, each to "
             "the truth it overlaps most by OKS); {missed} missed; {extra} found object(s) with no true one.").format(
                 found=found, count=count, missed=missed, extra=extra)


def with_chosen_model(view, prefix: str = PREFIX, without_model: tuple | None = None) -> None:
    """Call ``view(model, skeleton, image_size)`` with the keypoint model chosen in the run picker
    (the same ``run`` in the URL as the other tabs), or say how to get one. A tab that needs only
    the model (a video tab, say) is ``lambda: with_chosen_model(its_view)``.

    Args:
        without_model: ``(skeleton, image_size)`` to call ``view(None, skeleton, image_size)`` with
            when there is no run yet (a view that works without a model); None says how to get one.
    """
    runs = keypoint_runs()
    if not runs and without_model is not None:
        view(None, *without_model)
        return
    if not runs:
        no_model_message()
        return
    run = run_picker(runs, prefix)
    finder = keypoint_finder(run, run_dataset_quietly(run))
    if finder is not None:
        view(finder.model, finder.skeleton, finder.input_size)


def run_dataset_quietly(run: RunInfo) -> Dataset | None:
    """The run's dataset (for its skeleton), or None without a message."""
    from ui.data import load_dataset

    spec = run.spec
    try:
        return None if spec is None else load_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    except Exception:  # the run's scores.json names its skeleton too
        return None


def explain_missing_model() -> None:
    """When the URL names a keypoints run whose model file is missing, say so (the picker shows another)."""
    wanted = st.query_params.get("run")
    for run in runs_without_model():
        if run.id == wanted:
            st.warning(_("Run {run} ({state}) has no saved model file (best.keras), so it cannot find "
                         "keypoints: it stopped before its first epoch ended, or its file was removed. The newest run "
                         "with a model is shown instead.").format(run=run.id, state=run.state),
                       icon=":material/report:")


def no_model_message() -> None:
    """Say why there is no keypoint model to use yet, and where to get one."""
    for run in runs_without_model():
        st.warning(_("Run {run} ({state}) has no saved model file (best.keras), so it cannot find keypoints: "
                     "it stopped before its first epoch ended, or its file was removed. Train it again in the "
                     "**Train** tab.").format(run=run.id, state=run.state), icon=":material/report:")
    st.info(_("No keypoint model yet. Train one in the **Train** tab: the Tiny preset takes seconds (too small to "
              "learn, but it shows the page at work), the Quick preset finds people's joints in about five minutes."),
            icon=":material/model_training:")
