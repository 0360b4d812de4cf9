"""Interpretation glue shared by the Activations, Filters and Heatmaps pages: the model and
picture pickers, cached models (one per file version, shared by every session) and cached
results (keyed by model, picture and settings)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.i18n import N_, LazyText, _
from cv_core.images import ImageInputError, decode_image
from cv_core.interpret.subjects import Subject, SubjectSample
from ui.memory import index_of, remember, remembered
from ui.uploads import shared_image_upload

#: Short enough to fit the model picker; the caption under it says the rest (translated where shown).
PRETRAINED = {
    "pretrained:squeezenet": N_("SqueezeNet 1.1 (offline)"),
    "pretrained:xception": N_("Xception (downloads 88 MB)"),
}
#: Where the picture comes from: the values (kept in the URL) and what the picker shows.
SOURCES = ["Sample", "Upload", "Camera"]
SOURCE_LABELS = {"Sample": N_("Sample"), "Upload": N_("Upload"), "Camera": N_("Camera")}


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


def subject_choices(runs_root: str | None = None) -> dict[str, str]:
    """Every model the pages can explain: key -> label (in the current language)."""
    from cv_core.pretrained import operator_model_files
    from cv_core.runs import best_model_path, list_runs

    choices = {key: _(label) for key, label in PRETRAINED.items()}
    for run in list_runs(runs_root, reconcile=False):
        if best_model_path(run.dir).exists() and run.task.name == "classification":
            best = run.best_score
            if best is not None:
                choices[f"run:{run.id}"] = _("Run {id} · {label} · {score:.0%} · {state}").format(
                    id=run.id, label=run.label, score=best, state=_(run.state))
            else:
                choices[f"run:{run.id}"] = _("Run {id} · {label} · {state}").format(
                    id=run.id, label=run.label, state=_(run.state))
    for path in operator_model_files():
        choices[f"file:{path}"] = _("File · {name}").format(name=path.name)
    return choices



def _model_file(key: str) -> Path | None:
    from cv_core.runs import best_model_path, default_runs_root

    kind, _sep, rest = key.partition(":")
    if kind == "run":
        return best_model_path(default_runs_root() / rest)
    if kind == "file":
        return Path(rest)
    return None


@st.cache_resource(max_entries=6, show_spinner=False)
def _subject(key: str, file_version: str) -> Subject:
    from cv_core.interpret.subjects import subject_from_file, subject_from_pretrained, subject_from_run
    from cv_core.runs import default_runs_root

    kind, _sep, rest = key.partition(":")
    if kind == "pretrained":
        return subject_from_pretrained(rest)
    if kind == "run":
        root = default_runs_root()
        run_dir = (root / rest).resolve()
        if run_dir.parent != root.resolve():
            raise ValueError(f"Expected a run of the runs folder. Received: {rest!r}")
        return subject_from_run(run_dir)
    if kind == "file":
        return subject_from_file(rest)
    raise ValueError(f"Expected a model key such as 'pretrained:squeezenet'. Received: {key!r}")


def _file_version(key: str) -> str:
    """Which file, and which version of it, a model key stands for now ("" for pretrained models)."""
    path = _model_file(key)
    if path is None:
        return ""
    try:
        return f"{path.resolve()}|{os.stat(path).st_mtime_ns}"
    except OSError:
        return f"{path}|missing"


def version(subject: Subject) -> str:
    """The model and its file version, for cache keys: a run's new best model is another version."""
    return f"{subject.key}@{_file_version(subject.key)}"


def load_subject(key: str) -> Subject | None:
    """The model behind ``key``, loaded once per file version; a friendly error and None if it can't."""
    from cv_core.pretrained import PretrainedUnavailableError

    try:
        with st.spinner(_("Loading the model…")):
            return _subject(key, _file_version(key))
    except PretrainedUnavailableError as exc:  # Xception offline: say so plainly
        st.error(str(exc), icon=":material/wifi_off:")
        return None
    except Exception as exc:  # a corrupt file, safe mode refusing a layer...
        st.error(_("This model cannot be used: {error}").format(error=exc), icon=":material/error:")
        return None


def model_picker(prefix: str, label: str | None = None, key_suffix: str = "", default: str | None = None,
                 param: str | None = "model") -> Subject | None:
    """A selectbox of every model (pretrained, runs with a saved model, operator files); ``label``
    is already translated ("Model" in the current language when None)."""
    choices = subject_choices()
    widget = f"{prefix}_model{key_suffix}"
    shared = "interpret_model" if not key_suffix else None
    initial = remembered(widget, param, list(choices), default or next(iter(choices)), shared=shared)
    key = st.selectbox(label or _("Model"), list(choices), index=index_of(choices, initial), format_func=choices.get,
                       key=widget,
                       help=_("Pretrained ImageNet models, every run of the run store that saved a model, and "
                              "`.keras` files the operator listed in `CONVNET_LAB_MODEL_FILES`. Model files cannot "
                              "be uploaded: a model file can carry code."))
    remember(widget, param, key, shared=shared)
    subject = load_subject(key)
    if subject is not None:
        if not key.startswith("pretrained:"):  # a long name the picker may cut short, in full
            st.caption(choices[key])
        if subject.notes:
            st.caption(_(subject.notes))
    return subject


