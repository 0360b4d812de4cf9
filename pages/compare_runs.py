"""Compare runs: overlaid curves, a comparison table and a config diff; run a whole grid of variants."""

import streamlit as st

from ui import install_streamlit_patches
from ui.compare import experiments_view, runs_view, whose_runs
from ui.training import grid_form, show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title("Compare runs")
st.caption("Put runs side by side — the book's figure 9.11 for any variants you trained — and run the "
           "chapter's comparison as a grid: convolution type × batch-norm placement × seeds.")
show_flash()

compare_tab, grid_tab = st.tabs(["Runs", "Run the grid"], key="compare_runs_tab", bind="query-params")

if compare_tab.open:
    with compare_tab:
        runs_view("compare_runs")

if grid_tab.open:
    with grid_tab:
        grid_form("compare_runs")
        experiments_view("compare_runs_grid", mine=whose_runs("compare_runs_grid"))
