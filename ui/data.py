"""Dataset widgets and cached loaders shared by every page that shows or trains on data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.datasets import (
    DATASETS,
    KEYPOINTS_PREFIX,
    USER_PREFIX,
    Dataset,
    DatasetError,
    UserKeypointStore,
    UserMaskStore,
    open_dataset,
    resize_image,
    resize_mask,
)
from cv_core.i18n import N_, LazyText, _, use_language
from cv_core.runs import labels as dataset_labels
from cv_core.overlays import class_palette, draw_boxes, mask_legend, overlay_mask, scale_boxes, upscale
from ui.i18n import widget_key

#: Names for people (marked in cv_core, translated where shown: ``dataset_label``).
DATASET_LABELS = dataset_labels.DATASET_LABELS
#: Longest side of a sample picture sent to the browser.
GRID_SIDE = 384
#: Longest folder path a person may type.
MAX_PATH_CHARS = 300
FOLDER_HINTS = {  # marked here, shown with _()
    "image_folder": N_("A folder with one sub-folder of images per class, e.g. data/flowers (roses/, tulips/, …)"),
    "cats_vs_dogs": N_("Kaggle's train/ folder (cat.0.jpg …) or Microsoft's PetImages/ folder"),
    "oxford_pets": N_("A folder holding images/ and annotations/trimaps/"),
    "coco_keypoints": N_("A folder of pictures (or images/) with one COCO keypoint file (*.json)"),
}


def _folder_stamp(root: str | None) -> float:
    """Modification time of a folder, so a cached dataset is reopened when files change."""
    try:
        return os.stat(root).st_mtime if root else 0.0
    except (OSError, ValueError):  # missing, unreadable, or not a path at all (a NUL byte)
        return -1.0


def _user_dataset_stamp(name: str, root: str | None) -> tuple:
    """The modification state of a user mask dataset's own folder (``<store>/<name>``).

    Saving or deleting a mask changes the dataset folder (its ``dataset.json`` is rewritten)
    and its ``masks/`` folder, but not the store's folder: keying on the store alone kept a
    dataset opened before the third mask was saved listing two pictures.
    """
    folder = Path(UserMaskStore(root).root) / name[len(USER_PREFIX):]
    stamp = []
    for path in (folder, folder / "masks", folder / "images", folder / "instances"):
        try:
            stamp.append(os.stat(path).st_mtime_ns)
        except (OSError, ValueError):
            stamp.append(-1)
    try:
        stamp.append(len(os.listdir(folder / "masks")))
    except (OSError, ValueError):
        stamp.append(-1)
    return tuple(stamp)


@st.cache_resource(max_entries=8, show_spinner=False)
def _open_cached(name: str, root: str | None, options: tuple, stamp) -> Dataset:
    return open_dataset(name, root, **dict(options))


def dataset_stamp(name: str, root: str | None = None):
    """What changes when the files behind a dataset change (part of every cache key)."""
    if isinstance(name, str) and name.startswith(USER_PREFIX):
        return _user_dataset_stamp(name, root)
    if isinstance(name, str) and name.startswith(KEYPOINTS_PREFIX):
        return UserKeypointStore(root).version(name[len(KEYPOINTS_PREFIX):])
    return _folder_stamp(root)


def load_dataset(name: str, root: str | None = None, **options) -> Dataset:
    """Open a dataset once per (name, folder, options, change of its files) for every session."""
    with st.spinner(_("Opening the dataset…"), show_time=False):
        return _open_cached(name, root or None, tuple(sorted(options.items())), dataset_stamp(name, root or None))


def folder_problem(name: str, root: str, **options) -> str | None:
    """Why the dataset ``name`` cannot be opened from ``root``, in words; None if it can."""
    try:
        load_dataset(name, root, **options)
    except DatasetError as exc:
        return str(exc)
    except OSError as exc:  # a name too long for the file system, a folder we may not read...
        return _("That folder cannot be read: {reason}. Check the path and try again.").format(
            reason=exc.strerror or exc)
    return None


def user_dataset_label(name: str) -> str:
    """How a user mask dataset (``user:<name>``) is named in pickers."""
    return _("{name} · your masks").format(name=name)


def dataset_label(name: str) -> str:
    """A dataset's name for people: the registry's label, or a user mask dataset's."""
    if name.startswith(USER_PREFIX):
        return user_dataset_label(name[len(USER_PREFIX):])
    return _(DATASET_LABELS[name]) if name in DATASET_LABELS else name


def user_dataset_names(store: UserMaskStore | None = None) -> list[str]:
    """``user:<name>`` for every Mask studio dataset (none when the store cannot be read)."""
    try:
        return [USER_PREFIX + name for name in (store or UserMaskStore()).list_datasets()]
    except OSError:
        return []


