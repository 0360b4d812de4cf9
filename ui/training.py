"""Training glue: the variant form, the time estimate and the Train button, the grid form.

Reads run folders only; training happens in worker processes. The form's widgets are
bound to the URL (``bind="query-params"``), so a reload or a shared link restores them. A
run once started is followed by :mod:`ui.run_panel`.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import streamlit as st

from cv_core.runs import (
    ACTIVE_STATES,
    BATCHNORMS,
    CONV_TYPES,
    LR_SCHEDULES,
    OPTIMIZERS,
    PRESETS,
    SpecError,
    Task,
    TrainSpec,
    dataset_names,
    default_runs_root,
    estimate_seconds,
    preset_spec,
    submit_grid,
    submit_run,
    task_of,
    validate_spec,
)
from cv_core.runs.compare import format_seconds
from cv_core.runs.tasks import dataset_split_defaults
from cv_core.runs.liveness import run_dirs
from cv_core.datasets import (DATASETS, KEYPOINT_DATASETS, KEYPOINTS_PREFIX, USER_PREFIX, DatasetError,
                              UserKeypointStore, UserMaskDataset, UserMaskStore)
from cv_core.datasets.shapes import DIFFICULTIES
from cv_core.serving import AccessError
from cv_core.i18n import N_, _
from ui.access import browser_id, is_operator, policy
from ui.data import DATASET_LABELS, FOLDER_HINTS, folder_problem, load_dataset

CONV_LABELS = {"separable": "SeparableConv2D", "conv2d": "Conv2D"}
CONV_CAPTIONS = {"separable": "depthwise separable: the mini-Xception's choice", "conv2d": "regular 3 × 3 convolutions"}
BN_LABELS = {"before_activation": "Before the activation", "after_activation": "After the activation", "none": "None"}
BN_CAPTIONS = {"before_activation": "conv → BN → ReLU, the book's choice", "after_activation": "conv → ReLU → BN",
               "none": "no batch normalisation"}
PRESET_LABELS = {"tiny": "Tiny", "quick": "Quick", "book": "Book"}
#: What each preset means, unless the task's entry says otherwise (``Task.preset_captions``).
PRESET_CAPTIONS = {"tiny": "seconds: a smoke test", "quick": "about 3 minutes on a CPU: the recommended start",
                   "book": "the book's settings at 180 px: meant for a GPU"}
OPTIMIZER_LABELS = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Warm-up, then cosine decay"}
MAX_TEXT = 300  # characters in a typed filters list or folder path
#: Every dataset a form may offer, by name: ``(class, reads a folder, description)``.
_REGISTRY = {**DATASETS, **KEYPOINT_DATASETS}
#: The difficulty control of a drawn dataset: its label and help, by dataset (None: any other).
DIFFICULTY_TEXTS = {
    "shapes": ("Difficulty of the shapes", "Easy: one shape on a faint texture. Hard: distractor shapes, clutter, "
                                           "occluding bars, strong textures and noise."),
    "people": ("Difficulty of the pictures", "Easy: people on a faint texture. Hard: clutter, occluding bars, "
                                             "strong textures and noise around them."),
    "landmarks": ("Difficulty of the pictures", "Easy: a face on a faint texture. Hard: clutter, occluding bars, "
                                                "strong textures and noise around it."),
    None: ("Difficulty of the pictures", "Easy: a faint texture behind the objects. Hard: clutter, occluding bars, "
                                         "strong textures and noise."),
}


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
    classes' ``has_masks`` / ``has_boxes``), then the user mask datasets where those qualify, and the
    Keypoint studio's datasets (``userkp:<name>``) for a task that needs keypoints."""
    names = dataset_names(task)
    if task.accepts(UserMaskDataset):
        try:
            names += [USER_PREFIX + name for name in UserMaskStore().list_datasets()]
        except (OSError, DatasetError):  # an unreadable data folder: the built-in ones still work
            pass
    if "has_keypoints" in task.requires:
        try:
            names += [KEYPOINTS_PREFIX + name for name in UserKeypointStore().list_datasets()]
        except OSError:
            pass
    return names


