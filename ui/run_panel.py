"""A run followed from a page: progress with ETA, live curves, final scores, and the run
actions (Cancel, Resume, Continue, Delete), for one run or a table of them.

Reads run folders only; training happens in worker processes. The followed run is kept in
the URL (``<prefix>_run``), so a reload keeps following it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cv_core.i18n import N_, _, ngettext
from cv_core.runs import (
    ACTIVE_STATES,
    RunInfo,
    RunStateError,
    SpecError,
    continue_run,
    default_runs_root,
    delete_run,
    list_runs,
    load_run,
    request_cancel,
    resume_run,
)
from cv_core.runs.compare import eta_seconds, format_seconds
from cv_core.runs.files import status_text
from cv_core.runs.folders import RunGoneError
from cv_core.runs.labels import variant_label
from cv_core.runs.jobs import CONTINUABLE_STATES, RESUMABLE_STATES, cancel_origin
from cv_core.runs.liveness import reconcile_run, run_dirs
from cv_core.plots.training import curves_spec
from cv_core.serving import AccessError
from ui.access import browser_id, is_operator, may_manage, policy
from ui.training import SMOKE_TEST_AFTER, dataset_label, flash, my_active_runs, smoke_test_note

STATE_ICONS = {
    "queued": ":material/hourglass_top:", "running": ":material/directions_run:",
    "completed": ":material/check_circle:", "failed": ":material/error:",
    "cancelled": ":material/cancel:", "interrupted": ":material/pause_circle:",
}


def follow_run(prefix: str, run_dir: Path) -> None:
    """Make the page's panel show ``run_dir`` (kept in the URL, so a reload keeps it)."""
    st.session_state[f"{prefix}_run"] = str(run_dir)
    st.query_params[f"{prefix}_run"] = Path(run_dir).name


def forget_run(prefix: str) -> None:
    """Stop following the page's run (a button's callback): the page then follows the newest."""
    st.session_state.pop(f"{prefix}_run", None)
    if f"{prefix}_run" in st.query_params:
        del st.query_params[f"{prefix}_run"]


def current_run(prefix: str, runs_root: str | None = None, task: str | None = None) -> Path | None:
    """The run this page follows.

    The one started or chosen here, or named in the URL, even when it has been deleted since
    (the panel then says so, rather than quietly showing another run); else the newest active
    run this browser may see, else the newest (of ``task`` if given). A run picked that way
    goes into the URL, so a reload keeps following it even if newer runs start meanwhile.
    """
    root = default_runs_root(runs_root)
    chosen = st.session_state.get(f"{prefix}_run")
    if chosen:
        return Path(chosen)
    named = st.query_params.get(f"{prefix}_run")
    if named and "/" not in named and not named.startswith(".") and "\x00" not in named:
        return root / named
    runs = [run for run in visible_runs(runs_root) if task is None or run.task.name == task]
    active = [run for run in runs if run.state in ACTIVE_STATES]
    picked = (active or runs or [None])[0]
    if picked is None:
        return None
    follow_run(prefix, picked.dir)
    return picked.dir


def visible_runs(runs_root: str | None = None, mine_only: bool | None = None) -> list[RunInfo]:
    """Runs to offer this browser: its own in class mode (unless the operator asks for all)."""
    runs = list_runs(runs_root)
    if mine_only is None:
        mine_only = policy().class_mode and not is_operator()
    if mine_only:
        me = browser_id()
        runs = [run for run in runs if run.owner == me]
    return runs


def _outcome_line(run: RunInfo) -> str:
    task = run.task
    parts = []
    if run.best_score is not None:
        parts.append(_("best validation {metric} {score}").format(metric=_(task.metric_label),
                                                                    score=task.format_score(run.best_score)))
    if run.test_score is not None:
        parts.append(_("test {metric} {score}").format(metric=_(task.metric_label),
                                                       score=task.format_score(run.test_score)))
    return _(", ").join(parts)


def _final_scores(run: RunInfo, prefix: str) -> None:
    """The task's final scores of the best model (per-class IoU and Dice for segmentation), if any."""
    from cv_core.runs import read_scores

    scores = read_scores(run.dir) if run.task.score_rows else None
    rows = run.task.score_rows(scores) if scores else []
    if rows:
        st.markdown(_("**The best model, class by class**"))
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{prefix}_scores_{run.id}")


