"""The Mask studio's saving: the save panel (picture and mask into the user dataset, the draft
then removed) and the saved masks (thumbnails to open, delete a mask or the whole dataset)."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cv_core.datasets import DatasetError, UserMaskStore
from cv_core.i18n import _, ngettext
from cv_core.images import ImageInputError
from cv_core.mask_drawing import drawing_palette, resize_labels
from cv_core.overlays import overlay_mask
from ui.mask_canvas import Draft
from ui.mask_studio import Subject, bound_key, item_stamp, studio_flash, studio_key


THUMB_SIDE = 160
THUMBS_PER_PAGE = 12


def _save(store: UserMaskStore, name: str, item_id: str | None, image: np.ndarray, mask: np.ndarray,
          subject_key: str, new_item: bool, draft: Draft | None = None, instances: np.ndarray | None = None) -> None:
    if new_item:
        item_id = (st.session_state.get(studio_key("item_name")) or "").strip() or None
        try:
            exists = item_id is not None and item_id in store.list_items(name)
        except DatasetError as exc:
            studio_flash("error", _("Nothing was saved. {reason}").format(reason=exc), name)
            return
        if exists:
            studio_flash("error", _("Nothing was saved: {name} already has an item called '{item}'. Choose another "
                                    "name, or open that item (Picture → Saved mask) to edit it.").format(
                name=name, item=item_id), name)
            return
    try:
        saved = store.save_mask(name, image, mask, item_id=item_id, instances=instances)
    except DatasetError as exc:
        studio_flash("error", _("Nothing was saved. {reason}").format(reason=exc), name)
        return
    except OSError as exc:
        studio_flash("error", _("Nothing was saved: the disk refused ({reason}). "
                                "The previous version is intact.").format(reason=exc.strerror or exc), name)
        return
    if not subject_key.startswith("saved|"):
        st.session_state.setdefault(studio_key("saved_as"), {})[subject_key] = saved
    state = st.session_state.get(studio_key("drawing"))
    if state:  # what the canvas shows now is saved: no draft until it changes
        state["saved_digest"] = state.get("labels_digest")
        state.pop("draft_digest", None)
    if draft is not None:
        draft.discard()
    st.session_state.pop(studio_key("item_name"), None)
    names = store.dataset_info(name)["class_names"]
    present = [names[int(v)] for v in np.unique(mask)]
    shown = ", ".join(present[:8])
    if len(present) > 8:
        shown = _("{classes} and {n} more").format(classes=shown, n=len(present) - 8)
    if new_item:
        text = _("Saved as a new item **{item}** in **{name}**: the picture ({width} × {height} px) "
                 "and its mask of class indices ({classes}).")
    else:
        text = _("Saved the changes to item **{item}** in **{name}**: the picture ({width} × {height} px) "
                 "and its mask of class indices ({classes}).")
    text = text.format(item=saved, name=name, width=image.shape[1], height=image.shape[0], classes=shown)
    count = len(np.unique(instances[instances > 0])) if instances is not None else 0
    if count:
        text += " " + ngettext("Its instance map holds {n} object.", "Its instance map holds {n} objects.",
                               count).format(n=count)
    studio_flash("success", text, name)


def save_panel(store: UserMaskStore, info: dict, subject: Subject, image: np.ndarray, mask: np.ndarray,
               draft: Draft | None = None, instances: np.ndarray | None = None) -> None:
    """Save the picture and its mask (and its ``instances``, an instance map, when given) into the
    user dataset: a new item, or over the item being edited.

    Saving removes the ``draft`` of the drawing."""
    name = info["name"]
    target = subject.item_id or st.session_state.get(studio_key("saved_as"), {}).get(subject.key)
    if target is not None and target not in store.list_items(name):
        target = None  # deleted meanwhile
    if target is not None:
        st.button(_("Save changes to {item}").format(item=target), type="primary", icon=":material/save:", key=studio_key("save"),
                  on_click=_save, args=(store, name, target, image, mask, subject.key, False, draft, instances), width="stretch")
        st.button(_("Save as a new item"), icon=":material/add:", key=studio_key("save_new"),
                  on_click=_save, args=(store, name, None, image, mask, subject.key, True, draft, instances), width="stretch")
    else:
        st.text_input(_("Item name (optional)"), key=studio_key("item_name"), placeholder=_("next number, e.g. 0001"),
                      help=_("A plain name: letters A–Z, digits, '-' or '_'. Empty: the next number."))
        st.button(_("Save to {name}").format(name=name), type="primary", icon=":material/save:", key=studio_key("save"),
                  on_click=_save, args=(store, name, None, image, mask, subject.key, True, draft, instances), width="stretch")


# -- saved masks ------------------------------------------------------------------------------
@st.cache_data(max_entries=256, show_spinner=False)
def _thumbnail(root: str, name: str, item_id: str, stamp: int, num_classes: int, background: int) -> np.ndarray | None:
    try:
        image, mask = UserMaskStore(root).load_item(name, item_id)
    except (DatasetError, ImageInputError):
        return None
    scale = THUMB_SIDE / max(image.shape[:2])
    size = (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
    small = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR))
    palette = drawing_palette(num_classes, background)
    return overlay_mask(small, resize_labels(mask, size), num_classes, 0.6, ignore=(background,), palette=palette)


def _open_item(item_id: str) -> None:
    st.session_state[bound_key("source")] = "saved"
    st.session_state[studio_key("item")] = item_id
    st.session_state[bound_key("start")] = "saved"


def _ask_delete(item_id: str) -> None:
    st.session_state[studio_key("confirm_delete")] = item_id


def _cancel_delete() -> None:
    st.session_state.pop(studio_key("confirm_delete"), None)


def _delete_item(store: UserMaskStore, name: str, item_id: str) -> None:
    st.session_state.pop(studio_key("confirm_delete"), None)
    try:
        store.delete_item(name, item_id)
    except DatasetError as exc:
        studio_flash("error", _("Nothing was deleted. {reason}").format(reason=exc), name)
        return
    if st.session_state.get(studio_key("item")) == item_id:
        st.session_state.pop(studio_key("item"), None)
    saved_as = st.session_state.get(studio_key("saved_as"), {})
    for key in [k for k, v in saved_as.items() if v == item_id]:
        del saved_as[key]
    studio_flash("success", _("Deleted item **{item}** of **{name}**.").format(item=item_id, name=name), name)


def _delete_dataset(store: UserMaskStore, name: str) -> None:
    typed = (st.session_state.get(studio_key("confirm_dataset")) or "").strip()
    if typed != name:
        studio_flash("error", _("Nothing was deleted: type the dataset's name, {name}, to confirm.").format(name=name), name)
        return
    try:
        store.delete_dataset(name)
    except DatasetError as exc:
        studio_flash("error", _("Nothing was deleted. {reason}").format(reason=exc), name)
        return
    for key in ("dataset", "item", "confirm_dataset", "saved_as", "drawing", "upload_kept"):
        st.session_state.pop(studio_key(key), None)
    st.session_state[bound_key("source")] = "sample"
    studio_flash("success", _("Deleted the dataset **{name}** and every mask in it.").format(name=name))


def saved_masks_panel(store: UserMaskStore, info: dict) -> None:
    """Thumbnails of the saved masks, with Edit and Delete (which asks first)."""
    name = info["name"]
    items = store.list_items(name)
    if not items:
        st.caption(_("No masks saved in {name} yet.").format(name=name))
    else:
        pages = (len(items) - 1) // THUMBS_PER_PAGE + 1
        page = 1
        if pages > 1:
            page = int(st.number_input(_("Page (of {pages})").format(pages=pages), 1, pages, 1, key=studio_key("thumb_page")))
        shown = items[(page - 1) * THUMBS_PER_PAGE: page * THUMBS_PER_PAGE]
        columns = st.columns(6)
        for i, item_id in enumerate(shown):
            with columns[i % 6]:
                thumb = _thumbnail(str(store.root), name, item_id, item_stamp(store, name, item_id),
                                   len(info["class_names"]), info["background"])
                if thumb is None:
                    st.warning(_("{item}: unreadable").format(item=item_id), icon=":material/broken_image:")
                else:
                    st.image(thumb, caption=item_id, output_format="PNG", width="stretch")
                buttons = st.columns(2)
                buttons[0].button(_("Edit"), key=studio_key(f"edit_{item_id}"), on_click=_open_item, args=(item_id,),
                                  width="stretch")
                buttons[1].button(_("Delete"), key=studio_key(f"delete_{item_id}"), on_click=_ask_delete, args=(item_id,),
                                  width="stretch")
        pending = st.session_state.get(studio_key("confirm_delete"))
        if pending in items:
            with st.container(border=True):
                st.warning(_("Delete item **{item}** of **{name}** (its picture and its mask)? "
                             "This cannot be undone.").format(item=pending, name=name),
                           icon=":material/delete_forever:")
                cols = st.columns([1, 1, 3])
                cols[0].button(_("Yes, delete {item}").format(item=pending), type="primary", key=studio_key("confirm_yes"),
                               on_click=_delete_item, args=(store, name, pending), width="stretch")
                cols[1].button(_("Cancel"), key=studio_key("confirm_no"), on_click=_cancel_delete, width="stretch")
    with st.expander(_("Delete the whole dataset {name}").format(name=name), icon=":material/delete:"):
        st.text_input(_("Type {name} to confirm").format(name=name), key=studio_key("confirm_dataset"))
        st.button(ngettext("Delete {name} and its {n} mask", "Delete {name} and its {n} masks", len(items)).format(
            name=name, n=len(items)), key=studio_key("delete_dataset"),
                  on_click=_delete_dataset, args=(store, name))
