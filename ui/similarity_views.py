"""The Similarity page's sections: the three scores of a pair, a picture's nearest neighbours, the
embedding map (with a run's per-epoch snapshots). Each draws what :mod:`ui.similarity` and
:mod:`ui.similarity_data` compute; the page (``pages/similarity.py``) lays them out.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset
from cv_core.i18n import _, ngettext
from cv_core.runs import RunInfo
from ui.similarity import (
    PREFIX,
    Embedder,
    cosine,
    features_reading,
    learned_reading,
    pair_ssim,
    picture_embedding,
    pretrained_embedder,
    pretrained_names,
    run_pair_auc,
    run_threshold,
    similarity_task_ready,
    ssim_reading,
)
from ui.similarity_data import MAP_POINTS, SplitEmbeddings, nearest, projection, reference, split_embeddings
from ui.similarity_pictures import Chosen, dataset_splits, split_name, thumbnail

#: Neighbours shown per row of the grid.
GRID_COLUMNS = 4


def _score(container_key: str, title: str, value: float | None, reading: str, help: str,
           note: str | None = None) -> None:
    with st.container(key=container_key, border=True):
        st.metric(title, "—" if value is None else f"{value:.3f}", help=help)
        st.markdown(reading)
        if note:
            st.caption(note)


def validation_reference(embedder: Embedder, dataset: Dataset | None):
    """The pair threshold of ``embedder`` on the dataset's validation pictures, if they were embedded
    already (this never starts the job); and the pictures' description for the sentence."""
    from ui.data import dataset_label

    if dataset is None or not dataset.count("validation"):
        return None, None
    collection = split_embeddings(embedder, dataset, "validation", min(dataset.count("validation"), MAP_POINTS),
                                  ask=False)
    if collection is None:
        return None, None
    return reference(collection, collection.key), _("the {dataset} validation pictures").format(
        dataset=dataset_label(dataset.name))


def pretrained_choice(key: str) -> Embedder | None:
    """SqueezeNet, or Xception where its weights are on this machine (a choice kept in the URL)."""
    names = pretrained_names()
    if len(names) > 1:
        from ui.similarity import PRETRAINED_LABELS

        name = st.segmented_control(_("Pretrained network"), names, default=names[0], format_func=PRETRAINED_LABELS.get,
                                    key=key, bind="query-params", required=True) or names[0]
    else:
        name = names[0] if names else "squeezenet"
    return pretrained_embedder(name)


def scores_row(a: Chosen, b: Chosen, dataset: Dataset | None, run: RunInfo | None, learned: Embedder | None) -> None:
    """The three scores of a pair side by side, each with what it means in one sentence."""
    cols = st.columns(3, gap="medium")
    with cols[0]:
        value = pair_ssim(a.key, b.key, a.image, b.image)
        _score(f"{PREFIX}_score_ssim", _("Pixels · SSIM"), value, ssim_reading(value),
               _("Structural similarity (Wang et al., 2004) of the two pictures made RGB at 128 × 128: local "
                 "brightness, contrast and structure compared place by place; 1 for identical pictures."))
    with cols[1]:
        embedder = pretrained_choice(f"{PREFIX}_pretrained")
        if embedder is not None:
            value = cosine(picture_embedding(embedder, embedder.version, a.key, a.image),
                           picture_embedding(embedder, embedder.version, b.key, b.image))
            measured, where = validation_reference(embedder, dataset)
            note = None if measured is None else _(
                "At that threshold {same:.0%} of same-class pairs and {different:.0%} of different-class pairs read "
                "as the same (pair ROC AUC {auc:.3f}).").format(same=measured.threshold.true_positive_rate,
                                                               different=measured.threshold.false_positive_rate,
                                                               auc=measured.auc)
            if measured is None and dataset is not None:
                note = _("Embed this dataset's validation pictures (the **Nearest neighbours** or **Embedding map** "
                         "tab) to read this score against the threshold that best separates its classes.")
            _score(f"{PREFIX}_score_pretrained", _("Pretrained · {embedder}").format(embedder=embedder.label), value,
                   features_reading(value, measured, where),
                   _("Cosine similarity of the two pictures' pooled ImageNet features (the last feature map before "
                     "the classifier, averaged over space): 1 when they point the same way."), note)
    with cols[2]:
        if learned is not None and run is not None:
            value = cosine(picture_embedding(learned, learned.version, a.key, a.image),
                           picture_embedding(learned, learned.version, b.key, b.image))
            auc = run_pair_auc(run)
            _score(f"{PREFIX}_score_learned", _("Learned embedding"), value,
                   learned_reading(value, run_threshold(run), auc),
                   _("Cosine similarity of the two pictures' embeddings by the run's model, trained so that pictures "
                     "of one class lie close together."),
                   None if auc is None else _("On the run's validation pictures, a same-class pair scores above a "
                                              "different-class pair {share:.0%} of the time (pair ROC AUC "
                                              "{auc:.3f}).").format(share=auc, auc=auc))
        else:
            with st.container(key=f"{PREFIX}_score_learned", border=True):
                st.metric(_("Learned embedding"), "—")
                if similarity_task_ready():
                    st.caption(_("No learned embedding yet: train one in the **Train** tab above (the Quick preset on "
                                 "shapes learns one in a few minutes), and its score appears here."))
                else:
                    st.caption(_("This lab cannot train a similarity model yet, so there is no learned score."))