def cancelled_text(origin: str, epochs: int) -> str:
    """A cancelled run's sentence in the reader's language, by where the cancel came from
    (``cancel_origin``: here, elsewhere, operator, outside, unknown), for ``epochs`` finished epochs."""
    if origin == "here":
        text = ngettext("Cancelled from this browser after {epochs} finished epoch.",
                        "Cancelled from this browser after {epochs} finished epochs.", epochs)
    elif origin == "elsewhere":
        text = ngettext("Cancelled from another browser after {epochs} finished epoch: someone else stopped this run.",
                        "Cancelled from another browser after {epochs} finished epochs: someone else stopped this run.",
                        epochs)
    elif origin == "operator":
        text = ngettext("Cancelled by the class's operator after {epochs} finished epoch.",
                        "Cancelled by the class's operator after {epochs} finished epochs.", epochs)
    elif origin == "outside":
        text = ngettext("Cancelled from outside the lab's pages (the command line or a script) after {epochs} "
                        "finished epoch.",
                        "Cancelled from outside the lab's pages (the command line or a script) after {epochs} "
                        "finished epochs.", epochs)
    else:
        text = ngettext("Cancelled after {epochs} finished epoch.", "Cancelled after {epochs} finished epochs.", epochs)
    return text.format(epochs=epochs)


#: A running run whose cancel was asked for, by where the cancel came from.
CANCELLING_TEXT = {
    "here": N_("Cancelling: it stops after the current batch."),
    "elsewhere": N_("Cancelling: someone in another browser asked for it, and it stops after the current batch."),
    "operator": N_("Cancelling: the class's operator asked for it, and it stops after the current batch."),
    "outside": N_("Cancelling: it was asked from outside the lab's pages (the command line or a script), and it "
                  "stops after the current batch."),
    "unknown": N_("Cancelling: it stops after the current batch."),
}
RESUME_NOTE = N_("Resume continues from the last finished epoch; its finished epochs are kept.")
#: Seconds between looks at a finished run's folder (was it deleted, resumed or cancelled elsewhere?).
WATCH_SECONDS = 3.0


def _origin(status: dict) -> str | None:
    """Where a cancel came from, as this browser tells it (the operator of a class has a name)."""
    origin = cancel_origin(status, browser_id())
    if origin == "elsewhere" and policy().class_mode and status.get("owner") == browser_id():
        return "operator"  # in class mode only the owner and the operator may cancel a run
    return origin


def _run_signature(run_dir: Path) -> tuple:
    """What a page must notice at once about a run: is it there, its state, a cancel asked for."""
    from cv_core.runs import read_status

    if not run_dir.is_dir():
        return (False,)
    status = read_status(run_dir)
    return True, status.get("state"), status.get("cancel_requested_at")


def _deleted_notice(run_dir: Path, prefix: str) -> None:
    """A followed run whose folder is gone: say so, with no run buttons, and offer to follow another."""
    if run_dir.name in st.session_state.get("training_deleted", ()):
        st.info(_("You deleted run `{run}`: its curves and checkpoints are gone.").format(run=run_dir.name),
                icon=":material/delete:")
    else:
        st.warning(_("Run `{run}` no longer exists: it was deleted from another browser or the command line, and its "
                     "curves and checkpoints went with it.").format(run=run_dir.name), icon=":material/delete_forever:")
    st.button(_("Show the newest run"), icon=":material/update:", key=f"{prefix}_forget_{run_dir.name}",
              on_click=forget_run, args=(prefix,))


def _watch(run_dir: Path, seen: tuple) -> None:
    """Rerun the page as soon as a finished run is deleted, resumed or cancelled elsewhere."""

    @st.fragment(run_every=WATCH_SECONDS)
    def watch() -> None:
        now = _run_signature(run_dir)
        if now != seen:
            if not now[0]:
                flash(_("The run this page follows was deleted from another browser or the command line."),
                      ":material/delete_forever:")
            st.rerun()

    watch()


