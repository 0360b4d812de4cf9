"""A Previous / Next stepper over a list (layers), kept in the URL and across visits."""

from __future__ import annotations

import streamlit as st

from cv_core.i18n import N_, _

from ui.memory import remember, remembered


def stepper(key: str, options: list[str], param: str | None = None, label: str = N_("Layer"),
            default: str | None = None) -> int:
    """Previous and Next buttons around a slider over ``options``; returns the chosen index.

    The buttons move a remembered position and give the slider a fresh key, so the slider
    starts at the new position through its ``value`` argument (see :mod:`ui.memory`).
    """
    generation = st.session_state.get(f"_{key}_generation", 0)
    widget = f"{key}_{generation}"
    start = remembered(widget, param, options, default if default in options else options[0], shared=key)
    position = options.index(start)

    def shift(delta: int) -> None:
        current = options.index(st.session_state.get(widget, start))
        target = options[min(len(options) - 1, max(0, current + delta))]
        st.session_state[f"_keep_{key}"] = target
        if param:
            st.query_params[param] = target
        st.session_state[f"_{key}_generation"] = generation + 1
        st.session_state.pop(widget, None)

    cols = st.columns([2.1, 5.5, 2.1], vertical_alignment="bottom")
    label = _(label)
    cols[0].button(_("Previous"), key=f"{key}_previous", icon=":material/chevron_left:", on_click=shift, args=(-1,),
                   disabled=position == 0, width="stretch")
    value = cols[1].select_slider(label, options, value=start, key=widget,
                                  help=_("{n} in all; Previous and Next step one at a time.").format(n=len(options)))
    cols[2].button(_("Next"), key=f"{key}_next", icon=":material/chevron_right:", on_click=shift, args=(1,),
                   disabled=position == len(options) - 1, width="stretch")
    remember(widget, param, value, shared=key)
    st.caption(_("{label} {position} of {count}").format(label=label, position=options.index(value) + 1,
                                                          count=len(options)))
    return options.index(value)
