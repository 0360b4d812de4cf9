"""A dataset split as seen by an embedder: its embeddings (computed once, kept on disk), the search
index over them, the nearest neighbours of a picture, the embedding map and the pair threshold.

Embedding a split runs chunk by chunk under a progress bar with a **Stop** button: each chunk
is a cached result, so a stopped job resumes where it stopped, and the whole split is written
to disk by :func:`cv_core.similarity.cached_embeddings` (beside the run, or in the lab's cache
folder for the pretrained models) once complete. Every cache key holds the embedder's version,
the dataset's key (its files' state) and the split and count of pictures.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset
from cv_core.i18n import _, ngettext
from cv_core.similarity.search import APPROXIMATE_FROM as _APPROXIMATE_FROM
from ui.similarity import PREFIX, Embedder
from ui.similarity_pictures import split_name

#: Pictures embedded per cached chunk (about 2 s with SqueezeNet on 2 cores).
CHUNK = 128
#: The most pictures drawn on the embedding map (a scatter of more is slow to send and to read).
MAP_POINTS = 2000
#: The most pictures whose pairs measure a pair threshold (pairs grow with the square).
THRESHOLD_POINTS = 1000
#: From this many embeddings on, search is approximate (faiss HNSW): the library's threshold.
APPROXIMATE_FROM = _APPROXIMATE_FROM


@dataclass(frozen=True)
class SplitEmbeddings:
    """The first ``count`` pictures of a split, embedded.

    Attributes:
        embeddings: (count, D); the row of an unreadable picture is NaN.
        labels: (count,) class indices.
        class_names: the dataset's class names.
        key: identifies the embeddings (the embedder's version, the dataset, split and count).
    """

    embeddings: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    key: str


def dataset_identity(dataset: Dataset) -> str:
    """A dataset's name, folder and settings without its files' state: one cache file per dataset."""
    return "|".join(str(getattr(dataset, attribute, "")) for attribute in ("name", "root", "seed", "image_size"))


@st.cache_data(max_entries=16, show_spinner=False)
def _pictures_key(_dataset: Dataset, dataset_key: str, split: str, count: int) -> str:
    from cv_core.similarity import dataset_pictures, pictures_fingerprint

    return pictures_fingerprint(dataset_pictures(_dataset, split, count))


@st.cache_data(max_entries=16, show_spinner=False)
def split_labels(_dataset: Dataset, dataset_key: str, split: str) -> np.ndarray:
    """(N,) the class index of every picture of the split (cached per dataset version)."""
    return _dataset.labels(split)


def _cache_args(embedder: Embedder, dataset: Dataset, split: str, count: int, pictures_key: str):
    name = f"{hashlib.sha1(dataset_identity(dataset).encode()).hexdigest()[:12]}-{split}-{count}"
    return embedder.cache_folder, name, [np.frombuffer(pictures_key.encode(), np.uint8)]


class _NotStored(Exception):
    """The embeddings are not on disk yet."""


@st.cache_resource(max_entries=8, show_spinner=False)
def _stored(_embedder: Embedder, version: str, _dataset: Dataset, dataset_key: str, split: str, count: int,
            pictures_key: str) -> np.ndarray | None:
    """The split's embeddings from disk, or None when they are not there (cleared after a new file)."""
    from cv_core.similarity import cached_embeddings

    if _embedder.model_file is None:
        return None
    folder, name, pictures = _cache_args(_embedder, _dataset, split, count, pictures_key)

    def missing():
        raise _NotStored

    try:
        return cached_embeddings(folder, name, _embedder.model_file, pictures, missing)
    except (_NotStored, OSError):
        return None


@st.cache_data(max_entries=2000, ttl=6 * 3600, show_spinner=False)
def _chunk(_embedder: Embedder, version: str, _dataset: Dataset, dataset_key: str, split: str, start: int,
           count: int) -> np.ndarray | None:
    """(count, D) embeddings of pictures ``start ..`` (NaN rows unreadable); None when none could be read."""
    from cv_core.similarity import embed_dataset

    try:
        return embed_dataset(_dataset, split, _embedder.embed, start, count)
    except ValueError:
        return None


def _make(embedder: Embedder, dataset: Dataset, dataset_key: str, split: str, count: int) -> np.ndarray | None:
    """Embed the split chunk by chunk under a progress bar; None (with a message) when nothing is readable."""
    bar = st.progress(0.0, text=_("Embedding the {split} pictures with {embedder}…").format(split=split_name(split),
                                                                                         embedder=embedder.label))
    parts = []
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        parts.append(_chunk(embedder, embedder.version, dataset, dataset_key, split, start, min(CHUNK, count - start)))
        done = min(count, start + CHUNK)
        elapsed = time.perf_counter() - started
        left = elapsed / done * (count - done)
        bar.progress(done / count, text=_("{done:,} of {count:,} {split} pictures embedded (about {left:,.0f} s left; "
                                          "**Stop** keeps what is done).").format(done=done, count=count,
                                                                                  split=split_name(split), left=left))
    bar.empty()
    widths = {part.shape[1] for part in parts if part is not None}
    if not widths:
        st.error(ngettext("The {split} picture could not be read.", "None of the {count:,} {split} pictures could be read.",
                          count).format(count=count, split=split_name(split)), icon=":material/broken_image:")
        return None
    width = widths.pop()
    return np.concatenate([part if part is not None else np.full((min(CHUNK, count - i * CHUNK), width), np.nan,
                                                                    np.float32)
                           for i, part in enumerate(parts)]).astype(np.float32)


def _stop(key: str) -> None:
    st.session_state.pop(key, None)


def split_embeddings(embedder: Embedder, dataset: Dataset, split: str, count: int,
                     ask: bool = True) -> SplitEmbeddings | None:
    """The first ``count`` pictures of ``split`` embedded by ``embedder``: from disk, or computed
    when the person asks (a button; a progress bar and **Stop** while it runs).

    Args:
        ask: show the button when they are not computed yet; False only looks them up.

    Returns:
        The embeddings, or None while they are not computed (or could not be).
    """
    from ui.data import dataset_key as key_of

    dataset_key = key_of(dataset)
    labels = split_labels(dataset, dataset_key, split)[:count]
    with st.spinner(_("Reading the dataset's pictures…")):
        pictures_key = _pictures_key(dataset, dataset_key, split, count)
    key = f"{embedder.version}|{dataset_key}|{split}|{count}"
    stored = _stored(embedder, embedder.version, dataset, dataset_key, split, count, pictures_key)
    if stored is not None:
        return SplitEmbeddings(stored, labels, list(dataset.class_names), key)
    if not ask:
        return None
    request = f"{PREFIX}_embed_for"
    controls = st.empty()
    with controls.container():
        cols = st.columns([3, 1], vertical_alignment="center")
        cols[0].button(ngettext("Embed the {count:,} {split} picture", "Embed the {count:,} {split} pictures", count).format(
                           count=count, split=split_name(split)), icon=":material/scatter_plot:",
                       key=f"{PREFIX}_embed", type="primary", on_click=st.session_state.__setitem__,
                       args=(request, key))
        if st.session_state.get(request) != key:
            st.caption(_("Each picture goes through {embedder} once; the embeddings are kept on disk, so this "
                         "is needed only once per model and dataset.").format(embedder=embedder.label))
            return None
        cols[1].button(_("Stop"), icon=":material/stop_circle:", key=f"{PREFIX}_embed_stop", on_click=_stop,
                       args=(request,), help=_("Stop embedding: the pictures done so far are kept, and the next "
                                               "request goes on from there."), width="stretch")
        rows = _make(embedder, dataset, dataset_key, split, count)
    controls.empty()
    st.session_state.pop(request, None)
    if rows is None:
        return None
    from cv_core.similarity import cached_embeddings

    folder, name, pictures = _cache_args(embedder, dataset, split, count, pictures_key)
    if embedder.model_file is not None:
        try:
            rows = cached_embeddings(folder, name, embedder.model_file, pictures, lambda: rows)
        except OSError as exc:  # a read-only runs folder: keep them in memory only
            st.caption(_("The embeddings could not be kept on disk ({error}); they are kept in memory.").format(
                error=exc.strerror or exc))
        _stored.clear()
    return SplitEmbeddings(rows, labels, list(dataset.class_names), key)


# --------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner=False)
def _index_of(_embeddings: np.ndarray, key: str):
    from cv_core.similarity import build_index, usable_rows

    rows = np.flatnonzero(usable_rows(_embeddings))
    return (build_index(np.asarray(_embeddings)[rows], APPROXIMATE_FROM) if len(rows) else None), rows


@dataclass(frozen=True)
class Neighbours:
    """The nearest pictures of a query, best first.

    Attributes:
        indices: picture numbers in the split.
        scores: cosine similarities.
        kind: "exact" or "approximate".
        searched: how many embeddings were searched.
        seconds: how long the search took.
    """

    indices: np.ndarray
    scores: np.ndarray
    kind: str
    searched: int
    seconds: float


def nearest(collection: SplitEmbeddings, query: np.ndarray, k: int, leave_out: int | None = None) -> Neighbours | None:
    """The ``k`` nearest pictures to ``query`` (leaving out picture ``leave_out``: the query itself).

    Returns:
        None when the collection has no usable embedding.
    """
    index, rows = _index(collection.embeddings, collection.key)
    if index is None:
        return None
    want = min(len(rows), k + (1 if leave_out is not None else 0))
    started = time.perf_counter()
    scores, found = index.search(query, want)
    seconds = time.perf_counter() - started
    scores, found = scores[0], found[0]
    keep = found >= 0
    scores, picture = scores[keep], rows[found[keep]]
    if leave_out is not None:
        other = picture != leave_out
        scores, picture = scores[other], picture[other]
    return Neighbours(picture[:k], np.clip(scores[:k], -1.0, 1.0), index.kind, len(rows), seconds)


# --------------------------------------------------------------------------------------
# The map and the pair threshold
# --------------------------------------------------------------------------------------


def _index(embeddings: np.ndarray, key: str):
    with st.spinner(_("Building the search index…")):
        return _index_of(embeddings, key)


def projection(collection: SplitEmbeddings, key: str):
    """(the :class:`cv_core.similarity.Projection` of the usable rows, those rows' picture numbers), or None."""
    with st.spinner(_("Projecting the embeddings…")):
        return _projection(collection, key)


@st.cache_data(max_entries=8, show_spinner=False)
def _projection(_collection: SplitEmbeddings, key: str):
    from cv_core.similarity import pca_2d, usable_rows

    rows = np.flatnonzero(usable_rows(_collection.embeddings))
    if len(rows) == 0:
        return None
    return pca_2d(np.asarray(_collection.embeddings)[rows]), rows


@dataclass(frozen=True)
class Reference:
    """How well an embedding separates a dataset's classes: what a pair's score is read against.

    Attributes:
        threshold: the :class:`cv_core.similarity.PairThreshold` (Youden's J over every pair).
        auc: the pair ROC AUC over the same pairs (0.5: no better than chance).
    """

    threshold: object
    auc: float


@st.cache_data(max_entries=8, show_spinner=False)
def reference(_collection: SplitEmbeddings, key: str) -> Reference | None:
    """The pair threshold and pair AUC over (at most :data:`THRESHOLD_POINTS` of) the split, or None
    without two classes (or without two pictures of one class)."""
    from cv_core.similarity import pair_auc, pair_threshold, usable_rows

    rows = np.flatnonzero(usable_rows(_collection.embeddings))[:THRESHOLD_POINTS]
    embeddings, labels = np.asarray(_collection.embeddings)[rows], _collection.labels[rows]
    try:
        return Reference(pair_threshold(embeddings, labels), pair_auc(embeddings, labels))
    except ValueError:
        return None
