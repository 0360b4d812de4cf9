"""Training glue: the variant form, live run panels and run pickers. Reads run folders only."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cv_core.runs import (
    ACTIVE_STATES,
    BATCHNORMS,
    CONV_TYPES,
    PRESETS,
    SpecError,
    TrainSpec,
    default_runs_root,
    estimate_seconds,
    list_runs,
    load_run,
    preset_spec,
    read_metrics,
    read_progress,
    read_spec,
    read_status,
    read_test_metrics,
    request_cancel,
    resume_run,
    submit_run,
    validate_spec,
)
from cv_core.runs.compare import eta_seconds, format_seconds
from cv_core.runs.store import reconcile_run, run_dirs
from cv_core.plots.training import curves_figure
from ui.data import DATASET_LABELS, FOLDER_HINTS

CONV_LABELS = {"separable": "SeparableConv2D (depthwise separable)", "conv2d": "Conv2D (regular)"}
BN_LABELS = {
    "before_activation": "Before the activation (conv → BN → ReLU, the book's choice)",
    "after_activation": "After the activation (conv → ReLU → BN)",
    "none": "None",
}
MODEL_LABELS = {"mini_xception": "Mini-Xception (chapter 9)", "small_convnet": "Plain convnet (chapter 8 baseline)"}
PRESET_LABELS = {"tiny": "Tiny (seconds: a smoke test)", "quick": "Quick (CPU, minutes)",
                 "book": "Book (180 px, meant for a GPU)"}
STATE_ICONS = {
    "queued": ":material/hourglass_top:", "running": ":material/directions_run:",
    "completed": ":material/check_circle:", "failed": ":material/error:",
    "cancelled": ":material/cancel:", "interrupted": ":material/pause_circle:",
}


def parse_filters(text: str) -> tuple[int, ...]:
    """'32, 64, 128' -> (32, 64, 128). Raises SpecError with a friendly message otherwise."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError(f"Filters must be whole numbers separated by commas, e.g. 32, 64, 128. Received: {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise SpecError(f"Filters must be positive whole numbers, e.g. 32, 64, 128. Received: {text!r}")
    return values


def variant_form(prefix: str) -> TrainSpec | None:
    """Widgets for one training variant; returns its (unvalidated) spec, or None if a field is bad.

    Changing the preset resets the other fields to that preset's values.
    """
    preset = st.radio("Preset", [p for p in PRESET_LABELS if p in PRESETS], index=1,
                      format_func=PRESET_LABELS.get, key=f"{prefix}_preset")
    base = preset_spec(preset)
    k = f"{prefix}_{preset}"
    model = st.radio("Model", list(MODEL_LABELS), format_func=MODEL_LABELS.get, key=f"{k}_model", horizontal=True)
    is_xception = model == "mini_xception"
    conv_type = st.radio("Convolutions", CONV_TYPES, format_func=CONV_LABELS.get, key=f"{k}_conv",
                         disabled=not is_xception, horizontal=True)
    batchnorm = st.radio("Batch normalisation", BATCHNORMS, format_func=BN_LABELS.get, key=f"{k}_bn",
                         disabled=not is_xception)
    residual = st.toggle("Residual connections", value=True, key=f"{k}_residual", disabled=not is_xception)
    default_filters = base.filters if is_xception else (32, 64, 128, 256, 256)[: max(3, len(base.filters))]
    filters_text = st.text_input("Filters (the stem's width, then one block each)",
                                 ", ".join(str(f) for f in default_filters), key=f"{k}_{model}_filters")
    cols = st.columns(2)
    sizes = sorted({32, 48, 64, 96, 128, 160, 180, 224, base.image_size})
    image_size = cols[0].select_slider("Image size (px)", sizes, base.image_size, key=f"{k}_size")
    epochs = cols[1].number_input("Epochs", 1, 500, base.epochs, key=f"{k}_epochs")
    cols = st.columns(2)
    batch_size = cols[0].select_slider("Batch size", [8, 16, 32, 64, 128], base.batch_size, key=f"{k}_batch")
    learning_rate = cols[1].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], base.learning_rate,
                                          key=f"{k}_lr", format_func=lambda v: f"{v:g}")
    cols = st.columns(2)
    dropout = cols[0].select_slider("Dropout", [0.0, 0.25, 0.5], base.dropout_rate, key=f"{k}_dropout")
    seed = cols[1].number_input("Seed", 0, 10_000, 0, key=f"{k}_seed")
    augmentation = st.toggle("Data augmentation", base.augmentation, key=f"{k}_aug",
                             help="Random flips, rotations and zooms, as in the book.")
    dataset_names = ["shapes", "image_folder", "cats_vs_dogs", "oxford_pets"]
    dataset = st.selectbox("Dataset", dataset_names, index=dataset_names.index(base.dataset),
                           format_func=DATASET_LABELS.get, key=f"{k}_dataset")
    root = None
    options = dict(base.dataset_options) if dataset == "shapes" else {}
    if dataset == "shapes":
        options["image_size"] = int(image_size)  # draw the pictures at the training size
        options.setdefault("train_size", 2000)
        options.setdefault("validation_size", 500)
        options.setdefault("test_size", 500)
    else:
        root = st.text_input("Folder", key=f"{k}_root", placeholder=FOLDER_HINTS[dataset]).strip() or None
    try:
        filters = parse_filters(filters_text)
    except SpecError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    return base.replace(
        model=model, conv_type=conv_type, batchnorm=batchnorm, residual=bool(residual), filters=filters,
        image_size=int(image_size), epochs=int(epochs), batch_size=int(batch_size),
        learning_rate=float(learning_rate), augmentation=bool(augmentation), dropout_rate=float(dropout),
        seed=int(seed), dataset=dataset, dataset_root=root, dataset_options=options,
    )


