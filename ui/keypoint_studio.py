"""Keypoint studio glue: the dataset, the picture, the clickable picture with its points, saving,
the saved pictures, import and export.

Files go through :class:`cv_core.datasets.UserKeypointStore`; the state of the points being placed
is a :class:`cv_core.datasets.user_keypoints.KeypointAnnotation` kept in the session per picture.
Clicks come from ``streamlit-image-coordinates`` (a maintained component: an image that returns
where it was clicked, in the displayed image's pixels). Session-state keys start with ``keypoint_studio_``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from cv_core.datasets import DatasetError, UserKeypointStore, open_dataset
from cv_core.datasets.user_keypoints import KeypointAnnotation, parse_skeleton_text
from cv_core.i18n import N_, _, ngettext
from cv_core.images import ImageInputError
from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, Skeleton, joint_label
from ui.data import choose_user_dataset
from ui.uploads import image_upload, shrink

PREFIX = "keypoint_studio"
#: The skeletons a new dataset can start from; "custom" is typed in.
SKELETON_LABELS = {"people": N_("People (14 joints)"), "landmarks": N_("Face landmarks (6 points)"),
                   "custom": N_("Your own points and edges")}
SKELETONS = {"people": PEOPLE, "landmarks": FACE_LANDMARKS}
SOURCES = {"generated": N_("Generated"), "photo": N_("Photo"), "upload": N_("Upload"), "saved": N_("Saved")}
#: The longest side of the clickable picture, in pixels.
VIEW_SIDE = 560
#: The keypoints page's Train tab, which "Train on it" opens with the dataset chosen.
KEYPOINTS_PAGE = "pages/keypoints.py"
KEYPOINTS_PAGE_PREFIX = "keypoints"
#: The smallest batch the Train form offers: a dataset needs this many training pictures.
SMALLEST_BATCH = 8
#: The example a custom skeleton's fields show: point names are identifiers (kept in the dataset's COCO
#: file and its left_/right_ pairs), so they stay as they are in every language.
EXAMPLE_POINTS = ("nose", "left_ear", "right_ear", "tail")
EXAMPLE_EDGES = (("nose", "left_ear"), ("nose", "right_ear"), ("nose", "tail"))
STATUS = {0: N_("to place"), 1: N_("hidden"), 2: N_("visible")}
#: How the next click places a point (the values stay in the URL).
VISIBILITY_LABELS = {"visible": N_("Visible"), "hidden": N_("Hidden (labelled, not visible)")}
#: The generated pictures' kinds as named on screen.
GENERATED_KINDS = {"people": N_("people"), "landmarks": N_("landmarks"), "shapes": N_("shapes")}


def key(name: str) -> str:
    """This page's session-state and URL key for ``name``."""
    return f"{PREFIX}_{name}"


def keypoint_store() -> UserKeypointStore:
    """The user keypoint store under the data root (``$CONVNET_LAB_DATA``, else ``./data``)."""
    return UserKeypointStore()


def flash(kind: str, text: str) -> None:
    """Show ``text`` (st.success / st.error / st.info) after the next rerun."""
    st.session_state[key("flash")] = (kind, text)


def show_flash() -> None:
    """The message of the last action, once."""
    message = st.session_state.pop(key("flash"), None)
    if message:
        kind, text = message
        icons = {"success": ":material/check_circle:", "error": ":material/error:", "info": ":material/info:",
                 "warning": ":material/warning:"}
        getattr(st, kind)(text, icon=icons.get(kind))


