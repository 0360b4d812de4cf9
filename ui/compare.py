"""Compare-runs glue: the run picker, overlaid curves, the measured table, the config diff and grid summaries.

Both views re-read runs from disk and refresh themselves every few seconds while any run
they show (or could show) is queued or running, so new runs appear in the picker and a
grid fills in without a reload. Runs of different tasks are compared within their task:
each task's curves and scores are its own (accuracy for classification, mean IoU for
segmentation; ``Task.curves`` and ``Task.monitor``).
"""

from __future__ import annotations

import time

import streamlit as st

from cv_core.i18n import N_, _
from cv_core.plots.training import curves_figure, grid_summary_figure
from cv_core.runs import ACTIVE_STATES, RunInfo, Task, experiment_title, summarise_experiment
from cv_core.runs.labels import experiment_row_label
from cv_core.runs.compare import compare_table, config_diff
from ui.access import is_operator, policy
from ui.i18n import widget_key
from ui.run_panel import run_actions, show_action_message, visible_runs

REFRESH_SECONDS = 3.0
MAX_CHOSEN = 8
IDLE_REFRESH_SECONDS = 10.0
MISSING = "—"


def _refresh(runs: list[RunInfo]) -> float | None:
    return REFRESH_SECONDS if any(run.state in ACTIVE_STATES for run in runs) else None


def _legend_names(runs: list[RunInfo]) -> dict[str, str]:
    """Unique legend names, even for two runs of the same variant and seed."""
    names: dict[str, str] = {}
    for run in runs:
        names[run.id] = run.label if run.label not in names.values() else f"{run.label} [{run.id[-4:]}]"
    return names


#: A run's states as a person reads them (the state column shows them with _()).
_STATES_SHOWN = (N_("queued"), N_("running"), N_("completed"), N_("failed"), N_("cancelled"), N_("interrupted"))


def short_name(run: RunInfo) -> str:
    """A chip-sized name that never changes while the run trains: variant and seed, the time it
    was created, and the end of its id, e.g. "conv2d / none · seed 2 · 14:05 · 3e57". (A
    multiselect keeps its choice by these labels, so a label with the run's state in it
    would drop the run from the choice when the state changes.)"""
    label = run.label
    if run.spec is not None and run.spec.experiment_label:  # a grid run: its label has no seed
        label += _(" · seed {seed}").format(seed=run.spec.seed)
    created = run.status.get("created_at")
    when = time.strftime("%H:%M", time.localtime(created)) if isinstance(created, (int, float)) else ""
    return " · ".join(part for part in (label, when, run.id[-4:]) if part)


def whose_runs(prefix: str) -> bool:
    """The "My runs / All runs" switch; returns True for "my runs"."""
    default = "My runs" if policy().class_mode and not is_operator() else "All runs"
    options = [N_("My runs"), N_("All runs")]
    choice = st.segmented_control(_("Show"), options, default=default,
                                  key=widget_key(f"{prefix}_whose", options, _), format_func=_, bind="query-params",
                                  help=_("Runs started from this browser, or everyone's."))
    return (choice or default) == "My runs"


def _percent(value) -> str:
    return MISSING if value is None else f"{value:.1%}"


def _score(task: Task, value) -> str:
    return MISSING if value is None else task.format_score(value)


def _number(value, fmt: str = ",.0f") -> str:
    return MISSING if value is None else format(value, fmt)


def comparison_rows(runs: list[RunInfo]) -> list[dict]:
    """The measured table with people's column names; missing values read "—", never "None".

    The score columns are named after the runs' task (all of ``runs`` share one task):
    "best val. accuracy" for classification, "best val. mean IoU" for segmentation.
    """
    task = runs[0].task if runs else None
    name = _(task.metric_label if task else "accuracy")
    return [
        {
            _("run"): row["label"],
            _("state"): _(row["state"]),
            _("parameters"): _number(row["params"]),
            _("s / epoch"): _number(row["seconds_per_epoch"], ".1f"),
            _("best val. {metric}").format(metric=name): _score(task, row["best_score"]),
            _("at epoch"): _number(row["best_epoch"], "d"),
            _("test {metric}").format(metric=name): _score(task, row["test_score"]),
            _("train − val gap"): _score(task, row["gap"]),
            _("epochs done"): row["epochs"],
            "id": row["run"],
        }
        for row in compare_table(runs)
    ]


