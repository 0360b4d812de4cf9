"""Mask studio: paint a segmentation mask over a picture, correct a starting mask, and save
picture and mask into a dataset of your own that the lab can train on."""

import streamlit as st

import numpy as np

from cv_core.i18n import _
from cv_core.mask_drawing import (
    NO_OBJECT,
    MaskError,
    canvas_size,
    drawing_palette,
    object_palette,
    objects_to_instances,
    paint_objects,
    prepare_for_storage,
    resize_labels,
    starting_objects,
)
from ui import install_streamlit_patches
from ui.mask_canvas import (
    Draft,
    agreement,
    canvas_side_picker,
    drawing_state,
    drawing_tools,
    mask_canvas,
    mask_preview,
)
from ui.mask_coco import coco_panel
from ui.mask_saving import save_panel, saved_masks_panel
from ui.mask_studio import (
    StartingMask,
    dataset_chooser,
    digest,
    mask_store,
    picture_source,
    show_flash,
    size_note,
    starting_mask,
)
from ui.segmentation import user_dataset_training

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Mask studio"))
st.caption(_("Make your own segmentation data: paint a class for every pixel of a picture (or correct a mask "
             "you start from), then save the picture and its mask — a PNG of class indices, the chapter's mask "
             "format — into a dataset of your own that opens for training as `user:<name>`."))
show_flash()

store = mask_store()
setup = st.columns([1, 1.2, 1], gap="large")
with setup[0]:
    st.subheader(_("Dataset"))
    info = dataset_chooser(store)
if info is None:
    with setup[1]:
        st.info(_("Choose a dataset to save into, or create one: give it a name and its classes."),
                icon=":material/create_new_folder:")
    st.divider()
    st.subheader(_("Import and export COCO instances"))
    coco_panel(store, None)
    st.stop()


def editor() -> None:
    """Picture, starting mask, canvas, preview and saving (returns early, with a message, when a
    choice cannot be used, so the list of saved masks below always shows)."""
    with setup[1]:
        st.subheader(_("Picture"))
        subject = picture_source(store, info)
    if subject is None:
        return
    with setup[2]:
        st.subheader(_("Start from"))
        start = starting_mask(subject, info)
    if start is None:
        return
    try:
        image, start_mask = prepare_for_storage(subject.image, start.mask)
    except MaskError as exc:
        st.error(_("This picture cannot be used. {reason}").format(reason=exc), icon=":material/block:")
        return
    names, background = info["class_names"], info["background"]
    instances = start.instances
    if instances is not None and instances.shape != start_mask.shape:
        instances = resize_labels(instances, start_mask.shape)
    start = StartingMask(start_mask, start.label, start.compare, instances)
    class_palette = drawing_palette(len(names), background)
    try:
        start_objects, start_extra = starting_objects(start.mask, start.instances, len(names), background)
    except MaskError as exc:
        st.warning(_("The starting mask's objects cannot be painted here, so it starts as a class mask only. "
                     "{reason}").format(reason=exc), icon=":material/category:")
        start_objects, start_extra = starting_objects(start.mask, None, len(names), background)

    st.divider()
    heading, side_column = st.columns([3, 1], vertical_alignment="bottom")
    heading.subheader(_("Draw on {picture}").format(picture=subject.origin))
    with side_column:
        side = canvas_side_picker()
    size = canvas_size(*image.shape[:2], side=side)
    st.caption(_("{sizes} Strokes are solid so that every colour maps back to exactly one class.").format(
        sizes=size_note(subject.image.shape[:2], image.shape[:2], size)))
    canvas_key = digest(info["name"], names, background, subject.key, side, start_extra)
    draft = Draft(store, info["name"], subject, canvas_key, image)
    drawing = drawing_state(canvas_key, draft, size, len(names), background, start_extra)
    # One colour per object: a class's own colour is its first object, then each "New object".
    palette = object_palette(class_palette, len(drawing["extra_classes"]))
    tools = drawing_tools(info, palette, side, drawing)
    canvas_column, result_column = st.columns([1.45, 1], gap="large")
    tint = np.where(start_objects != NO_OBJECT, start_objects, start.mask)
    with canvas_column:
        labels = mask_canvas(image, tint, info, palette, tools, canvas_key=canvas_key, draft=draft)
    extra = drawing["extra_classes"]
    try:
        mask, objects = paint_objects(start.mask, start_objects, labels, extra, len(names), background)
    except MaskError:  # strokes of objects this canvas no longer has (a stale report): not used
        mask, objects = paint_objects(start.mask, start_objects, None, extra, len(names), background)
    # Objects are saved as an instance map once there are separate ones: a "New object", or a
    # starting mask that came with objects. Otherwise the class mask alone, as before.
    separate = bool(extra) or bool((start_objects != NO_OBJECT).any())
    instances = objects_to_instances(objects, extra, len(names))[0] if separate else None
    with result_column:
        mask_preview(image, mask, info, class_palette, objects, palette, drawing, separate)
        agreement(start, mask, info)
        save_panel(store, info, subject, image, mask, draft, instances=instances)


editor()
st.divider()
st.subheader(_("Saved masks in {name}").format(name=info["name"]))
saved_masks_panel(store, info)
st.divider()
st.subheader(_("Import and export COCO instances"))
coco_panel(store, info)
st.divider()
st.subheader(_("Train a segmentation model on {name}").format(name=info["name"]))
user_dataset_training("mask_studio", info["name"], str(store.root))
