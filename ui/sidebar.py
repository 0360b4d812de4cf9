"""The sidebar every page shares: what the lab is, and the training jobs in the background."""

from __future__ import annotations

import streamlit as st

from cv_core.runs import default_runs_root, reconcile_runs


@st.cache_resource
def _reconcile_at_startup(root: str) -> list[str]:
    """Once per server start and runs folder: mark runs whose worker died as interrupted."""
    return reconcile_runs(root)


def _background_jobs(root: str) -> None:
    """Lines for queued and running runs, refreshed every few seconds while there are any."""
    from ui.training import active_runs_summary

    @st.fragment(run_every=3.0 if active_runs_summary(root) else None)
    def jobs() -> None:
        lines = active_runs_summary(root)
        if lines:
            st.markdown("**Training in the background**")
            for line in lines:
                st.caption(":material/directions_run: " + line)

    jobs()


def render_sidebar() -> None:
    """Draw the shared sidebar below the page navigation."""
    root = str(default_runs_root())
    _reconcile_at_startup(root)
    with st.sidebar:
        _background_jobs(root)
        st.caption(
            "Convnet Lab follows chapter 9 of *Deep Learning with Python*: image classification, "
            "segmentation and detection; residual connections, batch normalisation and separable "
            "convolutions; and what convnets learn."
        )
        st.caption(f"Runs are stored in `{root}`.")
