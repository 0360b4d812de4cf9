"""Datasets: choose a dataset (built in, a folder, or one made in the Mask studio), see its samples with masks
and boxes, its balance and its splits."""

import streamlit as st

from cv_core.datasets import SPLITS, USER_PREFIX
from cv_core.formatting import format_number
from cv_core.i18n import N_, _, current_language
from cv_core.plots.data import class_balance_figure, split_sizes_figure
from ui import install_streamlit_patches
from ui.data import dataset_key, dataset_picker, mask_legend_picture, oxford_download_panel, sample_pictures
from ui.i18n import widget_key
from ui.memory import remember, remembered
from ui.uploads import image_upload

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Datasets"))
st.caption(_("Everything the lab trains on. Pick a dataset to see what is inside before you train on it."))
#: The splits as a person reads them (the data's own names stay "train", "validation", "test").
SPLIT_LABELS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
N_("shapes")  # the built-in dataset's name, shown translated in titles
SPLIT_IMAGES = {"train": N_("Train images"), "validation": N_("Validation images"), "test": N_("Test images")}

picker, overview = st.columns([1.25, 2.4], gap="large")
with picker:
    dataset = dataset_picker("datasets", user_datasets=True, bind=True)
    chosen = st.session_state.get(widget_key("datasets_dataset"), "")  # its key is per language (ui.i18n)
    if chosen.startswith(USER_PREFIX):
        st.page_link("pages/mask_studio.py", label=_("Open it in the Mask studio"), icon=":material/brush:")
    if chosen == "oxford_pets":
        oxford_download_panel("datasets")

if dataset is not None:
    with overview:
        st.markdown(str(dataset.description))
        counts = {split: dataset.count(split) for split in SPLITS}
        metrics = st.columns(4)
        metrics[0].metric(_("Classes"), len(dataset.class_names))
        for col, split in zip(metrics[1:], SPLITS):
            col.metric(_(SPLIT_IMAGES[split]), format_number(counts[split]))
        if dataset.skipped:
            st.warning(_("{n} file(s) could not be read and were skipped.").format(n=dataset.skipped),
                       icon=":material/warning:")
            with st.expander(_("Skipped files"), key="datasets_skipped_box"):
                st.code("\n".join(dataset.skipped_files))
        st.plotly_chart(split_sizes_figure(counts), width="stretch", key="datasets_splits_chart")

    st.plotly_chart(class_balance_figure({split: dataset.class_counts(split) for split in SPLITS},
                                         title=_("Class balance of {dataset}").format(dataset=_(dataset.name))),
                    width="stretch", key="datasets_balance_chart")

    @st.fragment
    def sample_grid():
        st.subheader(_("Samples"))
        controls = st.columns([1.7, 1, 1, 1.3, 1])
        # The URL keeps the split's own name (datasets_split=validation) in every language: bind= would
        # write the translated label.
        start = remembered("datasets_split", "datasets_split", SPLITS, "train")
        split = controls[0].segmented_control(_("Split"), SPLITS, default=start, key="datasets_split",
                                              format_func=lambda s: _(SPLIT_LABELS[s])) or "train"
        remember("datasets_split", "datasets_split", split)
        count = controls[1].select_slider(_("How many"), [4, 8, 12, 16, 24], 12, key="datasets_count",
                                          bind="query-params")
        page = controls[2].number_input(_("Start at"), 0, max(0, dataset.count(split) - 1), 0, step=count,
                                        key="datasets_start", bind="query-params")
        show_mask = controls[3].toggle(_("Show masks"), value=dataset.has_masks, disabled=not dataset.has_masks,
                                       key="datasets_show_mask")
        opacity = controls[3].slider(_("Mask opacity"), 0.0, 1.0, 0.55, 0.05, disabled=not show_mask,
                                     key="datasets_opacity", bind="query-params")
        show_boxes = controls[4].toggle(_("Show boxes"), value=dataset.has_masks, disabled=not dataset.has_masks,
                                        key="datasets_show_boxes")
        pictures = sample_pictures(dataset, dataset_key(dataset), split, int(count), int(page),
                                   bool(show_mask), float(opacity), bool(show_boxes), current_language())
        if not pictures:
            st.info(_("This split has no readable pictures."))
        if dataset.has_masks and show_mask:
            st.image(mask_legend_picture(dataset), caption=_("Mask colours (the background is left clear)"),
                     output_format="PNG")
        columns = st.columns(4)
        for i, (picture, caption) in enumerate(pictures):
            columns[i % 4].image(picture, caption=str(caption), width="stretch", output_format="PNG")

    sample_grid()

st.divider()
st.subheader(_("Check a picture of your own"))
st.caption(_("See how the lab reads a photo: orientation fixed, transparency flattened, huge photos shrunk. "
             "Nothing is stored."))
picture = image_upload(_("Upload a picture"), key="datasets_upload")
if picture is not None:
    cols = st.columns([1, 2])
    cols[0].image(picture, caption=_("{width} × {height} pixels, RGB").format(width=picture.shape[1], height=picture.shape[0]),
                  width="stretch")
    cols[1].success(_("This picture can be used everywhere in the lab."), icon=":material/check_circle:")
