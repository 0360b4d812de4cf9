"""Activations: step through a model layer by layer and see what each layer outputs for one
picture — every channel as a small map, any channel enlarged. The book's listing, live."""

import numpy as np
import streamlit as st

from cv_core.i18n import _
from cv_core.interpret.activations import ACTIVE_SHARE_OF_PEAK, active_share
from cv_core.plots.interpret import channel_grid_figure, channel_values_figure, single_channel_figure, tile_of_point
from ui import install_streamlit_patches
from ui.interpret import model_and_picture
from ui.memory import from_link, index_of, remember, remembered, set_link
from ui.interpret_results import layer_infos, layer_outputs
from ui.stepper import stepper

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Activations"))
st.caption(_("What each layer of a convnet makes of one picture. Early layers keep edges and colours; deeper ones "
             "grow more abstract and sparser, as the book's figure 9.14 shows."))

left, right = st.columns([1.25, 2.6], gap="large")
subject, sample, batch, picture_key = model_and_picture("activations", left, right, thumbnail=True)
infos = layer_infos(subject)
names = [info.name for info in infos]
outputs = layer_outputs(subject, picture_key, batch)

with right:
    index = stepper("activations_layer", names, param="layer")
    info = infos[index]
    values = np.asarray(outputs[info.name], dtype=np.float32)
    head = st.columns([3, 1])
    shape = " × ".join(str(d) for d in values.shape)
    head[0].markdown(_("#### `{layer}` · {kind} · output {shape}").format(layer=info.name, kind=info.class_name,
                                                                           shape=shape))
    head[0].caption(info.description)
    head[1].metric(_("Active values"), f"{active_share(values):.0%}",
                   help=_("Share of this layer's outputs whose size is at least {share:.0%} of its "
                          "largest output. ReLU layers grow sparser with depth; a softmax puts nearly all its "
                          "probability on a few classes.").format(share=ACTIVE_SHARE_OF_PEAK))

    if values.ndim == 1:
        st.plotly_chart(channel_values_figure(values, title=_("{layer}: one number per channel").format(layer=info.name)), width="stretch",
                        key="activations_values")
        st.stop()

    channels = values.shape[-1]
    controls = st.columns([1, 1, 2])
    sizes = [16, 32, 64]
    initial = remembered("activations_per_page", "per_page", sizes, 32)
    per_page = controls[0].selectbox(_("Channels per page"), sizes, index=index_of(sizes, initial), key="activations_per_page")
    remember("activations_per_page", "per_page", per_page)
    pages = max(1, -(-channels // per_page))
    page_widget = f"activations_page_{info.name}_{per_page}"
    first_page = from_link("page", range(1, pages + 1)) or st.session_state.get(f"_keep_{page_widget}", 1)
    page = controls[1].number_input(_("Page (of {pages})").format(pages=pages), 1, pages, min(int(first_page), pages), key=page_widget)
    st.session_state[f"_keep_{page_widget}"] = int(page)
    set_link("page", int(page))
    shown = list(range((int(page) - 1) * per_page, min(channels, int(page) * per_page)))
    controls[2].caption(_("Channels {first}–{last} of {total}. Each tile is scaled to its own range; "
                          "click one to enlarge it.").format(first=shown[0], last=shown[-1], total=channels))
    event = st.plotly_chart(
        channel_grid_figure(values, shown, columns=8, title=_("{layer}: channels {first}–{last}").format(
            layer=info.name, first=shown[0], last=shown[-1])),
        width="stretch", on_select="rerun", selection_mode="points", key=f"activations_grid_{info.name}_{page}",
    )
    clicked = None
    for point in (event.selection.points if event and event.selection else []):
        clicked = tile_of_point(point)
    memory, last_click = f"_keep_activations_channel_{info.name}", f"_activations_click_{info.name}"
    if clicked is not None and clicked != st.session_state.get(last_click):
        st.session_state[last_click] = clicked
        st.session_state[memory] = clicked
        st.session_state["_activations_clicks"] = st.session_state.get("_activations_clicks", 0) + 1
    linked = from_link("channel", range(channels))
    start = linked if linked is not None else st.session_state.get(memory, shown[0])
    start = start if 0 <= start < channels else shown[0]
    channel = st.number_input(_("Enlarged channel"), 0, channels - 1, start,
                              key=f"activations_channel_{info.name}_{st.session_state.get('_activations_clicks', 0)}")
    st.session_state[memory] = int(channel)
    set_link("channel", int(channel))
    st.plotly_chart(single_channel_figure(
        values[..., int(channel)], title=_("{layer}, channel {channel}").format(layer=info.name, channel=int(channel))),
                    width="stretch", key="activations_single")
