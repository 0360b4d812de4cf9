"""Cached interpretation results and the panels that show them (heatmaps, trust scores)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cv_core.datasets import resize_image
from cv_core.i18n import N_, _, current_language, ngettext
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
def _explanation(_subject: Subject, subject_version: str, picture_key: str, _batch: np.ndarray, method: str,
                 class_index: int | None, layer: str | None, augment: bool):
    from cv_core.interpret import explain

    return explain(_subject.model, _batch, method=method, class_index=class_index, layer_name=layer, augment=augment)


def explanation(subject: Subject, picture_key: str, batch: np.ndarray, method: str, class_index: int | None,
                layer: str | None, augment: bool):
    """A cached :class:`cv_core.interpret.Explanation` (model version, picture and settings are the key)."""
    from cv_core.interpret import METHODS
    from ui.interpret import version

    label = _(METHODS[method].label) if method in METHODS else method
    with st.spinner(_("Computing the heatmap ({method})…").format(method=label)):
        return _explanation(subject, version(subject), picture_key, batch, method, class_index, layer, bool(augment))


#: Pictures whose every layer's output is kept (shared by all sessions). Each costs from a few
#: MB (the lab's runs) to about 60 MB (SqueezeNet; Xception more): keep few.
ACTIVATION_PICTURES = 2


@st.cache_resource(max_entries=ACTIVATION_PICTURES, ttl=1800, show_spinner=False)
def _all_activations(_subject: Subject, subject_version: str, picture_key: str, _batch: np.ndarray) -> dict:
    """Every layer's output for one picture, kept as float16 (read-only, shared); 1-D outputs
    (pooling, dense, softmax) stay float32, where float16 would round small probabilities to 0."""
    from cv_core.interpret import activations

    out = {}
    for name, value in activations(_subject.model, _batch).items():
        value = value[0]
        value = value.astype(np.float16) if value.ndim > 1 else value.astype(np.float32)
        value.setflags(write=False)
        out[name] = value
    return out


def layer_outputs(subject: Subject, picture_key: str, batch: np.ndarray) -> dict[str, np.ndarray]:
    """``{layer: (h, w, C) float16 or (C,) float32}`` for every layer the activation viewer shows (cached)."""
    from ui.interpret import version

    with st.spinner(_("Running the picture through every layer…")):
        return _all_activations(subject, version(subject), picture_key, batch)


@st.cache_data(max_entries=16, show_spinner=False)
def _layer_infos(_subject: Subject, subject_version: str, language: str):
    """``language`` is in the key: each layer's description is a sentence in it."""
    from cv_core.interpret import activation_layers

    return activation_layers(_subject.model)


def layer_infos(subject: Subject):
    """The activation viewer's layers of a model (names, kinds, shapes, descriptions in the page's
    language), cached per model version and language."""
    from ui.interpret import version

    return _layer_infos(subject, version(subject), current_language())


# --------------------------------------------------------------------------------------
# Can you trust the heatmap?
# --------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _causal(_subject: Subject, subject_version: str, picture_key: str, _batch: np.ndarray, _heatmap: np.ndarray,
            heatmap_key: str, class_index: int) -> dict:
    from cv_core.interpret import causal_curves, keep_heat_region

    curves = causal_curves(_subject.model, _batch, _heatmap, class_index, steps=20, random_orders=1, batch_size=8)
    kept = keep_heat_region(_subject.model, _batch, _heatmap, class_index)
    kept.pop("kept_mask", None)
    return {**curves, "kept": kept}


def trust_scores(subject: Subject, picture_key: str, batch: np.ndarray, heatmap: np.ndarray, class_index: int) -> dict:
    """Deletion and insertion curves and the kept-region score of *this* heatmap (cached).

    Everything the scores depend on is in the key: the model's version, the picture, the heatmap
    itself (a digest: a smoothed map is another map) and the class.
    """
    from ui.interpret import digest, version

    return _causal(subject, version(subject), picture_key, batch, heatmap, digest(heatmap), int(class_index))


#: Sanity checks kept (a few numbers each), shared by every session.
SANITY_RESULTS = 32


@st.cache_resource
def _sanity_store() -> dict:
    """Sanity checks already run: {(model version, picture, methods, class, layer): result}.

    A plain dict rather than ``st.cache_data``: the check reports progress to a bar made
    outside it, and ``st.cache_data`` would replay that bar on a cache hit, when the bar is
    gone (a CacheReplayClosureError, seen on a reload).
    """
    import threading
    from collections import OrderedDict

    return {"results": OrderedDict(), "lock": threading.Lock()}


