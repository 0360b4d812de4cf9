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
MODEL_NAMES = {"pose_centernet": "Multi-person pose", "keypoint_heatmap": "One object, heatmaps",
               "keypoint_regression": "One object, regression"}
#: How the page says a posture (the library's words are its keys).
POSTURE_WORDS = {"standing": "standing", "sitting": "sitting", "lying": "lying"}
#: What each kind of model does with a picture, one sentence each.
KIND_CAPTIONS = {
    "pose": "A multi-person pose model: every peak of its person-centre heatmap is a candidate person, whose joints "
            "are read from offsets and snapped to each joint's own heatmap; the slider below only filters them.",
    "heatmap": "A single-object heatmap model: each joint sits at the peak of its own heatmap, refined within its "
               "cell; the object's score is the mean of those peaks.",
    "regression": "A single-object regression model: a dense layer outputs each joint's coordinates directly, so "
                  "it always gives exactly one object, with score 1, and has no heatmaps to show.",
}

#: How to read the skeletons drawn, per kind of model.
SKELETON_CAPTIONS = {
    "pose": "Each skeleton joins the joints the model found; a filled dot is a joint its heatmap confirmed, a hollow "
            "one was only read from the person's centre. The dashed box is the person's box, and the white arrow "
            "points the way the torso is upright: 0° is straight up, positive angles lean to the left.",
    "heatmap": "The skeleton joins the landmarks the model found; a filled dot is one whose heatmap peak is clear, a "
               "hollow one a faint peak. The dashed box surrounds the landmarks, and the white arrow points the way "
               "the face is upright (its tilt: 0° is straight up, positive angles lean to the left).",
    "regression": "The skeleton joins the landmarks the dense layer placed. The dashed box surrounds them, and the "
                  "white arrow points the way the face is upright (its tilt: 0° is straight up, positive angles lean "
                  "to the left).",
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
    name = MODEL_NAMES.get(run.spec.model, run.spec.model) if run.spec else "Keypoints"
    return f"{name} · {run_label(run)}"


def run_picker(runs: list[RunInfo], prefix: str = PREFIX) -> RunInfo:
    """A selectbox of the keypoints runs (kept in the URL as ``run``); returns the chosen one."""
    return pick_run(prefix, runs, "Keypoint model",
                    "Keypoints runs with a saved model: a multi-person pose model on people, or a single-object "
                    "heatmap or regression model (on the face landmarks, say).", model_label)


def picture_picker(dataset: Dataset | None, prefix: str = PREFIX) -> Picture | None:
    """A picture of the run's dataset (with its true keypoints), an upload or a camera photo."""
    return pick_picture(prefix, dataset, SOURCES,
                        "A picture of the run's dataset, with its true keypoints; a picture of your own; or a photo "
                        "from your camera.")


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
        st.error(f"This run's model is not a keypoint model this page can read: {exc}", icon=":material/error:")
        return None
    skeleton = run_skeleton(run, dataset, geometry.num_joints)
    if skeleton is None:
        st.error(f"This model finds {geometry.num_joints} joints, but the lab cannot tell which: its dataset cannot be "
                 "read and its scores do not name them.", icon=":material/error:")
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


@st.cache_data(max_entries=64, show_spinner="Finding the keypoints…")
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
        posture = POSTURE_WORDS.get(reading.posture, reading.posture)
        return f"Person {number}: {score:.2f}, {posture}, {reading.angle:+.0f}°"
    if reading.kind == "person":
        return f"Person {number}: {score:.2f}"
    if reading.kind == "face" and reading.angle is not None and reading.yaw is not None:
        return f"Face {number}: {score:.2f}, tilted {reading.angle:+.0f}°, turned {reading.yaw:+.0f}°"
    if reading.kind == "face" and reading.angle is not None:
        return f"Face {number}: {score:.2f}, tilted {reading.angle:+.0f}°"
    if reading.kind == "face":
        return f"Face {number}: {score:.2f}"
    return f"Object {number}: {score:.2f}"


def _rounded(value, digits: int = 3):
    return None if value is None or value != value else round(float(value), digits)


def object_rows(instances: list, found_readings: list, comparison) -> list[dict]:
    """One row per shown object: score, posture, orientation, turn and, against the truth, OKS, PCK@0.2
    and how many joints hit."""
    rows = []
    for index, (instance, reading) in enumerate(zip(instances, found_readings)):
        row = {"object": index + 1, "score": _rounded(instance.score),
               "posture": POSTURE_WORDS.get(reading.posture, reading.posture) if reading.posture else "—",
               "orientation (°)": _rounded(reading.angle, 1)}
        if reading.kind == "face":
            row["turn (°)"] = _rounded(reading.yaw, 1)
        if comparison is not None:
            match = comparison.for_prediction(index)
            row["OKS"] = _rounded(match.oks) if match else None
            row["PCK@0.2"] = _rounded(match.pck) if match else None
            row["joints hit"] = f"{int(match.hit.sum())} / {int(match.labelled.sum())}" if match else "—"
        rows.append(row)
    return rows


def truth_summary(comparison, count: int) -> str:
    """One sentence on how the shown objects pair with the true ones."""
    found, missed, extra = len(comparison.matches), len(comparison.missed), len(comparison.unmatched)
    if count == 0:
        return "This picture has no true object with a labelled joint, so there is nothing to compare with."
    if found == 0:
        return (f"None of the {count} true object(s) is paired with a found one: lower the score threshold, or the "
                "model has not learned to find them yet.")
    return (f"{found} of {count} true object(s) paired with a found one (COCO's rule: the best-scored first, each to "
            f"the truth it overlaps most by OKS); {missed} missed; {extra} found object(s) with no true one.")


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
            st.warning(f"Run {run.id} ({run.state}) has no saved model file (best.keras), so it cannot find "
                       "keypoints: it stopped before its first epoch ended, or its file was removed. The newest run "
                       "with a model is shown instead.", icon=":material/report:")


def no_model_message() -> None:
    """Say why there is no keypoint model to use yet, and where to get one."""
    for run in runs_without_model():
        st.warning(f"Run {run.id} ({run.state}) has no saved model file (best.keras), so it cannot find keypoints: "
                   "it stopped before its first epoch ended, or its file was removed. Train it again in the **Train** "
                   "tab.", icon=":material/report:")
    st.info("No keypoint model yet. Train one in the **Train** tab: the Tiny preset takes seconds (too small to "
            "learn, but it shows the page at work), the Quick preset finds people's joints in about five minutes.",
            icon=":material/model_training:")
