"""Architecture lab glue: cached anatomy of model variants and the two concept demos.

Anatomy is computed by building the model (the one source of truth for its sizes), but
only after :func:`cv_core.runs.check_resources` has agreed that building it fits the
budget. Results are cached, never models: after measuring, the model is dropped and Keras'
state cleared, so showing VGG16 does not leave 550 MB behind.
"""

from __future__ import annotations

import ctypes
import gc
import json
import math
import zlib

import streamlit as st

from cv_core.formatting import format_number
from cv_core.i18n import N_, TranslatedError, _

from cv_core.plots.architecture import (
    UNDERFLOW_FLOOR,
    batchnorm_stats_figure,
    compare_figure,
    gradient_norms_figure,
    pyramid_figure,
)
from cv_core.runs import SpecError, TrainSpec, check_resources
#: Models up to this many parameters are measured in the server process; bigger ones (VGG16
#: has 138 M) in a short-lived process, because TensorFlow keeps freed memory for reuse.
from cv_core.runs.cost import IN_PROCESS_PARAMS

#: Reference architectures from keras.applications, built without weights (no download).
REFERENCE_MODELS = {
    "VGG16 (224 px, keras.applications)": ("VGG16", (224, 224, 3)),
    "Xception (299 px, keras.applications)": ("Xception", (299, 299, 3)),
}


class AnatomyError(TranslatedError, ValueError):
    """A model that cannot be measured here; the message says why (in the reader's language when shown)."""


def describe_spec(spec: TrainSpec, num_classes: int | None) -> str:
    """A canonical JSON description of the model Train builds for ``spec`` (a cache key): every
    field of :meth:`TrainSpec.architecture_key`, and the class count (None: no class output)."""
    data = {name: list(value) if name == "filters" else value for name, value in spec.architecture_key()}
    classes = None if num_classes is None else int(num_classes)
    return json.dumps({"kind": "spec", "spec": data, "num_classes": classes}, sort_keys=True)


def describe_reference(label: str) -> str:
    """A canonical JSON description of a keras.applications reference model."""
    return json.dumps({"kind": "reference", "label": label}, sort_keys=True)



def _spec_of(description: dict) -> TrainSpec:
    return TrainSpec.from_architecture_key(description["spec"].items())


def _release_memory(keras) -> None:
    """Drop Keras' global state and hand what can be freed back to the operating system."""
    keras.backend.clear_session(free_memory=True)
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _measure(description: dict) -> dict:
    """The anatomy of a described model, refusing first what would not fit the budget."""
    from cv_core import measurements
    from cv_core.anatomy import build_described, summarise, summarise_in_subprocess

    if description["kind"] == "spec":
        spec = _spec_of(description)
        try:
            cost = check_resources(spec, num_classes=description["num_classes"], training=False)
        except SpecError as exc:
            raise AnatomyError(str(exc)) from None
        in_process = cost.params <= IN_PROCESS_PARAMS
    else:
        name, shape = REFERENCE_MODELS[description["label"]]
        description = {"kind": "application", "name": name, "input_shape": list(shape)}
        in_process = False
    try:
        if not in_process:
            return summarise_in_subprocess(description)
        kept = measurements.recall(description)  # measured before by this code (any process): no TensorFlow
        if kept is not None:
            return kept
        from cv_core._tf import keras as _keras

        keras = _keras()
        model = None
        try:
            model = build_described(description)
            summary = summarise(model)
        finally:
            del model
            _release_memory(keras)
        measurements.remember(description, summary)
        return summary
    except ValueError as exc:  # the builder's own argument checks, or the child's message
        raise AnatomyError(str(exc)) from None
    except Exception as exc:  # ResourceExhaustedError, MemoryError, a timeout...: never take the page down
        raise AnatomyError(N_("Building this model failed ({error}). Try fewer or narrower filters, or smaller images."),
                           error=type(exc).__name__) from None


@st.cache_data(max_entries=32, show_spinner=False)
def _anatomy(description_json: str) -> dict:
    return _measure(json.loads(description_json))


def anatomy(description_json: str) -> dict:
    """Block table, totals and layer count of a described model (cached: results, never models)."""
    with st.spinner(_("Building the model to measure it…")):  # shows only while it is built (a cache miss)
        return _anatomy(description_json)


