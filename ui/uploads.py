"""Image uploads: every uploaded picture goes through ``cv_core.images.decode_image``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cv_core.images import ImageInputError, decode_image

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


@st.cache_data(max_entries=16, show_spinner=False)
def _decode(data: bytes) -> np.ndarray:
    return decode_image(data)


def image_upload(label: str, key: str, help: str | None = None) -> np.ndarray | None:
    """A file uploader that returns the decoded (H, W, 3) uint8 picture, or None.

    Bad files show a friendly error under the uploader and return None; the page goes on.
    The uploaded file's name is only ever shown, never used as a path.
    """
    upload = st.file_uploader(label, type=UPLOAD_TYPES, key=key,
                              help=help or "PNG, JPEG, WebP, BMP or GIF, up to 20 MB.")
    if upload is None:
        return None
    try:
        return _decode(upload.getvalue())
    except ImageInputError as exc:
        st.error(f"**{upload.name}** could not be used. {exc}", icon=":material/broken_image:")
        return None
