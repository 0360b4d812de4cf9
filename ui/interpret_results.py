"""Cached interpretation results and the panels that show them (heatmaps, trust scores)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cv_core.datasets import resize_image
from cv_core.interpret.subjects import Subject

#: Longest side of a photo sent to the browser next to its heatmap.
DISPLAY_SIDE = 640


def display_photo(photo: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """The photo shrunk so that its longest side is at most ``side`` pixels (aspect kept)."""
    height, width = photo.shape[:2]
    if max(height, width) <= side:
        return photo
    scale = side / max(height, width)
    return resize_image(photo, (max(1, round(height * scale)), max(1, round(width * scale))))


@st.cache_data(max_entries=128, show_spinner=False)
def _explanation(_subject: Subject, subject_key: str, picture_key: str, _batch: np.ndarray, method: str,
                 class_index: int | None, layer: str | None, augment: bool):
    from cv_core.interpret import explain

    return explain(_subject.model, _batch, method=method, class_index=class_index, layer_name=layer, augment=augment)


def explanation(subject: Subject, picture_key: str, batch: np.ndarray, method: str, class_index: int | None,
                layer: str | None, augment: bool):
    """A cached :class:`cv_core.interpret.Explanation` (model, picture and settings are the key)."""
    with st.spinner(f"Computing the heatmap ({method.replace('_', ' ')})…"):
        return _explanation(subject, subject.key, picture_key, batch, method, class_index, layer, augment)


@st.cache_resource(max_entries=3, show_spinner="Running the picture through every layer…")
def _all_activations(_subject: Subject, subject_key: str, picture_key: str, _batch: np.ndarray) -> dict:
    """Every layer's output for one picture, kept as float16 (read-only, shared)."""
    from cv_core.interpret import activations

    out = {}
    for name, value in activations(_subject.model, _batch).items():
        value = value[0].astype(np.float16)
        value.setflags(write=False)
        out[name] = value
    return out


def layer_outputs(subject: Subject, picture_key: str, batch: np.ndarray) -> dict[str, np.ndarray]:
    """``{layer: (h, w, C) or (C,) float16}`` for every layer the activation viewer shows (cached)."""
    return _all_activations(subject, subject.key, picture_key, batch)


@st.cache_data(max_entries=16, show_spinner=False)
def layer_infos(_subject: Subject, subject_key: str):
    """The activation viewer's layers of a model (names, kinds, shapes, descriptions)."""
    from cv_core.interpret import activation_layers

    return activation_layers(_subject.model)
