"""Chapter 9 tour: the chapter section by section, in the slides' order, each step with its paragraph
and the live piece of the lab (embedded, or linked with its state in the URL)."""

import streamlit as st

from cv_core.i18n import _
from ui import install_streamlit_patches
from ui.tour import current_step, navigation, show_step
from ui.training import show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Chapter 9 tour"))
st.caption(_("Chapter 9 of *Deep Learning with Python*, section by section in the slides' order: each step has one "
             "paragraph and the part of the lab that shows it, live. Previous step and Next step walk through it; "
             "the address bar keeps the step, so a link opens the same one."))
show_flash()

index = current_step()
navigation(index, "top")
st.divider()
show_step(index)
st.divider()
navigation(index, "bottom")