def neighbours_grid(dataset: Dataset, split: str, query: Chosen, found, collection: SplitEmbeddings) -> None:
    """The neighbours' thumbnails, best first, each captioned with its rank, score and class."""
    class_names = collection.class_names
    with st.container(key=f"{PREFIX}_neighbours"):
        for start in range(0, len(found.indices), GRID_COLUMNS):
            cols = st.columns(GRID_COLUMNS)
            for col, rank in zip(cols, range(start, min(start + GRID_COLUMNS, len(found.indices)))):
                index = int(found.indices[rank])
                try:
                    sample = dataset.sample(split, index)
                except Exception:  # a file that became unreadable since it was embedded
                    col.caption(_("#{rank} · {split} picture {index} cannot be read any more.").format(
                        rank=rank + 1, split=split_name(split), index=index))
                    continue
                label = class_names[sample.label] if 0 <= sample.label < len(class_names) else "?"
                col.image(thumbnail(sample.image), width="stretch",
                          caption=_("#{rank} · {score:.3f} · {label} · {split} picture {index}").format(
                              rank=rank + 1, score=found.scores[rank], label=label, split=split_name(split),
                              index=index))
    if query.label is not None and len(found.indices):
        same = sum(class_names[int(collection.labels[int(i)])] == query.label for i in found.indices)
        st.caption(ngettext("{same} of this {count} nearest picture is of the query's class, {label}.",
                            "{same} of these {count} nearest pictures are of the query's class, {label}.",
                            len(found.indices)).format(same=same, count=len(found.indices), label=query.label))
    if found.kind == "exact":
        st.caption(_("Exact search (every embedding compared) over {searched:,} embeddings took {ms:.1f} ms.").format(
            searched=found.searched, ms=found.seconds * 1000))
    else:
        st.caption(_("Approximate search (a faiss HNSW graph, as used from 100,000 pictures on) over {searched:,} "
                     "embeddings took {ms:.1f} ms.").format(searched=found.searched, ms=found.seconds * 1000))