def comparison(description_a_json: str, description_b_json: str) -> list[dict]:
    """Per-block comparison rows of two described models (from their cached anatomies)."""
    from cv_core.anatomy import compare_blocks

    return compare_blocks(anatomy(description_a_json)["blocks"], anatomy(description_b_json)["blocks"])


def block_rows_for_table(blocks: list[dict]) -> list[dict]:
    """Rows formatted for ``st.dataframe``: shapes as text, counts as numbers."""
    return [
        {
            _("block"): row["block"],
            _("output (H × W × C)"): " × ".join(str(d) for d in row["output_shape"]) if row["output_shape"] else "",
            _("parameters"): row["params"],
            _("multiply-adds"): row["mult_adds"],
        }
        for row in blocks
    ]


def show_anatomy(description_json: str, title: str, caption: str | None = None) -> dict | None:
    """Metrics, pyramid chart and block table of one model; returns its anatomy, or None
    (with the reason shown) if it cannot be built."""
    try:
        info = anatomy(description_json)
    except AnatomyError as exc:
        st.error(_("This model cannot be shown: {reason}").format(reason=exc), icon=":material/block:")
        return None
    cols = st.columns(3)
    cols[0].metric(_("Parameters"), format_number(info["params"]))
    cols[1].metric(_("Multiply-adds per image"), _human(info["mult_adds"]))
    cols[2].metric(_("Layers"), info["layers"])
    if caption:
        st.caption(caption)
    st.plotly_chart(pyramid_figure(info["blocks"], title=title), width="stretch")
    with st.expander(_("Per-block table"), key=f"anatomy_table_{zlib.crc32(description_json.encode())}"):
        st.dataframe(block_rows_for_table(info["blocks"]), hide_index=True, width="stretch")
    return info


def _ratio_text(value: float | None, a: int | None) -> str:
    if value is None:
        return _("— (none in the first)") if a == 0 else "—"
    return f"{value:.3f}"


