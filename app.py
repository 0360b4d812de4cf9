"""Convnet Lab: the router. Page config, navigation, the shared sidebar, then the page."""

from pathlib import Path

import streamlit as st

from ui import install_streamlit_patches
from ui.sidebar import render_sidebar

# Reruns keep the Keras session; see ui/_streamlit_patches.py (every page script calls it too).
install_streamlit_patches()

# The tab icon is a file served by the app itself: a Material icon name makes the browser fetch it
# from a font server on the internet, which fails offline.
st.set_page_config(page_title="Convnet Lab", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                   layout="wide")

PAGES = {
    "Lab": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/tour.py", title="Chapter 9 tour", icon=":material/map:", url_path="tour"),
        st.Page("pages/datasets.py", title="Datasets", icon=":material/photo_library:"),
    ],
    "Architecture": [
        st.Page("pages/architecture_lab.py", title="Architecture lab", icon=":material/science:"),
        st.Page("pages/compare_runs.py", title="Compare runs", icon=":material/compare:"),
    ],
    "What convnets learn": [
        st.Page("pages/heatmaps.py", title="Heatmaps", icon=":material/local_fire_department:"),
        st.Page("pages/activations.py", title="Activations", icon=":material/layers:"),
        st.Page("pages/filters.py", title="Filters", icon=":material/blur_on:"),
    ],
    # A section is never named like one of its pages: a person (and a browser test) reading
    # "Segmentation" in the sidebar should find one thing to click.
    "Masks and boxes": [
        st.Page("pages/segmentation.py", title="Segmentation", icon=":material/category:"),
        st.Page("pages/mask_studio.py", title="Mask studio", icon=":material/brush:"),
        st.Page("pages/detection.py", title="Detection", icon=":material/center_focus_strong:"),
    ],
    "Niche tasks": [
        st.Page("pages/similarity.py", title="Similarity", icon=":material/join_inner:"),
        st.Page("pages/keypoints.py", title="Keypoints and pose", icon=":material/accessibility_new:"),
        st.Page("pages/keypoint_studio.py", title="Keypoint studio", icon=":material/ads_click:"),
    ],
}

page = st.navigation(PAGES, expanded=True)  # every page listed: more than ten would hide behind "View more"
render_sidebar()
page.run()