# -- the dataset ------------------------------------------------------------------------------
def _create_dataset(store: UserKeypointStore) -> None:
    name = (st.session_state.get(key("new_name")) or "").strip()
    choice = st.session_state.get(key("skeleton")) or "people"
    try:
        if choice == "custom":
            skeleton = parse_skeleton_text(st.session_state.get(key("new_joints")) or "",
                                           st.session_state.get(key("new_edges")) or "", name=name or "custom")
        else:
            skeleton = SKELETONS[choice]
        store.create(name, skeleton)
    except (ValueError, DatasetError) as exc:  # DatasetError is a ValueError; both say what to change
        flash("error", _("The dataset was not created. {error}").format(error=exc))
        return
    except OSError as exc:
        flash("error", _("The dataset could not be written under {folder}: {error}.").format(folder=store.root,
                                                                                           error=exc.strerror or exc))
        return
    st.session_state[key("dataset")] = name
    flash("success", _("Created the dataset **{name}**. Choose a picture and click to place its first point.").format(
        name=name))


def new_dataset_form(store: UserKeypointStore) -> None:
    """A form that creates a keypoint dataset from a plain name and a skeleton."""
    with st.container(border=True):
        st.text_input(_("Dataset name"), key=key("new_name"), placeholder=_("e.g. my_dogs"), max_chars=64,
                      help=_("1 to 64 letters A–Z, digits, '-' or '_', starting with a letter or digit. "
                             "It names a folder, so other characters are refused."))
        choice = st.radio(_("Skeleton"), list(SKELETON_LABELS), format_func=lambda s: _(SKELETON_LABELS[s]),
                          key=key("skeleton"), bind="query-params",
                          help=_("The points to place on every picture, in order, and the edges drawn between "
                                 "them."))
        if choice == "custom":
            st.text_area(_("Point names, one per line"), key=key("new_joints"), height=110, max_chars=2000,
                         placeholder="\n".join(EXAMPLE_POINTS))
            st.text_area(_("Edges, one per line"), key=key("new_edges"), height=90, max_chars=4000,
                         placeholder="\n".join(" - ".join(edge) for edge in EXAMPLE_EDGES),
                         help=_("Two point names per line, separated by ' - ' or a comma. Points named left_… "
                                "and right_… are swapped when a picture is mirrored for training."))
        else:
            skeleton = SKELETONS[choice]
            st.caption(_("Points: {points}.").format(points=_(", ").join(joint_label(j) for j in skeleton.joints)))
        st.button(_("Create dataset"), type="primary", icon=":material/create_new_folder:", on_click=_create_dataset,
                  args=(store,), key=key("create"))


def dataset_chooser(store: UserKeypointStore) -> dict | None:
    """Choose (or create) the keypoint dataset to save into; returns its info, or None."""
    chosen = choose_user_dataset(store, key("dataset"), _("Save points into"),
                                 _("Your keypoint datasets, stored in {folder}. Each opens for training as "
                                   "`userkp:<name>`.").format(folder=store.root), new_dataset_form)
    if chosen is None:
        return None
    choice, info = chosen
    skeleton = info["skeleton"]
    st.caption(_("{count} annotated picture(s) · {points} points per object · opens for training as "
                 "userkp:{name}").format(count=info["pictures"], points=skeleton.num_joints, name=choice))
    train_link(info)
    return info


def train_link_params(name: str) -> dict[str, str]:
    """The keypoints page's URL parameters that open its Train tab with ``userkp:<name>`` chosen.

    The Train form's widgets are bound to the URL by their keys (``ui.training.variant_form``): the
    open tab, the Quick preset's dataset (by its label in the picker) and the smallest batch.
    """
    from ui.training import dataset_label

    prefix = KEYPOINTS_PAGE_PREFIX
    return {f"{prefix}_tab": "Train", f"{prefix}_quick_dataset": dataset_label(f"userkp:{name}"),
            f"{prefix}_quick_batch": str(SMALLEST_BATCH)}