def by_task(runs: list[RunInfo]) -> dict[str, list[RunInfo]]:
    """The runs grouped by task, in the order their tasks first appear."""
    groups: dict[str, list[RunInfo]] = {}
    for run in runs:
        groups.setdefault(run.task.name, []).append(run)
    return groups


def runs_view(prefix: str) -> None:
    """The picker and the comparison of the chosen runs, kept up to date by themselves.

    The comparison refreshes every few seconds while a run is active (every
    ``IDLE_REFRESH_SECONDS`` otherwise). The picker stays still while it is open: it is
    redrawn only when the set of runs changes (a run started or deleted anywhere).
    """
    mine = whose_runs(prefix)
    show_action_message(prefix)  # what the last run button could not do (the run may be gone from the list)
    runs = visible_runs(mine_only=mine)
    if not runs:
        st.info(_("No runs yet. Train a variant in the Architecture lab, or run the grid."), icon=":material/info:")
        st.page_link("pages/architecture_lab.py", label=_("Open the Architecture lab"), icon=":material/science:")
    by_id = {run.id: run for run in runs}
    key = f"{prefix}_chosen"
    if key in st.session_state:  # drop runs deleted since, and say so unless this browser deleted them
        gone = [rid for rid in st.session_state[key] if rid not in by_id]
        if gone:
            st.session_state[key] = [rid for rid in st.session_state[key] if rid in by_id]
            elsewhere = [rid for rid in gone if rid not in st.session_state.get("training_deleted", ())]
            if elsewhere:
                names = ", ".join(f"`{rid}`" for rid in elsewhere)
                st.warning(_("Deleted from another browser or the command line since you chose them: {runs}.").format(
                    runs=names),
                           icon=":material/delete_forever:")
    # A default only while the picker has no value: a value set above and a default as well
    # make Streamlit log a warning.
    start = {} if key in st.session_state else {"default": [r.id for r in runs if r.metrics][:4]}
    chosen = []
    if runs:
        chosen = st.multiselect(_("Runs"), list(by_id), key=key, **start,
                                format_func=lambda rid: short_name(by_id[rid]), placeholder=_("Choose runs to compare"),
                                max_selections=MAX_CHOSEN,
                                help=_("Up to {count} runs: more curves than that on one chart cannot be told apart.")
                                .format(count=MAX_CHOSEN))

    @st.fragment(run_every=_refresh(runs) or IDLE_REFRESH_SECONDS)
    def view() -> None:
        fresh = visible_runs(mine_only=mine)
        if {run.id for run in fresh} != set(by_id) or (_refresh(fresh) is None) != (_refresh(runs) is None):
            st.rerun()  # runs appeared, went away, started or all finished: redraw the picker
        if chosen:
            latest = {run.id: run for run in fresh}
            show_comparison([latest[rid] for rid in chosen if rid in latest], prefix)
        elif runs:
            st.info(_("Choose one or more runs to compare."))

    view()


def task_curves(runs: list[RunInfo], prefix: str) -> None:
    """The task's charts for runs of one task (its main score, then the rest), two per row.

    ``prefix`` keys the charts ("<prefix>_acc", "<prefix>_loss", "<prefix>_mean_iou"...)."""
    names = _legend_names(runs)
    data = {names[r.id]: r.metrics for r in runs if r.metrics}
    if not data:
        st.caption(_("None of these runs has finished an epoch yet."))
        return
    task = runs[0].task
    curves = list(task.curves)
    for row in range(0, len(curves), 2):
        cols = st.columns(2)
        for col, (metric, title) in zip(cols, curves[row:row + 2]):
            short = {"accuracy": "acc"}.get(metric, metric)
            col.plotly_chart(curves_figure(data, metric, title=_(title)), width="stretch", key=f"{prefix}_{short}")


def show_comparison(runs: list[RunInfo], prefix: str) -> None:
    """Curves, the measured table, the configuration diff and actions for the chosen runs.

    Runs of one task share charts and a table scored by that task's metric; chosen runs of
    several tasks get one section per task.
    """
    groups = by_task(runs)
    for name, members in groups.items():
        task = members[0].task
        if len(groups) > 1:
            st.subheader(_("{task} runs, by {metric}").format(task=_(task.label), metric=_(task.metric_label)))
        task_curves(members, prefix if len(groups) == 1 else f"{prefix}_{name}")
        if len(groups) > 1:
            st.markdown(_("##### Measured"))
        else:
            st.subheader(_("Measured"))
        st.dataframe(comparison_rows(members), hide_index=True, width="stretch",
                     key=f"{prefix}_measured" if len(groups) == 1 else f"{prefix}_measured_{name}")
    st.subheader(_("How their configurations differ"))
    diff = config_diff(runs)
    if diff:
        st.dataframe(diff, hide_index=True, width="stretch", key=f"{prefix}_diff")
    else:
        st.caption(_("Same configuration.") if len(runs) > 1 else _("Choose two or more runs to see a diff."))
    run_actions(runs, prefix)


