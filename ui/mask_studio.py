"""The Mask studio's widgets: choose a user dataset, a picture and a starting mask, paint on a
canvas, preview, save, and manage saved masks.

The drawing itself is streamlit-drawable-canvas (imported inside :func:`mask_canvas` only: it
raises on a plain import outside a running app). Turning its pixels into classes, sizes,
palettes and checks live in :mod:`cv_core.mask_drawing`; files go through
:class:`cv_core.datasets.UserMaskStore`. Session-state keys start with ``mask_studio_``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from cv_core.datasets import SHAPE_CLASSES, DatasetError, UserMaskStore, resize_image
from cv_core.images import ImageInputError, decode_label_map
from cv_core.mask_drawing import (
    DRAW_SIDE,
    STORE_MAX_SIDE,
    MaskError,
    blank_mask,
    canvas_size,
    canvas_to_labels,
    drawing_palette,
    hex_colour,
    parse_class_names,
    remap_mask,
    resize_labels,
    validate_mask,
)
from cv_core.overlays import colorize_mask, mask_legend, overlay_mask, upscale
from cv_core.segmentation import iou
from ui.data import dataset_key, dataset_picker
from ui.uploads import image_upload

PREFIX = "mask_studio"
NEW_DATASET = "__new__"
SOURCES = {"sample": "Built-in sample", "upload": "Upload", "saved": "Saved mask"}
TOOLS = {
    "brush": ("Brush", "freedraw"),
    "eraser": ("Eraser", "freedraw"),
    "polygon": ("Polygon", "polygon"),
    "rect": ("Rectangle", "rect"),
}
TOOL_HINTS = {
    "brush": "Brush: drag on the picture to paint",
    "eraser": "Eraser: drag to paint the background class, which is what erasing means in a mask:",
    "polygon": "Filled polygon: click to place corners, then click the first corner again to close and fill it with",
    "rect": "Filled rectangle: drag a box, filled with",
}
CLASS_PRESETS = {
    "shapes": ["background", *SHAPE_CLASSES],
    "pets": ["background", "foreground", "boundary"],
}
THUMB_SIDE = 160
CANVAS_SIDES = [320, 400, 480, 560, 640, 800]
LEGEND_WIDTH = 280  # px: about the width of the dataset column, so the names stay legible
THUMBS_PER_PAGE = 12


def _key(name: str) -> str:
    return f"{PREFIX}_{name}"


def _flash(kind: str, text: str, dataset: str | None = None) -> None:
    st.session_state[_key("flash")] = (kind, text, dataset)


def show_flash() -> None:
    """Show the message left by the last action (created, saved, deleted, refused).

    It stays until the next action replaces it, so reruns the canvas triggers on its own do not
    wipe it; a message about one dataset goes away when another dataset is chosen.
    """
    flash = st.session_state.get(_key("flash"))
    if not flash:
        return
    kind, text, dataset = flash
    if dataset is not None and st.session_state.get(_key("dataset")) != dataset:
        del st.session_state[_key("flash")]
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
    name = (st.session_state.get(_key("new_name")) or "").strip()
    try:
        names = parse_class_names(st.session_state.get(_key("new_classes")) or "")
        store.create(name, names, background=0)
    except (MaskError, DatasetError) as exc:
        _flash("error", f"The dataset was not created. {exc}", NEW_DATASET)
        return
    except OSError as exc:
        _flash("error", f"The dataset could not be written under {store.root}: {exc.strerror or exc}.", NEW_DATASET)
        return
    st.session_state[_key("dataset")] = name
    _flash("success", f"Created the dataset **{name}** with the classes {', '.join(names)}. "
                      "Choose a picture and start drawing.", name)


def _use_preset(preset: str) -> None:
    st.session_state[_key("new_classes")] = "\n".join(CLASS_PRESETS[preset])


def new_dataset_form(store: UserMaskStore) -> None:
    """A form that creates a user dataset from a plain name and its class names."""
    st.caption("Fill in the classes of a built-in dataset, to start from its true masks:")
    cols = st.columns(2)
    cols[0].button("Shapes", key=_key("preset_shapes"), on_click=_use_preset, args=("shapes",),
                   help="background, " + ", ".join(SHAPE_CLASSES), width="stretch")
    cols[1].button("Oxford pets", key=_key("preset_pets"), on_click=_use_preset, args=("pets",),
                   help="background, foreground, boundary", width="stretch")
    st.session_state.setdefault(_key("new_classes"), "background\nforeground")
    with st.container(border=True):
        st.text_input("Dataset name", key=_key("new_name"), placeholder="e.g. my_cats",
                      help="1 to 64 letters A–Z, digits, '-' or '_', starting with a letter or digit. "
                           "It names a folder, so other characters are refused.")
        st.text_area("Classes, one per line (the first is the background)", key=_key("new_classes"), height=130,
                     help="The mask value of each class is its line number minus one: the background is 0.")
        st.button("Create dataset", type="primary", icon=":material/create_new_folder:", on_click=_create_dataset,
                  args=(store,), key=_key("create"))


def dataset_chooser(store: UserMaskStore) -> dict | None:
    """Choose (or create) the user dataset masks are saved into; returns its info or None."""
    try:
        names = store.list_datasets()
    except OSError as exc:
        st.error(f"The data folder {store.root} cannot be read: {exc.strerror or exc}.", icon=":material/folder_off:")
        return None
    options = [*names, NEW_DATASET]
    if st.session_state.get(_key("dataset")) not in options:
        st.session_state.pop(_key("dataset"), None)
    choice = st.selectbox("Save masks into", options, key=_key("dataset"),
                          format_func=lambda n: "+ New dataset…" if n == NEW_DATASET else n,
                          help=f"Your mask datasets, stored in {store.root}. Each opens for training as "
                               "`user:<name>`.")
    if choice == NEW_DATASET:
        new_dataset_form(store)
        return None
    try:
        info = store.dataset_info(choice)
    except DatasetError as exc:
        st.error(str(exc), icon=":material/folder_off:")
        return None
    palette = drawing_palette(len(info["class_names"]), info["background"])
    st.image(mask_legend(info["class_names"], palette, LEGEND_WIDTH), output_format="PNG",
             caption=f"{info['items']} saved mask(s) · open it for training as user:{choice}")
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


@st.cache_data(max_entries=8, show_spinner=False)
def _load_item(root: str, name: str, item_id: str, stamp: int) -> tuple[np.ndarray, np.ndarray]:
    return UserMaskStore(root).load_item(name, item_id)


def _item_stamp(store: UserMaskStore, name: str, item_id: str) -> int:
    try:
        return (store.root / name / "masks" / f"{item_id}.png").stat().st_mtime_ns
    except OSError:
        return -1


def load_saved_item(store: UserMaskStore, name: str, item_id: str) -> tuple[np.ndarray, np.ndarray]:
    """An item's (image, mask), cached until the item's mask file changes."""
    return _load_item(str(store.root), name, item_id, _item_stamp(store, name, item_id))


def _sample_subject() -> Subject | None:
    dataset = dataset_picker(_key("src"), segmentation_only=True)
    if dataset is None:
        return None
    cols = st.columns(2)
    split = cols[0].selectbox("Split", ["train", "validation", "test"], key=_key("src_split"))
    count = dataset.count(split)
    if count == 0:
        st.info(f"The {split} split of {dataset.name} is empty.")
        return None
    index = int(cols[1].number_input("Picture number", 0, count - 1, 0, key=_key("src_index")))
    try:
        sample = dataset.sample(split, index)
    except (ImageInputError, IndexError) as exc:
        st.error(f"Picture {index} of the {split} split cannot be used. {exc}", icon=":material/broken_image:")
        return None
    return Subject(
        key=f"sample|{dataset_key(dataset)}|{split}|{index}", image=sample.image,
        origin=f"{dataset.name}, {split} picture {index}", true_mask=sample.mask,
        true_names=list(dataset.mask_class_names or []), true_background=dataset.mask_background,
    )


def _saved_subject(store: UserMaskStore, info: dict) -> Subject | None:
    name = info["name"]
    items = store.list_items(name)
    if not items:
        st.info(f"{name} has no saved masks yet. Draw on a built-in sample or an upload and save it.",
                icon=":material/info:")
        return None
    if st.session_state.get(_key("item")) not in items:
        st.session_state.pop(_key("item"), None)
    item_id = st.selectbox("Saved mask", items, key=_key("item"))
    try:
        image, mask = load_saved_item(store, name, item_id)
    except (DatasetError, ImageInputError) as exc:
        st.error(f"Item {item_id} cannot be opened. {exc}", icon=":material/broken_image:")
        return None
    return Subject(key=f"saved|{name}|{item_id}", image=image, origin=f"item {item_id} of {name}",
                   item_id=item_id, saved_mask=mask)


def picture_source(store: UserMaskStore, info: dict) -> Subject | None:
    """Where the picture comes from: a built-in sample, an upload, or a saved item to edit."""
    st.session_state.setdefault(_key("source"), "sample")
    source = st.segmented_control("Picture", list(SOURCES), format_func=SOURCES.get, key=_key("source"),
                                  help="A sample of shapes or Oxford pets (with its true mask), a picture of "
                                       "your own, or a mask you saved before.") or "sample"
    if source == "upload":
        image = image_upload("Upload a picture", key=_key("upload"))
        if image is None:
            return None
        return Subject(key=f"upload|{digest(image)}", image=image, origin="your upload")
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
    from ui.segmentation import predict, run_classes, run_label, run_model, segmentation_runs

    runs = segmentation_runs()
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    chosen = st.selectbox("Model for “start from the prediction”", list(by_id), key=f"{key}_run",
                          format_func=lambda rid: run_label(by_id[rid]),
                          help="A segmentation run of this lab (Segmentation page). Its classes are matched to "
                               "this dataset's by name.")
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
        st.caption(f":material/block: The prediction of run {run.id} cannot start this mask: {exc}")
        return None
    return StartingMask(mask, f"the prediction of run {run.id}")


def starting_mask(subject: Subject, info: dict) -> StartingMask | None:
    """Choose what the drawing starts from; returns it, or None (with a message) when it cannot be used."""
    names, background = info["class_names"], info["background"]
    shape = subject.image.shape[:2]
    model = initial_mask_from_model(subject.image, names, background, key=_key("model"))
    true_mask, true_problem = None, None
    if subject.true_mask is not None:
        try:
            true_mask = remap_mask(subject.true_mask, subject.true_names, names, subject.true_background, background)
        except MaskError as exc:
            true_problem = str(exc)
    options = {}
    if subject.saved_mask is not None:
        options["saved"] = "The saved mask"
    if model is not None:
        options["model"] = "The model's prediction"
    if true_mask is not None:
        options["true"] = "The dataset's true mask"
    options["empty"] = "An empty mask (all background)"
    options["file"] = "A mask file (PNG of class indices)"
    if st.session_state.get(_key("start")) not in options:
        st.session_state[_key("start")] = next(iter(options))
    choice = st.radio("Start from", list(options), format_func=options.get, key=_key("start"),
                      help="Your strokes are painted over this mask; where you do not paint, it is kept.")
    if true_problem:
        st.caption(f":material/block: The dataset's true mask cannot start a mask of {info['name']}: {true_problem}")
    if model is None and not st.session_state.get(_key("model_run")):
        st.caption(":material/model_training: Starting from a model's prediction becomes possible once a "
                   "segmentation model has been trained (Segmentation page).")
    if choice == "saved":
        return StartingMask(subject.saved_mask, "the saved mask")
    if choice == "model":
        return model
    if choice == "true":
        return StartingMask(true_mask, "the dataset's true mask")
    if choice == "file":
        upload = st.file_uploader("Mask file", type=["png"], key=_key("mask_file"),
                                  help=f"A single-channel PNG of class indices 0 to {len(names) - 1}, exactly "
                                       f"{shape[1]} × {shape[0]} pixels like the picture.")
        if upload is None:
            st.info("Upload a mask PNG to start from.", icon=":material/upload_file:")
            return None
        try:
            mask = validate_mask(decode_label_map(upload.getvalue()), shape, len(names))
        except (MaskError, ImageInputError) as exc:
            st.error(f"**{upload.name}** cannot be used as this picture's mask. {exc}", icon=":material/block:")
            return None
        return StartingMask(mask, f"your mask file {upload.name}")
    return StartingMask(blank_mask(shape, background), "an empty mask", compare=False)


# -- drawing ----------------------------------------------------------------------------------
@dataclass
class Tools:
    """What the next stroke paints, with which tool, how wide, and how the canvas looks."""

    class_index: int
    tool: str
    width: int
    opacity: float
    side: int = DRAW_SIDE


def drawing_tools(info: dict, palette: np.ndarray, side: int = DRAW_SIDE) -> Tools:
    """Class, tool, brush size and how strongly the starting mask shows under the strokes."""
    names, background = info["class_names"], info["background"]
    painted = [i for i in range(len(names)) if i != background] or [background]
    cols = st.columns([1.3, 2.0, 1.1, 1.3])
    if st.session_state.get(_key("class")) not in range(len(names)):
        st.session_state[_key("class")] = painted[0]
    class_index = cols[0].selectbox("Class", range(len(names)), key=_key("class"),
                                    format_func=lambda i: f"{i} · {names[i]}",
                                    help="The class the brush, polygon and rectangle paint.")
    st.session_state.setdefault(_key("tool"), "brush")
    tool = cols[1].segmented_control("Tool", list(TOOLS), format_func=lambda t: TOOLS[t][0], key=_key("tool"),
                                     help="Brush, eraser (paints the background class), filled polygon, "
                                          "filled rectangle.") or "brush"
    width = cols[2].slider("Brush size", 1, 80, 18, key=_key("width"), help="In pixels of the canvas.")
    opacity = cols[3].slider("Starting mask under the strokes", 0.0, 1.0, 0.45, 0.05, key=_key("opacity"),
                             help="How strongly the starting mask is tinted over the picture on the canvas.")
    painting = background if tool == "eraser" else class_index
    swatch, hint = st.columns([0.12, 1], vertical_alignment="center")
    swatch.image(np.broadcast_to(palette[painting], (18, 48, 3)).copy(), output_format="PNG")
    hint.caption(f"{TOOL_HINTS[tool]} **{painting} · {names[painting]}**. Undo and Clear are under the canvas "
                 "(and in the canvas's own toolbar when you hover it).")
    return Tools(int(class_index), tool, int(width), float(opacity), int(side))


def _drawing_state(canvas_key: str) -> dict:
    state = st.session_state.get(_key("drawing"))
    if not state or state.get("canvas") != canvas_key:
        state = {"canvas": canvas_key, "objects": [], "initial": None, "revision": 0}
        st.session_state[_key("drawing")] = state
    return state


def _reload_canvas(objects: list) -> None:
    state = st.session_state[_key("drawing")]
    state["revision"] += 1
    # A new revision makes the drawing differ from the last one, so the canvas reloads it.
    state["initial"] = {"objects": objects, "convnetLabRevision": state["revision"]}
    state["objects"] = objects


def _undo() -> None:
    _reload_canvas(list(st.session_state[_key("drawing")]["objects"])[:-1])


def _clear() -> None:
    _reload_canvas([])


def canvas_background(image: np.ndarray, start: np.ndarray, size: tuple[int, int], palette: np.ndarray,
                      background: int, opacity: float) -> Image.Image:
    """The picture at canvas size with the starting mask tinted over it."""
    picture = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR))
    tinted = overlay_mask(picture, resize_labels(start, size), len(palette), opacity, ignore=(background,),
                          palette=palette)
    return Image.fromarray(tinted)


def canvas_side_picker() -> int:
    """The long side of the drawing canvas on screen, in pixels."""
    return int(st.select_slider("Canvas size (px)", CANVAS_SIDES, value=DRAW_SIDE, key=_key("side"),
                                help="The long side of the canvas on the screen: larger for detail on a big "
                                     "screen. Changing it clears the strokes on the canvas."))


def mask_canvas(image: np.ndarray, start: np.ndarray, info: dict, palette: np.ndarray, tools: Tools,
                canvas_key: str) -> np.ndarray | None:
    """The drawing canvas; returns the painted classes at canvas size (-1 = not painted) or None."""
    from streamlit_drawable_canvas import st_canvas

    size = canvas_size(*image.shape[:2], side=tools.side)
    state = _drawing_state(canvas_key)
    colour = palette[info["background"] if tools.tool == "eraser" else tools.class_index]
    st.space("small")  # room for the canvas's own toolbar, which floats above its top edge
    result = st_canvas(
        fill_color=hex_colour(colour), stroke_width=tools.width, stroke_color=hex_colour(colour),
        background_image=canvas_background(image, start, size, palette, info["background"], tools.opacity),
        height=size[0], width=size[1], drawing_mode=TOOLS[tools.tool][1], initial_drawing=state["initial"],
        return_image_data=True, update_streamlit=True, key=f"{PREFIX}_canvas_{canvas_key}",
    )
    objects = list((result.json_data or {}).get("objects") or [])
    state["objects"] = objects
    cols = st.columns([1, 1, 3])
    cols[0].button("Undo", icon=":material/undo:", key=_key("undo"), on_click=_undo, disabled=not objects,
                   help="Remove the last stroke or shape.", width="stretch")
    cols[1].button("Clear", icon=":material/ink_eraser:", key=_key("clear"), on_click=_clear, disabled=not objects,
                   help="Remove every stroke: back to the starting mask.", width="stretch")
    cols[2].caption(f"{len(objects)} stroke(s) or shape(s) on the canvas.")
    data = result.image_data
    if data is None or not objects:
        return None
    if data.shape[:2] != size:  # a stale picture from another canvas size: ignore it
        return None
    return canvas_to_labels(np.ascontiguousarray(data[..., :4]).astype(np.uint8), palette)


# -- preview, agreement, saving ---------------------------------------------------------------
def mask_preview(image: np.ndarray, mask: np.ndarray, info: dict, palette: np.ndarray) -> None:
    """The mask that will be saved, over the picture and on its own."""
    names, background = info["class_names"], info["background"]
    view = st.segmented_control("Preview", ["Over the picture", "Mask only"], default="Over the picture",
                                key=_key("preview")) or "Over the picture"
    if view == "Mask only":
        picture = colorize_mask(mask, len(names), palette)
    else:
        picture = overlay_mask(image, mask, len(names), 0.6, ignore=(background,), palette=palette)
    picture = upscale(picture, 320)
    st.image(picture, output_format="PNG", width="stretch",
             caption=f"What will be saved: {mask.shape[1]} × {mask.shape[0]} px, values 0–{len(names) - 1}")


def agreement(start: StartingMask, mask: np.ndarray, info: dict) -> None:
    """IoU between the drawn mask and the starting mask (a model's prediction or a true mask)."""
    names = info["class_names"]
    if not start.compare:
        st.caption("No IoU: you started from an empty mask.")
        return
    scores = iou(start.mask, mask, len(names))
    present = ~np.isnan(scores)
    mean = float(np.nanmean(scores)) if present.any() else float("nan")
    changed = float((start.mask != mask).mean())
    cols = st.columns(2)
    cols[0].metric(f"Mean IoU with {start.label}", f"{mean:.3f}" if present.any() else "–",
                   help="Per class: pixels of the class in both masks / pixels in either; averaged over the "
                        "classes present in at least one of them.")
    cols[1].metric("Pixels changed", f"{changed:.1%}")
    rows = [{"class": f"{i} · {names[i]}", "IoU": None if np.isnan(s) else round(float(s), 3),
             f"pixels in {start.label}": int((start.mask == i).sum()), "pixels now": int((mask == i).sum())}
            for i, s in enumerate(scores) if present[i]]
    st.dataframe(rows, hide_index=True, width="stretch", key=_key("iou_table"))


def _save(store: UserMaskStore, name: str, item_id: str | None, image: np.ndarray, mask: np.ndarray,
          subject_key: str, new_item: bool) -> None:
    if new_item:
        item_id = (st.session_state.get(_key("item_name")) or "").strip() or None
        try:
            exists = item_id is not None and item_id in store.list_items(name)
        except DatasetError as exc:
            _flash("error", f"Nothing was saved. {exc}", name)
            return
        if exists:
            _flash("error", f"Nothing was saved: {name} already has an item called {item_id!r}. Choose another "
                            "name, or open that item (Picture → Saved mask) to edit it.", name)
            return
    try:
        saved = store.save_mask(name, image, mask, item_id=item_id)
    except DatasetError as exc:
        _flash("error", f"Nothing was saved. {exc}", name)
        return
    except OSError as exc:
        _flash("error", f"Nothing was saved: the disk refused ({exc.strerror or exc}). "
                        "The previous version is intact.", name)
        return
    if not subject_key.startswith("saved|"):
        st.session_state.setdefault(_key("saved_as"), {})[subject_key] = saved
    st.session_state.pop(_key("item_name"), None)
    verb = "Saved as a new item" if new_item else "Saved the changes to item"
    names = store.dataset_info(name)["class_names"]
    present = [names[int(v)] for v in np.unique(mask)]
    shown = ", ".join(present[:8]) + (f" and {len(present) - 8} more" if len(present) > 8 else "")
    _flash("success", f"{verb} **{saved}** in **{name}**: the picture ({image.shape[1]} × {image.shape[0]} px) "
                      f"and its mask of class indices ({shown}).", name)


def save_panel(store: UserMaskStore, info: dict, subject: Subject, image: np.ndarray, mask: np.ndarray) -> None:
    """Save the picture and its mask into the user dataset: a new item, or over the item being edited."""
    name = info["name"]
    target = subject.item_id or st.session_state.get(_key("saved_as"), {}).get(subject.key)
    if target is not None and target not in store.list_items(name):
        target = None  # deleted meanwhile
    if target is not None:
        st.button(f"Save changes to {target}", type="primary", icon=":material/save:", key=_key("save"),
                  on_click=_save, args=(store, name, target, image, mask, subject.key, False), width="stretch")
        st.button("Save as a new item", icon=":material/add:", key=_key("save_new"),
                  on_click=_save, args=(store, name, None, image, mask, subject.key, True), width="stretch")
    else:
        st.text_input("Item name (optional)", key=_key("item_name"), placeholder="next number, e.g. 0001",
                      help="A plain name: letters A–Z, digits, '-' or '_'. Empty: the next number.")
        st.button(f"Save to {name}", type="primary", icon=":material/save:", key=_key("save"),
                  on_click=_save, args=(store, name, None, image, mask, subject.key, True), width="stretch")


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
    st.session_state[_key("source")] = "saved"
    st.session_state[_key("item")] = item_id
    st.session_state[_key("start")] = "saved"


def _ask_delete(item_id: str) -> None:
    st.session_state[_key("confirm_delete")] = item_id


def _cancel_delete() -> None:
    st.session_state.pop(_key("confirm_delete"), None)


def _delete_item(store: UserMaskStore, name: str, item_id: str) -> None:
    st.session_state.pop(_key("confirm_delete"), None)
    try:
        store.delete_item(name, item_id)
    except DatasetError as exc:
        _flash("error", f"Nothing was deleted. {exc}", name)
        return
    if st.session_state.get(_key("item")) == item_id:
        st.session_state.pop(_key("item"), None)
    saved_as = st.session_state.get(_key("saved_as"), {})
    for key in [k for k, v in saved_as.items() if v == item_id]:
        del saved_as[key]
    _flash("success", f"Deleted item **{item_id}** of **{name}**.", name)


def _delete_dataset(store: UserMaskStore, name: str) -> None:
    typed = (st.session_state.get(_key("confirm_dataset")) or "").strip()
    if typed != name:
        _flash("error", f"Nothing was deleted: type the dataset's name, {name}, to confirm.", name)
        return
    try:
        store.delete_dataset(name)
    except DatasetError as exc:
        _flash("error", f"Nothing was deleted. {exc}", name)
        return
    for key in ("dataset", "item", "confirm_dataset", "saved_as", "drawing"):
        st.session_state.pop(_key(key), None)
    st.session_state[_key("source")] = "sample"
    _flash("success", f"Deleted the dataset **{name}** and every mask in it.")


def saved_masks_panel(store: UserMaskStore, info: dict) -> None:
    """Thumbnails of the saved masks, with Edit and Delete (which asks first)."""
    name = info["name"]
    items = store.list_items(name)
    if not items:
        st.caption(f"No masks saved in {name} yet.")
    else:
        pages = (len(items) - 1) // THUMBS_PER_PAGE + 1
        page = 1
        if pages > 1:
            page = int(st.number_input(f"Page (of {pages})", 1, pages, 1, key=_key("thumb_page")))
        shown = items[(page - 1) * THUMBS_PER_PAGE: page * THUMBS_PER_PAGE]
        columns = st.columns(6)
        for i, item_id in enumerate(shown):
            with columns[i % 6]:
                thumb = _thumbnail(str(store.root), name, item_id, _item_stamp(store, name, item_id),
                                   len(info["class_names"]), info["background"])
                if thumb is None:
                    st.warning(f"{item_id}: unreadable", icon=":material/broken_image:")
                else:
                    st.image(thumb, caption=item_id, output_format="PNG", width="stretch")
                buttons = st.columns(2)
                buttons[0].button("Edit", key=_key(f"edit_{item_id}"), on_click=_open_item, args=(item_id,),
                                  width="stretch")
                buttons[1].button("Delete", key=_key(f"delete_{item_id}"), on_click=_ask_delete, args=(item_id,),
                                  width="stretch")
        pending = st.session_state.get(_key("confirm_delete"))
        if pending in items:
            with st.container(border=True):
                st.warning(f"Delete item **{pending}** of **{name}** (its picture and its mask)? "
                           "This cannot be undone.",
                           icon=":material/delete_forever:")
                cols = st.columns([1, 1, 3])
                cols[0].button(f"Yes, delete {pending}", type="primary", key=_key("confirm_yes"),
                               on_click=_delete_item, args=(store, name, pending), width="stretch")
                cols[1].button("Cancel", key=_key("confirm_no"), on_click=_cancel_delete, width="stretch")
    with st.expander(f"Delete the whole dataset {name}", icon=":material/delete:"):
        st.text_input(f"Type {name} to confirm", key=_key("confirm_dataset"))
        st.button(f"Delete {name} and its {len(items)} mask(s)", key=_key("delete_dataset"),
                  on_click=_delete_dataset, args=(store, name))


def size_note(original: tuple[int, int], stored: tuple[int, int], canvas: tuple[int, int]) -> str:
    """Say at which sizes the picture is read, stored, drawn on and its mask saved."""
    (oh, ow), (sh, sw), (ch, cw) = original, stored, canvas
    parts = []
    if (sh, sw) != (oh, ow):
        parts.append(f"This picture is {ow} × {oh} px; it is stored at {sw} × {sh} px (pictures are kept at most "
                     f"{STORE_MAX_SIDE} px on their long side: the lab trains at about 200 px).")
    else:
        parts.append(f"The picture is {sw} × {sh} px and is stored at that size.")
    if (ch, cw) != (sh, sw):
        verb = "an enlarged" if ch > sh else "a reduced"
        parts.append(f"You draw on {verb} {cw} × {ch} view.")
    parts.append(f"The mask is saved at {sw} × {sh} px, the stored picture's size.")
    return " ".join(parts)
