"""The Similarity page's pictures: a picture of the chosen dataset, a bundled photo, an upload or a
camera photo, each choice kept in the URL.

The first picture's upload (and the search query's) is the one the interpretation pages share
for the session (:func:`ui.uploads.shared_image_upload`); the second picture's is kept in a slot
of its own, so that a trip to another tab or page loses neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.datasets import Dataset
from cv_core.i18n import N_, _
from ui.i18n import widget_key
from ui.similarity import PREFIX

SOURCES = ["Dataset", "Photo", "Upload", "Camera"]
#: How each source is named on screen (the values above stay in the URL in every language).
SOURCE_LABELS = {"Dataset": N_("Dataset"), "Photo": N_("Photo"), "Upload": N_("Upload"), "Camera": N_("Camera")}
#: A dataset split as named in sentences ("{split} picture 3"); the keys are the datasets' own.
SPLIT_NAMES = {"train": N_("train"), "validation": N_("validation"), "test": N_("test")}
#: Where the second picture's upload is kept for the session.
SECOND_UPLOAD = "_similarity_upload_b"
#: Pictures shown in the pickers are at most this many pixels on their longest side.
THUMBNAIL_SIDE = 320


@dataclass(frozen=True)
class Chosen:
    """A picture on the Similarity page.

    Attributes:
        key: a digest of its pixels, for the keys of cached results.
        name: how the page names it ("validation picture 3 · circle", "your upload").
        image: (H, W, 3) uint8 RGB.
        label: its class name, when the dataset knows it.
        split, index: where it is in the dataset (None for a photo, an upload or a camera photo).
    """

    key: str
    name: str
    image: np.ndarray
    label: str | None = None
    split: str | None = None
    index: int | None = None


def chosen_picture(name: str, image: np.ndarray, **where) -> Chosen:
    """A :class:`Chosen` picture keyed by a digest of its pixels."""
    from ui.interpret import digest

    return Chosen(digest(image), name, image, **where)


@st.cache_data(max_entries=1, show_spinner=False)
def _photos() -> dict[str, np.ndarray]:
    from cv_core.pretrained import sample_photos

    return sample_photos()


def thumbnail(image: np.ndarray) -> np.ndarray:
    """A picture sized for the screen: big photos shrunk, small pictures enlarged with crisp pixels."""
    from cv_core.overlays import upscale
    from ui.interpret_results import display_photo

    if max(image.shape[:2]) > THUMBNAIL_SIDE:
        return display_photo(image, THUMBNAIL_SIDE)
    return upscale(image, 160)


def split_name(split: str) -> str:
    """A split's name in the page's language (an unknown split keeps its own name)."""
    return _(SPLIT_NAMES[split]) if split in SPLIT_NAMES else split


def source_label(source: str) -> str:
    """A picture source's name in the page's language."""
    return _(SOURCE_LABELS.get(source, source))


def dataset_splits(dataset: Dataset) -> list[str]:
    """The splits with pictures, validation first."""
    return [s for s in ("validation", "test", "train") if dataset.count(s)]


def partner_index(labels: np.ndarray, index: int = 0) -> int:
    """The first other picture of picture ``index``'s class (a telling second picture), else the next one."""
    if len(labels) < 2:
        return 0
    same = np.flatnonzero(labels == labels[index])
    others = same[same != index]
    return int(others[0]) if len(others) else (index + 1) % len(labels)


def _dataset_picture(slot: str, dataset: Dataset | None, default_index: int) -> Chosen | None:
    if dataset is None:
        st.info(_("Choose a dataset above to pick its pictures."), icon=":material/folder_open:")
        return None
    splits = dataset_splits(dataset)
    if not splits:
        st.info(_("This dataset has no pictures."), icon=":material/folder_off:")
        return None
    cols = st.columns(2)
    split = cols[0].selectbox(_("Split"), splits, format_func=split_name, bind="query-params",
                              key=widget_key(f"{PREFIX}_{slot}_split", splits, split_name))
    count = dataset.count(split)
    index = int(cols[1].number_input(_("Picture (0–{last})").format(last=count - 1), 0, count - 1, min(default_index, count - 1),
                                     key=f"{PREFIX}_{slot}_index", bind="query-params"))
    try:
        sample = dataset.sample(split, index)
    except Exception as exc:  # an unreadable file
        st.error(_("Picture {index} of the {split} split cannot be used: {error}").format(index=index, split=split_name(split),
                                                                                    error=exc), icon=":material/broken_image:")
        return None
    label = dataset.class_names[sample.label] if 0 <= sample.label < len(dataset.class_names) else None
    name = _("{split} picture {index} · {label}").format(split=split_name(split), index=index, label=_(label)) if label \
        else _("{split} picture {index}").format(split=split_name(split), index=index)
    return chosen_picture(name, sample.image, label=label, split=split, index=index)


def picture_picker(slot: str, title: str, dataset: Dataset | None, default_index: int = 0) -> Chosen | None:
    """Where a picture comes from and the picture, with a thumbnail; None until one is chosen.

    Args:
        slot: "a", "b" or "query": the widgets' keys (and URL parameters) start with ``similarity_<slot>``.
        title: the source control's label ("First picture").
        dataset: the page's dataset, for the "Dataset" source (None: not chosen yet).
        default_index: the dataset picture shown first.
    """
    from ui.interpret import camera_photo
    from ui.uploads import KEPT_KEY, shared_image_upload

    source = st.segmented_control(title, SOURCES, default="Dataset", format_func=source_label,
                                  key=widget_key(f"{PREFIX}_{slot}_source", SOURCES, source_label),
                                  bind="query-params", required=True,
                                  help=_("A picture of the dataset chosen above, a photo that comes with the lab, a "
                                         "picture of your own, or a photo from your camera.")) or "Dataset"
    chosen = None
    if source == "Dataset":
        chosen = _dataset_picture(slot, dataset, default_index)
    elif source == "Photo":
        photos = _photos()
        name = st.selectbox(_("Photo"), list(photos), key=f"{PREFIX}_{slot}_photo", bind="query-params")
        chosen = chosen_picture(_("the photo {name}").format(name=name), photos[name])
    elif source == "Upload":
        kept = shared_image_upload(_("Upload a picture"), key=f"{PREFIX}_{slot}_upload",
                                   slot=SECOND_UPLOAD if slot == "b" else KEPT_KEY)
        if kept is not None and kept.photo is not None:
            chosen = chosen_picture(_("your upload {name}").format(name=kept.name), kept.photo)
    else:
        photo = camera_photo(_("Take a photo"), key=f"{PREFIX}_{slot}_camera")
        if photo is not None:
            chosen = chosen_picture(_("your camera photo"), photo)
    if chosen is not None:
        height, width = chosen.image.shape[:2]
        st.image(thumbnail(chosen.image), caption=_("{picture} ({width} × {height} px)").format(picture=chosen.name, width=width,
                                                                                                height=height))
    return chosen