def live_run_panel(run_dir: Path, prefix: str) -> None:
    """Progress bars with ETA, live curves and Cancel / Resume / Continue for one run.

    Refreshes itself every 2 seconds while the run is queued or running. Once it has
    finished, a light watcher looks at its folder every few seconds, so that a run deleted,
    cancelled or resumed from another browser shows as such at once. A run that no longer
    exists says so, without buttons.
    """
    reconcile_run(run_dir)  # before choosing the pace: a dead worker would otherwise cost a rerun
    seen = _run_signature(run_dir)
    refresh = 2.0 if seen[0] and seen[1] in ACTIVE_STATES else None

    @st.fragment(run_every=refresh)
    def panel() -> None:
        show_action_message(prefix)
        if not run_dir.is_dir():
            _deleted_notice(run_dir, prefix)
            if refresh is not None:
                flash(_("The run this page follows was deleted from another browser or the command line."),
                      ":material/delete_forever:")
                st.rerun()  # stop refreshing
            return
        reconcile_run(run_dir)  # a worker killed while we watch shows up as interrupted
        run = load_run(run_dir)
        from cv_core.runs import read_progress

        status, state, metrics, spec = run.status, run.state, run.metrics, run.spec
        progress = read_progress(run_dir) or {}
        title = run_dir.name
        allowed = may_manage(run)
        origin = _origin(status)
        st.markdown(_("#### {variant} · seed {seed}").format(variant=variant_label(spec.variant), seed=spec.seed) if spec
                    else _("#### Run `{run}`").format(run=title))
        if spec:
            st.caption(ngettext("Run `{run}` · {dataset} at {size} px, {epochs} epoch",
                                "Run `{run}` · {dataset} at {size} px, {epochs} epochs", spec.epochs).format(
                run=title, dataset=dataset_label(spec.dataset), size=spec.image_size, epochs=spec.epochs))
        else:
            st.caption(_("Run `{run}`").format(run=title))
        if spec is not None and spec.continues:
            from cv_core.runs import read_spec

            parent = read_spec(spec.continues)
            if parent is None or parent.dataset == spec.dataset:
                st.caption(_(":material/link: Continues run `{run}` from its final weights.").format(
                    run=Path(spec.continues).name))
            else:
                st.caption(_(":material/link: Fine-tunes the final weights of run `{run}` ({parent_dataset}) on "
                             "{dataset}.").format(run=Path(spec.continues).name, parent_dataset=parent.dataset,
                                                  dataset=dataset_label(spec.dataset)))
        message = status_text(status, "message")
        if state in ACTIVE_STATES and origin is not None:
            st.info(_(CANCELLING_TEXT[origin]), icon=STATE_ICONS["cancelled"])
        if state == "queued":
            st.info(_("Queued: it starts when the run before it finishes. {message}").format(message=message).strip(),
                    icon=STATE_ICONS["queued"])
        elif state == "running":
            epochs = progress.get("epochs") or status.get("epochs") or 1
            epoch = progress.get("epoch") or 0
            left = eta_seconds(status, progress, metrics)
            if left is None:
                text = _("Epoch {epoch} of {epochs} · {finished} finished · estimating the time left…")
            else:
                text = _("Epoch {epoch} of {epochs} · {finished} finished · about {left} left")
            st.progress(min(1.0, len(metrics) / epochs),
                        text=text.format(epoch=min(epoch, epochs), epochs=epochs, finished=len(metrics),
                                         left=format_seconds(left) if left is not None else ""))
            batches = progress.get("batches") or 0
            batch = progress.get("batch") or 0
            validating = progress.get("phase") == "validation"
            loss = progress.get("loss")
            if isinstance(loss, (int, float)):
                text = (_("Batch {batch} of {batches} (validating) · loss {loss}") if validating
                        else _("Batch {batch} of {batches} (training) · loss {loss}"))
            else:
                text = _("Batch {batch} of {batches} (validating)") if validating else _("Batch {batch} of {batches} (training)")
            st.progress(min(1.0, batch / batches) if batches else 0.0,
                        text=text.format(batch=batch, batches=batches or "?",
                                         loss=f"{loss:.3f}" if isinstance(loss, (int, float)) else ""))
            if allowed and origin is None:
                st.button(_("Cancel"), icon=":material/stop:", key=f"{prefix}_cancel_{title}", on_click=cancel_clicked,
                          args=(prefix, run_dir))
        elif state == "completed":
            st.success(_("Completed: {outcome}.").format(outcome=_outcome_line(run)), icon=STATE_ICONS["completed"])
            _final_scores(run, prefix)
            if spec is not None and spec.preset == "tiny":
                # The form above says the same with its Switch to Quick button, while it is on Tiny.
                smoke_test_note(spec, prefix, SMOKE_TEST_AFTER, offer_quick=False)
            if allowed:
                continue_controls(run, prefix)
        elif state == "failed":
            why = status_text(status, "error") or message
            st.error(_("Failed: {error}").format(error=why) if why else _("Failed: see worker.log in the run folder"),
                     icon=STATE_ICONS["failed"])
        elif state in RESUMABLE_STATES:
            if state == "cancelled":
                text = cancelled_text(origin or "unknown", len(metrics))
            else:
                text = ngettext("Interrupted after {epochs} finished epoch: its worker stopped.",
                                "Interrupted after {epochs} finished epochs: its worker stopped.",
                                len(metrics)).format(epochs=len(metrics))
            st.warning(_("{text} {note}").format(text=text, note=_(RESUME_NOTE)), icon=STATE_ICONS[state])
            if allowed:
                st.button(_("Resume"), icon=":material/play_arrow:", key=f"{prefix}_resume_{title}", on_click=resume_clicked,
                          args=(prefix, run_dir))
        if metrics:
            data = {_("this run"): metrics}
            curves = list(run.task.curves)
            for row in range(0, len(curves), 2):
                cols = st.columns(2)
                for col, (metric, name) in zip(cols, curves[row:row + 2]):
                    short = {"accuracy": "acc"}.get(metric, metric)
                    # Vega-Lite, not Plotly: the Train tab paints with the page (Plotly's script came seconds later).
                    col.vega_lite_chart(curves_spec(data, metric, title=_(name)), width="stretch",
                                        key=f"{prefix}_{short}_{title}")
        elif state in ACTIVE_STATES:
            st.caption(_("Curves appear when the first epoch ends."))
        if (state in ACTIVE_STATES) != (refresh is not None):
            if state == "cancelled" and origin in ("elsewhere", "operator", "outside"):
                flash(cancelled_text(origin, len(metrics)), STATE_ICONS["cancelled"])
            st.rerun()  # the run changed phase: switch auto-refresh on or off

    panel()
    if refresh is None and seen[0]:
        _watch(run_dir, seen)


