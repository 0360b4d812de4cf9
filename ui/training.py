"""Training glue: the variant form, the Train button, live run panels and run actions.

Reads run folders only; training happens in worker processes. The form's widgets are
bound to the URL (``bind="query-params"``), so a reload or a shared link restores them.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from cv_core.runs import (
    ACTIVE_STATES,
    BATCHNORMS,
    CONV_TYPES,
    LR_SCHEDULES,
    OPTIMIZERS,
    PRESETS,
    RunInfo,
    RunStateError,
    SpecError,
    Task,
    TrainSpec,
    continue_run,
    dataset_names,
    default_runs_root,
    delete_run,
    estimate_seconds,
    list_runs,
    load_run,
    preset_spec,
    request_cancel,
    resume_run,
    submit_grid,
    submit_run,
    task_of,
    validate_spec,
)
from cv_core.runs.compare import eta_seconds, format_seconds
from cv_core.runs.jobs import CONTINUABLE_STATES, RESUMABLE_STATES
from cv_core.runs.liveness import reconcile_run, run_dirs
from cv_core.datasets import DATASETS, USER_PREFIX, DatasetError, UserMaskDataset, UserMaskStore
from cv_core.datasets.shapes import DIFFICULTIES
from cv_core.plots.training import curves_figure
from cv_core.serving import AccessError
from ui.access import browser_id, is_operator, may_manage, policy
from ui.data import DATASET_LABELS, FOLDER_HINTS, folder_problem, load_dataset

CONV_LABELS = {"separable": "SeparableConv2D", "conv2d": "Conv2D"}
CONV_CAPTIONS = {"separable": "depthwise separable: the mini-Xception's choice", "conv2d": "regular 3 × 3 convolutions"}
BN_LABELS = {"before_activation": "Before the activation", "after_activation": "After the activation", "none": "None"}
BN_CAPTIONS = {"before_activation": "conv → BN → ReLU, the book's choice", "after_activation": "conv → ReLU → BN",
               "none": "no batch normalisation"}
PRESET_LABELS = {"tiny": "Tiny", "quick": "Quick", "book": "Book"}
PRESET_CAPTIONS = {"tiny": "seconds: a smoke test", "quick": "about 3 minutes on a CPU: the recommended start",
                   "book": "the book's settings at 180 px: meant for a GPU"}
#: What a preset means for the other tasks (the presets change with the task: see ``Task.presets``).
TASK_PRESET_CAPTIONS = {
    "segmentation": {"quick": "a U-Net on shapes at 48 px, minutes on a CPU: the recommended start",
                     "book": "the book's model on Oxford pets at 200 px: meant for a GPU"},
    "detection": {"quick": "64 px easy shapes, about 1.5 minutes on a CPU: the recommended start",
                  "book": "Oxford pets' head boxes at 128 px: meant for a GPU"},
}
OPTIMIZER_LABELS = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Warm-up, then cosine decay"}
STATE_ICONS = {
    "queued": ":material/hourglass_top:", "running": ":material/directions_run:",
    "completed": ":material/check_circle:", "failed": ":material/error:",
    "cancelled": ":material/cancel:", "interrupted": ":material/pause_circle:",
}
#: Fixed number of image classes of the datasets that have one (an image folder has one per
#: sub-folder), so a classifier's anatomy shows before a folder is typed.
FIXED_CLASSES = {"shapes": 5, "cats_vs_dogs": 2, "oxford_pets": 2}
MAX_TEXT = 300  # characters in a typed filters list or folder path


def parse_filters(text: str) -> tuple[int, ...]:
    """'32, 64, 128' -> (32, 64, 128). Raises SpecError with a friendly message otherwise."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError("Filters must be whole numbers separated by commas, e.g. 32, 64, 128. "
                        f"Received: {_shorten(text)!r}") from None
    if not values or any(v <= 0 for v in values):
        raise SpecError(f"Filters must be positive whole numbers, e.g. 32, 64, 128. Received: {_shorten(text)!r}")
    if len(values) > 12:
        raise SpecError(f"At most 12 blocks, please (each one halves the image). Received {len(values)}.")
    return values


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def flash(message: str, icon: str = ":material/check_circle:") -> None:
    """Show ``message`` as a toast after the next rerun (a toast sent before ``st.rerun`` is lost)."""
    st.session_state.setdefault("training_flash", []).append((message, icon))