def start_button(spec: TrainSpec, prefix: str, runs_root: str | None = None) -> Path | None:
    """Show the expected time and a Train button; validate and submit on click.

    Returns:
        The new run's folder when a run was submitted this rerun, else None. Impossible
        specs show their message instead.
    """
    try:
        seconds = estimate_seconds(spec)
        st.caption(f"Expected time on a 2-core CPU: about **{format_seconds(seconds)}** "
                   "(much less on a GPU). Training runs in the background; you can leave this page.")
    except Exception:  # an estimate is a nicety; the form's validation reports real problems
        pass
    if not st.button("Train", type="primary", icon=":material/play_arrow:", key=f"{prefix}_train"):
        return None
    try:
        validated = validate_spec(spec)
    except SpecError as exc:
        st.error(f"This run cannot start: {exc}", icon=":material/block:")
        return None
    run_dir = submit_run(validated, runs_root)
    st.session_state[f"{prefix}_run"] = str(run_dir)
    st.toast("Training started in the background.", icon=":material/rocket_launch:")
    return run_dir


def current_run(prefix: str, runs_root: str | None = None) -> Path | None:
    """The run this page follows: the one started here, else the newest active, else the newest."""
    chosen = st.session_state.get(f"{prefix}_run")
    if chosen and Path(chosen).exists():
        return Path(chosen)
    runs = list_runs(runs_root)
    for run in runs:
        if run.state in ACTIVE_STATES:
            return run.dir
    return runs[0].dir if runs else None


def live_run_panel(run_dir: Path, prefix: str) -> None:
    """Progress bars with ETA, live curves and Cancel/Resume for one run.

    Refreshes itself every 2 seconds while the run is queued or running, and stops
    refreshing once it has finished.
    """
    state = read_status(run_dir).get("state", "unknown")
    refresh = 2.0 if state in ACTIVE_STATES else None

    @st.fragment(run_every=refresh)
    def panel() -> None:
        reconcile_run(run_dir)  # a worker killed while we watch shows up as interrupted
        status = read_status(run_dir)
        state = status.get("state", "unknown")
        progress = read_progress(run_dir) or {}
        metrics = read_metrics(run_dir)
        title = run_dir.name
        spec = read_spec(run_dir)
        st.markdown(f"#### {spec.variant if spec else 'Run'} · seed {spec.seed if spec else '?'}")
        st.caption(f"Run `{title}`" + (f" · {spec.dataset} at {spec.image_size} px, {spec.epochs} epochs" if spec else ""))
        message = status.get("message") or ""
        if state == "queued":
            st.info("Queued: it starts when the run before it finishes. " + message, icon=STATE_ICONS["queued"])
        elif state == "running":
            epochs = progress.get("epochs") or status.get("epochs") or 1
            epoch = progress.get("epoch") or 0
            st.progress(min(1.0, len(metrics) / epochs),
                        text=f"Epoch {min(epoch, epochs)} of {epochs} · {len(metrics)} finished · "
                             f"about {format_seconds(eta_seconds(status, progress, metrics))} left")
            batches = progress.get("batches") or 0
            batch = progress.get("batch") or 0
            phase = "validating" if progress.get("phase") == "validation" else "training"
            loss = progress.get("loss")
            st.progress(min(1.0, batch / batches) if batches else 0.0,
                        text=f"Batch {batch} of {batches or '?'} ({phase})"
                             + (f" · loss {loss:.3f}" if isinstance(loss, (int, float)) else ""))
            if st.button("Cancel", icon=":material/stop:", key=f"{prefix}_cancel_{title}"):
                request_cancel(run_dir)
                st.toast("Cancelling after the current batch…")
        elif state == "completed":
            test = read_test_metrics(run_dir) or {}
            best = max((r.get("val_accuracy") or 0 for r in metrics), default=0)
            st.success(f"Completed: best validation accuracy {best:.1%}"
                       + (f", test accuracy {test['accuracy']:.1%}" if "accuracy" in test else "") + ".",
                       icon=STATE_ICONS["completed"])
        elif state == "failed":
            st.error(f"Failed: {status.get('error') or message or 'see worker.log in the run folder'}",
                     icon=STATE_ICONS["failed"])
        elif state == "cancelled":
            st.warning("Cancelled. Its finished epochs are kept.", icon=STATE_ICONS["cancelled"])
        elif state == "interrupted":
            st.warning(f"Interrupted after {len(metrics)} finished epoch(s): its worker stopped. "
                       "Resume continues from the last finished epoch.", icon=STATE_ICONS["interrupted"])
            if st.button("Resume", icon=":material/play_arrow:", key=f"{prefix}_resume_{title}"):
                resume_run(run_dir)
                st.rerun()
        if metrics:
            cols = st.columns(2)
            data = {"this run": metrics}
            cols[0].plotly_chart(curves_figure(data, "accuracy", title="Accuracy"), width="stretch",
                                 key=f"{prefix}_acc_{title}")
            cols[1].plotly_chart(curves_figure(data, "loss", title="Loss"), width="stretch",
                                 key=f"{prefix}_loss_{title}")
        elif state in ACTIVE_STATES:
            st.caption("Curves appear when the first epoch ends.")
        if (state in ACTIVE_STATES) != (refresh is not None):
            st.rerun()  # the run changed phase: switch auto-refresh on or off

    panel()


