"""Compare runs: overlaid curves, a comparison table and a config diff; run a whole grid of variants."""

import streamlit as st

from cv_core.plots.training import curves_figure, grid_summary_figure
from cv_core.runs import ACTIVE_STATES, list_runs, summarise_experiment
from cv_core.runs.compare import compare_table, config_diff
from ui.training import grid_form, run_actions

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
        finished = [r.id for r in runs if r.metrics][:4]
        chosen = st.multiselect("Runs", list(by_id), default=finished, key="compare_runs_chosen",
                                format_func=lambda rid: f"{by_id[rid].label} · {by_id[rid].state} · {rid}")
        selected = [by_id[rid] for rid in chosen]
        if not selected:
            st.info("Choose one or more runs to compare.")
        else:
            labels = {}
            for run in selected:  # unique legend names even for two runs of one variant
                name = run.label if run.label not in labels.values() else f"{run.label} [{run.id[-6:]}]"
                labels[run.id] = name
            data = {labels[r.id]: r.metrics for r in selected if r.metrics}
            if data:
                cols = st.columns(2)
                cols[0].plotly_chart(curves_figure(data, "accuracy", title="Training (solid) and validation (dashed) accuracy"),
                                     width="stretch", key="compare_runs_acc")
                cols[1].plotly_chart(curves_figure(data, "loss", title="Training (solid) and validation (dashed) loss"),
                                     width="stretch", key="compare_runs_loss")
            else:
                st.caption("None of these runs has finished an epoch yet.")
            st.subheader("Measured")
            st.dataframe(
                compare_table(selected), hide_index=True, width="stretch",
                column_config={
                    "params": st.column_config.NumberColumn("parameters", format="localized"),
                    "seconds_per_epoch": st.column_config.NumberColumn("s / epoch", format="%.1f"),
                    "best_val_accuracy": st.column_config.NumberColumn("best val acc", format="percent"),
                    "best_epoch": st.column_config.NumberColumn("at epoch"),
                    "test_accuracy": st.column_config.NumberColumn("test acc", format="percent"),
                    "gap": st.column_config.NumberColumn("train − val gap", format="percent",
                                                         help="Training minus validation accuracy at the best epoch"),
                },
            )
            diff = config_diff(selected)
            st.subheader("How their configurations differ")
            if diff:
                st.dataframe(diff, hide_index=True, width="stretch")
            else:
                st.caption("Same configuration." if len(selected) > 1 else "Choose two or more runs to see a diff.")
            run_actions(selected, "compare_runs")

with grid_tab:
    grid_form("compare_runs")
    experiments = []
    for run in runs:
        if run.spec is not None and run.spec.experiment_id and run.spec.experiment_id not in experiments:
            experiments.append(run.spec.experiment_id)
    for experiment in experiments:
        members = [r for r in runs if r.spec is not None and r.spec.experiment_id == experiment]
        done = sum(r.state == "completed" for r in members)
        active = sum(r.state in ACTIVE_STATES for r in members)
        with st.container(border=True):
            st.markdown(f"#### Experiment {experiment}")
            st.progress(done / len(members), text=f"{done} of {len(members)} runs completed"
                        + (f" · {active} queued or running" if active else ""))
            summary = summarise_experiment(members, experiment)
            if any(row["best_val_accuracy_mean"] is not None for row in summary):
                st.plotly_chart(grid_summary_figure(summary), width="stretch", key=f"compare_runs_grid_{experiment}")
            st.dataframe(
                [{k: v for k, v in row.items() if k not in ("conv_type", "batchnorm")} for row in summary],
                hide_index=True, width="stretch",
                column_config={c: st.column_config.NumberColumn(format="%.3f") for c in (
                    "best_val_accuracy_mean", "best_val_accuracy_std", "test_accuracy_mean", "test_accuracy_std",
                    "seconds_per_epoch_mean", "seconds_per_epoch_std")},
            )
