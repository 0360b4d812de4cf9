"""Heatmaps: upload or snap a photo and see what the model thinks it is, and which parts of the
photo drove that answer — with any method, any class and any layer, side by side, and scores
that say whether the heatmap deserves trust."""

import streamlit as st

from cv_core.i18n import N_, _
from cv_core.interpret import METHODS, feature_map_layers, last_conv_layer, overlay
from cv_core.interpret.trust import class_chance_note, map_is_blank
from cv_core.plots.interpret import top_predictions_figure
from ui import install_streamlit_patches
from ui.interpret import class_label, digest, model_and_picture, model_picker, png_bytes, short_name, top_classes
from ui.memory import index_of, remember, remembered
from ui.interpret_results import display_photo, explanation, trust_panel

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Heatmaps"))
st.caption(_("What does the model see in your photo, and where? Pick a model and a picture (a sample, your own "
             "upload or the camera): the top predictions appear with a class-activation heatmap over the photo."))

left, right = st.columns([1.3, 2.4], gap="large")
subject, sample, batch, picture_key = model_and_picture("heatmaps", left, right)
photo = display_photo(sample.photo)
layers = feature_map_layers(subject.model)
default_layer = last_conv_layer(subject.model)
first = explanation(subject, picture_key, batch, "grad_cam", None, default_layer, False)
top = top_classes(subject, first.probabilities, k=5)
with left:
    st.plotly_chart(top_predictions_figure(top, title=_("What the model thinks it is")), width="stretch",
                    key="heatmaps_top5")


#: The opacity slider's stops.
OPACITIES = [round(0.05 * i, 2) for i in range(21)]


def _method_label(name: str) -> str:
    return _(METHODS[name].label)


def heatmap_panel():
    """Method, layer, class and opacity controls, the picture and its heatmap; returns the result."""
    controls = st.columns([1.2, 1.4, 1.8])
    initial = remembered("heatmaps_method", "method", list(METHODS), "grad_cam")
    method = controls[0].selectbox(_("Method"), list(METHODS), index=index_of(METHODS, initial),
                                   format_func=_method_label, key="heatmaps_method",
                                   help=_("Grad-CAM weights the target layer's channels by their mean gradient; "
                                          "Grad-CAM++ and HiResCAM weight them pixel by pixel; Score-CAM uses no "
                                          "gradients (it masks the photo with each channel); SmoothGrad works on "
                                          "pixels."))
    remember("heatmaps_method", "method", method)
    uses_layer = METHODS[method].uses_layer
    initial = remembered("heatmaps_layer", "target", layers, default_layer)
    layer = controls[1].selectbox(_("Target layer"), layers, index=index_of(layers, initial), key="heatmaps_layer",
                                  disabled=not uses_layer,
                                  help=_("Any layer with a feature map; the default, `{layer}`, is the last one.").format(
                                      layer=default_layer))
    remember("heatmaps_layer", "target", layer)
    classes = list(range(len(subject.class_names)))
    class_widget = f"heatmaps_class_{subject.key}_{picture_key}"
    # A shared link's class applies to the picture it came with; a new picture starts at its top class.
    from_link = "class" if not st.session_state.get("heatmaps_link_class_used") else None
    st.session_state["heatmaps_link_class_used"] = True
    initial = remembered(class_widget, from_link, classes, top[0][0])
    class_index = controls[2].selectbox(_("Explain the class"), classes, index=index_of(classes, initial),
                                        key=class_widget,
                                        format_func=lambda i: class_label(subject, i),
                                        help=_("The top prediction by default; pick any class to see what would "
                                               "make the model say that instead."))
    remember(class_widget, "class", class_index)
    options = st.columns([2, 1], vertical_alignment="center")
    # Every choice starts from the URL or this session's memory and goes back there, so a reload,
    # a new upload or a trip to another page shows the picture made with the settings on screen.
    initial = remembered("heatmaps_opacity", "opacity", OPACITIES, 0.5)
    opacity = round(options[0].slider(_("Heatmap opacity"), 0.0, 1.0, value=initial, step=0.05, key="heatmaps_opacity"), 2)
    remember("heatmaps_opacity", "opacity", opacity)
    initial = remembered("heatmaps_augment", "smoothing", ["off", "on"], "off")
    augment = options[1].toggle(_("Test-time smoothing"), value=initial == "on", key="heatmaps_augment",
                                help=_("Average the maps of the photo, its mirror image and zoomed copies: "
                                       "steadier maps for four passes instead of one."))
    remember("heatmaps_augment", "smoothing", "on" if augment else "off")
    # The top class is asked for as None, so the first heatmap above is reused from the cache.
    asked = None if int(class_index) == first.class_index else int(class_index)
    result = explanation(subject, picture_key, batch, method, asked, layer if uses_layer else None, bool(augment))
    name = subject.class_names[result.class_index]
    probability = float(result.probabilities[result.class_index])
    pictures = st.columns(2)
    pictures[0].image(photo, caption=_("Your picture ({name})").format(name=sample.name), width="stretch")
    blended = overlay(photo, result.heatmap, float(opacity))
    if uses_layer and augment:
        caption = _("{method} at `{layer}` for “{name}” (p = {p:.1%}), smoothed at test time")
    elif uses_layer:
        caption = _("{method} at `{layer}` for “{name}” (p = {p:.1%})")
    elif augment:
        caption = _("{method} for “{name}” (p = {p:.1%}), smoothed at test time")
    else:
        caption = _("{method} for “{name}” (p = {p:.1%})")
    caption = caption.format(method=_method_label(method), layer=layer, name=name, p=probability)
    pictures[1].image(blended, width="stretch", caption=caption)
    pictures[1].download_button(_("Download the overlay (PNG)"), png_bytes(blended), icon=":material/download:",
                                file_name=f"heatmap-{method}-{result.class_index}.png", mime="image/png",
                                key="heatmaps_download")
    note = class_chance_note(probability, short_name(name))
    if note:
        st.warning(note, icon=":material/trending_down:")
    if map_is_blank(result.heatmap):
        st.warning(_("This map is blank: {method} found nothing in the picture that raises the score "
                     "of “{name}”, so there is no heat to show. Try another layer or method.").format(
                         method=_method_label(method), name=short_name(name)),
                   icon=":material/visibility_off:")
    return result, (layer if uses_layer else None), bool(augment)