def neighbours_section(embedder: Embedder, dataset: Dataset, split: str, count: int, k: int,
                       query: Chosen) -> tuple[Chosen, ...] | None:
    """Embed the split if needed, find the query's neighbours and show them.

    Returns:
        The neighbours as pictures (best first) for the why-similar maps, or None before there are any.
    """
    collection = split_embeddings(embedder, dataset, split, count)
    if collection is None:
        return None
    embedding = picture_embedding(embedder, embedder.version, query.key, query.image)
    leave_out = query.index if query.split == split and query.index is not None and query.index < count else None
    try:
        found = nearest(collection, embedding[None], k, leave_out)
    except ValueError:  # the query's embedding has no direction
        st.warning(_("The query gives {embedder} nothing to compare (an embedding of zeros: a blank picture?).").format(
            embedder=embedder.label),
                   icon=":material/hide_image:")
        return None
    if found is None:
        st.info(_("No picture of this split could be read and embedded, so there is nothing to search."),
                icon=":material/image_not_supported:")
        return None
    if not len(found.indices):
        st.info(_("The only picture searched is the query itself: search more pictures to find its neighbours."),
                icon=":material/image_search:")
        return None
    if leave_out is not None:
        st.caption(_("The query is a picture of this split: it is left out of its own neighbours."))
    neighbours_grid(dataset, split, query, found, collection)
    from ui.similarity_pictures import chosen_picture

    out = []
    for rank, index in enumerate(found.indices):
        sample = dataset.readable_sample(split, int(index))
        if sample is not None:
            out.append(chosen_picture(_("neighbour #{rank} ({split} picture {index})").format(
                rank=rank + 1, split=split_name(split), index=int(index)), sample.image,
                               split=split, index=int(index)))
    return tuple(out)


def _clicked(event, key: str) -> int | None:
    """The picture number of a clicked map point (its ``customdata``), or None."""
    try:
        points = event.selection.points if event is not None else []
    except AttributeError:
        points = (event or {}).get("selection", {}).get("points", [])
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return int(data)
    return None


def latest_snapshot(run: RunInfo) -> dict | None:
    """The run's newest embedding-map snapshot, or None (none yet, or a lab without the similarity task)."""
    try:
        from cv_core.similarity.task import embedding_snapshots

        snapshots = embedding_snapshots(run.dir)
    except (ImportError, OSError, ValueError):
        return None
    return snapshots[-1] if snapshots else None


def map_section(embedder: Embedder, dataset: Dataset, query: Chosen | None, chart, side,
                snapshot: dict | None = None) -> None:
    """The validation embeddings on a 2-D PCA map coloured by class (in ``chart``), the query as a star, and
    what the map shows with a clicked point's picture (in ``side``).

    Args:
        snapshot: the run's newest map of these same pictures, if any: this map's axes are turned to
            run the same way, so the two are not mirror images of each other.
    """
    from cv_core.plots.similarity import embedding_map_figure
    from ui.data import dataset_label

    split = "validation" if dataset.count("validation") else dataset_splits(dataset)[0]
    count = min(dataset.count(split), MAP_POINTS)
    with chart:
        collection = split_embeddings(embedder, dataset, split, count)
        fitted = projection(collection, collection.key) if collection is not None else None
        if collection is not None and fitted is None:
            st.info(_("No picture of this split could be read and embedded, so there is no map."),
                    icon=":material/image_not_supported:")
    if fitted is None:
        return
    fitted, rows = fitted
    if snapshot is not None:
        shared, mine, theirs = np.intersect1d(rows, np.asarray(snapshot["indices"]), return_indices=True)
        if len(shared):
            fitted = fitted.oriented_like(np.asarray(snapshot["points"])[theirs], rows=mine)
    place = None
    if query is not None:
        try:
            place = fitted.transform(picture_embedding(embedder, embedder.version, query.key, query.image))[0]
        except ValueError:
            side.caption(_("Your picture gives an embedding of zeros (a blank picture?), so it has no place on the "
                           "map."))
    explained = fitted.explained
    title = ngettext("{count:,} {split} picture of {dataset}", "{count:,} {split} pictures of {dataset}", len(rows)).format(
        count=len(rows), split=split_name(split), dataset=dataset_label(dataset.name))
    figure = embedding_map_figure(fitted.points, collection.labels[rows], collection.class_names, indices=rows,
                                  query=place, title=title,
                                  axis_titles=(_("PC 1 ({share:.0%} of the spread)").format(share=explained[0]),
                                               _("PC 2 ({share:.0%} of the spread)").format(share=explained[1])))
    with chart:
        event = st.plotly_chart(figure, width="stretch", key=f"{PREFIX}_map", on_select="rerun",
                                selection_mode="points")
        st.caption(_("Each point is a picture, placed by {embedder} along the two directions in which the "
                     "embeddings vary most (PCA): a class whose points cluster is a class the model finds "
                     "alike.").format(embedder=embedder.label))
        if place is not None:
            st.caption(_("The black star is your picture. Click a point to see its picture beside the map."))
        else:
            st.caption(_("Click a point to see its picture beside the map."))
        if len(rows) < 3:
            st.caption(_("With fewer than three pictures the map has little to show."))
    with side:
        picked = _clicked(event, f"{PREFIX}_map")
        if picked is not None and 0 <= picked < dataset.count(split):
            sample = dataset.readable_sample(split, picked)
            if sample is not None:
                label = collection.class_names[sample.label]
                st.image(thumbnail(sample.image),
                         caption=_("The picture you clicked: {split} picture {index} · {label}").format(
                             split=split_name(split), index=picked, label=label))


