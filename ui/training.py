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
from cv_core.runs.tasks import dataset_split_defaults
from cv_core.runs.liveness import run_dirs
from cv_core.datasets import (DATASETS, KEYPOINT_DATASETS, KEYPOINTS_PREFIX, USER_PREFIX, DatasetError,
                              UserKeypointStore, UserMaskDataset, UserMaskStore)
from cv_core.datasets.shapes import DIFFICULTIES
from cv_core.serving import AccessError
from cv_core.formatting import format_duration
from cv_core.i18n import N_, _
from ui.access import browser_id, is_operator, policy
from ui.data import DATASET_LABELS, FOLDER_HINTS, load_dataset, usable_folder
from ui.i18n import widget_key

# Labels are marked here (N_) and translated where shown (``_(BN_LABELS[key])``): proper names stay.
CONV_LABELS = {"separable": "SeparableConv2D", "conv2d": "Conv2D"}
CONV_CAPTIONS = {"separable": N_("depthwise separable: the mini-Xception's choice"),
                 "conv2d": N_("regular 3 × 3 convolutions")}
BN_LABELS = {"before_activation": N_("Before the activation"), "after_activation": N_("After the activation"),
             "none": N_("None")}
BN_CAPTIONS = {"before_activation": N_("conv → BN → ReLU, the book's choice"), "after_activation": "conv → ReLU → BN",
               "none": N_("no batch normalisation")}
PRESET_LABELS = {"tiny": N_("Tiny"), "quick": N_("Quick"), "book": N_("Book")}
#: What each preset means, unless the task's entry says otherwise (``Task.preset_captions``).
PRESET_CAPTIONS = {"tiny": N_("seconds: a smoke test"), "quick": N_("about 3 minutes on a CPU: the recommended start"),
                   "book": N_("the book's settings at 180 px: meant for a GPU")}
OPTIMIZER_LABELS = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
SCHEDULE_LABELS = {"constant": N_("Constant"), "cosine": N_("Warm-up, then cosine decay")}
MAX_TEXT = 300  # characters in a typed filters list or folder path
#: Every dataset a form may offer, by name: ``(class, reads a folder, description)``.
_REGISTRY = {**DATASETS, **KEYPOINT_DATASETS}
#: The difficulty control of a drawn dataset: its label and help, by dataset (None: any other).
DIFFICULTY_TEXTS = {
    "shapes": (N_("Difficulty of the shapes"), N_("Easy: one shape on a faint texture. Hard: distractor shapes, clutter, "
                                                  "occluding bars, strong textures and noise.")),
    "people": (N_("Difficulty of the pictures"), N_("Easy: people on a faint texture. Hard: clutter, occluding bars, "
                                                    "strong textures and noise around them.")),
    "landmarks": (N_("Difficulty of the pictures"), N_("Easy: a face on a faint texture. Hard: clutter, occluding bars, "
                                                       "strong textures and noise around it.")),
    None: (N_("Difficulty of the pictures"), N_("Easy: a faint texture behind the objects. Hard: clutter, occluding bars, "
                                                "strong textures and noise.")),
}
#: The drawn datasets' difficulty levels, as a person reads them.
DIFFICULTY_LABELS = {"easy": N_("Easy"), "medium": N_("Medium"), "hard": N_("Hard"), "crowded": N_("Crowded")}


def preset_label(preset: str) -> str:
    return _(PRESET_LABELS[preset])


def bn_label(batchnorm: str) -> str:
    return _(BN_LABELS[batchnorm])


def schedule_label(schedule: str) -> str:
    return _(SCHEDULE_LABELS[schedule])


