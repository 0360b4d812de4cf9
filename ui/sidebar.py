"""The sidebar every page shares."""

from __future__ import annotations

import streamlit as st


def render_sidebar() -> None:
    """Draw the shared sidebar below the page navigation."""
    with st.sidebar:
        st.caption(
            "Convnet Lab follows chapter 9 of *Deep Learning with Python*: image classification, "
            "segmentation and detection; residual connections, batch normalisation and separable "
            "convolutions; and what convnets learn."
        )