def experiment_ids(runs: list[RunInfo]) -> list[str]:
    """Grid experiments among ``runs``, newest first."""
    ids: list[str] = []
    for run in runs:
        if run.spec is not None and run.spec.experiment_id and run.spec.experiment_id not in ids:
            ids.append(run.spec.experiment_id)
    return ids


def summary_rows(summary: list[dict]) -> list[dict]:
    """A grid summary with people's column names: mean ± standard deviation, and the range."""
    from cv_core.runs import task_of

    def spread(row, metric, percent=True):
        mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
        if mean is None:
            return MISSING
        if percent:
            return f"{mean:.1%} ± {std * 100:.1f}"
        return f"{mean:.3f} ± {std:.3f}" if metric != "seconds_per_epoch" else f"{mean:.1f} ± {std:.1f}"

    def extent(row, metric, percent=True):
        low, high = row[f"{metric}_min"], row[f"{metric}_max"]
        if low is None:
            return MISSING
        return f"{low:.1%} – {high:.1%}" if percent else f"{low:.3f} – {high:.3f}"

    rows = []
    for row in summary:
        task = task_of(row.get("task"))
        name, percent = task.metric_label, task.score_format.endswith("%")
        name = _(name)
        rows.append({
            _("variant"): experiment_row_label(row),
            _("runs done"): _("{done} of {total}").format(done=row["completed"], total=row["runs"]),
            _("best val. {metric} (mean ± std)").format(metric=name): spread(row, "best_score", percent),
            _("best val. {metric} (range)").format(metric=name): extent(row, "best_score", percent),
            _("test {metric} (mean ± std)").format(metric=name): spread(row, "test_score", percent),
            _("s / epoch"): spread(row, "seconds_per_epoch", percent=False),
            _("seeds"): ", ".join(str(seed) for seed in row["seeds"]),
        })
    return rows


def experiments_view(prefix: str, mine: bool) -> None:
    """Every grid experiment, newest first, each with progress, a chart and a table; live."""
    runs = visible_runs(mine_only=mine)

    @st.fragment(run_every=_refresh(runs))
    def view() -> None:
        fresh = visible_runs(mine_only=mine)
        ids = experiment_ids(fresh)
        if not ids:
            st.caption(_("No grid experiments yet."))
        for experiment in ids:
            members = [r for r in fresh if r.spec is not None and r.spec.experiment_id == experiment]
            show_experiment(experiment, members, prefix)
        if (_refresh(fresh) is None) != (_refresh(runs) is None):
            st.rerun()

    view()


def show_experiment(experiment: str, members: list[RunInfo], prefix: str) -> None:
    """Progress, mean ± std chart and table of one grid experiment."""
    done = sum(r.state == "completed" for r in members)
    active = sum(r.state in ACTIVE_STATES for r in members)
    with st.container(border=True):
        st.markdown(f"#### {experiment_title(members)}")
        st.caption(_("Experiment `{experiment}`").format(experiment=experiment))
        progress = _("{done} of {total} runs completed").format(done=done, total=len(members))
        if active:
            progress = _("{done} of {total} runs completed · {active} queued or running").format(
                done=done, total=len(members), active=active)
        st.progress(done / max(1, len(members)), text=progress)
        summary = summarise_experiment(members, experiment)
        if any(row["best_score_mean"] is not None for row in summary):
            task = members[0].task
            shown = [{**row, "variant": experiment_row_label(row)} for row in summary]  # the reader's words
            figure = grid_summary_figure(shown, metric_label=task.metric_label,
                                         score_format=".0%" if task.score_format.endswith("%") else ".2f")
            st.plotly_chart(figure, width="stretch", key=f"{prefix}_grid_{experiment}")
        st.dataframe(summary_rows(summary), hide_index=True, width="stretch", key=f"{prefix}_summary_{experiment}")
