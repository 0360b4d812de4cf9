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


# --------------------------------------------------------------------------------------
# Can you trust the heatmap?
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _causal(_subject: Subject, subject_key: str, picture_key: str, _batch: np.ndarray, _heatmap: np.ndarray,
            method: str, class_index: int, layer: str | None) -> dict:
    from cv_core.interpret import causal_curves, keep_heat_region

    curves = causal_curves(_subject.model, _batch, _heatmap, class_index, steps=20, random_orders=1, batch_size=8)
    kept = keep_heat_region(_subject.model, _batch, _heatmap, class_index)
    kept.pop("kept_mask", None)
    return {**curves, "kept": kept}


@st.cache_data(max_entries=16, show_spinner=False)
def _sanity(_subject: Subject, subject_key: str, picture_key: str, _batch: np.ndarray, methods: tuple[str, ...],
            class_index: int, layer: str | None, _progress=None) -> dict:
    from cv_core.interpret import sanity_check

    result = sanity_check(_subject.model, _batch, methods=methods, class_index=class_index, layer_name=layer,
                          progress=_progress)
    result.pop("heatmaps", None)
    return result


def trust_panel(subject: Subject, sample, batch: np.ndarray, picture_key: str, result, layer: str | None) -> None:
    """The four checks of a heatmap, each with a sentence on how to read it."""
    from cv_core.interpret import METHODS, READING, localisation, randomisation_groups, sanity_verdict
    from cv_core.plots.interpret import causal_curves_figure, sanity_figure

    method, class_index = result.method, int(result.class_index)
    name = subject.class_names[class_index].split(",")[0]
    st.subheader("Can you trust this heatmap?")
    st.caption(f"Four tests of the {METHODS[method].label} map for “{name}” above, measured on this picture with "
               "this model.")
    with st.spinner("Removing and revealing pixels in heat order…"):
        scores = _causal(subject, subject.key, picture_key, batch, result.heatmap, method, class_index, layer)
    deletion, insertion, kept = scores["deletion"], scores["insertion"], scores["kept"]
    cols = st.columns(4)
    cols[0].metric("Deletion AUC (lower is better)", f"{deletion['auc']:.3f}",
                   delta=f"{deletion['auc'] - deletion['random_auc']:+.3f} vs random order", delta_color="inverse",
                   help=READING["deletion"])
    cols[1].metric("Insertion AUC (higher is better)", f"{insertion['auc']:.3f}",
                   delta=f"{insertion['auc'] - insertion['random_auc']:+.3f} vs random order",
                   help=READING["insertion"])
    cols[2].metric("Only the hot region kept", f"{kept['probability_kept']:.1%}",
                   delta=f"{kept['change']:+.0%} vs the whole picture",
                   help=READING["keep_heat_region"] + f" Here {kept['kept_fraction']:.0%} of the pixels were kept; the "
                        f"whole picture gives {kept['probability_full']:.1%}.")
    mask = sample.mask
    if mask is not None:
        where = localisation(result.heatmap, mask)
        cols[3].metric("Heat on the object", f"{where['energy_inside']:.0%}",
                       delta=f"{where['energy_inside'] - where['mask_fraction']:+.0%} vs an even spread "
                             f"({where['mask_fraction']:.0%})",
                       help=READING["energy_inside"] + " " + READING["pointing_game"])
        cols[3].caption("Hottest point: " + ("**on** the object (a hit)." if where["pointing_hit"]
                                             else "**off** the object (a miss)."))
    else:
        cols[3].metric("Heat on the object", "—", help=READING["energy_inside"])
        cols[3].caption("No true mask for this picture: pick a sample of a run trained on a dataset with masks "
                        "(shapes, Oxford pets).")
    st.plotly_chart(causal_curves_figure(deletion, insertion, class_name=name), width="stretch",
                    key="trust_curves")
    st.caption(READING["deletion"] + " " + READING["insertion"])

    st.markdown("##### Sanity check: does the map depend on what the model learned?")
    st.caption(READING["sanity_check"])
    steps = ["original"] + [label for label, _ in randomisation_groups(subject.model)]
    options = list(METHODS)
    chosen = st.multiselect("Methods to check", options, default=[method] + (["smoothgrad"] if method != "smoothgrad" else []),
                            format_func=lambda m: METHODS[m].label, key="trust_sanity_methods")
    st.caption(f"{len(steps) - 1} randomisation steps ({', '.join(steps[1:6])}{'…' if len(steps) > 6 else ''}), "
               "each explained again with every chosen method: seconds for a small model, about a minute for "
               "SqueezeNet with several methods.")
    run_key = ("trust_sanity_run", subject.key, picture_key, tuple(chosen), class_index, layer)
    if st.button("Run the sanity check", icon=":material/shuffle:", key="trust_sanity_go", disabled=not chosen):
        st.session_state["trust_sanity_request"] = run_key
    if chosen and st.session_state.get("trust_sanity_request") == run_key:
        bar = st.progress(0.0, text="Randomising the model, one block at a time…")

        def report(done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(1, total)), text=f"Step {done} of {total}")

        check = _sanity(subject, subject.key, picture_key, batch, tuple(chosen), class_index, layer, _progress=report)
        bar.empty()
        labels = {m: METHODS[m].label for m in chosen}
        st.plotly_chart(sanity_figure(check["steps"], check["correlations"], labels), width="stretch",
                        key="trust_sanity_chart")
        for m in chosen:
            st.markdown(f"**{labels[m]}**: {sanity_verdict(check['correlations'][m], check['steps'])}")
