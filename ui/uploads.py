"""Image uploads: every uploaded picture goes through ``cv_core.images.decode_image``.

Two ways to upload:

* :func:`image_upload`, a plain uploader for one page (Segmentation, Detection, Mask studio,
  Datasets): the picture as decoded, up to ``cv_core.images.MAX_SIDE``.
* :func:`shared_image_upload`, for the interpretation pages (Heatmaps, Activations, Filters):
  the picture is *kept* for the session, shrunk to :data:`KEPT_SIDE`, so that it is still
  there on every interpretation page, and after a trip elsewhere, until the person removes it.

Memory: a decoded upload is cached by the upload's id (a new id for every upload), never by
hashing its bytes, and few are kept: a 4096 × 4096 picture is 50 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cv_core.i18n import N_, _

from cv_core.images import ImageInputError, decode_image

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
UPLOAD_HELP = N_("PNG, JPEG, WebP, BMP or GIF, up to 20 MB.")
#: Longest side of the picture the interpretation pages keep: their models take 224–299 px
#: and their pages show at most 640 px, so a bigger copy would only cost memory.
KEPT_SIDE = 1024
#: Where the interpretation pages' shared upload lives in the session.
KEPT_KEY = "_interpret_upload"


@dataclass(frozen=True)
class KeptUpload:
    """An uploaded picture the interpretation pages share, or the reason it could not be used.

    Attributes:
        file_id: the upload's id (new for every upload).
        name: the file's name, only ever shown.
        photo: (H, W, 3) uint8 with H, W <= :data:`KEPT_SIDE`, or None when the file was refused.
        error: why the file could not be used (``str(error)`` reads it in the reader's language), or None.
    """

    file_id: str
    name: str
    photo: np.ndarray | None
    error: ImageInputError | None = None


#: Pictures declaring more pixels than this are decoded, then the freed memory handed back (see
#: :func:`_hand_back_freed_memory`).
LARGE_PIXELS = 16_000_000


def _declared_pixels(data: bytes) -> int:
    """The pixel count a file's header declares (0 when it has none we can read)."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return int(image.width) * int(image.height)
    except Exception:  # not a picture, or refused: decode_image says why
        return 0


def _hand_back_freed_memory() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Decoding a 10000 x 10000 photo allocates about 400 MB in blocks small enough for the heap;
    freed, they stay in the server's resident memory unless handed back (measured with
    ``bench/memory.py``: +0.4 GB kept after one such upload).
    """
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def decode_upload(data: bytes, side: int | None = None) -> np.ndarray:
    """:func:`cv_core.images.decode_image` (then :func:`shrink` to ``side``, if given), handing back
    the memory a huge picture needed while decoding once every intermediate copy is gone."""
    large = _declared_pixels(data) > LARGE_PIXELS
    try:
        picture = decode_image(data)
        return shrink(picture, side) if side is not None else picture
    finally:
        picture = None
        if large:
            _hand_back_freed_memory()


@st.cache_data(max_entries=4, ttl=900, show_spinner=False)
def _decode(file_id: str, _data: bytes) -> tuple[np.ndarray | None, ImageInputError | None]:
    """(picture, None) or (None, the refusal); keyed by the upload's id, so a refusal is cached too.
    The refusal is kept as the error, read (``str``) when shown: in each reader's language."""
    try:
        return decode_upload(_data), None
    except ImageInputError as exc:
        return None, exc


def image_upload(label: str, key: str, help: str | None = None) -> np.ndarray | None:
    """A file uploader that returns the decoded (H, W, 3) uint8 picture, or None.

    Bad files show a friendly error under the uploader and return None; the page goes on.
    The uploaded file's name is only ever shown, never used as a path.
    """
    upload = st.file_uploader(label, type=UPLOAD_TYPES, key=key, help=help or _(UPLOAD_HELP))
    if upload is None:
        return None
    picture, problem = _decode(upload.file_id, upload.getvalue())
    if problem is not None:  # read now, in the reader's language (the refusal itself is cached)
        st.error(_("**{name}** could not be used. {reason}").format(name=upload.name, reason=problem),
                 icon=":material/broken_image:")
        return None
    return picture


def shrink(picture: np.ndarray, side: int = KEPT_SIDE) -> np.ndarray:
    """``picture`` with its longest side at most ``side`` pixels (aspect kept; smaller ones unchanged)."""
    from PIL import Image

    height, width = picture.shape[:2]
    if max(height, width) <= side:
        return picture
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0))


def _keep(upload, slot: str = KEPT_KEY) -> KeptUpload:
    try:
        photo = decode_upload(upload.getvalue(), KEPT_SIDE)
        kept = KeptUpload(upload.file_id, upload.name, photo)
    except ImageInputError as exc:
        kept = KeptUpload(upload.file_id, upload.name, None, exc)  # read when shown: in the reader's language
    st.session_state[slot] = kept
    return kept


def kept_upload(slot: str = KEPT_KEY) -> KeptUpload | None:
    """The picture the interpretation pages share this session (or the one kept in ``slot``), or None."""
    return st.session_state.get(slot)


def forget_upload(slot: str = KEPT_KEY) -> None:
    """Remove the shared picture (or the one kept in ``slot``): the person asked to."""
    st.session_state.pop(slot, None)


def shared_image_upload(label: str, key: str, slot: str = KEPT_KEY) -> KeptUpload | None:
    """An uploader whose picture every interpretation page shares until the person removes it.

    ``slot`` names where the picture is kept: the default is the one the interpretation pages
    (and the Similarity page's first picture) share; another slot keeps a second picture for
    the session, seen only by the uploaders that name it (the Similarity page's second picture).

    A new file replaces the kept picture; clearing the file from this uploader, or the
    "Remove" button under a picture uploaded on another page, removes it. A page whose own
    uploader is fresh (the person came from another page) shows the kept picture.

    Returns:
        The kept upload (its ``photo`` is None, with a message shown, when the file was refused),
        or None when there is none.
    """
    seen = f"_{key}_seen"
    alive = key in st.session_state  # the uploader was on screen in the last run
    upload = st.file_uploader(label, type=UPLOAD_TYPES, key=key, help=_(UPLOAD_HELP))
    kept = kept_upload(slot)
    if upload is not None:
        if kept is None or kept.file_id != upload.file_id:
            with st.spinner(_("Reading the picture…")):
                kept = _keep(upload, slot)
    elif alive and st.session_state.get(seen) is not None:
        # This uploader held a file in the last run and the person cleared it.
        if kept is not None and kept.file_id == st.session_state[seen]:
            forget_upload(slot)
            kept = None
    st.session_state[seen] = upload.file_id if upload is not None else None
    if kept is None:
        return None
    if kept.error is not None:
        st.error(_("**{name}** could not be used. {reason}").format(name=kept.name, reason=kept.error),
                 icon=":material/broken_image:")
    if upload is None:
        cols = st.columns([3, 2], vertical_alignment="center")
        cols[0].caption(_("Your picture **{name}**, uploaded earlier this session, is still here.").format(name=kept.name))
        everywhere = slot == KEPT_KEY
        cols[1].button(_("Remove"), key=f"{key}_remove", icon=":material/delete:", on_click=forget_upload, args=(slot,),
                       width="stretch", help=_("Forget this picture on every page.") if everywhere else
                       _("Forget this picture."))
    return kept