def dataset_label(name: str) -> str:
    """"Shapes (built in)", or "Your masks: cats" for ``user:cats`` ("Your keypoints: dogs" for ``userkp:dogs``)."""
    if name.startswith(USER_PREFIX):
        return f"Your masks: {name[len(USER_PREFIX):]}"
    if name.startswith(KEYPOINTS_PREFIX):
        return f"Your keypoints: {name[len(KEYPOINTS_PREFIX):]}"
    return DATASET_LABELS.get(name, name)


def variant_form(prefix: str, task: str = "classification") -> TrainSpec | None:
    """Widgets for one training variant of ``task``; returns its (unvalidated) spec, or None if a field is bad.

    The models, the options they take and the datasets that qualify come from the task
    table (:data:`cv_core.runs.TASKS`). Changing the preset switches to that preset's values.
    Every widget is bound to the URL.
    """
    presets = [p for p in PRESET_LABELS if p in PRESETS]
    preset_key = f"{prefix}_preset"
    # A starting value only while the widget has none: one set through session state ("Switch
    # to Quick", or the URL's before an st.rerun) plus a default makes Streamlit log a warning.
    preset = st.radio("Preset", presets, index=None if preset_key in st.session_state else presets.index("quick"),
                      format_func=PRESET_LABELS.get,
                      captions=[task_of(task).preset_captions.get(p, PRESET_CAPTIONS[p]) for p in presets],
                      key=preset_key, bind="query-params")
    base = preset_spec(preset or "quick", task=task)
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
    options = dict(base.dataset_options) if dataset == base.dataset else {}
    if dataset in _REGISTRY and not _REGISTRY[dataset][1]:  # drawn, not read from a folder (shapes, people...)
        levels = list(getattr(_REGISTRY[dataset][0], "DIFFICULTY_LEVELS", DIFFICULTIES))
        label, help_text = DIFFICULTY_TEXTS.get(dataset, DIFFICULTY_TEXTS[None])
        difficulty = st.selectbox(label, levels,
                                  index=levels.index(options.get("difficulty", "hard")), key=f"{k}_difficulty",
                                  format_func=str.capitalize, **bound, help=help_text)
        options["difficulty"] = difficulty
        options["image_size"] = int(image_size)  # draw the pictures at the training size
        options = {**dataset_split_defaults(dataset), **options}
    elif dataset.startswith(USER_PREFIX):
        root = str(UserMaskStore().root)  # the lab's own data folder, pinned for the worker
    elif dataset.startswith(KEYPOINTS_PREFIX):
        root = str(UserKeypointStore().root)
    else:
        root = st.text_input("Folder", key=f"{k}_root", placeholder=FOLDER_HINTS.get(dataset, ""), max_chars=MAX_TEXT,
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
    needs_folder = spec.dataset in _REGISTRY and _REGISTRY[spec.dataset][1]
    known = getattr(_REGISTRY.get(spec.dataset, (None,))[0], "names_before_opening", None)
    if known is not None:  # the names a dataset has whatever its folder holds (cats and dogs...)
        try:
            return task.num_classes(SimpleNamespace(**known(**spec.dataset_options))), None
        except AttributeError:  # a list this task needs comes from the folder (the breeds...)
            pass
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
    except (SpecError, DatasetError) as exc:  # cannot be estimated yet; anything else is a bug and shows
        st.caption(f":material/timer_off: No time estimate yet: {exc}")
    else:
        st.caption(f"Expected time on a 2-core CPU: about **{format_seconds(seconds)}** "
                   "(much less on a GPU). Training runs in the background; you can leave this page.")
    if spec.preset == "tiny":
        smoke_test_note(spec, prefix, SMOKE_TEST_BEFORE)
    if not st.button("Train", type="primary", icon=":material/play_arrow:", key=f"{prefix}_train"):
        return None
    try:
        validated = validate_spec(spec)
        policy().check_queue(my_active_runs(runs_root), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(f"This run cannot start: {exc}", icon=":material/block:")
        return None
    from ui.run_panel import follow_run

    run_dir = submit_run(validated, runs_root, owner=browser_id())
    follow_run(prefix, run_dir)
    flash("Training started in the background.", ":material/rocket_launch:")
    st.rerun()
    return run_dir  # pragma: no cover - st.rerun does not return


#: What the Tiny preset is, before a run (``{images}`` pictures of ``{size}`` px), per task.
SMOKE_TEST_BEFORE = {
    "classification": "Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                      "pictures of {size} px. It is too small to learn, so expect an accuracy near chance; switch "
                      "to Quick to watch a model learn.",
    "segmentation": "Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                    "pictures of {size} px. It is too small to learn, so expect masks of background only and a low "
                    "mean IoU; switch to Quick to watch a model learn.",
    "detection": "Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                 "pictures of {size} px. It is too small to learn, so expect no boxes found and an mAP near 0; "
                 "switch to Quick to watch a detector learn.",
    "instances": N_("Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                    "pictures of {size} px. It is too small to learn, so expect no object above the page's default "
                    "score and a mask AP near 0; switch to Quick to watch a model tell touching shapes apart."),
}
#: What a finished Tiny run means, per task.
SMOKE_TEST_AFTER = {
    "classification": "This was the Tiny smoke test: the run went from start to end, which is all it checks. It "
                      "is too small to learn, so its accuracy says nothing about the model; switch to Quick to "
                      "watch a model learn.",
    "segmentation": "This was the Tiny smoke test: the run went from start to end, which is all it checks. It is "
                    "too small to learn, so masks of background only and a low mean IoU are expected; switch to "
                    "Quick to watch a model learn.",
    "detection": "This was the Tiny smoke test: the run went from start to end, which is all it checks. It is too "
                 "small to learn, so no boxes and an mAP near 0 are expected; switch to Quick to watch a detector "
                 "learn.",
    "instances": N_("This was the Tiny smoke test: the run went from start to end, which is all it checks. It is too "
                    "small to learn, so no object above the page's default score and a mask AP near 0 are expected; "
                    "switch to Quick to watch a model tell touching shapes apart."),
}


def use_preset(prefix: str, preset: str) -> None:
    """Switch the page's variant form to ``preset`` (a button's callback: it runs before the form is drawn)."""
    st.session_state[f"{prefix}_preset"] = preset


def smoke_test_note(spec: TrainSpec, prefix: str, texts: dict[str, str], offer_quick: bool = True) -> None:
    """Say that the Tiny preset is a smoke test; with ``offer_quick``, a button that switches the form to Quick."""
    task = task_of(spec).name
    options = spec.dataset_options or {}
    text = _(texts.get(task, texts["classification"])).format(images=options.get("train_size", "a few dozen"),
                                                           size=spec.image_size)
    st.info(text, icon=":material/science:")
    if offer_quick:
        st.button("Switch to Quick", icon=":material/swap_horiz:", key=f"{prefix}_to_quick",
                  on_click=use_preset, args=(prefix, "quick"),
                  help="Sets the form on the left to the Quick preset; nothing starts until you press Train.")


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
    if DATASETS[base.dataset][1]:  # a dataset read from a folder
        root = st.text_input("Folder of the dataset", key=f"{prefix}_grid_root", max_chars=MAX_TEXT,
                             placeholder=FOLDER_HINTS.get(base.dataset, "")).strip() or None
        base = base.replace(dataset_root=root)
    total = len(CONV_TYPES) * len(BATCHNORMS) * int(seeds)
    try:
        per_run = estimate_seconds(base)
    except (SpecError, DatasetError) as exc:  # cannot be estimated yet; anything else is a bug and shows
        st.caption(f":material/timer_off: No time estimate yet: {exc}")
    else:
        st.caption(f"{total} runs, one at a time: about **{format_seconds(per_run * total)}** on a 2-core CPU.")
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
