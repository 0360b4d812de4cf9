"""The chapter-9 tour page: the steps of :data:`cv_core.tour.STEPS` in the slides' order, each with its
paragraph and the live piece of the lab, drawn by the functions the lab's own pages use.

The step is kept in the URL (``?step=<key>``) and in the session (a trip to another page and back
returns to it). Everything heavy is cached by the functions reused here (anatomy, the concept demos,
the interpretation results, the segmentation predictions); a step that needs a trained run offers
a button that starts the Quick preset. Session-state keys start with ``tour``.

This module walks the tour and starts its runs; the steps are drawn by :mod:`ui.tour_views` (9-1,
9-2, 9-4) and :mod:`ui.tour_patterns` (9-3's architecture patterns).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cv_core.i18n import _
from cv_core.tour import SECTIONS, STEPS, neighbours, step_index

PREFIX = "tour"
#: The URL parameter that names the step.
PARAM = "step"


# --------------------------------------------------------------------------------------
# Where we are in the tour
# --------------------------------------------------------------------------------------


def current_step() -> int:
    """The step shown: the URL's, else this session's last, else the first; written back to both."""
    key = st.query_params.get(PARAM) or st.session_state.get("_keep_tour_step")
    index = step_index(key)
    go_to(STEPS[index].key)
    return index


def go_to(key: str) -> None:
    """Show step ``key`` (also a button's callback)."""
    st.session_state["_keep_tour_step"] = key
    if st.query_params.get(PARAM) != key:
        st.query_params[PARAM] = key


def _jumped(widget: str, labels: list[str]) -> None:
    go_to(STEPS[labels.index(st.session_state[widget])].key)


def step_label(key: str) -> str:
    """"9-3 · Residual connections against vanishing gradients"."""
    step = STEPS[step_index(key)]
    return _("{section} · {title}").format(section=step.section, title=_(step.title))


def navigation(index: int, where: str) -> None:
    """Previous and Next around the list of steps (``where``: "top" or "bottom", for the widgets' keys)."""
    before, after = neighbours(STEPS[index].key)
    cols = st.columns([1.2, 4, 1.2], vertical_alignment="bottom")
    cols[0].button(_("Previous step"), key=f"{PREFIX}_previous_{where}", icon=":material/chevron_left:",
                   on_click=go_to, args=(before,), disabled=before is None, width="stretch")
    if where == "top":
        from cv_core.i18n import current_language

        # The options are the labels themselves, in the reader's language (a format_func that translates
        # would give other words wherever the language is not this page's: AppTest's own thread). One widget
        # per step and language: it starts at the step shown.
        labels = [step_label(step.key) for step in STEPS]
        widget = f"{PREFIX}_jump_{STEPS[index].key}_{current_language()}"
        cols[1].selectbox(_("Step"), labels, index=index, key=widget, on_change=_jumped, args=(widget, labels))
    else:
        cols[1].caption(_("Step {number} of {total}").format(number=index + 1, total=len(STEPS)))
    cols[2].button(_("Next step"), key=f"{PREFIX}_next_{where}", icon=":material/chevron_right:",
                   on_click=go_to, args=(after,), disabled=after is None, width="stretch")


def show_step(index: int) -> None:
    """The step's heading, paragraph and live piece."""
    step = STEPS[index]
    st.subheader(_("{section} {name}").format(section=step.section, name=_(SECTIONS[step.section])))
    st.markdown(f"#### {_(step.title)}")
    views()[step.key]()


def open_page(path: str, label: str, query: dict | None = None, icon: str = ":material/open_in_new:") -> None:
    """A link to one of the lab's pages with its state in the URL."""
    st.page_link(path, label=label, icon=icon, query_params=query or None)


# --------------------------------------------------------------------------------------
# Runs a step needs
# --------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def _quick_seconds(task: str) -> float | None:
    """The Quick preset's expected time (cached: the estimate builds the model to measure it)."""
    from cv_core.runs import estimate_seconds, preset_spec

    try:
        return estimate_seconds(preset_spec("quick", task=task))
    except Exception:  # noqa: BLE001 - the estimate is a nicety; the button works without it
        return None


def start_quick(task: str, prefix: str) -> None:
    """A button that starts the ``task``'s Quick preset, and the expected time under it; the new run is
    followed under ``prefix`` (``<prefix>_run`` in the URL)."""
    from cv_core.runs import SpecError, preset_spec, submit_run, validate_spec
    from cv_core.runs.compare import format_seconds
    from cv_core.serving import AccessError
    from ui.access import browser_id, is_operator, policy
    from ui.run_panel import follow_run
    from ui.training import flash, my_active_runs

    spec = preset_spec("quick", task=task)
    clicked = st.button(_("Start the Quick preset"), type="primary", icon=":material/play_arrow:",
                        key=f"{prefix}_start_quick")
    if not clicked:
        from cv_core.runs.calibration import known_machine_speed

        try:
            timed = known_machine_speed() is not None
        except SpecError:  # a bad $CONVNET_LAB_MACHINE_SPEED: the estimate is left out below
            timed = True
        # the first time, the estimate builds the model; the very first, it also times this machine
        with st.spinner(_("Estimating how long it takes…") if timed else
                        _("Timing this machine once for the time estimate: three short training runs, under a "
                          "minute…")):
            seconds = _quick_seconds(task)
        if seconds is not None:
            st.caption(_("Expected time on this machine: about {time}. It trains in the background; you can leave "
                         "this page.").format(time=format_seconds(seconds)))
        return
    try:
        validated = validate_spec(spec)
        policy().check_queue(my_active_runs(None), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(_("This run cannot start: {reason}").format(reason=exc), icon=":material/block:")
        return
    follow_run(prefix, submit_run(validated, owner=browser_id()))
    flash(_("Training started in the background."), ":material/rocket_launch:")
    st.rerun()


def followed_run(prefix: str) -> Path | None:
    """The run this step started (this session, or named in the URL), if any."""
    from cv_core.runs import default_runs_root

    chosen = st.session_state.get(f"{prefix}_run")
    if chosen:
        return Path(chosen)
    named = st.query_params.get(f"{prefix}_run")
    if named and "/" not in named and not named.startswith(".") and "\x00" not in named:
        return default_runs_root() / named
    return None


def rerun_when_saved(run_dir: Path) -> None:
    """Redraw the whole step as soon as ``run_dir`` has saved a model (the live panel redraws only itself)."""
    from cv_core.runs import best_model_path

    @st.fragment(run_every=3.0)
    def watch() -> None:
        if best_model_path(run_dir).exists():
            st.rerun()

    watch()


def views() -> dict:
    """Each step's view, by its key (one function per step of :data:`cv_core.tour.STEPS`)."""
    from ui import tour_patterns, tour_views

    return {
        "tasks": tour_views.view_tasks, "niche": tour_views.view_niche, "segmentation": tour_views.view_segmentation,
        "blocks": tour_patterns.view_blocks, "residual": tour_patterns.view_residual,
        "batchnorm": tour_patterns.view_batchnorm, "bn-placement": tour_patterns.view_bn_placement,
        "separable": tour_patterns.view_separable, "principles": tour_patterns.view_principles,
        "curves": tour_patterns.view_curves, "activations": tour_views.view_activations,
        "filters": tour_views.view_filters, "heatmap": tour_views.view_heatmap,
    }
