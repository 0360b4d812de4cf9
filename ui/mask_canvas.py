"""The Mask studio's canvas: drawing tools, the canvas, the preview and the agreement with the
starting mask, and drafts.

The drawing itself is streamlit-drawable-canvas (imported inside :func:`mask_canvas` only: it
raises on a plain import outside a running app).

**Nothing is lost on a reload.** Unsaved strokes are kept as a *draft* (:class:`Draft`):
written whenever the canvas reports a drawing that differs from what was saved, restored into
the canvas (still undoable) when the same browser opens the same picture again, and removed on
save or when the canvas is cleared. A draft of an upload keeps the picture too, so it comes
back without uploading it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import streamlit as st
from PIL import Image

from cv_core.datasets import DatasetError, UserMaskStore
from cv_core.i18n import N_, LazyText, _, ngettext
from cv_core.mask_drawing import (
    DRAW_SIDE,
    MAX_EXTRA_OBJECTS,
    NO_OBJECT,
    canvas_size,
    canvas_to_labels,
    hex_colour,
    object_class,
    resize_labels,
)
from cv_core.overlays import colorize_mask, mask_legend, overlay_mask, upscale
from cv_core.segmentation import iou
from ui.access import browser_id
from ui.mask_studio import PREFIX, StartingMask, Subject, bound_key, digest, studio_key
from ui.memory import remember, remembered


TOOLS = {
    "brush": (N_("Brush"), "freedraw"),
    "eraser": (N_("Eraser"), "freedraw"),
    "polygon": (N_("Polygon"), "polygon"),
    "rect": (N_("Rectangle"), "rect"),
}
#: One short sentence per tool ({cls} is the class it paints). The hint sits in a box of fixed
#: height (HINT_HEIGHT) above the canvas, so the canvas never moves when the tool changes.
TOOL_HINTS = {
    "brush": N_("Brush: drag on the picture to paint {cls}."),
    "eraser": N_("Eraser: drag to erase, which paints the background class {cls}."),
    "polygon": N_("Polygon: click the corners, then the first one again to fill it with {cls}."),
    "rect": N_("Rectangle: drag a box to fill it with {cls}."),
}
HINT_HEIGHT = 44  # px: one line of hint with the swatch; a longer one scrolls inside
#: Tools that fill a shape: drawn without an outline, so the shape covers exactly what was
#: dragged or clicked (the canvas adds an outline's width on the right and bottom of a box).
FILLED_SHAPES = ("polygon", "rect")
CANVAS_SIDES = [320, 400, 480, 560, 640, 800]


# -- drawing ----------------------------------------------------------------------------------
@dataclass
class Tools:
    """What the next stroke paints, with which tool, how wide, and how the canvas looks."""

    class_index: int
    tool: str
    width: int
    opacity: float
    side: int = DRAW_SIDE
    #: The object the brush, polygon and rectangle paint: its index in the object palette
    #: (:mod:`cv_core.mask_drawing.objects`; the class's own index is its first object).
    object_index: int | None = None

    def paint_index(self, background: int) -> int:
        """The object-palette index the next stroke paints (the background's for the eraser)."""
        if self.tool == "eraser":
            return background
        return self.class_index if self.object_index is None else self.object_index


def drawing_tools(info: dict, palette: np.ndarray, side: int = DRAW_SIDE, objects: dict | None = None) -> Tools:
    """Class, object, tool, brush size and how strongly the starting mask shows under the strokes.

    With ``objects`` (the canvas's drawing state, :func:`drawing_state`), the row also offers the
    class's objects and "New object" (see :func:`object_picker`); ``palette`` is then the object
    palette (the class palette followed by the extra objects' colours).
    """
    names, background = info["class_names"], info["background"]
    painted = [i for i in range(len(names)) if i != background] or [background]
    cols = st.columns([1.15, 1.15, 2.5, 1.0, 1.2])
    # Kept in the URL by number, not by label: the labels change with the dataset, and a bound
    # widget whose label is gone falls back to its first option, the background.
    classes = list(range(len(names)))
    initial = remembered(studio_key("class"), "mask_studio_class", classes, painted[0])
    class_index = cols[0].selectbox(_("Class"), classes, index=classes.index(initial), key=studio_key("class"),
                                    format_func=lambda i: f"{i} · {names[i]}",
                                    help=_("The class the brush, polygon and rectangle paint."))
    remember(studio_key("class"), "mask_studio_class", class_index)
    object_index = None
    if objects is not None:
        with cols[1]:
            object_index = object_picker(objects, info, palette, int(class_index))
    tool_key = bound_key("tool", list(TOOLS), lambda t: _(TOOLS[t][0]))
    st.session_state.setdefault(tool_key, "brush")
    tool = cols[2].segmented_control(_("Tool"), list(TOOLS), format_func=lambda t: _(TOOLS[t][0]), key=tool_key,
                                     bind="query-params", required=True,
                                     help=_("Brush, eraser (paints the background class), filled polygon, "
                                            "filled rectangle.")) or "brush"
    width = cols[3].slider(_("Brush size"), 1, 80, 18, key=studio_key("width"), bind="query-params",
                           disabled=tool in FILLED_SHAPES,
                           help=_("In pixels of the canvas, for the brush and the eraser. Polygons and rectangles "
                                  "have no outline: they fill exactly the corners you click or the box you drag."))
    opacity = cols[4].slider(_("Starting mask under the strokes"), 0.0, 1.0, 0.45, 0.05, key=studio_key("opacity"),
                             bind="query-params",
                             help=_("How strongly the starting mask is tinted over the picture on the canvas."))
    tools = Tools(int(class_index), tool, int(width), float(opacity), int(side), object_index)
    painting = tools.paint_index(background)
    with st.container(height=HINT_HEIGHT, border=False, key=studio_key("hint")):
        swatch, hint = st.columns([1, 14], vertical_alignment="center")
        swatch.image(np.broadcast_to(palette[painting], (18, 48, 3)).copy(), output_format="PNG")
        extra = objects["extra_classes"] if objects is not None else []
        if tool == "eraser" or int(class_index) not in extra:  # one object of this class: its name says it
            hint.caption(_(TOOL_HINTS[tool]).format(cls=f"**{painting if tool == 'eraser' else class_index} · "
                                                     f"{names[painting if tool == 'eraser' else class_index]}**"))
        else:
            hint.caption(_(OBJECT_HINTS[tool]).format(
                obj=object_label(objects, info, painting)))
    return tools


#: The tool hints while painting an object ({obj} names the object and its class).
OBJECT_HINTS = {
    "brush": N_("Brush: drag on the picture to paint {obj}."),
    "polygon": N_("Polygon: click the corners, then the first one again to fill it with {obj}."),
    "rect": N_("Rectangle: drag a box to fill it with {obj}."),
}


def object_label(objects: dict, info: dict, index: int) -> str:
    """How an object is named on screen: its number among its class's objects and its class."""
    names, k = info["class_names"], len(info["class_names"])
    extra = objects["extra_classes"]
    cls = object_class(index, extra, k)
    same = [cls] + [k + j for j, c in enumerate(extra) if c == cls]
    return _("**{cls} object {n}**").format(cls=names[cls], n=same.index(index) + 1 if index in same else 1)


def _new_object(class_index: int) -> None:
    state = st.session_state[studio_key("drawing")]
    if len(state["extra_classes"]) >= MAX_EXTRA_OBJECTS:
        return
    state["extra_classes"] = [*state["extra_classes"], int(class_index)]
    new = state["class_count"] + len(state["extra_classes"]) - 1
    state.setdefault("current", {})[str(class_index)] = new
    st.session_state[studio_key(f"object_{class_index}")] = new


def object_picker(objects: dict, info: dict, palette: np.ndarray, class_index: int) -> int:
    """The object of ``class_index`` that strokes paint, and "New object" to start the next one.

    Returns the object's index in the object palette.
    """
    names, background, k = info["class_names"], info["background"], len(info["class_names"])
    if class_index == background:
        st.selectbox(_("Object"), [_("none: the background")], disabled=True, key=studio_key("object_none"),
                     help=_("The background is no object."))
        return background
    choices = [class_index] + [k + j for j, c in enumerate(objects["extra_classes"]) if c == class_index]
    key = studio_key(f"object_{class_index}")
    current = objects.setdefault("current", {}).get(str(class_index), choices[-1])
    if st.session_state.get(key) not in choices:
        st.session_state[key] = current if current in choices else choices[-1]
    chosen = st.selectbox(_("Object"), choices, key=key,
                          format_func=lambda i: _("{name} {n}").format(name=names[class_index], n=choices.index(i) + 1),
                          help=_("Which object of this class your strokes paint. Each object has its own colour "
                                 "and is saved as its own instance."))
    objects["current"][str(class_index)] = int(chosen)
    full = len(objects["extra_classes"]) >= MAX_EXTRA_OBJECTS
    st.button(_("New object"), icon=":material/add_circle:", key=studio_key("new_object"), on_click=_new_object,
              args=(class_index,), disabled=full, width="stretch",
              help=_("Start the next object of this class, in a colour of its own: two touching objects of "
                     "one class stay two objects."))
    return int(chosen)


# -- drafts -----------------------------------------------------------------------------------
def draft_id(subject_key: str) -> str:
    """The draft of this browser's drawing on this picture (a plain name: hex digits)."""
    return hashlib.sha256(f"{browser_id()}|{subject_key}".encode()).hexdigest()[:32]


@dataclass
class Draft:
    """Where this browser keeps its unsaved drawing on one picture of one dataset.

    ``image`` is the stored picture, kept with the draft for uploads only (a sample or a saved
    item is found again from the URL; an upload is not).
    """

    store: UserMaskStore
    dataset: str
    subject: Subject
    canvas_key: str
    image: np.ndarray

    @property
    def id(self) -> str:
        return draft_id(self.subject.key)

    def load(self) -> dict | None:
        try:
            return self.store.load_draft(self.dataset, self.id)
        except (DatasetError, OSError):
            return None

    def write(self, labels: np.ndarray, objects: list) -> bool:
        """Keep the drawing; returns False (and says so once) when the disk refuses."""
        drawing = st.session_state.get(studio_key("drawing")) or {}
        meta = {"canvas": self.canvas_key, "subject": self.subject.key, "origin": self.subject.origin,
                "browser": browser_id(), "objects": objects, "extra_classes": list(drawing.get("extra_classes", [])),
                "saved_as": st.session_state.get(studio_key("saved_as"), {}).get(self.subject.key)}
        upload = self.subject.key.startswith("upload|")
        try:
            self.store.save_draft(self.dataset, self.id, labels, meta, image=self.image if upload else None)
        except (DatasetError, OSError) as exc:
            st.caption(_(":material/warning: Your strokes could not be kept as a draft ({reason}): save before you "
                         "reload or leave this page.").format(reason=exc))
            return False
        return True

    def discard(self) -> None:
        try:
            self.store.delete_draft(self.dataset, self.id)
        except (DatasetError, OSError):
            pass


def upload_from_draft(store: UserMaskStore, name: str) -> Subject | None:
    """The picture this browser uploaded and drew on without saving, from its newest draft."""
    me = browser_id()
    try:
        ids = store.list_drafts(name)
    except (DatasetError, OSError):
        return None
    for draft in ids:
        kept = store.load_draft(name, draft)
        meta = (kept or {}).get("meta", {})
        if kept and kept["image"] is not None and meta.get("browser") == me \
                and str(meta.get("subject", "")).startswith("upload|") and draft == draft_id(meta["subject"]):
            return Subject(key=meta["subject"], image=kept["image"], origin=LazyText(N_("your upload")))
    return None


def _saved_time(text) -> str:
    try:
        return datetime.fromisoformat(str(text)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return "earlier"


# -- the canvas -------------------------------------------------------------------------------
def _draft_extra_classes(value, class_count: int, background: int, start_extra: list[int]) -> list[int] | None:
    """A draft's extra objects, if they can belong to this canvas (else None)."""
    if not isinstance(value, list) or len(value) > MAX_EXTRA_OBJECTS:
        return None
    if not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < class_count and c != background
               for c in value):
        return None
    return value if value[:len(start_extra)] == list(start_extra) else None


def drawing_state(canvas_key: str, draft: Draft | None = None, size: tuple[int, int] | None = None,
                  class_count: int = 0, background: int = 0, start_extra: list[int] | None = None) -> dict:
    """This canvas's strokes and objects in the session; a new canvas starts from its draft when
    there is one.

    ``extra_classes`` lists the class of each extra object (the starting mask's, ``start_extra``,
    then each "New object"); ``current`` maps a class to the object its strokes paint.
    """
    state = st.session_state.get(studio_key("drawing"))
    if state and state.get("canvas") == canvas_key:
        return state
    start_extra = list(start_extra or [])
    state = {"canvas": canvas_key, "objects": [], "initial": None, "revision": 0,
             "draft": draft.id if draft is not None else None, "class_count": int(class_count),
             "start_extra": start_extra, "extra_classes": list(start_extra), "current": {}}
    kept = draft.load() if draft is not None else None
    meta = (kept or {}).get("meta", {})
    objects = meta.get("objects")
    extra = _draft_extra_classes(meta.get("extra_classes", start_extra), class_count, background, start_extra)
    if kept and meta.get("canvas") == canvas_key and isinstance(objects, list) and objects and extra is not None \
            and kept["labels"].shape == tuple(size or kept["labels"].shape) \
            and int(kept["labels"].max()) < class_count + len(extra):
        state.update(objects=objects, initial={"objects": objects, "convnetLabRevision": 0},
                     restored=kept["labels"], restored_at=_saved_time(meta.get("saved")),
                     draft_digest=digest(kept["labels"]), extra_classes=list(extra))
        saved_as = meta.get("saved_as")
        if isinstance(saved_as, str) and not draft.subject.key.startswith("saved|"):
            st.session_state.setdefault(studio_key("saved_as"), {}).setdefault(draft.subject.key, saved_as)
    st.session_state[studio_key("drawing")] = state
    return state


_drawing_state = drawing_state


def _reload_canvas(objects: list) -> None:
    state = st.session_state[studio_key("drawing")]
    state["revision"] += 1
    # A new revision makes the drawing differ from the last one, so the canvas reloads it.
    state["initial"] = {"objects": objects, "convnetLabRevision": state["revision"]}
    state["objects"] = objects
    state.pop("restored", None)  # the canvas reports the drawing it reloads


def _undo() -> None:
    _reload_canvas(list(st.session_state[studio_key("drawing")]["objects"])[:-1])


def _clear() -> None:
    state = st.session_state[studio_key("drawing")]
    state["extra_classes"] = list(state.get("start_extra", []))  # the new objects go with their strokes
    state["current"] = {}
    _reload_canvas([])


def canvas_background(image: np.ndarray, start: np.ndarray, size: tuple[int, int], palette: np.ndarray,
                      background: int, opacity: float) -> Image.Image:
    """The picture at canvas size with the starting mask tinted over it."""
    picture = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.BILINEAR))
    tinted = overlay_mask(picture, resize_labels(start, size), len(palette), opacity, ignore=(background,),
                          palette=palette)  # (an object palette: each object in its own colour)
    return Image.fromarray(tinted)