def dataset_picker(prefix: str, segmentation_only: bool = False, user_datasets: bool = False,
                   bind: bool = False) -> Dataset | None:
    """Widgets to choose a dataset (and its folder); returns the opened dataset or None.

    ``user_datasets`` adds the Mask studio's datasets (``user:<name>``); ``bind`` keeps the
    choices in the URL, so a reload or a shared link restores them. Shows a friendly error
    instead of raising when the folder is wrong or a user dataset has no mask yet.
    """
    url = "query-params" if bind else None
    names = [n for n in DATASETS if not segmentation_only or DATASETS[n][0].has_masks]
    store = UserMaskStore()
    if user_datasets:
        names += user_dataset_names(store)
    helps = [f"**{_(DATASET_LABELS[n])}**: {_(DATASETS[n][2])}" for n in names if n in DATASETS]
    if user_datasets:
        helps.append(_("**Your masks**: the datasets you made in the Mask studio, stored in {folder}.")
                     .format(folder=store.root))
    # Its labels are translated: one key (and URL parameter) per language, a link of either language read.
    key = widget_key(f"{prefix}_dataset", names, dataset_label) if url else f"{prefix}_dataset"
    name = st.selectbox(_("Dataset"), names, format_func=dataset_label, key=key, bind=url,
                        help="\n\n".join(helps))
    if name.startswith(USER_PREFIX):
        try:
            return load_dataset(name, str(store.root))
        except DatasetError as exc:
            st.info(_("{reason} Open it in the Mask studio to draw and save masks.").format(reason=exc),
                    icon=":material/draw:")
        except OSError as exc:
            st.error(_("The dataset {name} cannot be read: {reason}.").format(name=name, reason=exc.strerror or exc),
                     icon=":material/folder_off:")
        return None
    if name == "shapes":
        cols = st.columns(2)
        seed = cols[0].number_input(_("Seed"), 0, 10_000, 0, key=f"{prefix}_seed", bind=url,
                                    help=_("Every seed draws a different, reproducible set of pictures."))
        size = cols[1].select_slider(_("Picture size (px)"), [32, 48, 64, 96, 128, 160], 96, key=f"{prefix}_size",
                                     bind=url)
        return load_dataset("shapes", seed=int(seed), image_size=int(size))
    hint = _(FOLDER_HINTS[name])
    root = st.text_input(_("Folder"), key=f"{prefix}_root", placeholder=hint, bind=url,
                         help=hint, max_chars=MAX_PATH_CHARS).strip()
    if not root:
        st.info(_("Type the path of the folder on this machine. {hint}.").format(hint=hint), icon=":material/folder_open:")
        return None
    if not usable_folder(name, root):
        return None
    return load_dataset(name, root)


def usable_folder(name: str, root: str, problem_stops: bool = True) -> bool:
    """Whether the folder a person typed for dataset ``name`` may be used, saying on the page why not.

    A folder the class's access policy refuses is an error; a folder that does not hold the dataset
    (:func:`folder_problem`) is an error too, or only a warning where ``problem_stops`` is False
    (the Train form: the run checks it again when it starts).
    """
    from ui.access import AccessError, is_operator, policy

    try:
        policy().check_folder(root, operator=is_operator())
    except AccessError as exc:
        st.error(str(exc), icon=":material/folder_off:")
        return False
    problem = folder_problem(name, root)
    if problem:
        (st.error if problem_stops else st.warning)(problem, icon=":material/folder_off:")
        return not problem_stops
    return True


@st.cache_data(max_entries=32, show_spinner=False)
def sample_pictures(_dataset: Dataset, dataset_key: str, split: str, count: int, start: int,
                    show_mask: bool, opacity: float, show_boxes: bool,
                    language: str = "en") -> list[tuple[np.ndarray, str]]:
    """Pictures (with masks/boxes drawn as asked) and captions for a grid of samples.

    Box captions are drawn in ``language`` (part of the cache key); the captions under the pictures
    are :class:`~cv_core.i18n.LazyText`, read in the reader's language when shown.
    """
    with use_language(language):
        box_names = [_(name) for name in _dataset.class_names]
    out = []
    mask_names = _dataset.mask_class_names or []
    palette = mask_palette(_dataset) if mask_names else None
    for sample in _dataset.samples(split, count=count, start=start):
        picture, mask = sample.image, sample.mask
        height, width = picture.shape[:2]
        if max(height, width) > GRID_SIDE:  # big photos: send the browser a thumbnail
            scale = GRID_SIDE / max(height, width)
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            picture = resize_image(picture, size)
            mask = resize_mask(mask, size) if mask is not None else None
        if show_mask and mask is not None:
            picture = overlay_mask(picture, mask, len(mask_names), opacity,
                                   ignore=(_dataset.mask_background,), palette=palette)
        picture = upscale(picture, 192)
        if show_boxes and sample.boxes:
            boxes = scale_boxes(sample.boxes, picture.shape[0] / height)
            picture = draw_boxes(picture, boxes, box_names)
        out.append((picture, LazyText("{label} · {source}", label=LazyText(_dataset.class_names[sample.label]),
                                      source=sample.source)))
    return out