def show_flash() -> None:
    """Show the toasts queued by :func:`flash`."""
    for message, icon in st.session_state.pop("training_flash", []):
        st.toast(message, icon=icon)


def dataset_choices(task: Task) -> list[str]:
    """The datasets a person may train ``task`` on: the registered ones that qualify (by their
    classes' ``has_masks`` / ``has_boxes``), then the user mask datasets where those qualify."""
    names = dataset_names(task)
    if task.accepts(UserMaskDataset):
        try:
            names += [USER_PREFIX + name for name in UserMaskStore().list_datasets()]
        except (OSError, DatasetError):  # an unreadable data folder: the built-in ones still work
            pass
    return names


def dataset_label(name: str) -> str:
    """"Shapes (built in)", or "Your masks: cats" for ``user:cats``."""
    if name.startswith(USER_PREFIX):
        return f"Your masks: {name[len(USER_PREFIX):]}"
    return DATASET_LABELS.get(name, name)


def variant_form(prefix: str, task: str = "classification") -> TrainSpec | None:
    """Widgets for one training variant of ``task``; returns its (unvalidated) spec, or None if a field is bad.

    The models, the options they take and the datasets that qualify come from the task
    table (:data:`cv_core.runs.TASKS`). Changing the preset switches to that preset's values.
    Every widget is bound to the URL.
    """
    presets = [p for p in PRESET_LABELS if p in PRESETS]
    preset = st.radio("Preset", presets, index=presets.index("quick"), format_func=PRESET_LABELS.get,
                      captions=[TASK_PRESET_CAPTIONS.get(task, {}).get(p, PRESET_CAPTIONS[p]) for p in presets],
                      key=f"{prefix}_preset", bind="query-params")
    base = preset_spec(preset, task=task)
    table = task_of(task)
    k = f"{prefix}_{preset}"
    bound = {"bind": "query-params"}
    architectures = list(table.architectures)
    model = st.radio("Model", architectures, index=architectures.index(base.model),
                     format_func=lambda name: table.architectures[name].label, key=f"{k}_model", horizontal=True,
                     **bound)
    architecture = table.architectures[model]
    offered = {option for a in table.architectures.values() for option in a.options}
    uses = set(architecture.options)
    conv_type, batchnorm, residual = base.conv_type, base.batchnorm, base.residual
    if "conv_type" in offered:
        conv_type = st.radio("Convolutions", CONV_TYPES, index=CONV_TYPES.index(base.conv_type),
                             format_func=CONV_LABELS.get, key=f"{k}_conv", captions=[CONV_CAPTIONS[c] for c in CONV_TYPES],
                             disabled="conv_type" not in uses, **bound)
    if "batchnorm" in offered:
        batchnorm = st.radio("Batch normalisation", BATCHNORMS, format_func=BN_LABELS.get, key=f"{k}_bn",
                             captions=[BN_CAPTIONS[b] for b in BATCHNORMS], disabled="batchnorm" not in uses, **bound)
    if "residual" in offered:
        residual = st.toggle("Residual connections", value=True, key=f"{k}_residual", disabled="residual" not in uses,
                             **bound)
    default_filters = base.filters if model == base.model else architecture.default_filters[:max(3, len(base.filters))]
    filters_text = st.text_input(table.filters_label, ", ".join(str(f) for f in default_filters),
                                 key=f"{k}_{model}_filters",
                                 max_chars=MAX_TEXT, **bound)
    cols = st.columns(2)
    sizes = sorted({32, 48, 64, 96, 128, 160, 180, 224, base.image_size})
    image_size = cols[0].select_slider("Image size (px)", sizes, base.image_size, key=f"{k}_size", **bound)
    epochs = cols[1].number_input("Epochs", 1, 500, base.epochs, key=f"{k}_epochs", **bound)
    cols = st.columns(2)
    batch_size = cols[0].select_slider("Batch size", [8, 16, 32, 64, 128], base.batch_size, key=f"{k}_batch", **bound)
    rates = sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, base.learning_rate})
    learning_rate = cols[1].select_slider("Learning rate", rates, base.learning_rate, key=f"{k}_lr",
                                          format_func=lambda v: f"{v:g}", **bound)
    cols = st.columns(2)
    optimizer = cols[0].selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(base.optimizer),
                                  format_func=OPTIMIZER_LABELS.get, key=f"{k}_optimizer", **bound)
    schedule = cols[1].selectbox("Learning-rate schedule", LR_SCHEDULES, index=LR_SCHEDULES.index(base.lr_schedule),
                                 format_func=SCHEDULE_LABELS.get, key=f"{k}_schedule", **bound)
    cols = st.columns(2)
    dropout = base.dropout_rate
    if "dropout_rate" in offered:
        dropout = cols[0].select_slider("Dropout", [0.0, 0.25, 0.5], base.dropout_rate, key=f"{k}_dropout",
                                        disabled="dropout_rate" not in uses, **bound)
        seed_column = cols[1]
    else:
        seed_column = cols[0]
    seed = seed_column.number_input("Seed", 0, 10_000, 0, key=f"{k}_seed", **bound)
    augmentation = st.toggle("Data augmentation", base.augmentation, key=f"{k}_aug", help=table.augmentation, **bound)
    dataset_names_ = dataset_choices(table)
    if base.dataset not in dataset_names_:
        dataset_names_.insert(0, base.dataset)
    dataset = st.selectbox("Dataset", dataset_names_, index=dataset_names_.index(base.dataset),
                           format_func=dataset_label, key=f"{k}_dataset", **bound)
    root = None
    options = dict(base.dataset_options) if dataset == "shapes" else {}
    if dataset == "shapes":
        levels = list(DIFFICULTIES)
        difficulty = st.selectbox("Difficulty of the shapes", levels,
                                  index=levels.index(options.get("difficulty", "hard")), key=f"{k}_difficulty",
                                  format_func=str.capitalize, **bound,
                                  help="Easy: one shape on a faint texture. Hard: distractor shapes, clutter, "
                                       "occluding bars, strong textures and noise.")
        options["difficulty"] = difficulty
        options["image_size"] = int(image_size)  # draw the pictures at the training size
        options.setdefault("train_size", 2000)
        options.setdefault("validation_size", 500)
        options.setdefault("test_size", 500)
    elif dataset.startswith(USER_PREFIX):
        root = str(UserMaskStore().root)  # the lab's own data folder, pinned for the worker
    else:
        root = st.text_input("Folder", key=f"{k}_root", placeholder=FOLDER_HINTS[dataset], max_chars=MAX_TEXT,
                             **bound).strip() or None
        if root is not None:
            try:
                policy().check_folder(root, operator=is_operator())
            except AccessError as exc:
                st.error(str(exc), icon=":material/folder_off:")
                return None
            problem = folder_problem(dataset, root)
            if problem:
                st.warning(problem, icon=":material/folder_off:")
    try:
        filters = parse_filters(filters_text)
    except SpecError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    return base.replace(
        model=model, conv_type=conv_type, batchnorm=batchnorm, residual=bool(residual), filters=filters,
        image_size=int(image_size), epochs=int(epochs), batch_size=int(batch_size),
        learning_rate=float(learning_rate), optimizer=optimizer, lr_schedule=schedule,
        augmentation=bool(augmentation), dropout_rate=float(dropout),
        seed=int(seed), dataset=dataset, dataset_root=root, dataset_options=options,
    )


