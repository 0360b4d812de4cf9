"""Compare-runs glue: overlaid curves, the measured table, the config diff and grid summaries.

Each view re-reads its runs from disk and refreshes itself every few seconds while any of
them is still queued or running, so a comparison fills in as the runs train.
"""

from __future__ import annotations

import streamlit as st

from cv_core.plots.training import curves_figure, grid_summary_figure
from cv_core.runs import ACTIVE_STATES, RunInfo, list_runs, load_run, summarise_experiment
from cv_core.runs.compare import compare_table, config_diff
from ui.training import run_actions

REFRESH_SECONDS = 3.0


def _refresh(runs: list[RunInfo]) -> float | None:
    return REFRESH_SECONDS if any(run.state in ACTIVE_STATES for run in runs) else None


def _legend_names(runs: list[RunInfo]) -> dict[str, str]:
    """Unique legend names, even for two runs of the same variant and seed."""
    names: dict[str, str] = {}
    for run in runs:
        names[run.id] = run.label if run.label not in names.values() else f"{run.label} [{run.id[-4:]}]"
    return names


def show_comparison(runs: list[RunInfo], prefix: str) -> None:
    """Curves, the measured table, the configuration diff and actions for the chosen runs."""

    @st.fragment(run_every=_refresh(runs))
    def comparison() -> None:
        fresh = [load_run(run.dir) for run in runs if run.dir.exists()]
        names = _legend_names(fresh)
        data = {names[r.id]: r.metrics for r in fresh if r.metrics}
        if data:
            cols = st.columns(2)
            cols[0].plotly_chart(curves_figure(data, "accuracy", title="Training (solid) and validation (dashed) accuracy"),
                                 width="stretch", key=f"{prefix}_acc")
            cols[1].plotly_chart(curves_figure(data, "loss", title="Training (solid) and validation (dashed) loss"),
                                 width="stretch", key=f"{prefix}_loss")
        else:
            st.caption("None of these runs has finished an epoch yet.")
        st.subheader("Measured")
        st.dataframe(
            compare_table(fresh), hide_index=True, width="stretch",
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
        st.subheader("How their configurations differ")
        diff = config_diff(fresh)
        if diff:
            st.dataframe(diff, hide_index=True, width="stretch")
        else:
            st.caption("Same configuration." if len(fresh) > 1 else "Choose two or more runs to see a diff.")
        run_actions(fresh, prefix)

    comparison()


def experiment_ids(runs: list[RunInfo]) -> list[str]:
    """Grid experiments among ``runs``, newest first."""
    ids: list[str] = []
    for run in runs:
        if run.spec is not None and run.spec.experiment_id and run.spec.experiment_id not in ids:
            ids.append(run.spec.experiment_id)
    return ids


def show_experiment(experiment: str, members: list[RunInfo], prefix: str) -> None:
    """Progress, mean ± std chart and table of one grid experiment."""

    @st.fragment(run_every=_refresh(members))
    def experiment_view() -> None:
        fresh = list_runs(members[0].dir.parent, reconcile=False, experiment_id=experiment)
        done = sum(r.state == "completed" for r in fresh)
        active = sum(r.state in ACTIVE_STATES for r in fresh)
        with st.container(border=True):
            st.markdown(f"#### Experiment {experiment}")
            st.progress(done / max(1, len(fresh)), text=f"{done} of {len(fresh)} runs completed"
                        + (f" · {active} queued or running" if active else ""))
            summary = summarise_experiment(fresh, experiment)
            if any(row["best_val_accuracy_mean"] is not None for row in summary):
                st.plotly_chart(grid_summary_figure(summary), width="stretch", key=f"{prefix}_grid_{experiment}")
            st.dataframe(
                [{k: v for k, v in row.items() if k not in ("conv_type", "batchnorm")} for row in summary],
                hide_index=True, width="stretch",
                column_config={c: st.column_config.NumberColumn(format="%.3f") for c in (
                    "best_val_accuracy_mean", "best_val_accuracy_std", "test_accuracy_mean", "test_accuracy_std",
                    "seconds_per_epoch_mean", "seconds_per_epoch_std")},
            )

    experiment_view()