def sanity_scores(subject: Subject, picture_key: str, batch: np.ndarray, methods: tuple[str, ...], class_index: int,
                  layer: str | None, progress=None) -> dict:
    """The sanity check of ``methods`` on this model, picture, class and layer (cached; ``progress`` not in the key)."""
    from cv_core.interpret import sanity_check
    from ui.interpret import version

    store = _sanity_store()
    key = (version(subject), picture_key, tuple(methods), int(class_index), layer)
    with store["lock"]:
        if key in store["results"]:
            store["results"].move_to_end(key)
            return store["results"][key]
    result = sanity_check(subject.model, batch, methods=tuple(methods), class_index=int(class_index), layer_name=layer,
                          progress=progress)
    result.pop("heatmaps", None)
    with store["lock"]:
        store["results"][key] = result
        while len(store["results"]) > SANITY_RESULTS:
            store["results"].popitem(last=False)
    return result


_STATUS_ICONS = {"good": ":green[:material/check_circle:]", "chance": ":orange[:material/help:]",
                 "poor": ":red[:material/cancel:]", "unknown": ":grey[:material/remove:]"}
_CHECK_TITLES = {"deletion": N_("Deletion"), "insertion": N_("Insertion"),
                 "keep_heat_region": N_("Only the hot region kept"), "localisation": N_("Heat on the object")}


def show_verdict(verdict) -> None:
    """The overall reading, coloured by how far the map can be trusted."""
    show = {"good": st.success, "chance": st.warning, "poor": st.error}.get(verdict.status, st.info)
    icon = {"good": ":material/verified:", "chance": ":material/help:", "poor": ":material/warning:"}
    show(_("**Verdict.** {sentence}").format(sentence=verdict.sentence), icon=icon.get(verdict.status, ":material/info:"))


def trust_panel(subject: Subject, sample, batch: np.ndarray, picture_key: str, result, layer: str | None,
                augment: bool = False) -> None:
    """The four checks of a heatmap, one sentence each, and the overall verdict."""
    from cv_core.interpret import METHODS, READING, localisation
    from cv_core.interpret.trust import read_trust
    from cv_core.plots.interpret import causal_curves_figure
    from ui.interpret import short_name

    method, class_index = result.method, int(result.class_index)
    name = short_name(subject.class_names[class_index])
    probability = float(result.probabilities[class_index])
    st.subheader(_("Can you trust this heatmap?"))
    if augment:
        st.caption(_("Four tests of the {method} map for “{name}” above, smoothed at test time, "
                     "measured on this picture with this model.").format(method=_(METHODS[method].label), name=name))
    else:
        st.caption(_("Four tests of the {method} map for “{name}” above, measured on this picture "
                     "with this model.").format(method=_(METHODS[method].label), name=name))
    with st.spinner(_("Removing and revealing pixels in heat order…")):
        scores = trust_scores(subject, picture_key, batch, result.heatmap, class_index)
    deletion, insertion, kept = scores["deletion"], scores["insertion"], scores["kept"]
    where = localisation(result.heatmap, sample.mask) if sample.mask is not None else None
    reading = read_trust(deletion, insertion, kept, where, probability=probability, class_name=name)
    show_verdict(reading["verdict"])
    cols = st.columns(4)
    cols[0].metric(_("Deletion AUC (lower is better)"), f"{deletion['auc']:.3f}",
                   delta=_("{change:+.3f} vs random order").format(change=deletion["auc"] - deletion["random_auc"]),
                   delta_color="inverse", help=_(READING["deletion"]))
    cols[1].metric(_("Insertion AUC (higher is better)"), f"{insertion['auc']:.3f}",
                   delta=_("{change:+.3f} vs random order").format(change=insertion["auc"] - insertion["random_auc"]),
                   help=_(READING["insertion"]))
    change = _("{change:+.0%} vs the whole picture").format(change=kept["change"]) \
        if np.isfinite(kept["change"]) else None
    cols[2].metric(_("Only the hot region kept"), f"{kept['probability_kept']:.1%}", delta=change,
                   help=_(READING["keep_heat_region"]) + " "
                   + _("Here {kept:.0%} of the pixels were kept; the whole picture gives {full:.1%}.").format(
                       kept=kept["kept_fraction"], full=kept["probability_full"]))
    if where is not None:
        cols[3].metric(_("Heat on the object"), f"{where['energy_inside']:.0%}",
                       delta=_("{change:+.0%} vs an even spread ({even:.0%})").format(
                           change=where["energy_inside"] - where["mask_fraction"], even=where["mask_fraction"]),
                       help=_(READING["energy_inside"]) + " " + _(READING["pointing_game"]))
        cols[3].caption(_("Hottest point: **on** the object (a hit).") if where["pointing_hit"]
                        else _("Hottest point: **off** the object (a miss)."))
    else:
        cols[3].metric(_("Heat on the object"), "—", help=_(READING["energy_inside"]))
        cols[3].caption(_("No true mask for this picture: pick a sample of a run trained on a dataset with masks "
                          "(shapes, Oxford pets)."))
    for check, line in reading["checks"].items():
        st.markdown(_("{icon} **{title}.** {sentence}").format(
            icon=_STATUS_ICONS[line.status], title=_(_CHECK_TITLES[check]), sentence=line.sentence))
    st.plotly_chart(causal_curves_figure(deletion, insertion, class_name=name), width="stretch",
                    key="trust_curves")
    st.caption(_(READING["deletion"]) + " " + _(READING["insertion"]))
    sanity_section(subject, batch, picture_key, method, class_index, layer, augment)