def mask_palette(dataset: Dataset) -> np.ndarray:
    """The colours of a dataset's mask classes (black for background when it is value 0)."""
    return class_palette(len(dataset.mask_class_names or []), background_first=dataset.mask_background == 0)


def mask_legend_picture(dataset: Dataset, width: int = 640) -> np.ndarray:
    """A strip naming each coloured mask class of ``dataset``."""
    names = [_(name) for name in dataset.mask_class_names or []]  # in the reader's language
    return mask_legend(names, mask_palette(dataset), width, skip=(dataset.mask_background,))


def dataset_key(dataset: Dataset) -> str:
    """A string that identifies an opened dataset for caching.

    The key carries the modification state of the dataset's files (:func:`dataset_stamp`, what
    :func:`load_dataset` reopens on), so pictures cached from it are redrawn when they change: a
    user mask dataset's when a mask is saved, edited or deleted, a folder's when its files do.
    """
    key = f"{dataset.name}|{getattr(dataset, 'root', '')}|{getattr(dataset, 'seed', '')}|{getattr(dataset, 'image_size', '')}"
    # Shapes drawn with another difficulty or split sizes, or a folder split otherwise, are other pictures.
    key += f"|{getattr(dataset, 'difficulty', '')}|{getattr(dataset, 'sizes', '')}"
    key += f"|{tuple(dataset.count(split) for split in ('train', 'validation', 'test'))}"
    store = getattr(dataset, "store", None)
    if dataset.name.startswith(USER_PREFIX) and store is not None:
        return f"{key}|{store.root}|{dataset_stamp(dataset.name, str(store.root))}"
    root = getattr(dataset, "root", None)
    return f"{key}|{dataset_stamp(dataset.name, str(root)) if root else ''}"


def oxford_download_panel(prefix: str) -> None:
    """An expander that downloads Oxford-IIIT Pets (about 800 MB) into a chosen folder, with progress."""
    from cv_core.datasets import download_oxford_pets
    from cv_core.download import DownloadError
    from cv_core.formatting import format_number

    from ui.access import is_operator, policy

    with st.expander(_("Don't have it yet? Download Oxford-IIIT Pets (about 800 MB)"), icon=":material/download:",
                     key=f"{prefix}_download_box"):
        if policy().class_mode and not is_operator():
            st.caption(_("This lab serves a class: only its operator can download datasets."))
            return
        target = st.text_input(_("Download into this folder"), value="data/oxford_pets", key=f"{prefix}_download_root",
                               max_chars=MAX_PATH_CHARS).strip()
        if st.button(_("Download and unpack"), key=f"{prefix}_download", disabled=not target):
            bar = st.progress(0.0, text=_("Connecting…"))

            def report(name, progress):
                fraction = progress.fraction or 0.0
                done = format_number(progress.done / 1e6, decimals=1)
                text = (_("{file}: {done} of {total} MB").format(file=name, done=done,
                                                                 total=format_number(progress.total / 1e6, decimals=1))
                        if progress.total else _("{file}: {done} MB").format(file=name, done=done))
                bar.progress(fraction, text=text)

            try:
                download_oxford_pets(target, progress=report)
            except DownloadError as exc:
                st.error(str(exc), icon=":material/cloud_off:")
            except OSError as exc:
                st.error(_("Cannot write into {folder}: {reason}.").format(folder=repr(target), reason=exc.strerror or exc),
                         icon=":material/folder_off:")
            else:
                bar.progress(1.0, text=_("Done"))
                st.success(_("Oxford-IIIT Pets is ready in {folder}. Type that folder above to open it.").format(
                    folder=target))


#: The option of a user-dataset chooser that opens the form for a new dataset.
NEW_DATASET = "__new__"


def choose_user_dataset(store, key: str, label: str, help_text: str, new_dataset_form) -> tuple[str, dict] | None:
    """A studio's "save into" choice among the user datasets of ``store``, or a new one.

    ``label`` and ``help_text`` are already translated; the choice is kept under ``key`` (and in the
    URL). Choosing the new dataset shows ``new_dataset_form(store)``. Returns ``(name, info)`` of the
    chosen dataset (``store.dataset_info``), or None (a new one, or an unreadable folder or dataset,
    said on the page).
    """
    try:
        names = store.list_datasets()
    except OSError as exc:
        st.error(_("The data folder {folder} cannot be read: {reason}.").format(folder=store.root,
                                                                                reason=exc.strerror or exc),
                 icon=":material/folder_off:")
        return None
    options = [*names, NEW_DATASET]
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    choice = st.selectbox(label, options, key=key, bind="query-params", help=help_text,
                          format_func=lambda n: _("+ New dataset…") if n == NEW_DATASET else n)
    if choice == NEW_DATASET:
        new_dataset_form(store)
        return None
    try:
        return choice, store.dataset_info(choice)
    except DatasetError as exc:
        st.error(str(exc), icon=":material/folder_off:")
        return None