def say_after_action(prefix: str, kind: str, text: str) -> None:
    """Keep a button callback's message for :func:`show_action_message` (``kind``: "error" or "info")."""
    st.session_state[f"{prefix}_action_message"] = (kind, text)


def show_action_message(prefix: str) -> None:
    """Show (once) what the last run button of this page could not do."""
    kind, text = st.session_state.pop(f"{prefix}_action_message", (None, None))
    if kind == "error":
        st.error(text, icon=":material/block:")
    elif kind == "info":
        st.info(text, icon=":material/delete_forever:")


def cancel_clicked(prefix: str, run_dir: Path) -> None:
    """Cancel: ask the run to stop, recording this browser as the one that asked (the panel then
    says "Cancelling")."""
    try:
        request_cancel(run_dir, by=browser_id())
    except RunGoneError as exc:
        say_after_action(prefix, "error", str(exc))


def resume_clicked(prefix: str, run_dir: Path) -> None:
    """Resume: put the run back in the queue with a new worker, if this browser may start one more."""
    try:
        policy().check_queue(my_active_runs(str(Path(run_dir).parent)), 1, operator=is_operator())
        resume_run(run_dir)
    except RunGoneError as exc:
        say_after_action(prefix, "error", _("It cannot be resumed. {reason}").format(reason=exc))
    except (RunStateError, AccessError) as exc:
        say_after_action(prefix, "error", str(exc))
    else:
        flash(_("Resuming from the last finished epoch."), ":material/play_arrow:")


def delete_clicked(prefix: str, run_dir: Path) -> None:
    """Delete, confirmed: remembered, so that a page following the run says "you deleted it"."""
    name = Path(run_dir).name
    try:
        delete_run(run_dir)
    except RunGoneError:
        say_after_action(prefix, "info", _("Run `{run}` was already deleted, from another browser or the command "
                                           "line.").format(run=name))
    except (RunStateError, OSError) as exc:
        say_after_action(prefix, "error", str(exc))
    else:
        st.session_state.setdefault("training_deleted", set()).add(name)
        flash(_("Deleted run `{run}`.").format(run=name), ":material/delete:")


