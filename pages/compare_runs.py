"""Compare runs: overlaid curves, a comparison table and a config diff; run a whole grid of variants."""

import streamlit as st

from cv_core.i18n import N_, _
from ui import install_streamlit_patches
from ui.compare import experiments_view, runs_view, whose_runs
from ui.i18n import tabs
from ui.training import grid_form, show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Compare runs"))
st.caption(_("Put runs side by side — the book's figure 9.11 for any variants you trained — and run the "
             "chapter's comparison as a grid: convolution type × batch-norm placement × seeds."))
show_flash()

# The open tab is kept in the URL by its English name, in every language (ui.i18n.tabs).
compare_tab, grid_tab = tabs([N_("Runs"), N_("Run the grid")], key="compare_runs_tab")

if compare_tab.open:
    with compare_tab:
        runs_view("compare_runs")

if grid_tab.open:
    with grid_tab:
        grid_form("compare_runs")
        experiments_view("compare_runs_grid", mine=whose_runs("compare_runs_grid"))