def class_count(spec: TrainSpec) -> tuple[int | None, str | None]:
    """The width of the spec's model output for its dataset (``Task.num_classes``), or None
    with the reason it is unknown (a folder not typed yet, a folder that cannot be opened)."""
    task = task_of(spec)
    needs_folder = spec.dataset in DATASETS and DATASETS[spec.dataset][1]
    if task.name == "classification" and spec.dataset in FIXED_CLASSES and \
            not (spec.dataset == "oxford_pets" and spec.dataset_options.get("labels")):
        return FIXED_CLASSES[spec.dataset], None
    if needs_folder and not spec.dataset_root:
        return None, f"Type the folder of your images: the model's last layer has one unit per class. " \
                     f"{FOLDER_HINTS.get(spec.dataset, '')}"
    try:
        return task.num_classes(load_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)), None
    except Exception as exc:  # DatasetError, and anything odd about a typed path
        return None, str(exc)


def my_active_runs(runs_root: str | None) -> int:
    from cv_core.runs import read_status

    me = browser_id()
    statuses = (read_status(path) for path in run_dirs(default_runs_root(runs_root)))
    return sum(1 for status in statuses if status.get("owner") == me and status.get("state") in ACTIVE_STATES)


def start_button(spec: TrainSpec, prefix: str, runs_root: str | None = None) -> Path | None:
    """Show the expected time and a Train button; validate and submit on click.

    Returns:
        The new run's folder when a run was submitted this rerun (the app then reruns, so
        the sidebar and the panel pick it up), else None. Impossible specs show their
        message instead.
    """
    try:
        seconds = estimate_seconds(spec)
        st.caption(f"Expected time on a 2-core CPU: about **{format_seconds(seconds)}** "
                   "(much less on a GPU). Training runs in the background; you can leave this page.")
    except Exception:  # an estimate is a nicety; the validation below reports real problems
        pass
    if not st.button("Train", type="primary", icon=":material/play_arrow:", key=f"{prefix}_train"):
        return None
    try:
        validated = validate_spec(spec)
        policy().check_queue(my_active_runs(runs_root), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(f"This run cannot start: {exc}", icon=":material/block:")
        return None
    run_dir = submit_run(validated, runs_root, owner=browser_id())
    follow_run(prefix, run_dir)
    flash("Training started in the background.", ":material/rocket_launch:")
    st.rerun()
    return run_dir  # pragma: no cover - st.rerun does not return


def follow_run(prefix: str, run_dir: Path) -> None:
    """Make the page's panel show ``run_dir`` (kept in the URL, so a reload keeps it)."""
    st.session_state[f"{prefix}_run"] = str(run_dir)
    st.query_params[f"{prefix}_run"] = Path(run_dir).name


def current_run(prefix: str, runs_root: str | None = None, task: str | None = None) -> Path | None:
    """The run this page follows: the one started or chosen here (or named in the URL),
    else the newest active run this browser may see, else the newest (of ``task`` if given)."""
    root = default_runs_root(runs_root)
    chosen = st.session_state.get(f"{prefix}_run")
    if chosen and Path(chosen).exists():
        return Path(chosen)
    named = st.query_params.get(f"{prefix}_run")
    if named and "/" not in named and not named.startswith(".") and (root / named).is_dir():
        return root / named
    runs = [run for run in visible_runs(runs_root) if task is None or run.task.name == task]
    for run in runs:
        if run.state in ACTIVE_STATES:
            return run.dir
    return runs[0].dir if runs else None


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
        parts.append(f"best validation {task.metric_label} {task.format_score(run.best_score)}")
    if run.test_score is not None:
        parts.append(f"test {task.metric_label} {task.format_score(run.test_score)}")
    return ", ".join(parts)


def _final_scores(run: RunInfo, prefix: str) -> None:
    """The task's final scores of the best model (per-class IoU and Dice for segmentation), if any."""
    from cv_core.runs import read_scores

    scores = read_scores(run.dir) if run.task.score_rows else None
    rows = run.task.score_rows(scores) if scores else []
    if rows:
        st.markdown("**The best model, class by class**")
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{prefix}_scores_{run.id}")


def live_run_panel(run_dir: Path, prefix: str) -> None:
    """Progress bars with ETA, live curves and Cancel / Resume / Continue for one run.

    Refreshes itself every 2 seconds while the run is queued or running, and stops
    refreshing once it has finished.
    """
    state = load_run(run_dir).state
    refresh = 2.0 if state in ACTIVE_STATES else None

    @st.fragment(run_every=refresh)
    def panel() -> None:
        reconcile_run(run_dir)  # a worker killed while we watch shows up as interrupted
        run = load_run(run_dir)
        from cv_core.runs import read_progress

        status, state, metrics, spec = run.status, run.state, run.metrics, run.spec
        progress = read_progress(run_dir) or {}
        title = run_dir.name
        allowed = may_manage(run)
        st.markdown(f"#### {spec.variant if spec else 'Run'} · seed {spec.seed if spec else '?'}")
        st.caption(f"Run `{title}`" + (f" · {spec.dataset} at {spec.image_size} px, {spec.epochs} epochs" if spec else ""))
        if spec is not None and spec.continues:
            from cv_core.runs import read_spec

            parent = read_spec(spec.continues)
            if parent is None or parent.dataset == spec.dataset:
                st.caption(f":material/link: Continues run `{Path(spec.continues).name}` from its final weights.")
            else:
                st.caption(f":material/link: Fine-tunes the final weights of run `{Path(spec.continues).name}` "
                           f"({parent.dataset}) on {dataset_label(spec.dataset)}.")
        message = status.get("message") or ""
        if state == "queued":
            st.info("Queued: it starts when the run before it finishes. " + message, icon=STATE_ICONS["queued"])
        elif state == "running":
            epochs = progress.get("epochs") or status.get("epochs") or 1
            epoch = progress.get("epoch") or 0
            left = format_seconds(eta_seconds(status, progress, metrics), unknown="estimating…")
            st.progress(min(1.0, len(metrics) / epochs),
                        text=f"Epoch {min(epoch, epochs)} of {epochs} · {len(metrics)} finished · "
                             + (left if left == "estimating…" else f"about {left} left"))
            batches = progress.get("batches") or 0
            batch = progress.get("batch") or 0
            phase = "validating" if progress.get("phase") == "validation" else "training"
            loss = progress.get("loss")
            st.progress(min(1.0, batch / batches) if batches else 0.0,
                        text=f"Batch {batch} of {batches or '?'} ({phase})"
                             + (f" · loss {loss:.3f}" if isinstance(loss, (int, float)) else ""))
            if allowed and st.button("Cancel", icon=":material/stop:", key=f"{prefix}_cancel_{title}"):
                request_cancel(run_dir)
                st.toast("Cancelling after the current batch…")
        elif state == "completed":
            st.success(f"Completed: {_outcome_line(run)}.", icon=STATE_ICONS["completed"])
            _final_scores(run, prefix)
            if allowed:
                continue_controls(run, prefix)
        elif state == "failed":
            st.error(f"Failed: {status.get('error') or message or 'see worker.log in the run folder'}",
                     icon=STATE_ICONS["failed"])
        elif state in RESUMABLE_STATES:
            why = "it was cancelled" if state == "cancelled" else "its worker stopped"
            st.warning(f"{state.capitalize()} after {len(metrics)} finished epoch(s): {why}. "
                       "Resume continues from the last finished epoch; its finished epochs are kept.",
                       icon=STATE_ICONS[state])
            if allowed and st.button("Resume", icon=":material/play_arrow:", key=f"{prefix}_resume_{title}"):
                _resume(run)
        if metrics:
            data = {"this run": metrics}
            curves = list(run.task.curves)
            for row in range(0, len(curves), 2):
                cols = st.columns(2)
                for col, (metric, name) in zip(cols, curves[row:row + 2]):
                    short = {"accuracy": "acc"}.get(metric, metric)
                    col.plotly_chart(curves_figure(data, metric, title=name), width="stretch",
                                     key=f"{prefix}_{short}_{title}")
        elif state in ACTIVE_STATES:
            st.caption("Curves appear when the first epoch ends.")
        if (state in ACTIVE_STATES) != (refresh is not None):
            st.rerun()  # the run changed phase: switch auto-refresh on or off

    panel()


def _resume(run: RunInfo) -> None:
    try:
        policy().check_queue(my_active_runs(str(run.dir.parent)), 1, operator=is_operator())
        resume_run(run.dir)
    except (RunStateError, AccessError) as exc:
        st.error(str(exc), icon=":material/block:")
        return
    flash("Resuming from the last finished epoch.", ":material/play_arrow:")
    st.rerun()


def continue_controls(run: RunInfo, prefix: str) -> None:
    """"Continue for N more epochs": a new run, linked to this one, from its final weights."""
    if run.state not in CONTINUABLE_STATES:
        return
    cols = st.columns([1, 2], vertical_alignment="bottom")
    more = cols[0].number_input("More epochs", 1, 500, max(1, run.spec.epochs if run.spec else 5),
                                key=f"{prefix}_more_{run.id}")
    if cols[1].button("Continue for more epochs", icon=":material/fast_forward:", key=f"{prefix}_continue_{run.id}",
                      help="Starts a new run from this run's final weights, with a fresh optimizer and "
                           "learning-rate schedule over the new epochs. This run stays as it is."):
        try:
            policy().check_queue(my_active_runs(str(run.dir.parent)), 1, operator=is_operator())
            new_dir = continue_run(run.dir, int(more), owner=browser_id())
        except (RunStateError, SpecError, AccessError) as exc:
            st.error(f"It cannot continue: {exc}", icon=":material/block:")
            return
        follow_run(prefix, new_dir)
        flash(f"Continuing {run.label} for {int(more)} more epochs as a new run.", ":material/fast_forward:")
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
        mine = " (yours)" if me is not None and run.owner == me else ""
        if run.state == "running":
            progress = read_progress(path) or {}
            lines.append(f"{run.label}{mine}: epoch {progress.get('epoch', '?')}/{progress.get('epochs', '?')}")
        elif run.state == "queued":
            lines.append(f"{run.label}{mine}: queued")
    return lines


def run_actions(runs: list[RunInfo], prefix: str) -> None:
    """Cancel, resume, continue or delete the chosen runs; delete asks for confirmation."""
    with st.expander("Manage these runs"):
        for run in runs:
            cols = st.columns([3, 1, 1, 1])
            cols[0].markdown(f"{run.label} · **{run.state}** · `{run.id}`")
            if not may_manage(run):
                cols[1].caption("started by another browser")
                continue
            if run.state in ACTIVE_STATES and cols[1].button("Cancel", key=f"{prefix}_cancel_{run.id}"):
                request_cancel(run.dir)
                st.rerun()
            if run.state in RESUMABLE_STATES and cols[2].button("Resume", key=f"{prefix}_resume_{run.id}"):
                _resume(run)
            if run.state in CONTINUABLE_STATES:
                with cols[2].popover("Continue", icon=":material/fast_forward:"):
                    continue_controls(run, prefix)
            if run.state not in ACTIVE_STATES:
                with cols[3].popover("Delete", icon=":material/delete:"):
                    st.markdown(f"Delete `{run.id}` and its checkpoints for good?")
                    if st.button("Yes, delete it", type="primary", key=f"{prefix}_delete_{run.id}"):
                        try:
                            delete_run(run.dir)
                        except (RunStateError, OSError) as exc:
                            st.error(str(exc))
                        else:
                            st.rerun()


def grid_form(prefix: str, runs_root: str | None = None) -> None:
    """The "run the grid" form: conv type × batch-norm placement × N seeds, queued as one experiment."""
    st.markdown("Six variants — **Conv2D or SeparableConv2D** × **batch norm before, after or without the "
                "activation** — each trained with several seeds on the same data, so that the differences "
                "you see are measured, with their spread, not asserted.")
    cols = st.columns(3)
    presets = [p for p in PRESET_LABELS if p in PRESETS]
    preset = cols[0].selectbox("Preset", presets, index=presets.index("quick"), format_func=PRESET_LABELS.get,
                               key=f"{prefix}_grid_preset", bind="query-params")
    seeds = cols[1].number_input("Seeds per variant", 1, 5, 3, key=f"{prefix}_grid_seeds", bind="query-params")
    epochs = cols[2].number_input("Epochs", 1, 200, preset_spec(preset).epochs, key=f"{prefix}_grid_{preset}_epochs",
                                  bind="query-params")
    base = preset_spec(preset, epochs=int(epochs))
    if base.dataset != "shapes":
        root = st.text_input("Folder of the dataset", key=f"{prefix}_grid_root", max_chars=MAX_TEXT,
                             placeholder=FOLDER_HINTS.get(base.dataset, "")).strip() or None
        base = base.replace(dataset_root=root)
    total = len(CONV_TYPES) * len(BATCHNORMS) * int(seeds)
    try:
        per_run = estimate_seconds(base)
        st.caption(f"{total} runs, one at a time: about **{format_seconds(per_run * total)}** on a 2-core CPU.")
    except Exception:
        pass
    if st.button("Run the grid", type="primary", icon=":material/grid_view:", key=f"{prefix}_grid_go"):
        try:
            if base.dataset_root:
                policy().check_folder(base.dataset_root, operator=is_operator())
            validate_spec(base)
            policy().check_queue(my_active_runs(runs_root), total, operator=is_operator())
            experiment = submit_grid(base, seeds=tuple(range(int(seeds))), runs_root=runs_root, owner=browser_id())
        except (SpecError, AccessError) as exc:
            st.error(f"The grid cannot start: {exc}", icon=":material/block:")
        else:
            st.session_state[f"{prefix}_grid_started"] = (experiment, total, time.time())
            flash(f"Queued {total} runs. They train one after another in the background.", ":material/grid_view:")
            st.rerun()


def task_train_view(prefix: str, task: str, anatomy_text, empty_message: str) -> None:
    """A task page's **Train** tab: the variant form beside the model it builds, Train, the live run.

    Args:
        prefix: the page's widget prefix (its URL keys).
        task: a key of the task table (``"segmentation"``, ``"detection"``, ...).
        anatomy_text: ``(spec, classes) -> (title, caption)`` of the anatomy shown for the spec.
        empty_message: what to say while the task has no run yet.
    """
    from ui.architecture import describe_spec, show_anatomy

    form, main = st.columns([1, 2.2], gap="large")
    with form:
        st.subheader("Model and data")
        spec = variant_form(prefix, task=task)
    with main:
        if spec is not None:
            classes, why = class_count(spec)
            if classes is None:
                st.info(f"The model's size appears once the dataset is known. {why}", icon=":material/folder_open:")
            else:
                title, caption = anatomy_text(spec, classes)
                show_anatomy(describe_spec(spec, classes), title=title, caption=caption)
            start_button(spec, prefix)
        run_dir = current_run(prefix, task=task)
        if run_dir is None:
            st.info(empty_message)
        else:
            st.page_link("pages/compare_runs.py", label="Compare this run with others", icon=":material/compare:")
            live_run_panel(run_dir, prefix)