def canvas_side_picker() -> int:
    """The long side of the drawing canvas on screen, in pixels."""
    return int(st.select_slider(_("Canvas size (px)"), CANVAS_SIDES, value=DRAW_SIDE, key=studio_key("side"),
                                bind="query-params",
                                help=_("The long side of the canvas on the screen: larger for detail on a big "
                                       "screen. Changing it clears the strokes on the canvas.")))


def _keep_draft(draft: Draft | None, state: dict, labels: np.ndarray | None, objects: list) -> None:
    """Write the drawing the canvas just reported as the draft, or remove the draft when the
    canvas is empty or shows what was saved."""
    if draft is None:
        return
    if not objects:
        if state.pop("draft_digest", None) is not None or state.get("reported_empty") is None:
            draft.discard()
        state["reported_empty"] = True
        return
    state.pop("reported_empty", None)
    if labels is None:
        return
    current = digest(labels)
    if current == state.get("saved_digest"):
        if state.pop("draft_digest", None) is not None:
            draft.discard()
    elif current != state.get("draft_digest") and draft.write(labels, objects):
        state["draft_digest"] = current


def mask_canvas(image: np.ndarray, start: np.ndarray, info: dict, palette: np.ndarray, tools: Tools,
                canvas_key: str, draft: Draft | None = None) -> np.ndarray | None:
    """The drawing canvas; returns the painted objects at canvas size (indices of ``palette``, the
    object palette: a class's own index is its first object; -1 = not painted) or None.

    ``start`` is the starting mask as object-palette indices (its objects', else its classes').

    With a ``draft``, a new canvas starts from the draft's strokes, and every drawing the canvas
    reports is kept as the draft until it is saved or cleared (see the module docstring).
    """
    from streamlit_drawable_canvas import st_canvas

    size = canvas_size(*image.shape[:2], side=tools.side)
    state = _drawing_state(canvas_key, draft, size)
    colour = palette[tools.paint_index(info["background"])]
    st.space("small")  # room for the canvas's own toolbar, which floats above its top edge
    result = st_canvas(
        fill_color=hex_colour(colour), stroke_color=hex_colour(colour),
        stroke_width=0 if tools.tool in FILLED_SHAPES else tools.width,
        background_image=canvas_background(image, start, size, palette, info["background"], tools.opacity),
        height=size[0], width=size[1], drawing_mode=TOOLS[tools.tool][1], initial_drawing=state["initial"],
        return_image_data=True, update_streamlit=True, key=f"{PREFIX}_canvas_{canvas_key}",
    )
    objects = list((result.json_data or {}).get("objects") or [])
    state["objects"] = objects
    data = result.image_data
    labels = None
    if data is None:  # the canvas has not reported since it appeared: its strokes are the draft's
        if objects and state.get("restored") is not None:
            labels = state["restored"]
    else:
        state.pop("restored", None)
        if objects and data.shape[:2] == size:  # (another size: a stale picture from another canvas)
            labels = canvas_to_labels(np.ascontiguousarray(data[..., :4]).astype(np.uint8), palette)
        _keep_draft(draft, state, labels, objects)
    state["labels_digest"] = digest(labels) if labels is not None else None
    cols = st.columns([1, 1, 3])
    cols[0].button(_("Undo"), icon=":material/undo:", key=studio_key("undo"), on_click=_undo, disabled=not objects,
                   help=_("Remove the last stroke or shape."), width="stretch")
    cols[1].button(_("Clear"), icon=":material/ink_eraser:", key=studio_key("clear"), on_click=_clear, disabled=not objects,
                   help=_("Remove every stroke: back to the starting mask (and forget the draft)."), width="stretch")
    unsaved = labels is not None and state["labels_digest"] != state.get("saved_digest")
    with cols[2]:
        st.caption(ngettext("{n} stroke or shape on the canvas.", "{n} strokes or shapes on the canvas.",
                            len(objects)).format(n=len(objects)))
        if unsaved and state.get("restored") is not None:
            st.caption(_(":material/history: Your unsaved strokes from {time} are back: they were "
                         "kept as a draft. Save them, or Clear to start again.").format(time=state["restored_at"]))
        elif unsaved and draft is not None:
            st.caption(_(":material/save: Unsaved strokes are kept as a draft until you save or clear them, so a "
                         "reload loses nothing."))
    return labels