# --------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _samples(_subject: Subject, subject_version: str, count: int) -> list[SubjectSample]:
    from cv_core.interpret.subjects import subject_samples

    return subject_samples(_subject, count=count)


def samples_for(subject: Subject, count: int = 12) -> list[SubjectSample]:
    """The subject's sample pictures (cached); an empty list with a message if they can't be read."""
    try:
        return _samples(subject, version(subject), count)
    except Exception as exc:  # the run's dataset folder moved, ...
        st.warning(_("The samples of this model's dataset cannot be read: {error}").format(error=exc),
                   icon=":material/folder_off:")
        return []


def camera_photo(label: str, key: str) -> np.ndarray | None:
    """A photo from the camera, decoded like an upload; None before one is taken."""
    shot = st.camera_input(label, key=key)
    if shot is None:
        return None
    try:
        return decode_image(shot.getvalue())
    except ImageInputError as exc:
        st.error(_("The camera picture could not be used. {error}").format(error=exc), icon=":material/broken_image:")
        return None


def picture_picker(prefix: str, subject: Subject) -> SubjectSample | None:
    """Where the picture comes from (a sample, an upload, the camera) and the picture itself."""
    widget = f"{prefix}_source"
    initial = remembered(widget, "source", SOURCES, "Sample", shared="interpret_source")
    source = st.segmented_control(_("Picture"), SOURCES, default=initial, key=widget,
                                  format_func=lambda value: _(SOURCE_LABELS[value]),
                                  help=_("A sample picture, a photo of your own, or one from your camera."))
    source = source or "Sample"
    remember(widget, "source", source, shared="interpret_source")
    if source == "Upload":
        kept = shared_image_upload(_("Upload a photo"), key=f"{prefix}_upload")
        return SubjectSample(_("your upload"), kept.photo) if kept is not None and kept.photo is not None else None
    if source == "Camera":
        photo = camera_photo(_("Take a photo"), key=f"{prefix}_camera")
        return SubjectSample(_("camera photo"), photo) if photo is not None else None
    samples = samples_for(subject)
    if not samples:
        return None
    names = [s.name for s in samples]
    widget = f"{prefix}_sample"
    initial = remembered(widget, "sample", names, names[0], shared="interpret_sample")
    name = st.selectbox(_("Sample"), names, index=index_of(names, initial), key=widget)
    remember(widget, "sample", name, shared="interpret_sample")
    return samples[names.index(name)]


def digest(array: np.ndarray) -> str:
    """A short content hash of an array, for cache keys and widget keys."""
    return hashlib.sha1(np.ascontiguousarray(array).tobytes() + str(array.shape).encode()).hexdigest()[:16]


def png_bytes(picture: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 picture as PNG bytes, for downloads."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def class_label(subject: Subject, index: int) -> str:
    """"285 · Egyptian cat" for a class index."""
    return f"{index} · {subject.class_names[index]}"


def short_name(name: str) -> str:
    """ImageNet's "tabby, tabby cat" -> "tabby"; a lab-made name ("class 3") in the reader's language."""
    if isinstance(name, LazyText):
        return str(name)
    return name.split(",")[0].strip() or name


def top_classes(subject: Subject, probabilities: np.ndarray, k: int = 5) -> list[tuple[int, str, float]]:
    """The k most probable classes as (index, short name, probability)."""
    order = np.argsort(-probabilities)[:k]
    return [(int(i), short_name(subject.class_names[int(i)]), float(probabilities[int(i)])) for i in order]


def model_and_picture(prefix: str, left, right, thumbnail: bool = False):
    """The model and picture pickers in ``left``; stops the page with a hint in ``right`` until both are chosen.

    Returns:
        (subject, sample, batch, picture_key): the model, the chosen picture, its model input
        (a batch of one) and a content hash of that input for cache keys.
    """
    with left:
        subject = model_picker(prefix)
        sample = picture_picker(prefix, subject) if subject is not None else None
        if thumbnail and sample is not None:
            from ui.interpret_results import display_photo

            st.image(display_photo(sample.photo, 320), caption=sample.name, width="stretch")
    if subject is None or sample is None:
        with right:
            st.info(_("Choose a model and a picture on the left."), icon=":material/image_search:")
        st.stop()
    batch = subject.preprocess(sample.photo)
    return subject, sample, batch, digest(batch)