def train_link(info: dict) -> None:
    """"Train on it": the keypoints Train tab with this dataset chosen (or how to train without that page)."""
    from streamlit.errors import StreamlitAPIException

    name = info["name"]
    if info["pictures"] == 0:
        st.caption(_("Once pictures are saved here, you can train the keypoints task on them."))
        return
    try:
        st.page_link(KEYPOINTS_PAGE, label=_("Train on it"), icon=":material/model_training:",
                     query_params=train_link_params(name),
                     help=_("Opens the Train tab of the Keypoints and pose page with this dataset chosen."))
    except StreamlitAPIException:  # the keypoints page is not part of this app
        st.caption(_("Train on it from a terminal: `python -m cv_core.train --task keypoints --dataset "
                     "userkp:{name} --batch-size 8`.").format(name=name))
    if info["pictures"] < 2 * SMALLEST_BATCH:
        st.caption(_("Training needs at least {batch} pictures in the training split (the smallest batch), "
                     "about {total} saved pictures in all; this dataset has {count}.").format(
                         batch=SMALLEST_BATCH, total=2 * SMALLEST_BATCH, count=info["pictures"]))


# -- the picture ------------------------------------------------------------------------------
@dataclass
class Subject:
    """The picture being annotated: its pixels, a key that names it, where it came from, the saved
    item it is (None for a new picture) and its objects (a saved picture's, or a generated one's truth)."""

    key: str
    image: np.ndarray
    origin: str
    item: int | None = None
    instances: list = field(default_factory=list)


def digest(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes() + str(image.shape).encode()).hexdigest()[:12]


@st.cache_resource(max_entries=4, show_spinner=False)
def _generated(kind: str):
    options = {"image_size": 192, "difficulty": "easy"} if kind in ("people", "landmarks") else {"image_size": 192}
    return open_dataset(kind, **options)


@st.cache_resource(max_entries=1, show_spinner=False)
def _photos() -> dict:
    from cv_core.pretrained.photos import sample_photos

    return sample_photos()


def _generated_subject(skeleton: Skeleton) -> Subject | None:
    kind = skeleton.name if skeleton.name in ("people", "landmarks") else "shapes"
    dataset = _generated(kind)
    count = dataset.count("train")
    index = int(st.number_input(_("Picture number"), 0, count - 1, 0, key=key("index"), bind="query-params",
                                help=_("Pictures drawn by the lab from a seed: the same number is the same picture.")))
    sample = dataset.sample("train", index)
    truth = list(sample.keypoints) if dataset.skeleton is not None and dataset.skeleton.joints == skeleton.joints \
        else []
    return Subject(key=f"generated|{kind}|{index}", image=sample.image,
                   origin=_("generated {kind} picture {index}").format(kind=_(GENERATED_KINDS.get(kind, kind)),
                                                                      index=index),
                   instances=truth)


def _photo_subject() -> Subject | None:
    photos = _photos()
    name = st.selectbox(_("Photo"), list(photos), key=key("photo"), bind="query-params", format_func=str.capitalize,
                        help=_("The photos that come with the lab (from scikit-image)."))
    return Subject(key=f"photo|{name}", image=shrink(photos[name]), origin=_("the {name} photo").format(name=name))


def _upload_subject() -> Subject | None:
    image = image_upload(_("Upload a picture"), key=key("upload"))
    if image is not None:
        subject = Subject(key=f"upload|{digest(image)}", image=shrink(image), origin=_("your upload"))
        st.session_state[key("upload_kept")] = subject
        return subject
    kept = st.session_state.get(key("upload_kept"))
    if kept is not None:
        st.caption(_(":material/history: Still on the picture you uploaded before. Upload another picture to "
                     "annotate it instead."))
    return kept


def _saved_subject(store: UserKeypointStore, info: dict) -> Subject | None:
    name = info["name"]
    items = store.list_items(name)
    if not items:
        st.info(_("This dataset has no saved pictures yet. Annotate a generated picture, a photo or an upload and "
                  "save it."), icon=":material/info:")
        return None
    if st.session_state.get(key("item")) not in items:
        st.session_state.pop(key("item"), None)
    item = st.selectbox(_("Saved picture"), items, key=key("item"), bind="query-params",
                        format_func=lambda n: _("Picture {number}").format(number=n))
    try:
        image, instances = store.load_item(name, item)
    except DatasetError as exc:
        st.error(str(exc), icon=":material/broken_image:")
        return None
    return Subject(key=f"saved|{name}|{item}|{store.version(name)}", image=image,
                   origin=_("picture {number} of {name}").format(number=item, name=name),
                   item=item, instances=list(instances))


