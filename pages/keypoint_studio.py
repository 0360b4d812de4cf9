"""Keypoint studio: click the named points of a picture in order, save pictures and points into a
dataset of your own (a COCO keypoint file), and train the keypoints task on it."""

import streamlit as st

from cv_core.i18n import _
from ui import install_streamlit_patches
from ui.keypoint_studio import (
    annotator,
    dataset_chooser,
    import_export,
    keypoint_store,
    picture_source,
    saved_pictures,
    show_flash,
)

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Keypoint studio"))
st.caption(_("Make your own keypoint data: choose a skeleton, click its named points on a picture one after "
             "another, and save picture and points into a dataset of your own — a COCO keypoint file that other "
             "tools read too — that the keypoints task trains on as `userkp:<name>`."))
show_flash()

store = keypoint_store()
setup = st.columns([1, 1.3], gap="large")
with setup[0]:
    st.subheader(_("Dataset"))
    info = dataset_chooser(store)
if info is None:
    with setup[1]:
        st.info(_("Choose a dataset to save into, or create one: give it a name and a skeleton."),
                icon=":material/create_new_folder:")
    import_export(store, None)
    st.stop()

with setup[1]:
    st.subheader(_("Picture"))
    subject = picture_source(store, info)
if subject is not None:
    annotator(store, info, subject)
saved_pictures(store, info)
import_export(store, info)