def active_runs_summary(runs_root: str | None = None) -> list[str]:
    """One line per queued or running run, for the sidebar.

    Runs on every rerun of every page, so it reads each run's small status file and loads
    the rest (spec, metrics) only for the few runs that are active.
    """
    lines = []
    for path in run_dirs(default_runs_root(runs_root)):
        if read_status(path).get("state") not in ACTIVE_STATES:
            continue
        run = load_run(path)
        if run.state == "running":
            progress = read_progress(path) or {}
            lines.append(f"{run.label}: epoch {progress.get('epoch', '?')}/{progress.get('epochs', '?')}")
        elif run.state == "queued":
            lines.append(f"{run.label}: queued")
    return lines


def run_actions(runs, prefix: str) -> None:
    """Cancel, resume or delete the chosen runs; delete asks for confirmation in a popover."""
    from cv_core.runs import delete_run, RunStateError

    with st.expander("Manage these runs"):
        for run in runs:
            cols = st.columns([3, 1, 1, 1])
            cols[0].markdown(f"{run.label} · **{run.state}** · `{run.id}`")
            if run.state in ACTIVE_STATES and cols[1].button("Cancel", key=f"{prefix}_cancel_{run.id}"):
                request_cancel(run.dir)
                st.rerun()
            if run.state == "interrupted" and cols[2].button("Resume", key=f"{prefix}_resume_{run.id}"):
                resume_run(run.dir)
                st.rerun()
            if run.state not in ACTIVE_STATES:
                with cols[3].popover("Delete", icon=":material/delete:"):
                    st.markdown(f"Delete `{run.id}` and its checkpoints for good?")
                    if st.button("Yes, delete it", type="primary", key=f"{prefix}_delete_{run.id}"):
                        try:
                            delete_run(run.dir)
                        except RunStateError as exc:
                            st.error(str(exc))
                        else:
                            st.rerun()


def grid_form(prefix: str) -> None:
    """The "run the grid" form: conv type × batch-norm placement × N seeds, queued as one experiment."""
    from cv_core.runs import submit_grid

    st.markdown("Six variants — **Conv2D or SeparableConv2D** × **batch norm before, after or without the "
                "activation** — each trained with several seeds on the same data, so that the differences "
                "you see are measured, with their spread, not asserted.")
    cols = st.columns(3)
    preset = cols[0].selectbox("Preset", [p for p in PRESET_LABELS if p in PRESETS], index=1,
                               format_func=PRESET_LABELS.get, key=f"{prefix}_grid_preset")
    seeds = cols[1].number_input("Seeds per variant", 1, 5, 2, key=f"{prefix}_grid_seeds")
    epochs = cols[2].number_input("Epochs", 1, 200, preset_spec(preset).epochs, key=f"{prefix}_grid_{preset}_epochs")
    base = preset_spec(preset, epochs=int(epochs))
    root = None
    if base.dataset != "shapes":
        root = st.text_input("Folder of the dataset", key=f"{prefix}_grid_root",
                             placeholder=FOLDER_HINTS.get(base.dataset, "")).strip() or None
        base = base.replace(dataset_root=root)
    total = 6 * int(seeds)
    try:
        per_run = estimate_seconds(base)
        st.caption(f"{total} runs, one at a time: about **{format_seconds(per_run * total)}** on a 2-core CPU.")
    except Exception:
        pass
    if st.button("Run the grid", type="primary", icon=":material/grid_view:", key=f"{prefix}_grid_go"):
        try:
            validate_spec(base)
            experiment = submit_grid(base, seeds=tuple(range(int(seeds))))
        except SpecError as exc:
            st.error(f"The grid cannot start: {exc}", icon=":material/block:")
        else:
            st.success(f"Queued experiment {experiment}: {total} runs. They train one after another in the background.")
