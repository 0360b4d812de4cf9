"""Similarity page glue: the models that turn pictures into embeddings, the three scores of a pair,
what each means in words, and why two pictures look alike.

An :class:`Embedder` is a model with how to feed it: SqueezeNet's (or Xception's) pooled
ImageNet features, or a similarity run's learned embedding (the run's best model, loaded by
the task-page scaffold's one model cache). Every cached result is keyed by the embedder's
``version`` (its weights file and that file's version) and the pictures' content digests.
Session-state keys start with the page's prefix, ``similarity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.i18n import _
from cv_core.runs import RunInfo

PREFIX = "similarity"
#: The similarity task's name in the task table (the contract with its package).
TASK = "similarity"
PRETRAINED_LABELS = {"squeezenet": "SqueezeNet 1.1", "xception": "Xception"}
#: Pictures are shown enlarged (nearest neighbour) to at least this side.
SHOW_SIDE = 256


@dataclass(frozen=True, eq=False)
class Embedder:
    """A model that turns pictures into embeddings, with how to feed it.

    Attributes:
        key: "squeezenet", "xception" or "run:<id>".
        label: its name for people ("SqueezeNet 1.1 features").
        version: identifies the weights (file and version) for the keys of cached results.
        model: the Keras model (shared by every session: never train or change it).
        input_size: (height, width) the model takes.
        layer: the layer whose pooled output is the embedding; None: the model's output.
        model_file: the weights file, which the on-disk cache of embeddings fingerprints.
        cache_folder: where embeddings of whole datasets are kept on disk.
        pretrained: the :class:`cv_core.pretrained.Pretrained` behind a pretrained embedder.
    """

    key: str
    label: str
    version: str
    model: object
    input_size: tuple[int, int]
    layer: str | None
    model_file: Path | None
    cache_folder: Path
    pretrained: object | None = None

    def view(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) float32: a picture in the model's input space at its input size."""
        if self.pretrained is not None:
            return self.pretrained.preprocess(image)[0]
        from cv_core.datasets import resize_image

        return resize_image(np.ascontiguousarray(image), self.input_size).astype(np.float32)

    def shown(self, image: np.ndarray) -> np.ndarray:
        """(h, w, 3) uint8: the picture as the model sees it (its size), for heatmap overlays."""
        from cv_core.datasets import resize_image

        return resize_image(np.ascontiguousarray(image), self.input_size)

    def embed(self, pictures) -> np.ndarray:
        """(N, D) float32 embeddings of (H, W, 3) uint8 pictures of any sizes."""
        from cv_core.similarity import embed_images

        batch = np.stack([self.view(p) for p in pictures]) if len(pictures) else \
            np.zeros((0, *self.input_size, 3), np.float32)
        return embed_images(self.model, batch, self.layer)


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


def pretrained_names() -> list[str]:
    """The pretrained models whose weights are on this machine (SqueezeNet's ship with the lab)."""
    from cv_core.pretrained import pretrained_weights_file

    return [name for name in PRETRAINED_LABELS if pretrained_weights_file(name) is not None]


def _weights_version(path: Path | None) -> str:
    import os

    try:
        return f"{path.resolve()}|{os.stat(path).st_mtime_ns}" if path is not None else "none"
    except OSError:
        return f"{path}|missing"


@st.cache_resource(max_entries=2, show_spinner=False)
def _pretrained(name: str, version: str):
    from cv_core.pretrained import load_pretrained

    return load_pretrained(name)


def pretrained_embedder(name: str) -> Embedder | None:
    """SqueezeNet's (or Xception's) pooled ImageNet features; None, with the reason shown, if they cannot load."""
    from cv_core.pretrained import PretrainedUnavailableError, cache_root, pretrained_weights_file
    from cv_core.similarity import EMBEDDING_LAYERS

    weights = pretrained_weights_file(name)
    version = f"pretrained:{name}|{_weights_version(weights)}"
    try:
        with st.spinner(_("Loading the pretrained model…")):
            pretrained = _pretrained(name, version)
    except PretrainedUnavailableError as exc:
        st.error(str(exc), icon=":material/wifi_off:")
        return None
    except Exception as exc:  # a damaged weights file...
        st.error(_("The pretrained model cannot be used: {error}").format(error=exc), icon=":material/error:")
        return None
    return Embedder(name, _("{network} features").format(network=PRETRAINED_LABELS[name]), version, pretrained.model,
                    tuple(pretrained.input_size), EMBEDDING_LAYERS[name], weights,
                    cache_root() / "embeddings" / name, pretrained)