def continue_controls(run: RunInfo, prefix: str) -> None:
    """"Continue for N more epochs": a new run, linked to this one, from its final weights."""
    if run.state not in CONTINUABLE_STATES:
        return
    cols = st.columns([1, 2], vertical_alignment="bottom")
    more = cols[0].number_input(_("More epochs"), 1, 500, max(1, run.spec.epochs if run.spec else 5),
                                key=f"{prefix}_more_{run.id}")
    if cols[1].button(_("Continue for more epochs"), icon=":material/fast_forward:", key=f"{prefix}_continue_{run.id}",
                      help=_("Starts a new run from this run's final weights, with a fresh optimizer and "
                             "learning-rate schedule over the new epochs. This run stays as it is.")):
        try:
            policy().check_queue(my_active_runs(str(run.dir.parent)), 1, operator=is_operator())
            new_dir = continue_run(run.dir, int(more), owner=browser_id())
        except (RunStateError, SpecError, AccessError) as exc:
            st.error(_("It cannot continue: {reason}").format(reason=exc), icon=":material/block:")
            return
        follow_run(prefix, new_dir)
        flash(ngettext("Continuing {run} for {epochs} more epoch as a new run.",
                       "Continuing {run} for {epochs} more epochs as a new run.", int(more)).format(
            run=run.label, epochs=int(more)), ":material/fast_forward:")
        st.rerun()


def active_runs_summary(runs_root: str | None = None) -> list[str]:
    """One line per queued or running run, for the sidebar ("yours" marked in class mode).

    Runs on every rerun of every page, so it reads each run's small status file and loads
    the rest (spec, metrics) only for the few runs that are active.
    """
    from cv_core.runs import read_progress, read_status

    lines = []
    me = browser_id() if policy().class_mode else None
    for path in run_dirs(default_runs_root(runs_root)):
        if read_status(path).get("state") not in ACTIVE_STATES:
            continue
        run = load_run(path)
        mine = me is not None and run.owner == me
        if run.state == "running":
            progress = read_progress(path) or {}
            line = _("{run} (yours): epoch {epoch}/{epochs}") if mine else _("{run}: epoch {epoch}/{epochs}")
            lines.append(line.format(run=run.label, epoch=progress.get("epoch", "?"), epochs=progress.get("epochs", "?")))
        elif run.state == "queued":
            lines.append((_("{run} (yours): queued") if mine else _("{run}: queued")).format(run=run.label))
    return lines


#: A cancelled run's line in "Manage these runs", by where the cancel came from.
CANCEL_NOTES = {
    "here": N_("Cancelled from this browser."),
    "elsewhere": N_("Cancelled from another browser."),
    "operator": N_("Cancelled by the class's operator."),
    "outside": N_("Cancelled from the command line or a script."),
}


def run_actions(runs: list[RunInfo], prefix: str) -> None:
    """Cancel, resume, continue or delete the chosen runs; delete asks for confirmation.

    A cancelled run says where the cancel came from; a run deleted meanwhile (from another
    browser) gives a clear message instead of an error.
    """
    show_action_message(prefix)
    with st.expander(_("Manage these runs")):
        for run in runs:
            cols = st.columns([3, 1, 1, 1])
            cols[0].markdown(_("{run} · **{state}** · `{id}`").format(run=run.label, state=_(run.state), id=run.id))
            note = CANCEL_NOTES.get(_origin(run.status) or "")
            if note:
                cols[0].caption(_(note))
            if not may_manage(run):
                cols[1].caption(_("started by another browser"))
                continue
            if run.state in ACTIVE_STATES:
                cols[1].button(_("Cancel"), key=f"{prefix}_cancel_{run.id}", on_click=cancel_clicked, args=(prefix, run.dir))
            if run.state in RESUMABLE_STATES:
                cols[2].button(_("Resume"), key=f"{prefix}_resume_{run.id}", on_click=resume_clicked, args=(prefix, run.dir))
            if run.state in CONTINUABLE_STATES:
                with cols[2].popover(_("Continue"), icon=":material/fast_forward:"):
                    continue_controls(run, prefix)
            if run.state not in ACTIVE_STATES:
                with cols[3].popover(_("Delete"), icon=":material/delete:"):
                    st.markdown(_("Delete `{run}` and its checkpoints for good?").format(run=run.id))
                    st.button(_("Yes, delete it"), type="primary", key=f"{prefix}_delete_{run.id}", on_click=delete_clicked,
                              args=(prefix, run.dir))