# -- preview, agreement, saving ---------------------------------------------------------------
def objects_picture(image: np.ndarray, mask: np.ndarray, objects: np.ndarray, palette: np.ndarray,
                    background: int) -> np.ndarray:
    """Each object in its own colour over the picture; class pixels of no object in their class colour."""
    shown = np.where(objects != NO_OBJECT, objects, mask).astype(np.int64)
    return overlay_mask(image, shown, len(palette), 0.6, ignore=(background,), palette=palette)


def objects_legend(objects: np.ndarray, info: dict, palette: np.ndarray, drawing: dict, width: int = 320) -> np.ndarray | None:
    """Swatches naming the objects that have pixels ("square 2"), in their colours; None without any."""
    present = [int(v) for v in np.unique(objects[objects != NO_OBJECT])]
    if not present:
        return None
    names = [object_label(drawing, info, i).replace("**", "") for i in present]
    return mask_legend(names, palette[present], width)


def mask_preview(image: np.ndarray, mask: np.ndarray, info: dict, palette: np.ndarray,
                 objects: np.ndarray | None = None, object_colours: np.ndarray | None = None,
                 drawing: dict | None = None, separate: bool = False) -> None:
    """The mask that will be saved, over the picture and on its own, and its objects (with
    ``objects``, the object map, coloured by ``object_colours``, the object palette; ``separate``:
    whether they are saved as an instance map)."""
    names, background = info["class_names"], info["background"]
    views = {"picture": N_("Over the picture"), "mask": N_("Mask only")}
    if objects is not None:
        views["objects"] = N_("Objects")
    preview_key = bound_key("preview", list(views), lambda v: _(views[v]))
    if st.session_state.get(preview_key) not in views:
        st.session_state.pop(preview_key, None)
    view = st.segmented_control(_("Preview"), list(views), format_func=lambda v: _(views[v]), default="picture",
                                key=preview_key, bind="query-params", required=True) or "picture"
    if view == "mask":
        picture = colorize_mask(mask, len(names), palette)
    elif view == "objects":
        picture = objects_picture(image, mask, objects, object_colours, background)
    else:
        picture = overlay_mask(image, mask, len(names), 0.6, ignore=(background,), palette=palette)
    picture = upscale(picture, 320)
    st.image(picture, output_format="PNG", width="stretch",
             caption=_("What will be saved: {width} × {height} px, values 0–{top}").format(
                 width=mask.shape[1], height=mask.shape[0], top=len(names) - 1))
    if objects is None:
        return
    count = len(np.unique(objects[objects != NO_OBJECT]))
    if view == "objects":
        legend = objects_legend(objects, info, object_colours, drawing or {})
        if legend is not None:
            st.image(legend, output_format="PNG", width="stretch")
    if not separate:
        st.caption(_(":material/category: No separate objects yet: this picture is saved as a class mask only, and "
                     "each connected region of a class counts as one object. Press **New object** to paint objects "
                     "one by one; then every object is saved in an instance map beside the mask."))
    else:
        st.caption(ngettext(":material/category: {n} object is saved in the instance map beside the mask.",
                            ":material/category: {n} objects are saved in the instance map beside the mask.",
                            count).format(n=count))


def agreement(start: StartingMask, mask: np.ndarray, info: dict) -> None:
    """IoU between the drawn mask and the starting mask (a model's prediction or a true mask)."""
    names = info["class_names"]
    if not start.compare:
        st.caption(_("No IoU: you started from an empty mask."))
        return
    scores = iou(start.mask, mask, len(names))
    present = ~np.isnan(scores)
    mean = float(np.nanmean(scores)) if present.any() else float("nan")
    changed = float((start.mask != mask).mean())
    cols = st.columns(2)
    cols[0].metric(_("Mean IoU with {start}").format(start=start.label), f"{mean:.3f}" if present.any() else "–",
                   help=_("Per class: pixels of the class in both masks / pixels in either; averaged over the "
                          "classes present in at least one of them."))
    cols[1].metric(_("Pixels changed"), f"{changed:.1%}")
    rows = [{_("class"): f"{i} · {names[i]}", "IoU": None if np.isnan(s) else round(float(s), 3),
             _("pixels in {start}").format(start=start.label): int((start.mask == i).sum()),
             _("pixels now"): int((mask == i).sum())}
            for i, s in enumerate(scores) if present[i]]
    st.dataframe(rows, hide_index=True, width="stretch", key=studio_key("iou_table"))