def show_comparison(description_a_json: str, description_b_json: str, labels: tuple[str, str]) -> None:
    """Side-by-side bars and ratios of two models' parameters and compute per block."""
    try:
        rows = comparison(description_a_json, description_b_json)
    except AnatomyError as exc:
        st.error(_("The comparison cannot be shown: {reason}").format(reason=exc), icon=":material/block:")
        return
    st.plotly_chart(compare_figure(rows, labels=labels,
                                   title=_("{b} vs {a}: per block").format(a=labels[0], b=labels[1])),
                    width="stretch")
    table = [
        {
            _("block"): r["block"],
            _("params {model}").format(model=labels[0]): r["params_a"],
            _("params {model}").format(model=labels[1]): r["params_b"],
            _("params ratio"): _ratio_text(r["params_ratio"], r["params_a"]),
            _("mult-adds {model}").format(model=labels[0]): r["mult_adds_a"],
            _("mult-adds {model}").format(model=labels[1]): r["mult_adds_b"],
            _("mult-adds ratio"): _ratio_text(r["mult_adds_ratio"], r["mult_adds_a"]),
        }
        for r in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(_("Ratios are {b} ÷ {a}: below 1 is a saving. “—” where the first model has nothing to divide by "
                 "(e.g. a stem without weights).").format(a=labels[0], b=labels[1]))


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


@st.cache_data(max_entries=16, show_spinner=False)
def gradient_demo(depth: int, steps: int, seed: int) -> list[dict]:
    """Gradient norms per layer for the plain and the residual stack (cached)."""
    from cv_core.concepts import gradient_norms_by_layer

    return [gradient_norms_by_layer(depth=depth, residual=residual, steps=steps, seed=seed)
            for residual in (False, True)]


@st.cache_data(max_entries=16, show_spinner=False)
def batchnorm_demo(steps: int, momentum: float, data_mean: float, data_std: float, seed: int) -> dict:
    """Moving statistics and train/inference gap of a BatchNormalization layer (cached)."""
    from cv_core.concepts import batchnorm_training_trace

    return batchnorm_training_trace(steps=steps, seed=seed, data_mean=data_mean, data_std=data_std, momentum=momentum)


def ratio_text(value: float) -> str:
    """A gradient ratio for people: scientific notation, or an honest "below 1e-30" for underflow."""
    if not math.isfinite(value):
        return _("not measurable (the last layer gets no gradient)")
    if value < UNDERFLOW_FLOOR:
        return _("less than {floor} (it underflows: float32 cannot hold anything that small)").format(
            floor=f"{UNDERFLOW_FLOOR:.0e}")
    return f"{value:.1e}"


def show_gradient_demo(prefix: str) -> None:
    """Residual connections vs vanishing gradients, measured."""
    st.markdown(_(
        "A deep stack of sigmoid layers, with and without residual connections. The chart shows how "
        "much gradient reaches each layer: without shortcuts it shrinks at every layer on its way back "
        "to the input (the *vanishing gradient*); with them the identity path carries it back."
    ))
    cols = st.columns(3)
    depth = cols[0].slider(_("Depth (layers)"), 4, 40, 20, key=f"{prefix}_grad_depth", bind="query-params")
    steps = cols[1].slider(_("Training steps before the second measurement"), 0, 50, 10, key=f"{prefix}_grad_steps",
                           bind="query-params")
    seed = cols[2].number_input(_("Seed"), 0, 100, 0, key=f"{prefix}_grad_seed", bind="query-params")
    with st.spinner(_("Measuring gradients…")):
        results = gradient_demo(int(depth), int(steps), int(seed))
    st.plotly_chart(gradient_norms_figure(results), width="stretch")
    plain, residual = results

    def ratio(result) -> float:
        last = float(result["initial_norms"][-1])
        return float(result["initial_norms"][0]) / last if last > 0 else float("nan")

    st.markdown(_(
        "Measured at initialisation: the first layer receives **{plain}** of the last layer's gradient without "
        "shortcuts, and **{residual}** with them."
    ).format(plain=ratio_text(ratio(plain)), residual=ratio_text(ratio(residual))))
    if min(float(plain["initial_norms"].min()), float(plain["final_norms"].min())) < UNDERFLOW_FLOOR:
        st.caption(_("Points drawn on the dotted floor at {floor} are below it: the gradient there is smaller than "
                     "float32 can represent, and reads as 0.").format(floor=f"{UNDERFLOW_FLOOR:.0e}"))


def show_batchnorm_demo(prefix: str) -> None:
    """Batch normalisation in training vs inference, measured."""
    st.markdown(_(
        "In training, a `BatchNormalization` layer normalises with the current batch's statistics and "
        "updates its moving mean and moving variance; at inference it uses them. Until they catch up with "
        "the data, the model answers differently in the two modes."
    ))
    cols = st.columns(4)
    steps = cols[0].slider(_("Training steps"), 5, 200, 50, key=f"{prefix}_bn_steps", bind="query-params")
    momentum = cols[1].select_slider(_("Momentum"), [0.5, 0.8, 0.9, 0.95, 0.99], 0.9, key=f"{prefix}_bn_momentum",
                                     bind="query-params")
    mean = cols[2].slider(_("Data mean"), -5.0, 5.0, 3.0, 0.5, key=f"{prefix}_bn_mean", bind="query-params")
    std = cols[3].slider(_("Data standard deviation"), 0.5, 4.0, 2.0, 0.5, key=f"{prefix}_bn_std", bind="query-params")
    with st.spinner(_("Training a tiny model…")):
        trace = batchnorm_demo(int(steps), float(momentum), float(mean), float(std), 0)
    st.plotly_chart(batchnorm_stats_figure(trace), width="stretch")
    gap = trace["output_gap"]
    lowest = int(gap.argmin())
    st.markdown(_(
        "The moving mean went from 0 to **{moving}** (data: {data}); the gap between `training=True` and "
        "`training=False` outputs fell from **{first}** to **{lowest}** (step {step}) and ended at **{last}**."
    ).format(moving=f"{trace['moving_mean'][-1]:.2f}", data=f"{trace['data_mean']:.2f}", first=f"{gap[0]:.3f}",
             lowest=f"{gap.min():.3f}", step=lowest, last=f"{gap[-1]:.3f}"))
    memory = 1 / (1 - float(momentum))
    st.info(_(
        "**Why the gap does not reach zero, and can grow again with more steps.** Once the moving mean and "
        "moving variance have caught up (after a few times {memory} steps at momentum {momentum}: they average "
        "roughly the last {memory} batches), what is left is noise. They wobble with the batches they last "
        "saw, and in training mode the layer normalises the measured batch with that batch's own statistics, "
        "never exactly the population's. Meanwhile the layers after the batch normalization keep learning larger "
        "weights, which amplify this small difference in their output. A higher momentum averages more "
        "batches and lowers that floor; it is not a bug."
    ).format(memory=f"{memory:.0f}", momentum=f"{momentum:g}"), icon=":material/lightbulb:")