def similarity_task_ready() -> bool:
    """Whether the lab has the similarity task (its entry in the task table)."""
    from cv_core.runs.tasks import TASKS

    return TASK in TASKS


def similarity_runs(runs_root: str | None = None) -> list[RunInfo]:
    """The similarity runs this browser may see that have saved a model, newest first."""
    from ui.task_page import task_runs

    return task_runs((TASK,), runs_root)


def run_picker(runs: list[RunInfo]) -> RunInfo:
    """A selectbox of similarity runs (kept in the URL as ``run``); returns the chosen one."""
    from ui.task_page import run_picker as pick_run

    return pick_run(PREFIX, runs, _("Learned embedding (a similarity run)"),
                    _("Every similarity run that has saved a model (its best epoch so far): its model maps a picture "
                      "to an embedding learned so that pictures of one class lie close together."))


def run_embedder(run: RunInfo) -> Embedder | None:
    """The run's best model as an embedder; None, with the reason shown, if it cannot be used."""
    from cv_core.runs import best_model_path
    from ui.task_page import run_model

    loaded = run_model(run)
    if loaded is None:
        return None
    shape = tuple(loaded.model.output_shape)
    if len(shape) != 2:
        st.error(_("This run's model does not give an embedding: its output has shape {shape}, not (batch, size).").format(
            shape=shape),
                 icon=":material/error:")
        return None
    return Embedder(f"run:{run.id}", _("the learned embedding of run {run}").format(run=run.id), f"run:{run.id}|{loaded.key}",
                    loaded.model, loaded.input_size, None, best_model_path(run.dir), run.dir / "embeddings")


def _validation_score(run: RunInfo, name: str) -> float | None:
    from cv_core.runs import read_scores

    scores = read_scores(run.dir)
    validation = scores.get("validation") if isinstance(scores, dict) else None
    value = validation.get(name) if isinstance(validation, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) \
        else None


def run_threshold(run: RunInfo) -> float | None:
    """The run's pair threshold on its validation split (``scores.json``), or None before it is written."""
    return _validation_score(run, "threshold")


def run_pair_auc(run: RunInfo) -> float | None:
    """The run's pair ROC AUC on its validation split (``scores.json``), or None before it is written."""
    return _validation_score(run, "pair_auc")


# --------------------------------------------------------------------------------------
# Scores of a pair (cached by the pictures' digests)
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def pair_ssim(key_a: str, key_b: str, _a: np.ndarray, _b: np.ndarray) -> float:
    """SSIM of two pictures (both made RGB at :data:`cv_core.similarity.SSIM_SIZE`)."""
    from cv_core.similarity import ssim

    return ssim(_a, _b)


@st.cache_data(max_entries=256, show_spinner=False)
def picture_embedding(_embedder: Embedder, version: str, picture_key: str, _image: np.ndarray) -> np.ndarray:
    """(D,) the embedding of one picture (cached per model version and picture)."""
    return _embedder.embed([_image])[0]


def cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity of two embeddings, or None when one has no direction (all zeros)."""
    from cv_core.similarity import cosine_similarity

    try:
        return float(np.clip(cosine_similarity(a[None], b[None])[0, 0], -1.0, 1.0))
    except ValueError:
        return None


@st.cache_data(max_entries=32, show_spinner=False)
def why_maps(_embedder: Embedder, version: str, key_a: str, key_b: str, _a: np.ndarray,
             _b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`cv_core.similarity.why_similar` on the two pictures as the embedder sees them."""
    from cv_core.similarity import why_similar

    # A pretrained model's embedding layer is also the feature map explained (SqueezeNet's last
    # convolution gives class scores); a run's model: its last feature map before the embedding.
    return why_similar(_embedder.model, _embedder.view(_a), _embedder.view(_b), layer_name=_embedder.layer,
                       embedding_layer=_embedder.layer)


def show(picture: np.ndarray) -> np.ndarray:
    """A picture enlarged with crisp pixels for the screen."""
    from cv_core.overlays import upscale

    return upscale(picture, SHOW_SIDE)