with right:
    current, current_layer, current_augment = heatmap_panel()

st.divider()
st.subheader(_("Side by side"))
st.caption(_("The same picture explained two ways: two methods on one model, or one method on two models."))
#: The comparisons: the values (kept in the URL) and what the control shows.
COMPARISONS = {"Two methods": N_("Two methods"), "Two models": N_("Two models")}
initial = remembered("heatmaps_compare_kind", "compare", list(COMPARISONS), "Two methods")
compare = st.segmented_control(_("Compare"), list(COMPARISONS), key="heatmaps_compare_kind", default=initial,
                               format_func=lambda value: _(COMPARISONS[value])) or initial
remember("heatmaps_compare_kind", "compare", compare)
method, class_index, layer = current.method, int(current.class_index), current_layer
asked = None if class_index == first.class_index else class_index  # the top class: shares cached maps
pair = st.columns(2)
if compare == "Two models":
    with pair[0]:
        st.markdown(f"**{subject.label}**")
        result = explanation(subject, picture_key, batch, method, asked, layer, False)
        st.image(overlay(photo, result.heatmap, 0.5), width="stretch",
                 caption=f"{_method_label(method)} · {class_label(subject, result.class_index)}")
    with pair[1]:
        other = model_picker("heatmaps", label=_("Second model"), key_suffix="_other", param="model2",
                             default="pretrained:squeezenet")
        if other is not None:
            other_batch = other.preprocess(sample.photo)
            other_first = explanation(other, digest(other_batch), other_batch, method, None, None, False)
            st.image(overlay(photo, other_first.heatmap, 0.5), width="stretch",
                     caption=_("{method} · its top class: {label}").format(
                         method=_method_label(method), label=class_label(other, other_first.class_index)))
else:
    second_options = [m for m in METHODS if m != method]
    second = remembered("heatmaps_method2", "method2", second_options,
                        "grad_cam_plus_plus" if method != "grad_cam_plus_plus" else "grad_cam")
    for col, name in zip(pair, (method, None)):
        with col:
            if name is None:
                name = st.selectbox(_("Second method"), second_options, index=index_of(second_options, second),
                                    format_func=_method_label, key="heatmaps_method2")
                remember("heatmaps_method2", "method2", name)
            else:
                st.markdown(f"**{_method_label(name)}**")
            target = layer if METHODS[name].uses_layer else None
            target = target or (default_layer if METHODS[name].uses_layer else None)
            result = explanation(subject, picture_key, batch, name, asked, target, False)
            st.image(overlay(photo, result.heatmap, 0.5), width="stretch",
                     caption=f"{_method_label(name)} · {class_label(subject, result.class_index)}")

st.divider()
trust_panel(subject, sample, batch, picture_key, current, current_layer, current_augment)
