"""Similarity: how alike two pictures are, three ways (pixels, pretrained features, a learned
embedding); the pictures most like one; why; the embedding map; train an embedding of your own."""

import streamlit as st

from cv_core.i18n import N_, _, ngettext
from ui import install_streamlit_patches
from ui.data import dataset_picker
from ui.similarity import (
    PRETRAINED_LABELS,
    pretrained_embedder,
    pretrained_names,
    run_embedder,
    run_picker,
    similarity_runs,
    similarity_task_ready,
    why_pair,
)
from ui.similarity_data import split_labels
from ui.similarity_pictures import dataset_splits, partner_index, picture_picker, split_name
from ui.similarity_views import latest_snapshot, map_section, neighbours_section, scores_row, snapshots_section
from ui.task_page import run_dataset, train_tab_view
from ui.i18n import tabs as translated_tabs
from ui.i18n import widget_key
from ui.training import show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

PREFIX = "similarity"
#: Pictures searched unless the person asks for more (exact search stays instant up to here).
SEARCH_DEFAULT = 20_000

st.title(_("Similarity"))
st.caption(_("How alike are two pictures? Read it three ways: pixel by pixel (SSIM), with a pretrained network's "
             "features, and with an embedding learned from your data. Find the pictures most like one, see which "
             "regions make two pictures alike, and watch classes gather on the embedding map. Train an embedding in "
             "the **Train** tab."))
show_flash()

pair_tab, search_tab, map_tab, train_tab = translated_tabs(
    [N_("Two pictures"), N_("Nearest neighbours"), N_("Embedding map"), N_("Train")], key="similarity_tab")


def setup():
    """The dataset the pictures come from, and the learned embedding (a similarity run), side by side.

    With a run chosen, its own dataset is offered first: its embedding, and its pair threshold, were
    learned on those pictures.

    Returns:
        (dataset or None, run or None, the run's embedder or None, whether the dataset is the run's own).
    """
    pictures, learning = st.columns(2, gap="large")
    run = learned = None
    with learning:
        runs = similarity_runs()
        if runs:
            run = run_picker(runs)
            learned = run_embedder(run)
        elif similarity_task_ready():
            st.info(_("No learned embedding yet: train one in the **Train** tab (the Quick preset on shapes takes a "
                      "few minutes). Until then the pretrained features stand in."), icon=":material/model_training:")
    with pictures:
        own = run is not None and st.toggle(_("Pictures of the run's dataset"), True, key=f"{PREFIX}_run_data",
                                            bind="query-params",
                                            help=_("The pictures the chosen run learned from (its validation split "
                                                   "set its threshold); turn off to choose another dataset."))
        dataset = run_dataset(run) if own else None
        own = own and dataset is not None
        if own:
            from ui.data import dataset_label

            size = getattr(dataset, "image_size", None)
            if size:
                st.caption(_("Pictures of {dataset}, {size} px, as run {run} learned from them.").format(
                    dataset=dataset_label(dataset.name), size=size, run=run.id))
            else:
                st.caption(_("Pictures of {dataset}, as run {run} learned from them.").format(
                    dataset=dataset_label(dataset.name), run=run.id))
        else:
            dataset = dataset_picker(PREFIX, user_datasets=True, bind=True)
    return dataset, run, learned, own


def features_picker(learned, label: str = N_("Embedding")):
    """Which embedding the neighbours, the heatmaps and the map use (kept in the URL)."""
    options = pretrained_names() + (["run"] if learned is not None else [])
    names = {**{name: _("{network} (pretrained)").format(network=PRETRAINED_LABELS[name]) for name in PRETRAINED_LABELS},
             "run": _("Learned (the chosen run)")}
    choice = st.selectbox(_(label), options, format_func=names.get, key=widget_key(f"{PREFIX}_features", options, names.get),
                          bind="query-params",
                          help=_("SqueezeNet's pooled ImageNet features work at once on any photo (Xception's too, "
                                 "where its weights are on this machine); a similarity run's embedding was trained "
                                 "for your classes."))
    return learned if choice == "run" else pretrained_embedder(choice)


