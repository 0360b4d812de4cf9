"""The Mask studio's widgets: choose a user dataset, a picture and a starting mask. The canvas
and its drafts are in :mod:`ui.mask_canvas`, saving and the saved masks in :mod:`ui.mask_saving`.

Turning a drawing's pixels into classes, sizes, palettes and checks lives in
:mod:`cv_core.mask_drawing`; files go through :class:`cv_core.datasets.UserMaskStore`.
Session-state keys start with ``mask_studio_`` (:func:`studio_key`). Every choice (dataset,
picture, starting mask, class, tool, sizes) is bound to the URL (``bind="query-params"``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import SHAPE_CLASSES, DatasetError, UserMaskStore, resize_image
from cv_core.i18n import N_, LazyText, _, ngettext
from cv_core.images import ImageInputError, decode_label_map
from cv_core.mask_drawing import (
    STORE_MAX_SIDE,
    MaskError,
    blank_mask,
    drawing_palette,
    parse_class_names,
    remap_mask,
    resize_labels,
    validate_mask,
)
from cv_core.overlays import mask_legend
from ui.data import NEW_DATASET, choose_user_dataset, dataset_key, dataset_picker
from ui.i18n import widget_key
from ui.memory import remember, remembered
from ui.uploads import image_upload


PREFIX = "mask_studio"
SOURCES = {"sample": N_("Built-in sample"), "upload": N_("Upload"), "saved": N_("Saved mask")}
SPLITS = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
CLASS_PRESETS = {
    "shapes": ["background", *SHAPE_CLASSES],
    "pets": ["background", "foreground", "boundary"],
}
LEGEND_WIDTH = 280  # px: about the width of the dataset column, so the names stay legible


def studio_key(name: str) -> str:
    return f"{PREFIX}_{name}"


def bound_key(name: str, options=None, format_func=None) -> str:
    """The key of a studio widget bound to the URL whose option labels are translated (one per language);
    given its ``options`` and ``format_func``, a link written in the other language opens the same option."""
    return widget_key(studio_key(name), options, format_func)


def studio_flash(kind: str, text: str, dataset: str | None = None) -> None:
    st.session_state[studio_key("flash")] = (kind, text, dataset)


def show_flash() -> None:
    """Show the message left by the last action (created, saved, deleted, refused).

    It stays until the next action replaces it, so reruns the canvas triggers on its own do not
    wipe it; a message about one dataset goes away when another dataset is chosen.
    """
    flash = st.session_state.get(studio_key("flash"))
    if not flash:
        return
    kind, text, dataset = flash
    if dataset is not None and st.session_state.get(studio_key("dataset")) != dataset:
        del st.session_state[studio_key("flash")]
        return
    icons = {"success": ":material/check_circle:", "error": ":material/error:", "info": ":material/info:"}
    getattr(st, kind)(text, icon=icons.get(kind))


def mask_store() -> UserMaskStore:
    """The user mask store under the data root (``$CONVNET_LAB_DATA``, else ``./data``)."""
    return UserMaskStore()


def digest(*parts) -> str:
    """A short content hash (arrays by their bytes and shape), for widget keys."""
    h = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes() + str(part.shape).encode())
        else:
            h.update(repr(part).encode())
    return h.hexdigest()[:12]


# -- the dataset masks are saved into ---------------------------------------------------------
def _create_dataset(store: UserMaskStore) -> None:
    name = (st.session_state.get(studio_key("new_name")) or "").strip()
    try:
        names = parse_class_names(st.session_state.get(studio_key("new_classes")) or "")
        store.create(name, names, background=0)
    except (MaskError, DatasetError) as exc:
        studio_flash("error", _("The dataset was not created. {reason}").format(reason=exc), NEW_DATASET)
        return
    except OSError as exc:
        studio_flash("error", _("The dataset could not be written under {folder}: {reason}.").format(
            folder=store.root, reason=exc.strerror or exc), NEW_DATASET)
        return
    st.session_state[studio_key("dataset")] = name
    studio_flash("success", _("Created the dataset **{name}** with the classes {classes}. Choose a picture and start "
                               "drawing.").format(name=name, classes=", ".join(names)), name)


def _use_preset(preset: str) -> None:
    st.session_state[studio_key("new_classes")] = "\n".join(CLASS_PRESETS[preset])


def new_dataset_form(store: UserMaskStore) -> None:
    """A form that creates a user dataset from a plain name and its class names."""
    st.caption(_("Fill in the classes of a built-in dataset, to start from its true masks:"))
    cols = st.columns(2)
    cols[0].button(_("Shapes"), key=studio_key("preset_shapes"), on_click=_use_preset, args=("shapes",),
                   help=", ".join(["background", *SHAPE_CLASSES]), width="stretch")
    cols[1].button(_("Oxford pets"), key=studio_key("preset_pets"), on_click=_use_preset, args=("pets",),
                   help=", ".join(CLASS_PRESETS["pets"]), width="stretch")
    # A suggestion in the reader's language (class names are the user's words; the presets above keep the
    # built-in datasets' names, which their true masks are matched by).
    st.session_state.setdefault(studio_key("new_classes"), "\n".join([_("background"), _("foreground")]))
    with st.container(border=True):
        st.text_input(_("Dataset name"), key=studio_key("new_name"), placeholder=_("e.g. my_cats"),
                      help=_("1 to 64 letters A–Z, digits, '-' or '_', starting with a letter or digit. "
                             "It names a folder, so other characters are refused."))
        st.text_area(_("Classes, one per line (the first is the background)"), key=studio_key("new_classes"), height=130,
                     help=_("The mask value of each class is its line number minus one: the background is 0."))
        st.button(_("Create dataset"), type="primary", icon=":material/create_new_folder:", on_click=_create_dataset,
                  args=(store,), key=studio_key("create"))


def dataset_chooser(store: UserMaskStore) -> dict | None:
    """Choose (or create) the user dataset masks are saved into; returns its info or None."""
    chosen = choose_user_dataset(store, studio_key("dataset"), _("Save masks into"),
                                 _("Your mask datasets, stored in {folder}. Each opens for training as "
                                   "`user:<name>`.").format(folder=store.root), new_dataset_form)
    if chosen is None:
        return None
    choice, info = chosen
    palette = drawing_palette(len(info["class_names"]), info["background"])
    st.image(mask_legend(info["class_names"], palette, LEGEND_WIDTH), output_format="PNG",
             caption=ngettext("{n} saved mask · open it for training as user:{name}",
                                     "{n} saved masks · open it for training as user:{name}", info["items"]).format(
                 n=info["items"], name=choice))
    return info


# -- the picture ------------------------------------------------------------------------------
@dataclass
class Subject:
    """The picture being drawn on, where it came from, and the masks it arrived with."""

    key: str
    image: np.ndarray
    origin: str
    true_mask: np.ndarray | None = None
    true_names: list[str] | None = None
    true_background: int = 0
    item_id: str | None = None
    saved_mask: np.ndarray | None = None
    #: The objects it arrived with: the dataset's true instance map, or the saved item's.
    true_instances: np.ndarray | None = None
    saved_instances: np.ndarray | None = None


@st.cache_data(max_entries=8, show_spinner=False)
def _load_item(root: str, name: str, item_id: str, stamp: int) -> tuple[np.ndarray, np.ndarray]:
    return UserMaskStore(root).load_item(name, item_id)


def item_stamp(store: UserMaskStore, name: str, item_id: str) -> int:
    try:
        return (store.root / name / "masks" / f"{item_id}.png").stat().st_mtime_ns
    except OSError:
        return -1


def load_saved_item(store: UserMaskStore, name: str, item_id: str) -> tuple[np.ndarray, np.ndarray]:
    """An item's (image, mask), cached until the item's mask file changes."""
    return _load_item(str(store.root), name, item_id, item_stamp(store, name, item_id))


def _sample_subject() -> Subject | None:
    dataset = dataset_picker(studio_key("src"), segmentation_only=True, bind=True)
    if dataset is None:
        return None
    cols = st.columns(2)
    split = cols[0].selectbox(_("Split"), list(SPLITS), format_func=lambda s: _(SPLITS[s]), key=bound_key("src_split", list(SPLITS), lambda s: _(SPLITS[s])),
                              bind="query-params")
    count = dataset.count(split)
    if count == 0:
        st.info(_("The {split} split of {dataset} is empty.").format(split=_(SPLITS[split]), dataset=dataset.name))
        return None
    index = int(cols[1].number_input(_("Picture number"), 0, count - 1, 0, key=studio_key("src_index"),
                                     bind="query-params"))
    try:
        sample = dataset.sample(split, index)
    except (ImageInputError, IndexError) as exc:
        st.error(_("Picture {index} of the {split} split cannot be used. {reason}").format(
            index=index, split=_(SPLITS[split]), reason=exc), icon=":material/broken_image:")
        return None
    return Subject(
        key=f"sample|{dataset_key(dataset)}|{split}|{index}", image=sample.image,
        origin=LazyText(N_("{dataset}, {split} picture {index}"), dataset=dataset.name,
                        split=LazyText(SPLITS[split]), index=index), true_mask=sample.mask,
        true_names=list(dataset.mask_class_names or []), true_background=dataset.mask_background,
        true_instances=sample.instances,
    )


def _saved_subject(store: UserMaskStore, info: dict) -> Subject | None:
    name = info["name"]
    items = store.list_items(name)
    if not items:
        st.info(_("{name} has no saved masks yet. Draw on a built-in sample or an upload and save it.").format(name=name),
                icon=":material/info:")
        return None
    if st.session_state.get(studio_key("item")) not in items:
        st.session_state.pop(studio_key("item"), None)
    item_id = st.selectbox(_("Saved mask"), items, key=studio_key("item"), bind="query-params")
    try:
        image, mask = load_saved_item(store, name, item_id)
    except (DatasetError, ImageInputError) as exc:
        st.error(_("Item {item} cannot be opened. {reason}").format(item=item_id, reason=exc), icon=":material/broken_image:")
        return None
    return Subject(key=f"saved|{name}|{item_id}", image=image, origin=LazyText(N_("item {item} of {name}"), item=item_id, name=name),
                   item_id=item_id, saved_mask=mask, saved_instances=saved_instances(store, info, item_id, image, mask))


def saved_instances(store: UserMaskStore, info: dict, item_id: str, image: np.ndarray,
                    mask: np.ndarray) -> np.ndarray | None:
    """The saved item's instance map (checked against its mask), or None (with a message when it
    cannot be used: the item then opens as a class mask, and saving it writes a good map)."""
    from cv_core.instances.data import instances_from_maps

    try:
        found = store.load_instances(info["name"], item_id)
        if found is None:
            return None
        checked = instances_from_maps(mask, found, image.shape, background=info["background"],
                                      source=f"instances/{item_id}.png")
    except DatasetError as exc:
        st.warning(_("The objects of item {item} cannot be used, so it opens as a class mask only. {reason}").format(
            item=item_id, reason=exc), icon=":material/category:")
        return None
    skipped = {old: new for old, new in checked.renumbered.items() if old != new}
    if skipped:
        st.caption(_(":material/format_list_numbered: The instance map of item {item} numbers its objects {old}; "
                     "they are read as {new}, and saving numbers them from 1 without gaps.").format(
            item=item_id, old=", ".join(str(k) for k in checked.renumbered),
            new=", ".join(str(v) for v in checked.renumbered.values())))
    if checked.mixed:
        st.caption(_(":material/warning: In item {item}, the object(s) {ids} of the instance map cover several "
                     "classes of the mask: each takes its most frequent class.").format(
            item=item_id, ids=", ".join(str(i) for i in checked.mixed)))
    return checked.instances


def picture_source(store: UserMaskStore, info: dict) -> Subject | None:
    """Where the picture comes from: a built-in sample, an upload, or a saved item to edit."""
    source_key = bound_key("source", list(SOURCES), lambda s: _(SOURCES[s]))
    st.session_state.setdefault(source_key, "sample")
    source = st.segmented_control(_("Picture"), list(SOURCES), format_func=lambda s: _(SOURCES[s]), key=source_key,
                                  bind="query-params", required=True,
                                  help=_("A sample of shapes or Oxford pets (with its true mask), a picture of "
                                         "your own, or a mask you saved before.")) or "sample"
    if source == "upload":
        image = image_upload(_("Upload a picture"), key=studio_key("upload"))
        if image is not None:
            subject = Subject(key=f"upload|{digest(image)}", image=image, origin=LazyText(N_("your upload")))
            st.session_state[studio_key("upload_kept")] = subject
            return subject
        from ui.mask_canvas import upload_from_draft  # (the canvas module builds on this one)

        kept = st.session_state.get(studio_key("upload_kept")) or upload_from_draft(store, info["name"])
        if kept is None:
            return None
        st.session_state[studio_key("upload_kept")] = kept
        st.caption(_(":material/history: Still drawing on the picture you uploaded before. Upload another picture "
                     "to draw on it instead."))
        return kept
    if source == "saved":
        return _saved_subject(store, info)
    return _sample_subject()


# -- the starting mask ------------------------------------------------------------------------
@dataclass
class StartingMask:
    """The mask the drawing starts from, in the user dataset's classes, at the picture's size.

    ``label`` names it for people ("the dataset's true mask"); ``compare`` says whether the
    IoU between the drawn mask and this one means something (not for an empty mask).
    """

    mask: np.ndarray
    label: str
    compare: bool = True
    #: Its objects, (H, W) ids (0 = none), or None: a mask without separate objects.
    instances: np.ndarray | None = None


def initial_mask_from_model(image: np.ndarray, class_names: list[str], background: int,
                            key: str) -> StartingMask | None:
    """The model's predicted mask for ``image``, to start from and correct; None without a model.

    Offers every segmentation run that has saved a model (newest first, under widget keys
    starting with ``key``). The run's best model predicts at its own input size; the arg-max
    is resized back to ``image``'s (H, W) by nearest neighbour and its classes are mapped onto
    ``class_names`` / ``background`` by name. A prediction with a class this dataset does not
    have is refused with the reason, and None is returned.

    Args:
        image: (H, W, 3) uint8, the picture as read (before any shrinking for storage).
        class_names: the user dataset's classes; ``background`` its background index.
        key: the prefix for this hook's widget keys.
    """
    from ui.segmentation import predict, run_classes, segmentation_runs
    from ui.task_page import run_label, run_model

    runs = segmentation_runs()
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    # Kept in the URL by run id (its label changes while it trains).
    initial = remembered(f"{key}_run", f"{key}_run", list(by_id), runs[0].id)
    chosen = st.selectbox(_("Model for “start from the prediction”"), list(by_id), key=f"{key}_run",
                          index=list(by_id).index(initial), format_func=lambda rid: run_label(by_id[rid]),
                          help=_("A segmentation run of this lab (Segmentation page). Its classes are matched to "
                                 "this dataset's by name."))
    remember(f"{key}_run", f"{key}_run", chosen)
    run = by_id[chosen]
    subject = run_model(run)
    if subject is None:
        return None
    classes = run_classes(run, int(subject.model.output_shape[-1]))
    view = resize_image(image, subject.input_size) if image.shape[:2] != tuple(subject.input_size) else image
    probabilities = predict(subject, subject.key, f"mask_studio|{digest(image)}", view)
    predicted = resize_labels(probabilities.argmax(axis=-1).astype(np.uint8), image.shape[:2])
    try:
        mask = remap_mask(predicted, classes.names, class_names, classes.background, background)
    except MaskError as exc:
        st.caption(_(":material/block: The prediction of run {run} cannot start this mask: {reason}").format(run=run.id, reason=exc))
        return None
    return StartingMask(mask, LazyText(N_("the prediction of run {run}"), run=run.id))


def starting_mask(subject: Subject, info: dict) -> StartingMask | None:
    """Choose what the drawing starts from; returns it, or None (with a message) when it cannot be used."""
    names, background = info["class_names"], info["background"]
    shape = subject.image.shape[:2]
    model = initial_mask_from_model(subject.image, names, background, key=studio_key("model"))
    true_mask, true_problem = None, None
    if subject.true_mask is not None:
        try:
            true_mask = remap_mask(subject.true_mask, subject.true_names, names, subject.true_background, background)
        except MaskError as exc:
            true_problem = exc
    options = {}
    if subject.saved_mask is not None:
        options["saved"] = N_("The saved mask")
    if model is not None:
        options["model"] = N_("The model's prediction")
    if true_mask is not None:
        options["true"] = N_("The dataset's true mask")
    options["empty"] = N_("An empty mask (all background)")
    options["file"] = N_("A mask file (PNG of class indices)")
    start_key = bound_key("start", list(options), lambda o: _(options[o]))
    if st.session_state.get(start_key) not in options:
        st.session_state[start_key] = next(iter(options))
    choice = st.radio(_("Start from"), list(options), format_func=lambda o: _(options[o]), key=start_key,
                      bind="query-params",
                      help=_("Your strokes are painted over this mask; where you do not paint, it is kept."))
    if true_problem:
        st.caption(_(":material/block: The dataset's true mask cannot start a mask of {name}: {reason}").format(
            name=info["name"], reason=true_problem))
    if model is None and not st.session_state.get(studio_key("model_run")):
        st.caption(_(":material/model_training: Starting from a model's prediction becomes possible once a "
                     "segmentation model has been trained (Segmentation page)."))
    if choice == "saved":
        return StartingMask(subject.saved_mask, LazyText(N_("the saved mask")), instances=subject.saved_instances)
    if choice == "model":
        return model
    if choice == "true":
        return StartingMask(true_mask, LazyText(N_("the dataset's true mask")), instances=subject.true_instances)
    if choice == "file":
        upload = st.file_uploader(_("Mask file"), type=["png"], key=studio_key("mask_file"),
                                  help=_("A single-channel PNG of class indices 0 to {top}, exactly "
                                         "{width} × {height} pixels like the picture.").format(
                                      top=len(names) - 1, width=shape[1], height=shape[0]))
        if upload is None:
            st.info(_("Upload a mask PNG to start from."), icon=":material/upload_file:")
            return None
        try:
            mask = validate_mask(decode_label_map(upload.getvalue()), shape, len(names))
        except (MaskError, ImageInputError) as exc:
            st.error(_("**{file}** cannot be used as this picture's mask. {reason}").format(file=upload.name, reason=exc), icon=":material/block:")
            return None
        return StartingMask(mask, LazyText(N_("your mask file {file}"), file=upload.name))
    return StartingMask(blank_mask(shape, background), LazyText(N_("an empty mask")), compare=False)


def size_note(original: tuple[int, int], stored: tuple[int, int], canvas: tuple[int, int]) -> str:
    """Say at which sizes the picture is read, stored, drawn on and its mask saved."""
    (oh, ow), (sh, sw), (ch, cw) = original, stored, canvas
    parts = []
    if (sh, sw) != (oh, ow):
        parts.append(_("This picture is {width} × {height} px; it is stored at {stored_width} × {stored_height} px "
                       "(pictures are kept at most {side} px on their long side: the lab trains at about 200 px).").format(
            width=ow, height=oh, stored_width=sw, stored_height=sh, side=STORE_MAX_SIDE))
    else:
        parts.append(_("The picture is {width} × {height} px and is stored at that size.").format(width=sw, height=sh))
    if (ch, cw) != (sh, sw):
        if ch > sh:
            parts.append(_("You draw on an enlarged {width} × {height} view.").format(width=cw, height=ch))
        else:
            parts.append(_("You draw on a reduced {width} × {height} view.").format(width=cw, height=ch))
    parts.append(_("The mask is saved at {width} × {height} px, the stored picture's size.").format(width=sw, height=sh))
    return " ".join(parts)
