"""Compare runs: overlaid curves, a comparison table and a config diff; run a whole grid of variants."""

import streamlit as st

from cv_core.runs import list_runs
from ui.compare import experiment_ids, show_comparison, show_experiment
from ui.training import grid_form

st.title("Compare runs")
st.caption("Put runs side by side — the book's figure 9.11 for any variants you trained — and run the "
           "chapter's comparison as a grid: convolution type × batch-norm placement × seeds.")

runs = list_runs()
by_id = {run.id: run for run in runs}
compare_tab, grid_tab = st.tabs(["Runs", "Run the grid"])

with compare_tab:
    if not runs:
        st.info("No runs yet. Train a variant in the Architecture lab, or run the grid.", icon=":material/info:")
        st.page_link("pages/architecture_lab.py", label="Open the Architecture lab", icon=":material/science:")
    else:
        chosen = st.multiselect("Runs", list(by_id), default=[r.id for r in runs if r.metrics][:4],
                                key="compare_runs_chosen",
                                format_func=lambda rid: f"{by_id[rid].label} · {by_id[rid].state} · {rid}")
        if chosen:
            show_comparison([by_id[rid] for rid in chosen], "compare_runs")
        else:
            st.info("Choose one or more runs to compare.")

with grid_tab:
    grid_form("compare_runs")
    for experiment in experiment_ids(runs):
        show_experiment(experiment, [r for r in runs if r.spec and r.spec.experiment_id == experiment], "compare_runs")