def why_pair(embedder: Embedder, first, second, captions: tuple[str, str]) -> None:
    """The why-similar heatmaps on both pictures of a pair, side by side.

    Args:
        first, second: objects with ``key`` (a content digest) and ``image`` ((H, W, 3) uint8).
        captions: what to call each picture under its heatmap.
    """
    from cv_core.overlays import overlay

    try:
        with st.spinner(_("Finding what makes them alike…")):
            heat_a, heat_b, similarity = why_maps(embedder, embedder.version, first.key, second.key, first.image,
                                                  second.image)
    except ValueError as exc:  # a model without a feature map to explain
        st.info(_("These pictures cannot be explained with this model: {error}").format(error=exc), icon=":material/info:")
        return
    if not heat_a.any() and not heat_b.any():
        st.info(_("The two pictures have the same embedding ({embedder}, similarity {similarity:.3f}): "
                  "nothing moves their similarity, so there is nothing to highlight.").format(
                      embedder=embedder.label, similarity=similarity), icon=":material/info:")
    cols = st.columns(2, gap="large")
    for col, picture, heat, caption in zip(cols, (first, second), (heat_a, heat_b), captions):
        col.image(as_picture(overlay(embedder.shown(picture.image), heat, 0.5), picture.image.shape[:2]),
                  caption=caption)


def as_picture(view: np.ndarray, shape: tuple[int, int], side: int = 320) -> np.ndarray:
    """A model's square view of a picture back at the picture's proportions, ``side`` pixels at most
    (small pictures enlarged with crisp pixels first), for the screen."""
    from cv_core.datasets import resize_image

    height, width = shape
    scale = side / max(height, width)
    target = (max(1, round(height * scale)), max(1, round(width * scale)))
    return resize_image(show(view), target)


# --------------------------------------------------------------------------------------
# What a score means, in one sentence
# --------------------------------------------------------------------------------------


def ssim_reading(value: float) -> str:
    """One sentence on an SSIM value (1: the same pixels; it compares pictures position by position)."""
    if value >= 0.999:
        return _("The same pixels: SSIM is 1 only when the two pictures are identical at its size.")
    if value >= 0.7:
        return _("Much the same light, contrast and structure in the same places, pixel by pixel.")
    if value >= 0.3:
        return _("Some structure in common at the same places; SSIM does not know what is in the pictures.")
    return _("Little in common pixel by pixel: SSIM compares the pictures place by place, so the same kind of object "
             "moved, turned or lit differently also scores low.")


#: Below this pair ROC AUC an embedding tells classes apart too little for its threshold to mean much.
WEAK_AUC = 0.6


def features_reading(value: float | None, reference, where: str | None) -> str:
    """One sentence on a pretrained-features cosine similarity.

    Args:
        value: the cosine similarity, or None when a picture gave no features at all.
        reference: a :class:`ui.similarity_data.Reference` measured on a dataset, or None.
        where: the dataset it was measured on (for the sentence), with ``reference``.
    """
    if value is None:
        return _("One picture gives no features at all (a blank picture?), so its similarity is undefined.")
    if value >= 0.999:
        return _("The same features: to this network the two pictures are one.")
    if reference is not None and reference.auc < WEAK_AUC:
        return _("These features tell the classes of {where} apart little better than chance (pair ROC AUC "
                 "{auc:.3f}; 0.5 is chance), so this score cannot say whether these are the same kind of "
                 "thing.").format(where=where, auc=reference.auc)
    if reference is not None:
        cut = reference.threshold.threshold
        if value >= cut:
            return _("At or above {cut:.3f}, the score that best separates same-class from different-class pairs of "
                     "{where} with these features: probably the same kind of thing.").format(cut=cut, where=where)
        return _("Below {cut:.3f}, the score that best separates same-class from different-class pairs of {where} "
                 "with these features: probably not the same kind of thing.").format(cut=cut, where=where)
    if value >= 0.8:
        return _("Many features in common: ImageNet features see much the same things in both, wherever they are.")
    if value >= 0.5:
        return _("Some features in common: parts or textures alike, the whole less so.")
    return _("Few features in common: to an ImageNet network these pictures show different things.")


def learned_reading(value: float | None, threshold: float | None, auc: float | None = None) -> str:
    """One sentence on a learned-embedding cosine similarity, read against the run's pair threshold
    (and its pair ROC AUC: a run that tells classes apart barely better than chance says so)."""
    if value is None:
        return _("One picture gives an embedding of zeros, so its similarity is undefined.")
    if threshold is None:
        return _("The run has no pair threshold yet (it is measured on the validation pairs when training ends), "
                 "so this score cannot be read as same or different yet.")
    if auc is not None and auc < WEAK_AUC:
        return _("This run tells same-class from different-class pairs little better than chance (pair ROC AUC "
                 "{auc:.3f}; 0.5 is chance), so its score cannot say whether these are the same kind of thing.").format(
                     auc=auc)
    if value >= threshold:
        return _("At or above this run's threshold of {threshold:.3f} (measured on its validation pairs): "
                 "probably the same kind of thing.").format(threshold=threshold)
    return _("Below this run's threshold of {threshold:.3f} (measured on its validation pairs): probably not the "
             "same kind of thing.").format(threshold=threshold)
