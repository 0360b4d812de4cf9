"""Datasets: choose a dataset (built in, a folder, or one made in the Mask studio), see its samples with masks
and boxes, its balance and its splits."""

import streamlit as st

from cv_core.datasets import SPLITS, USER_PREFIX
from cv_core.plots.data import class_balance_figure, split_sizes_figure
from ui import install_streamlit_patches
from ui.data import dataset_key, dataset_picker, mask_legend_picture, oxford_download_panel, sample_pictures
from ui.uploads import image_upload

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title("Datasets")
st.caption("Everything the lab trains on. Pick a dataset to see what is inside before you train on it.")

picker, overview = st.columns([1.25, 2.4], gap="large")
with picker:
    dataset = dataset_picker("datasets", user_datasets=True, bind=True)
    if st.session_state.get("datasets_dataset", "").startswith(USER_PREFIX):
        st.page_link("pages/mask_studio.py", label="Open it in the Mask studio", icon=":material/brush:")
    if st.session_state.get("datasets_dataset") == "oxford_pets":
        oxford_download_panel("datasets")

if dataset is not None:
    with overview:
        st.markdown(dataset.description)
        counts = {split: dataset.count(split) for split in SPLITS}
        metrics = st.columns(4)
        metrics[0].metric("Classes", len(dataset.class_names))
        for col, split in zip(metrics[1:], SPLITS):
            col.metric(f"{split.capitalize()} images", f"{counts[split]:,}")
        if dataset.skipped:
            st.warning(f"{dataset.skipped} file(s) could not be read and were skipped.", icon=":material/warning:")
            with st.expander("Skipped files"):
                st.code("\n".join(dataset.skipped_files))
        st.plotly_chart(split_sizes_figure(counts), width="stretch", key="datasets_splits_chart")

    st.plotly_chart(class_balance_figure({split: dataset.class_counts(split) for split in SPLITS},
                                         title=f"Class balance of {dataset.name}"),
                    width="stretch", key="datasets_balance_chart")

    @st.fragment
    def sample_grid():
        st.subheader("Samples")
        controls = st.columns([1.7, 1, 1, 1.3, 1])
        split = controls[0].segmented_control("Split", SPLITS, default="train", key="datasets_split",
                                              bind="query-params") or "train"
        count = controls[1].select_slider("How many", [4, 8, 12, 16, 24], 12, key="datasets_count",
                                          bind="query-params")
        page = controls[2].number_input("Start at", 0, max(0, dataset.count(split) - 1), 0, step=count,
                                        key="datasets_start", bind="query-params")
        show_mask = controls[3].toggle("Show masks", value=dataset.has_masks, disabled=not dataset.has_masks,
                                       key="datasets_show_mask")
        opacity = controls[3].slider("Mask opacity", 0.0, 1.0, 0.55, 0.05, disabled=not show_mask,
                                     key="datasets_opacity", bind="query-params")
        show_boxes = controls[4].toggle("Show boxes", value=dataset.has_masks, disabled=not dataset.has_masks,
                                        key="datasets_show_boxes")
        pictures = sample_pictures(dataset, dataset_key(dataset), split, int(count), int(page),
                                   bool(show_mask), float(opacity), bool(show_boxes))
        if not pictures:
            st.info("This split has no readable pictures.")
        if dataset.has_masks and show_mask:
            st.image(mask_legend_picture(dataset), caption="Mask colours (the background is left clear)", output_format="PNG")
        columns = st.columns(4)
        for i, (picture, caption) in enumerate(pictures):
            columns[i % 4].image(picture, caption=caption, width="stretch", output_format="PNG")

    sample_grid()

st.divider()
st.subheader("Check a picture of your own")
st.caption("See how the lab reads a photo: orientation fixed, transparency flattened, huge photos shrunk. "
           "Nothing is stored.")
picture = image_upload("Upload a picture", key="datasets_upload")
if picture is not None:
    cols = st.columns([1, 2])
    cols[0].image(picture, caption=f"{picture.shape[1]} × {picture.shape[0]} pixels, RGB", width="stretch")
    cols[1].success("This picture can be used everywhere in the lab.", icon=":material/check_circle:")