def parse_filters(text: str) -> tuple[int, ...]:
    """'32, 64, 128' -> (32, 64, 128). Raises SpecError with a friendly message otherwise."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise SpecError(_("Filters must be whole numbers separated by commas, e.g. 32, 64, 128. "
                          "Received: {text}").format(text=repr(_shorten(text)))) from None
    if not values or any(v <= 0 for v in values):
        raise SpecError(_("Filters must be positive whole numbers, e.g. 32, 64, 128. Received: {text}").format(
            text=repr(_shorten(text))))
    if len(values) > 12:
        raise SpecError(_("At most 12 blocks, please (each one halves the image). Received {count}.").format(
            count=len(values)))
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
        return _("Your masks: {name}").format(name=name[len(USER_PREFIX):])
    if name.startswith(KEYPOINTS_PREFIX):
        return _("Your keypoints: {name}").format(name=name[len(KEYPOINTS_PREFIX):])
    return _(DATASET_LABELS[name]) if name in DATASET_LABELS else name


def variant_form(prefix: str, task: str = "classification") -> TrainSpec | None:
    """Widgets for one training variant of ``task``; returns its (unvalidated) spec, or None if a field is bad.

    The models, the options they take and the datasets that qualify come from the task
    table (:data:`cv_core.runs.TASKS`). Changing the preset switches to that preset's values.
    Every widget is bound to the URL.
    """
    presets = [p for p in PRESET_LABELS if p in PRESETS]
    preset_key = widget_key(f"{prefix}_preset", presets, preset_label)
    # A starting value only while the widget has none: one set through session state ("Switch
    # to Quick", or the URL's before an st.rerun) plus a default makes Streamlit log a warning.
    preset = st.radio(_("Preset"), presets, index=None if preset_key in st.session_state else presets.index("quick"),
                      format_func=preset_label,
                      captions=[_(task_of(task).preset_captions.get(p, PRESET_CAPTIONS[p])) for p in presets],
                      key=preset_key, bind="query-params")
    base = preset_spec(preset or "quick", task=task)
    table = task_of(task)
    k = f"{prefix}_{preset}"
    bound = {"bind": "query-params"}
    architectures = list(table.architectures)

    def model_label(name: str) -> str:
        return _(table.architectures[name].label)

    model = st.radio(_("Model"), architectures, index=architectures.index(base.model),
                     format_func=model_label, key=widget_key(f"{k}_model", architectures, model_label), horizontal=True,
                     **bound)
    architecture = table.architectures[model]
    offered = {option for a in table.architectures.values() for option in a.options}
    uses = set(architecture.options)
    conv_type, batchnorm, residual = base.conv_type, base.batchnorm, base.residual
    if "conv_type" in offered:
        conv_type = st.radio(_("Convolutions"), CONV_TYPES, index=CONV_TYPES.index(base.conv_type),
                             format_func=CONV_LABELS.get, key=f"{k}_conv", captions=[_(CONV_CAPTIONS[c]) for c in CONV_TYPES],
                             disabled="conv_type" not in uses, **bound)
    if "batchnorm" in offered:
        batchnorm = st.radio(_("Batch normalisation"), BATCHNORMS, format_func=bn_label, key=widget_key(f"{k}_bn", BATCHNORMS, bn_label),
                             captions=[_(BN_CAPTIONS[b]) for b in BATCHNORMS], disabled="batchnorm" not in uses, **bound)
    if "residual" in offered:
        residual = st.toggle(_("Residual connections"), value=True, key=f"{k}_residual", disabled="residual" not in uses,
                             **bound)
    default_filters = base.filters if model == base.model else architecture.default_filters[:max(3, len(base.filters))]
    filters_text = st.text_input(_(table.filters_label), ", ".join(str(f) for f in default_filters),
                                 key=f"{k}_{model}_filters",
                                 max_chars=MAX_TEXT, **bound)
    cols = st.columns(2)
    sizes = sorted({32, 48, 64, 96, 128, 160, 180, 224, base.image_size})
    image_size = cols[0].select_slider(_("Image size (px)"), sizes, base.image_size, key=f"{k}_size", **bound)
    epochs = cols[1].number_input(_("Epochs"), 1, 500, base.epochs, key=f"{k}_epochs", **bound)
    cols = st.columns(2)
    batch_size = cols[0].select_slider(_("Batch size"), [8, 16, 32, 64, 128], base.batch_size, key=f"{k}_batch", **bound)
    rates = sorted({1e-4, 3e-4, 1e-3, 3e-3, 1e-2, base.learning_rate})
    learning_rate = cols[1].select_slider(_("Learning rate"), rates, base.learning_rate, key=f"{k}_lr",
                                          format_func=lambda v: f"{v:g}", **bound)
    cols = st.columns(2)
    optimizer = cols[0].selectbox(_("Optimizer"), OPTIMIZERS, index=OPTIMIZERS.index(base.optimizer),
                                  format_func=OPTIMIZER_LABELS.get, key=f"{k}_optimizer", **bound)
    schedule = cols[1].selectbox(_("Learning-rate schedule"), LR_SCHEDULES, index=LR_SCHEDULES.index(base.lr_schedule),
                                 format_func=schedule_label, key=widget_key(f"{k}_schedule", LR_SCHEDULES, schedule_label), **bound)
    cols = st.columns(2)
    dropout = base.dropout_rate
    if "dropout_rate" in offered:
        dropout = cols[0].select_slider(_("Dropout"), [0.0, 0.25, 0.5], base.dropout_rate, key=f"{k}_dropout",
                                        disabled="dropout_rate" not in uses, **bound)
        seed_column = cols[1]
    else:
        seed_column = cols[0]
    seed = seed_column.number_input(_("Seed"), 0, 10_000, 0, key=f"{k}_seed", **bound)
    augmentation = st.toggle(_("Data augmentation"), base.augmentation, key=f"{k}_aug", help=_(table.augmentation),
                             **bound)
    dataset_names_ = dataset_choices(table)
    if base.dataset not in dataset_names_:
        dataset_names_.insert(0, base.dataset)
    dataset = st.selectbox(_("Dataset"), dataset_names_, index=dataset_names_.index(base.dataset),
                           format_func=dataset_label, key=widget_key(f"{k}_dataset", dataset_names_, dataset_label), **bound)
    root = None
    options = dict(base.dataset_options) if dataset == base.dataset else {}
    if dataset in _REGISTRY and not _REGISTRY[dataset][1]:  # drawn, not read from a folder (shapes, people...)
        levels = list(getattr(_REGISTRY[dataset][0], "DIFFICULTY_LEVELS", DIFFICULTIES))
        label, help_text = DIFFICULTY_TEXTS.get(dataset, DIFFICULTY_TEXTS[None])

        def difficulty_label(level):
            return _(DIFFICULTY_LABELS[level]) if level in DIFFICULTY_LABELS else level.capitalize()

        difficulty = st.selectbox(_(label), levels,
                                  index=levels.index(options.get("difficulty", "hard")), key=widget_key(f"{k}_difficulty", levels, difficulty_label),
                                  format_func=difficulty_label, **bound, help=_(help_text))
        options["difficulty"] = difficulty
        options["image_size"] = int(image_size)  # draw the pictures at the training size
        options = {**dataset_split_defaults(dataset), **options}
    elif dataset.startswith(USER_PREFIX):
        root = str(UserMaskStore().root)  # the lab's own data folder, pinned for the worker
    elif dataset.startswith(KEYPOINTS_PREFIX):
        root = str(UserKeypointStore().root)
    else:
        root = st.text_input(_("Folder"), key=f"{k}_root", placeholder=_(FOLDER_HINTS[dataset]) if dataset in FOLDER_HINTS
                             else "", max_chars=MAX_TEXT,
                             **bound).strip() or None
        if root is not None and not usable_folder(dataset, root, problem_stops=False):
            return None
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
        hint = _(FOLDER_HINTS[spec.dataset]) if spec.dataset in FOLDER_HINTS else ""
        return None, _("Type the folder of your images: the model's last layer has one unit per class. {hint}").format(
            hint=hint)
    try:
        return task.num_classes(load_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)), None
    except Exception as exc:  # DatasetError, and anything odd about a typed path
        return None, str(exc)


def my_active_runs(runs_root: str | None) -> int:
    from cv_core.runs import read_status

    me = browser_id()
    statuses = (read_status(path) for path in run_dirs(default_runs_root(runs_root)))
    return sum(1 for status in statuses if status.get("owner") == me and status.get("state") in ACTIVE_STATES)


def estimate_on_this_machine(spec: TrainSpec) -> float:
    """:func:`~cv_core.runs.estimate_seconds` of ``spec``, under a spinner the first time, while the lab
    times this machine (:func:`cv_core.runs.calibration.machine_speed`, under a minute, once).

    Raises:
        SpecError, DatasetError: as :func:`~cv_core.runs.estimate_seconds`.
    """
    from cv_core.runs.calibration import known_machine_speed

    if known_machine_speed() is not None:
        return estimate_seconds(spec)
    with st.spinner(_("Timing this machine once for the time estimate: three short training runs, under a "
                      "minute…")):
        return estimate_seconds(spec)


def start_button(spec: TrainSpec, prefix: str, runs_root: str | None = None) -> Path | None:
    """Show the expected time and a Train button; validate and submit on click.

    Returns:
        The new run's folder when a run was submitted this rerun (the app then reruns, so
        the sidebar and the panel pick it up), else None. Impossible specs show their
        message instead.
    """
    try:
        seconds = estimate_on_this_machine(spec)
    except (SpecError, DatasetError) as exc:  # cannot be estimated yet; anything else is a bug and shows
        st.caption(_(":material/timer_off: No time estimate yet: {reason}").format(reason=exc))
    else:
        st.caption(_("Expected time on this machine: **{duration}** (much less on a GPU). Training runs in the "
                     "background; you can leave this page.").format(duration=format_duration(seconds, about=True)))
    if spec.preset == "tiny":
        smoke_test_note(spec, prefix, SMOKE_TEST_BEFORE)
    if not st.button(_("Train"), type="primary", icon=":material/play_arrow:", key=f"{prefix}_train"):
        return None
    try:
        validated = validate_spec(spec)
        policy().check_queue(my_active_runs(runs_root), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(_("This run cannot start: {reason}").format(reason=exc), icon=":material/block:")
        return None
    from ui.run_panel import follow_run

    run_dir = submit_run(validated, runs_root, owner=browser_id())
    follow_run(prefix, run_dir)
    flash(_("Training started in the background."), ":material/rocket_launch:")
    st.rerun()
    return run_dir  # pragma: no cover - st.rerun does not return


#: What the Tiny preset is, before a run (``{images}`` pictures of ``{size}`` px), per task.
SMOKE_TEST_BEFORE = {
    "classification": N_("Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                      "pictures of {size} px. It is too small to learn, so expect an accuracy near chance; switch "
                      "to Quick to watch a model learn."),
    "segmentation": N_("Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                       "pictures of {size} px. It is too small to learn, so expect masks of background only and a low "
                       "mean IoU; switch to Quick to watch a model learn."),
    "detection": N_("Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                    "pictures of {size} px. It is too small to learn, so expect no boxes found and an mAP near 0; "
                    "switch to Quick to watch a detector learn."),
    "instances": N_("Tiny is a smoke test: it checks in seconds that a run goes from start to end, on {images} "
                    "pictures of {size} px. It is too small to learn, so expect no object above the page's default "
                    "score and a mask AP near 0; switch to Quick to watch a model tell touching shapes apart."),
}
#: What a finished Tiny run means, per task.
SMOKE_TEST_AFTER = {
    "classification": N_("This was the Tiny smoke test: the run went from start to end, which is all it checks. It "
                         "is too small to learn, so its accuracy says nothing about the model; switch to Quick to "
                         "watch a model learn."),
    "segmentation": N_("This was the Tiny smoke test: the run went from start to end, which is all it checks. It is "
                       "too small to learn, so masks of background only and a low mean IoU are expected; switch to "
                       "Quick to watch a model learn."),
    "detection": N_("This was the Tiny smoke test: the run went from start to end, which is all it checks. It is too "
                    "small to learn, so no boxes and an mAP near 0 are expected; switch to Quick to watch a detector "
                    "learn."),
    "instances": N_("This was the Tiny smoke test: the run went from start to end, which is all it checks. It is too "
                    "small to learn, so no object above the page's default score and a mask AP near 0 are expected; "
                    "switch to Quick to watch a model tell touching shapes apart."),
}


def use_preset(prefix: str, preset: str) -> None:
    """Switch the page's variant form to ``preset`` (a button's callback: it runs before the form is drawn)."""
    st.session_state[widget_key(f"{prefix}_preset")] = preset  # the form's preset radio in this language


def smoke_test_note(spec: TrainSpec, prefix: str, texts: dict[str, str], offer_quick: bool = True) -> None:
    """Say that the Tiny preset is a smoke test; with ``offer_quick``, a button that switches the form to Quick."""
    task = task_of(spec).name
    options = spec.dataset_options or {}
    text = _(texts.get(task, texts["classification"])).format(images=options.get("train_size", _("a few dozen")),
                                                              size=spec.image_size)
    st.info(text, icon=":material/science:")
    if offer_quick:
        st.button(_("Switch to Quick"), icon=":material/swap_horiz:", key=f"{prefix}_to_quick",
                  on_click=use_preset, args=(prefix, "quick"),
                  help=_("Sets the form on the left to the Quick preset; nothing starts until you press Train."))


def grid_form(prefix: str, runs_root: str | None = None) -> None:
    """The "run the grid" form: conv type × batch-norm placement × N seeds, queued as one experiment."""
    st.markdown(_("Six variants — **Conv2D or SeparableConv2D** × **batch normalisation before, after or without the "
                  "activation** — each trained with several seeds on the same data, so that the differences "
                  "you see are measured, with their spread, not asserted."))
    cols = st.columns(3)
    presets = [p for p in PRESET_LABELS if p in PRESETS]
    preset = cols[0].selectbox(_("Preset"), presets, index=presets.index("quick"), format_func=preset_label,
                               key=widget_key(f"{prefix}_grid_preset", presets, preset_label), bind="query-params")
    seeds = cols[1].number_input(_("Seeds per variant"), 1, 5, 3, key=f"{prefix}_grid_seeds", bind="query-params")
    epochs = cols[2].number_input(_("Epochs"), 1, 200, preset_spec(preset).epochs, key=f"{prefix}_grid_{preset}_epochs",
                                  bind="query-params")
    base = preset_spec(preset, epochs=int(epochs))
    if DATASETS[base.dataset][1]:  # a dataset read from a folder
        root = st.text_input(_("Folder of the dataset"), key=f"{prefix}_grid_root", max_chars=MAX_TEXT,
                             placeholder=_(FOLDER_HINTS[base.dataset]) if base.dataset in FOLDER_HINTS else "").strip() or None
        base = base.replace(dataset_root=root)
    total = len(CONV_TYPES) * len(BATCHNORMS) * int(seeds)
    try:
        per_run = estimate_on_this_machine(base)
    except (SpecError, DatasetError) as exc:  # cannot be estimated yet; anything else is a bug and shows
        st.caption(_(":material/timer_off: No time estimate yet: {reason}").format(reason=exc))
    else:
        st.caption(_("{total} runs, one at a time: **{duration}** on this machine.").format(
            total=total, duration=format_duration(per_run * total, about=True)))
    if st.button(_("Run the grid"), type="primary", icon=":material/grid_view:", key=f"{prefix}_grid_go"):
        try:
            if base.dataset_root:
                policy().check_folder(base.dataset_root, operator=is_operator())
            validate_spec(base)
            policy().check_queue(my_active_runs(runs_root), total, operator=is_operator())
            experiment = submit_grid(base, seeds=tuple(range(int(seeds))), runs_root=runs_root, owner=browser_id())
        except (SpecError, AccessError) as exc:
            st.error(_("The grid cannot start: {reason}").format(reason=exc), icon=":material/block:")
        else:
            st.session_state[f"{prefix}_grid_started"] = (experiment, total, time.time())
            flash(_("Queued {total} runs. They train one after another in the background.").format(total=total),
                  ":material/grid_view:")
            st.rerun()
