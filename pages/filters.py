"""Filters: what each filter of a layer responds to, found by gradient ascent in input space.
Grids fill in as the patterns are computed; stepping back to a layer already seen is instant."""

import streamlit as st

from cv_core.i18n import _
from ui import install_streamlit_patches
from ui.filters import comparison_grid, filter_settings, pattern_grid, visual_layers
from ui.interpret import model_picker
from ui.stepper import stepper

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Filters"))
st.caption(_("Start from a grey, noisy picture and change it, step by step, so that one filter responds as strongly "
             "as it can: the picture that comes out is the pattern that filter looks for (the book's section 9.4.2). "
             "Early filters find colours and edges; deeper ones, textures and parts of objects."))

left, right = st.columns([1.25, 2.6], gap="large")
with left:
    subject = model_picker("filters")
    settings = filter_settings("filters") if subject is not None else None

if subject is None:
    with right:
        st.info(_("Choose a model on the left."), icon=":material/image_search:")
    st.stop()

layers = visual_layers(subject)
with right:
    one_tab, compare_tab = st.tabs([_("One layer"), _("Early, middle and late layers")])
    with one_tab:
        index = stepper("filters_layer", layers, param="filter_layer",
                        default=subject.comparison_layers[0] if subject.comparison_layers else None)
        pattern_grid(subject, layers[index], settings, "filters")
    with compare_tab:
        st.caption(_("An early, a middle and a late layer, one row each, the first filters of each — for Xception, "
                     "the book's `block2_sepconv1`, `block4_sepconv1` and `block8_sepconv1` (figures 9.16–9.18). "
                     "Patterns grow from colours and edges to textures and parts of objects."))
        comparison_grid(subject, settings, "filters")