def pair_view() -> None:
    dataset, run, learned, own = setup()
    partner = 1
    if dataset is not None and dataset.count("validation"):
        from ui.data import dataset_key

        partner = partner_index(split_labels(dataset, dataset_key(dataset), "validation"))
    cols = st.columns(2, gap="large")
    with cols[0]:
        first = picture_picker("a", _("First picture"), dataset, 0)
    with cols[1]:
        second = picture_picker("b", _("Second picture"), dataset, partner)
    if first is None or second is None:
        st.info(_("Choose two pictures: from the dataset, a photo that comes with the lab, an upload or your camera."),
                icon=":material/compare:")
        return
    st.subheader(_("How alike are they?"))
    scores_row(first, second, dataset, run, learned)
    st.subheader(_("Why they look alike"))
    st.caption(_("Grad-CAM with the similarity as the target: the gradient of the two embeddings' cosine similarity "
                 "with respect to each picture's feature map weights its channels, so the warm regions are those "
                 "that raise the similarity."))
    with st.columns(2, gap="large")[0]:
        embedder = features_picker(learned, N_("Explain with"))
    if embedder is not None:
        why_pair(embedder, first, second, (_("{picture}: what looks like the second picture").format(picture=first.name),
                                           _("{picture}: what looks like the first picture").format(picture=second.name)))


def search_view() -> None:
    dataset, run, learned, own = setup()
    if dataset is None:
        return
    splits = dataset_splits(dataset)
    if not splits:
        st.info(_("This dataset has no pictures to search."), icon=":material/folder_off:")
        return
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        query = picture_picker("query", _("Query picture"), dataset, 0)
    with right:
        embedder = features_picker(learned)
        cols = st.columns(3)
        split = cols[0].selectbox(_("Search in"), splits, format_func=split_name, bind="query-params",
                                  key=widget_key(f"{PREFIX}_search_split", splits, split_name))
        total = dataset.count(split)
        count = int(cols[1].number_input(_("Pictures searched"), 1, total, min(total, SEARCH_DEFAULT),
                                         key=f"{PREFIX}_limit", bind="query-params",
                                         help=_("The first pictures of the split, which holds {total:,}. Exact search "
                                                "answers at once up to about 100,000 pictures; from 100,000 on, an "
                                                "approximate index (faiss HNSW) answers instead.").format(total=total)))
        k = cols[2].slider(_("Neighbours"), 1, 24, 8, key=f"{PREFIX}_k", bind="query-params")
    if query is None or embedder is None:
        st.info(_("Choose a query picture."), icon=":material/image_search:")
        return
    st.subheader(ngettext("The picture most like it", "The {k} pictures most like it", int(k)).format(k=k))
    neighbours = neighbours_section(embedder, dataset, split, count, int(k), query)
    if not neighbours:
        return
    st.subheader(_("Why they look alike"))
    ranks = list(range(len(neighbours)))
    rank = st.columns(2, gap="large")[0].selectbox(_("Neighbour"), ranks, format_func=lambda r: neighbours[r].name,
                                                   key=f"{PREFIX}_neighbour", bind="query-params")
    why_pair(embedder, query, neighbours[rank], (_("The query: what looks like neighbour #{rank}").format(rank=rank + 1),
                                                 _("Neighbour #{rank}: what looks like the query").format(rank=rank + 1)))


def map_view() -> None:
    dataset, run, learned, own = setup()
    if dataset is None:
        return
    if not dataset_splits(dataset):
        st.info(_("This dataset has no pictures to map."), icon=":material/folder_off:")
        return
    left, right = st.columns([1.6, 2.4], gap="large")
    with left:
        embedder = features_picker(learned)
        query = picture_picker("query", _("Picture placed on the map"), dataset, 0)
    if embedder is not None:
        aligned = own and embedder is learned  # the run's own pictures, by its own model: as on its epoch maps
        map_section(embedder, dataset, query, right, left, latest_snapshot(run) if aligned else None)
    if run is not None:
        st.divider()
        snapshots_section(run, run_dataset(run))


def train_view() -> None:
    if not similarity_task_ready():
        st.info(_("This lab cannot train a similarity model yet: its similarity task is not installed."),
                icon=":material/block:")
        return
    train_tab_view(PREFIX, "similarity",
                   _("No similarity runs yet. Press **Train** to start one; its retrieval scores appear here as it "
                     "learns."))


if pair_tab.open:
    with pair_tab:
        pair_view()

if search_tab.open:
    with search_tab:
        search_view()

if map_tab.open:
    with map_tab:
        map_view()

if train_tab.open:
    with train_tab:
        train_view()