def picture_source(store: UserKeypointStore, info: dict) -> Subject | None:
    """Where the picture comes from: a generated sample, a bundled photo, an upload, or a saved picture."""
    source = st.segmented_control(_("Picture"), list(SOURCES), format_func=lambda s: _(SOURCES[s]), key=key("source"),
                                  default="generated",
                                  bind="query-params", required=True,
                                  help=_("A picture the lab draws (people or faces for those skeletons), a photo "
                                         "that comes with the lab, a picture of your own, or one you saved before."))
    source = source or "generated"
    try:
        if source == "photo":
            return _photo_subject()
        if source == "upload":
            return _upload_subject()
        if source == "saved":
            return _saved_subject(store, info)
        return _generated_subject(info["skeleton"])
    except (ImageInputError, DatasetError, IndexError) as exc:
        st.error(_("This picture cannot be used. {error}").format(error=exc), icon=":material/broken_image:")
        return None


# -- the points -------------------------------------------------------------------------------
def joint_colours(k: int) -> np.ndarray:
    """``k`` well-separated colours, one per joint."""
    from cv_core.overlays import class_palette

    return class_palette(k, background_first=False)


def view_scale(image: np.ndarray, side: int = VIEW_SIDE) -> float:
    """How many view pixels per picture pixel: small pictures enlarged by a whole factor, large ones reduced."""
    longest = max(image.shape[:2])
    if longest <= side:
        return float(max(1, side // longest))
    return side / longest


def draw_points(image: np.ndarray, note: KeypointAnnotation, scale: float, selected: int | None = None,
                labels: bool = True, radius: int = 6, others=()) -> np.ndarray:
    """The picture at ``scale`` with the skeleton's edges and the placed points (visible: filled; hidden:
    a ring), each numbered with ``labels``, the selected joint circled in white, and the points of the
    picture's ``others`` objects (KeypointInstance) small and grey; (H', W', 3) uint8."""
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    view = Image.fromarray(image).resize(size, resample)
    draw = ImageDraw.Draw(view)
    for other in others:
        labelled = np.asarray(other.visibility) > 0
        where = np.asarray(other.points, np.float64) * scale
        for a, b in note.skeleton.edges:
            if labelled[a] and labelled[b]:
                draw.line([tuple(where[a]), tuple(where[b])], fill=(170, 170, 170), width=2)
        for x, y in where[labelled]:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(200, 200, 200), outline=(60, 60, 60))
    placed = note.visibility > 0
    at = note.points * scale
    for a, b in note.skeleton.edges:
        if placed[a] and placed[b]:
            line = [tuple(at[a]), tuple(at[b])]
            draw.line(line, fill=(0, 0, 0), width=5)
            draw.line(line, fill=(255, 255, 255), width=2)
    colours = joint_colours(note.skeleton.num_joints)
    for j in np.flatnonzero(placed):
        x, y = at[j]
        box = (x - radius, y - radius, x + radius, y + radius)
        colour = tuple(int(c) for c in colours[j])
        if note.visibility[j] == 2:
            draw.ellipse(box, fill=colour, outline=(0, 0, 0), width=2)
        else:
            draw.ellipse(box, outline=colour, width=3)
        if labels:
            draw.text((x + radius + 2, y - radius - 2), str(j + 1), fill=(255, 255, 255), stroke_width=2,
                      stroke_fill=(0, 0, 0))
    if selected is not None and placed[selected]:
        x, y = at[selected]
        draw.ellipse((x - radius - 5, y - radius - 5, x + radius + 5, y + radius + 5), outline=(255, 255, 255), width=2)
    return np.asarray(view)


def note_slot(subject: Subject, skeleton: Skeleton, obj: int) -> str:
    """Where the session keeps the annotation of object ``obj`` of ``subject``."""
    return key(f"note|{subject.key}|{obj}|{'|'.join(skeleton.joints)}")


def annotation_for(subject: Subject, skeleton: Skeleton, obj: int = 0) -> KeypointAnnotation:
    """The session's annotation of object ``obj`` of ``subject`` (a saved object starts from its points)."""
    slot = note_slot(subject, skeleton, obj)
    note = st.session_state.get(slot)
    if note is None:
        if subject.item is not None and obj < len(subject.instances):
            note = KeypointAnnotation.from_instance(skeleton, subject.instances[obj])
        else:
            note = KeypointAnnotation(skeleton)
        st.session_state[slot] = note
    return note


def object_picker(subject: Subject) -> int:
    """Which object of a saved picture to edit, or a new one beside them (0 on a picture not saved yet)."""
    if subject.item is None:
        return 0
    options = list(range(len(subject.instances) + 1))
    if st.session_state.get(key("object")) not in options:
        st.session_state.pop(key("object"), None)
    return st.selectbox(_("Object on this picture"), options, key=key("object"), bind="query-params",
                        format_func=lambda i: _("Object {number}").format(number=i + 1) if i < len(subject.instances)
                        else _("+ Another object"),
                        help=_("A picture may hold several people (or objects): each has its own points. The others "
                               "are drawn small and grey."))


def clicked_point(value, image: np.ndarray) -> tuple[float, float] | None:
    """A click of the image component (``{"x", "y", "width", "height"}`` in displayed pixels) in the
    picture's continuous pixels: the centre of the clicked screen pixel, scaled; None when it misses."""
    try:
        x, y, shown_w, shown_h = (float(value[k]) for k in ("x", "y", "width", "height"))
    except (TypeError, KeyError, ValueError):
        return None
    if not (shown_w > 0 and shown_h > 0 and np.isfinite([x, y]).all()):
        return None
    height, width = image.shape[:2]
    px, py = (x + 0.5) * width / shown_w, (y + 0.5) * height / shown_h
    if not (0 <= px <= width and 0 <= py <= height):
        return None
    return float(px), float(py)


def _act(note: KeypointAnnotation, action: str) -> None:
    getattr(note, action)()
    st.session_state[key("changes")] = st.session_state.get(key("changes"), 0) + 1


def _select(note: KeypointAnnotation, widget: str) -> None:
    value = st.session_state.get(widget)
    if isinstance(value, (int, np.integer)) and 0 <= value < note.skeleton.num_joints:
        note.select(int(value))


def point_controls(note: KeypointAnnotation, subject_key: str) -> None:
    """The next point's name, the point picker, visible/hidden, not labelled, delete, undo, clear."""
    joints = note.skeleton.joints
    if note.complete:
        st.success(_("Every point is placed or marked not labelled. Save the picture, or choose a point below and "
                     "click on the picture to move it."), icon=":material/task_alt:")
    else:
        st.markdown("#### " + _("Next point: {point}").format(point=joint_label(joints[note.current])))
        st.caption(_("Point {number} of {count} · {placed} placed so far.").format(
            number=note.current + 1, count=len(joints), placed=note.num_placed))
    # A new widget after every change, so that it starts on the joint the annotation moved on to.
    picture = hashlib.sha1(subject_key.encode()).hexdigest()[:8]
    widget = key(f"point_{picture}_{st.session_state.get(key('changes'), 0)}")
    st.selectbox(_("Point the next click places or moves"), range(len(joints)), index=note.current, key=widget,
                 format_func=lambda j: f"{j + 1}. {joint_label(joints[j])} · {status_of(note, j)}",
                 on_change=_select, args=(note, widget))
    chosen = joint_label(joints[note.current])
    if note.visibility[note.current] > 0:
        x, y = note.points[note.current]
        if note.visibility[note.current] == 2:
            st.caption(_("{point} is at ({x:.1f}, {y:.1f}) in the picture's pixels, visible; a click moves it "
                         "there.").format(point=chosen, x=x, y=y))
        else:
            st.caption(_("{point} is at ({x:.1f}, {y:.1f}) in the picture's pixels, hidden; a click moves it "
                         "there.").format(point=chosen, x=x, y=y))
    else:
        st.caption(_("{point} is not placed yet; a click places it.").format(point=chosen))
    st.radio(_("The next click places it as"), ["visible", "hidden"], key=key("visibility"), horizontal=True,
             bind="query-params",
             format_func=lambda v: _(VISIBILITY_LABELS[v]),
             help=_("COCO's v = 2 for a point you can see, v = 1 for one you know is there but cannot see "
                    "(behind an arm, another person)."))
    cols = st.columns(3)
    cols[0].button(_("Hide or show"), key=key("toggle"), on_click=_act, args=(note, "toggle_hidden"),
                   width="stretch", disabled=note.visibility[note.current] == 0,
                   help=_("Switch the chosen point between visible (v = 2) and hidden (v = 1)."))
    cols[1].button(_("Not labelled"), key=key("skip"), on_click=_act, args=(note, "skip"), width="stretch",
                   help=_("The chosen point is not in the picture (COCO's v = 0): leave it out and go on."))
    cols[2].button(_("Delete point"), key=key("delete"), on_click=_act, args=(note, "delete"), width="stretch",
                   disabled=note.visibility[note.current] == 0,
                   help=_("Remove the chosen point; it waits to be placed."))
    cols = st.columns(2)
    cols[0].button(_("Undo"), icon=":material/undo:", key=key("undo"), on_click=_act, args=(note, "undo"),
                   width="stretch", disabled=not note.history)
    cols[1].button(_("Clear all"), icon=":material/delete_sweep:", key=key("clear"), on_click=_act, args=(note, "clear"),
                   width="stretch", disabled=not note.done.any())


def status_of(note: KeypointAnnotation, joint: int) -> str:
    if note.visibility[joint] == 0 and note.skipped[joint]:
        return _("not labelled")
    return _(STATUS[int(note.visibility[joint])])


def points_table(note: KeypointAnnotation) -> list[dict]:
    """One row per joint: its number, name, status and position in the picture's pixels."""
    rows = []
    for j, joint in enumerate(note.skeleton.joints):
        placed = note.visibility[j] > 0
        rows.append({"#": j + 1, _("point"): joint_label(joint), _("status"): status_of(note, j),
                     "x": f"{note.points[j, 0]:.1f}" if placed else "—",
                     "y": f"{note.points[j, 1]:.1f}" if placed else "—"})
    return rows


def save_button(store: UserKeypointStore, info: dict, subject: Subject, note: KeypointAnnotation, obj: int) -> None:
    """Save the points as object ``obj`` (a new picture, or the saved one's object replaced or added); an
    empty save says what to do."""
    label = _("Save changes") if subject.item is not None else _("Save into {name}").format(name=info["name"])
    if not st.button(label, type="primary", icon=":material/save:", key=key("save")):
        return
    if note.num_placed == 0:
        st.warning(_("There is nothing to save yet: click on the picture to place at least one point."),
                   icon=":material/warning:")
        return
    try:
        instances = list(subject.instances) if subject.item is not None else []
        instance = note.instance(subject.image.shape[:2])
        instances[obj:obj + 1] = [instance]
        item = store.save_item(info["name"], subject.image, instances, item=subject.item)
    except DatasetError as exc:
        st.error(_("The picture was not saved. {error}").format(error=exc), icon=":material/error:")
        return
    except OSError as exc:
        st.error(_("The picture could not be written under {folder}: {error}.").format(folder=store.root,
                                                                                    error=exc.strerror or exc),
                 icon=":material/error:")
        return
    st.session_state.pop(note_slot(subject, note.skeleton, obj), None)
    flash("success", ngettext("Saved picture {item} into **{name}** with one point.",
                              "Saved picture {item} into **{name}** with {count} points.", note.num_placed).format(
                                  item=item, name=info["name"], count=note.num_placed))
    st.rerun()


def take_click(component: str, note: KeypointAnnotation, image: np.ndarray) -> None:
    """Place the current point where the picture was last clicked, once per click.

    The component's value (its last click, kept in the session under its key) is read before the
    picture and the controls are drawn, so they show the new point in the same rerun.
    """
    value = st.session_state.get(component)
    clicked = value.get("unix_time") if isinstance(value, dict) else None
    if clicked is None or st.session_state.get(key(f"last|{component}")) == clicked:
        return
    st.session_state[key(f"last|{component}")] = clicked
    point = clicked_point(value, image)
    if point is not None:
        note.place(*point, hidden=st.session_state.get(key("visibility")) == "hidden")
        st.session_state[key("changes")] = st.session_state.get(key("changes"), 0) + 1


def annotator(store: UserKeypointStore, info: dict, subject: Subject) -> None:
    """The clickable picture beside the point controls, and Save."""
    from streamlit_image_coordinates import streamlit_image_coordinates

    picture, controls = st.columns([1.4, 1], gap="large")
    with controls:
        obj = object_picker(subject)
    note = annotation_for(subject, info["skeleton"], obj)
    others = [o for i, o in enumerate(subject.instances) if i != obj] if subject.item is not None else []
    component = key(f"click|{subject.key}|{obj}")
    take_click(component, note, subject.image)  # before anything is drawn: one rerun a click
    with controls:
        if subject.instances and subject.item is None:
            st.button(_("Start from the true points"), icon=":material/auto_fix:", key=key("truth"),
                      on_click=_start_from_truth, args=(note, subject),
                      help=_("This generated picture knows where its main object's points are: start from them "
                             "and correct them."))
        point_controls(note, subject.key)
    with picture:
        scale = view_scale(subject.image)
        view = draw_points(subject.image, note, scale, selected=note.current, others=others)
        # Shown as wide as its column: a click comes back with the size it was shown at (clicked_point).
        streamlit_image_coordinates(view, key=component, cursor="crosshair", width="stretch")
        h, w = subject.image.shape[:2]
        st.caption(_("{picture} · {width} × {height} px · click to place the next point; filled dots are visible "
                     "points, rings hidden ones.").format(picture=subject.origin, width=w, height=h))
        if subject.item is None:
            st.caption(_("To add another person or object to this picture, save it, then open it with Edit and "
                         "choose + Another object."))
    with controls:
        st.dataframe(points_table(note), hide_index=True, width="stretch", key=key("table"),
                     height=min(36 * (note.skeleton.num_joints + 1) + 4, 330))
        save_button(store, info, subject, note, obj)


def _start_from_truth(note: KeypointAnnotation, subject: Subject) -> None:
    main = max(subject.instances, key=lambda item: item.area)  # the main object: the largest
    truth = KeypointAnnotation.from_instance(note.skeleton, main)
    note._remember()
    note.points, note.visibility, note.skipped = truth.points, truth.visibility, truth.visibility == 0
    note.current = 0
    st.session_state[key("changes")] = st.session_state.get(key("changes"), 0) + 1


# -- saved pictures, import and export ---------------------------------------------------------
def _edit(item: int) -> None:
    st.session_state[key("source")] = "saved"
    st.session_state[key("item")] = item
    st.session_state[key("object")] = 0


def _delete(store: UserKeypointStore, name: str, item: int) -> None:
    try:
        store.delete_item(name, item)
    except DatasetError as exc:
        flash("error", _("Picture {item} was not deleted. {error}").format(item=item, error=exc))
        return
    flash("success", _("Deleted picture {item} of **{name}**.").format(item=item, name=name))


@st.cache_data(max_entries=64, show_spinner=False)
def _thumbnail(root: str, name: str, item: int, version: tuple) -> np.ndarray:
    store = UserKeypointStore(root)
    image, instances = store.load_item(name, item)
    skeleton = store.skeleton(name)
    note = KeypointAnnotation.from_instance(skeleton, instances[0]) if instances else KeypointAnnotation(skeleton)
    scale = 200 / max(image.shape[:2])
    return draw_points(image, note, scale, labels=False, radius=3, others=instances[1:])


def saved_pictures(store: UserKeypointStore, info: dict, per_page: int = 8) -> None:
    """The saved pictures with their points, each with Edit and Delete."""
    name = info["name"]
    items = store.list_items(name)
    st.subheader(_("Saved pictures"))
    if not items:
        st.caption(_("Nothing saved yet."))
        return
    pages = max(1, -(-len(items) // per_page))
    page = int(st.number_input(_("Page"), 1, pages, 1, key=key("page"), bind="query-params")) if pages > 1 else 1
    shown = items[(page - 1) * per_page: page * per_page]
    cols = st.columns(4)
    version = store.version(name)
    for i, item in enumerate(shown):
        with cols[i % 4]:
            try:
                st.image(_thumbnail(str(store.root), name, item, version),
                         caption=_("Picture {number}").format(number=item))
            except DatasetError as exc:
                st.warning(str(exc), icon=":material/broken_image:")
            buttons = st.columns(2)
            buttons[0].button(_("Edit"), key=key(f"edit_{item}"), on_click=_edit, args=(item,), width="stretch")
            with buttons[1].popover(_("Delete"), width="stretch"):
                st.write(_("Delete picture {item} and its points?").format(item=item))
                st.button(_("Yes, delete it"), key=key(f"delete_{item}"), type="primary", on_click=_delete,
                          args=(store, name, item))


@st.cache_data(max_entries=4, show_spinner=False)
def _export(root: str, name: str, version: tuple) -> bytes:
    return UserKeypointStore(root).export_zip(name)


def import_export(store: UserKeypointStore, info: dict | None) -> None:
    """Import a zip of pictures and a COCO keypoint file; download a dataset as one."""
    st.subheader(_("Import and export"))
    cols = st.columns(2, gap="large")
    with cols[0]:
        st.markdown(_("**Import** a zip of pictures with one COCO keypoint file (a COCO subset, a Label Studio or "
                      "CVAT export in COCO keypoints format)."))
        upload = st.file_uploader(_("COCO keypoints zip"), type=["zip"], key=key("import_zip"),
                                  help=_("The JSON's file names are read beside it, or in an images/ folder."))
        target = st.text_input(_("Into the dataset"), key=key("import_name"), max_chars=64,
                               placeholder=_("a new name, or one of yours with the same points"))
        if st.button(_("Import"), icon=":material/upload_file:", key=key("import")):
            if upload is None or not target.strip():
                st.warning(_("Choose a zip and type the dataset to import into first."), icon=":material/warning:")
            else:
                try:
                    added, warnings = store.import_zip(target.strip(), upload.getvalue())
                except DatasetError as exc:
                    st.error(_("Nothing was imported. {error}").format(error=exc), icon=":material/error:")
                else:
                    note = " ".join(warnings[:3])
                    flash("success", ngettext("Imported {count} picture into **{name}**. {notes}",
                                              "Imported {count} pictures into **{name}**. {notes}", added).format(
                                                  count=added, name=target.strip(), notes=note).strip())
                    st.rerun()
    with cols[1]:
        if info is None or info["pictures"] == 0:
            st.caption(_("Save pictures into a dataset to download it as COCO keypoints."))
            return
        st.markdown(_("**Export** this dataset as a zip: its pictures and a person_keypoints JSON that COCO tools, "
                      "pycocotools and the lab's coco_keypoints dataset read."))
        try:
            with st.spinner(_("Packing the zip…")):
                data = _export(str(store.root), info["name"], store.version(info["name"]))
        except (DatasetError, OSError) as exc:
            st.error(_("The dataset cannot be packed. {error}").format(error=exc), icon=":material/error:")
            return
        st.download_button(_("Download COCO zip"), data, file_name=f"{info['name']}-coco-keypoints.zip",
                           mime="application/zip", icon=":material/download:", key=key("export"))


__all__ = ["annotator", "dataset_chooser", "import_export", "picture_source", "saved_pictures"]