def snapshots_section(run: RunInfo, run_dataset: Dataset | None) -> None:
    """The run's embedding map epoch by epoch (its snapshots), with an epoch slider kept in the URL."""
    from cv_core.plots.similarity import embedding_map_figure

    st.subheader(_("How the map changed while the run learned"))
    try:
        from cv_core.similarity.task import embedding_snapshots
    except ImportError:
        st.caption(_("This lab's similarity task does not keep maps of its epochs yet."))
        return
    try:
        snapshots = embedding_snapshots(run.dir)
    except (OSError, ValueError) as exc:
        st.warning(_("The run's maps cannot be read: {error}").format(error=exc), icon=":material/broken_image:")
        return
    if not snapshots:
        st.caption(_("Run {run} has no map of an epoch yet: one is saved after every epoch.").format(run=run.id))
        return
    epochs = [int(s["epoch"]) for s in snapshots]
    side, chart = st.columns([1.6, 2.4], gap="large")
    with side:
        if len(epochs) > 1:
            epoch = st.select_slider(_("Epoch"), epochs, value=epochs[-1], key=f"{PREFIX}_epoch", bind="query-params",
                                     help=_("The validation embeddings after this epoch, projected by a PCA fitted on "
                                            "them."))
        else:
            epoch = epochs[0]
        st.caption(_("Early epochs mix the classes; as the embedding learns, each class gathers in a cluster of its "
                     "own. Click a point to see its picture."))
    snapshot = snapshots[epochs.index(int(epoch))]
    points, labels = np.asarray(snapshot["points"]), np.asarray(snapshot["labels"])
    names = list(snapshot.get("class_names") or [])
    explained = np.asarray(snapshot.get("explained", np.zeros(2)), np.float32).reshape(-1)
    axes = (_("PC 1 ({share:.0%} of the spread)").format(share=explained[0]),
            _("PC 2 ({share:.0%} of the spread)").format(share=explained[1])) \
        if explained.size == 2 and explained.any() else ("PC 1", "PC 2")
    figure = embedding_map_figure(points, labels, names, indices=np.asarray(snapshot["indices"]),
                                  title=ngettext("After epoch {epoch} · {count:,} validation picture",
                                                 "After epoch {epoch} · {count:,} validation pictures",
                                                 len(points)).format(epoch=epoch, count=len(points)),
                                  axis_titles=axes, figure_height=460)
    with chart:
        event = st.plotly_chart(figure, width="stretch", key=f"{PREFIX}_snapshot_map", on_select="rerun",
                                selection_mode="points")
    with side:
        picked = _clicked(event, f"{PREFIX}_snapshot_map")
        if picked is not None and run_dataset is not None and 0 <= picked < run_dataset.count("validation"):
            sample = run_dataset.readable_sample("validation", picked)
            if sample is not None:
                label = names[sample.label] if 0 <= sample.label < len(names) else "?"
                st.image(thumbnail(sample.image), caption=_("The picture you clicked: {split} picture {index} · "
                                                            "{label}").format(split=split_name("validation"),
                                                                               index=picked, label=label))
