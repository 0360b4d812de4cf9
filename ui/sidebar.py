"""The sidebar every page shares: the training jobs in the background, serving status, what the lab is."""

from __future__ import annotations

import streamlit as st

from cv_core.i18n import _
from cv_core.runs import default_runs_root, reconcile_runs
from ui.access import is_operator, listens_beyond_this_machine, operator_box, policy
from ui.i18n import language_switch

#: Seconds between looks at the runs folder: often while runs are active, rarely otherwise
#: (a run started from another tab, or the command line, still shows up within this).
ACTIVE_REFRESH, IDLE_REFRESH = 3.0, 10.0


@st.cache_resource
def _reconcile_at_startup(root: str) -> list[str]:
    """Once per server start and runs folder: mark runs whose worker died as interrupted."""
    return reconcile_runs(root)


def _background_jobs(root: str) -> None:
    """Lines for queued and running runs; always refreshing, faster while there are any."""
    from ui.run_panel import active_runs_summary

    busy = bool(active_runs_summary(root))

    @st.fragment(run_every=ACTIVE_REFRESH if busy else IDLE_REFRESH)
    def jobs() -> None:
        lines = active_runs_summary(root)
        if lines:
            st.markdown(_("**Training in the background**"))
            for line in lines:
                st.caption(":material/directions_run: " + line)
        if bool(lines) != busy:
            st.rerun()  # runs started or all finished: change the pace of refreshing

    jobs()


def render_sidebar() -> None:
    """Draw the shared sidebar below the page navigation."""
    root = str(default_runs_root())
    _reconcile_at_startup(root)
    with st.sidebar:
        language_switch()
        _background_jobs(root)
        if policy().class_mode:
            st.caption(_(":material/school: Serving a class: you can manage the runs you started."))
            operator_box()
        elif listens_beyond_this_machine():
            st.warning(_("This lab is reachable from other machines but not in class mode: anyone who can reach it "
                         "can start, cancel and delete runs. See the README's *Serving a class*."),
                       icon=":material/public:")
        st.caption(_(
            "Convnet Lab follows chapter 9 of *Deep Learning with Python*: image classification, "
            "image segmentation and object detection; residual connections, batch normalisation and "
            "depthwise separable convolutions; and what convnets learn."
        ))
        if not policy().class_mode or is_operator():
            st.caption(_("Runs are stored in `{folder}`.").format(folder=root))
