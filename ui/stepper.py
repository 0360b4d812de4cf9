"""A Previous / Next stepper over a list (layers), kept in the URL and across visits."""

from __future__ import annotations

import streamlit as st

from ui.interpret import remember, remembered


def stepper(key: str, options: list[str], param: str | None = None, label: str = "Layer",
            default: str | None = None) -> int:
    """Previous and Next buttons around a slider over ``options``; returns the chosen index."""
    remembered(key, param, options, default if default in options else options[0])
    position = options.index(st.session_state[key])

    def shift(delta: int) -> None:
        current = options.index(st.session_state[key])
        st.session_state[key] = options[min(len(options) - 1, max(0, current + delta))]

    cols = st.columns([1.7, 6, 1.7], vertical_alignment="bottom")
    cols[0].button("Previous", key=f"{key}_previous", icon=":material/chevron_left:", on_click=shift, args=(-1,),
                   disabled=position == 0, width="stretch")
    value = cols[1].select_slider(f"{label} ({position + 1} of {len(options)})", options, key=key)
    cols[2].button("Next", key=f"{key}_next", icon=":material/chevron_right:", on_click=shift, args=(1,),
                   disabled=position == len(options) - 1, width="stretch")
    remember(key, param, value)
    return options.index(value)
