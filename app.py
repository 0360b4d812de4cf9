"""Convnet Lab: the router. Page config, navigation, the shared sidebar, then the page."""

from pathlib import Path

import streamlit as st

from cv_core.i18n import _
from ui import install_streamlit_patches
from ui.sidebar import render_sidebar

# Reruns keep the Keras session; see ui/_streamlit_patches.py (every page script calls it too). It also
# settles the language (ui/i18n.py: ?lang=, the sidebar's switch, or the browser's language).
install_streamlit_patches()

# The tab icon is a file served by the app itself: a Material icon name makes the browser fetch it
# from a font server on the internet, which fails offline.
st.set_page_config(page_title="Convnet Lab", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                   layout="wide")

PAGES = {
    _("Lab"): [
        st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True),
        st.Page("pages/tour.py", title=_("Chapter 9 tour"), url_path="tour", icon=":material/map:"),
        st.Page("pages/datasets.py", title=_("Datasets"), url_path="datasets", icon=":material/photo_library:"),
    ],
    _("Architecture"): [
        st.Page("pages/architecture_lab.py", title=_("Architecture lab"), url_path="architecture_lab", icon=":material/science:"),
        st.Page("pages/compare_runs.py", title=_("Compare runs"), url_path="compare_runs", icon=":material/compare:"),
    ],
    _("What convnets learn"): [
        st.Page("pages/heatmaps.py", title=_("Heatmaps"), url_path="heatmaps", icon=":material/local_fire_department:"),
        st.Page("pages/activations.py", title=_("Activations"), url_path="activations", icon=":material/layers:"),
        st.Page("pages/filters.py", title=_("Filters"), url_path="filters", icon=":material/blur_on:"),
    ],
    # A section is never named like one of its pages: a person (and a browser test) reading
    # "Segmentation" in the sidebar should find one thing to click. Titles and sections are
    # translated; url_path is given so /segmentation is the same link in every language.
    _("Masks and boxes"): [
        st.Page("pages/segmentation.py", title=_("Segmentation"), url_path="segmentation", icon=":material/category:"),
        st.Page("pages/instances.py", title=_("Instance segmentation"), url_path="instances", icon=":material/interests:"),
        st.Page("pages/mask_studio.py", title=_("Mask studio"), url_path="mask_studio", icon=":material/brush:"),
        st.Page("pages/detection.py", title=_("Detection"), url_path="detection", icon=":material/center_focus_strong:"),
    ],
    _("Niche tasks"): [
        st.Page("pages/similarity.py", title=_("Similarity"), url_path="similarity", icon=":material/join_inner:"),
        st.Page("pages/keypoints.py", title=_("Keypoints and pose"), url_path="keypoints", icon=":material/accessibility_new:"),
        st.Page("pages/keypoint_studio.py", title=_("Keypoint studio"), url_path="keypoint_studio", icon=":material/ads_click:"),
    ],
}

page = st.navigation(PAGES, expanded=True)  # every page listed: more than ten would hide behind "View more"
render_sidebar()
page.run()