def _request_sanity(run_key: tuple) -> None:
    st.session_state["trust_sanity_request"] = run_key


def sanity_section(subject: Subject, batch: np.ndarray, picture_key: str, method: str, class_index: int,
                   layer: str | None, augment: bool) -> None:
    """The sanity check: chosen methods, a button, the chart and one verdict per method.

    The methods that were checked go into the URL (``sanity``), so a reload or a shared link
    shows the check again (from the cache when it was computed before).
    """
    from cv_core.interpret import METHODS, READING, randomisation_groups, sanity_verdict
    from cv_core.plots.interpret import sanity_figure

    st.markdown(_("##### Sanity check: does the map depend on what the model learned?"))
    st.caption(_(READING["sanity_check"]))
    if augment:
        st.caption(_("The sanity check explains without test-time smoothing: it tests the method, not the smoothing."))
    steps = ["original"] + [label for label, _names in randomisation_groups(subject.model)]
    options = list(METHODS)
    linked = [m for m in st.query_params.get("sanity", "").split(",") if m in METHODS]
    default = linked or [method] + (["smoothgrad"] if method != "smoothgrad" else [])
    if "trust_sanity_methods" not in st.session_state and linked:
        st.session_state["trust_sanity_request"] = ("trust_sanity_run", subject.key, picture_key, tuple(linked),
                                                    class_index, layer)
    chosen = st.multiselect(_("Methods to check"), options, default=default,
                            format_func=lambda m: _(METHODS[m].label), key="trust_sanity_methods")
    count = len(steps) - 1
    if len(steps) > 6:
        st.caption(ngettext("{n} randomisation step ({blocks}…), explained again with every chosen method: seconds "
                            "for a small model, about a minute for SqueezeNet with several methods.",
                            "{n} randomisation steps ({blocks}…), each explained again with every chosen method: "
                            "seconds for a small model, about a minute for SqueezeNet with several methods.",
                            count).format(n=count, blocks=", ".join(f"`{step}`" for step in steps[1:6])))
    else:
        st.caption(ngettext("{n} randomisation step ({blocks}), explained again with every chosen method: seconds "
                            "for a small model, about a minute for SqueezeNet with several methods.",
                            "{n} randomisation steps ({blocks}), each explained again with every chosen method: "
                            "seconds for a small model, about a minute for SqueezeNet with several methods.",
                            count).format(n=count, blocks=", ".join(f"`{step}`" for step in steps[1:])))
    run_key = ("trust_sanity_run", subject.key, picture_key, tuple(chosen), class_index, layer)
    st.button(_("Run the sanity check"), icon=":material/shuffle:", key="trust_sanity_go", disabled=not chosen,
              on_click=_request_sanity, args=(run_key,))
    if not (chosen and st.session_state.get("trust_sanity_request") == run_key):
        if "sanity" in st.query_params:
            del st.query_params["sanity"]
        return
    st.query_params["sanity"] = ",".join(chosen)
    bar = st.progress(0.0, text=_("Randomising the model, one block at a time…"))
    waiting_text = _("Step {done} of {total}")  # translated here: the report may come from the check's thread

    def report(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(1, total)), text=waiting_text.format(done=done, total=total))

    check = sanity_scores(subject, picture_key, batch, tuple(chosen), class_index, layer, progress=report)
    bar.empty()
    labels = {m: _(METHODS[m].label) for m in chosen}
    st.plotly_chart(sanity_figure(check["steps"], check["correlations"], labels, vanished=check.get("vanished")),
                    width="stretch", key="trust_sanity_chart")
    vanished = check.get("vanished") or {}
    for m in chosen:  # the verdict in the page's language (the cached check keeps only numbers for this)
        verdict = sanity_verdict(check["correlations"][m], check["steps"], vanished=vanished.get(m))
        st.markdown(_("**{method}**: {verdict}").format(method=labels[m], verdict=verdict))
