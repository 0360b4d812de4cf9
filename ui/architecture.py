"""Architecture lab glue: cached anatomy of model variants and the two concept demos."""

from __future__ import annotations

import json

import streamlit as st

from cv_core.plots.architecture import batchnorm_stats_figure, compare_figure, gradient_norms_figure, pyramid_figure

#: Reference architectures from keras.applications, built without weights (no download).
REFERENCE_MODELS = {
    "VGG16 (224 px, keras.applications)": ("VGG16", (224, 224, 3)),
    "Xception (299 px, keras.applications)": ("Xception", (299, 299, 3)),
}


def _build(description: dict):
    from cv_core import models

    kwargs = dict(description)
    kind = kwargs.pop("kind")
    builders = {"mini_xception": models.build_mini_xception, "small_convnet": models.build_small_convnet}
    if kind in builders:
        kwargs["filters"] = tuple(kwargs["filters"])
        kwargs["input_shape"] = tuple(kwargs["input_shape"])
        return builders[kind](**kwargs)
    from cv_core._tf import keras

    applications = keras().applications
    name, shape = REFERENCE_MODELS[kind]
    return getattr(applications, name)(weights=None, input_shape=shape)


@st.cache_data(max_entries=32, show_spinner="Building the model to measure it…")
def anatomy(description_json: str) -> dict:
    """Block table, totals and layer count of a model described as JSON (cached)."""
    from cv_core.anatomy import block_table, total_mult_adds

    model = _build(json.loads(description_json))
    return {
        "blocks": block_table(model),
        "params": int(model.count_params()),
        "mult_adds": int(total_mult_adds(model)),
        "layers": len(model.layers),
        "name": model.name,
    }


@st.cache_data(max_entries=32, show_spinner="Comparing the two models…")
def comparison(description_a_json: str, description_b_json: str) -> list[dict]:
    """Per-block comparison rows of two model descriptions (cached)."""
    from cv_core.anatomy import compare_anatomy

    return compare_anatomy(_build(json.loads(description_a_json)), _build(json.loads(description_b_json)))


def describe(kind: str, **kwargs) -> str:
    """A canonical JSON description of a model to build, usable as a cache key."""
    return json.dumps({"kind": kind, **kwargs}, sort_keys=True, default=list)


def block_rows_for_table(blocks: list[dict]) -> list[dict]:
    """Rows formatted for ``st.dataframe``: shapes as text, counts as numbers."""
    return [
        {
            "block": row["block"],
            "output (H × W × C)": " × ".join(str(d) for d in row["output_shape"]) if row["output_shape"] else "",
            "parameters": row["params"],
            "multiply-adds": row["mult_adds"],
        }
        for row in blocks
    ]


def show_anatomy(description_json: str, title: str) -> dict:
    """Metrics, pyramid chart and block table of one model; returns its anatomy."""
    info = anatomy(description_json)
    cols = st.columns(3)
    cols[0].metric("Parameters", f"{info['params']:,}")
    cols[1].metric("Multiply-adds per image", _human(info["mult_adds"]))
    cols[2].metric("Layers", info["layers"])
    st.plotly_chart(pyramid_figure(info["blocks"], title=title), width="stretch")
    with st.expander("Per-block table"):
        st.dataframe(block_rows_for_table(info["blocks"]), hide_index=True, width="stretch")
    return info


def show_comparison(description_a_json: str, description_b_json: str, labels: tuple[str, str]) -> None:
    """Side-by-side bars and ratios of two models' parameters and compute per block."""
    rows = comparison(description_a_json, description_b_json)
    st.plotly_chart(compare_figure(rows, labels=labels, title=f"{labels[1]} vs {labels[0]}: parameters and compute per block"),
                    width="stretch")
    table = [
        {
            "block": r["block"],
            f"params {labels[0]}": r["params_a"], f"params {labels[1]}": r["params_b"],
            "params ratio": r["params_ratio"],
            f"mult-adds {labels[0]}": r["mult_adds_a"], f"mult-adds {labels[1]}": r["mult_adds_b"],
            "mult-adds ratio": r["mult_adds_ratio"],
        }
        for r in rows
    ]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"params ratio": st.column_config.NumberColumn(format="%.3f"),
                                "mult-adds ratio": st.column_config.NumberColumn(format="%.3f")})


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


@st.cache_data(max_entries=16, show_spinner="Measuring gradients…")
def gradient_demo(depth: int, steps: int, seed: int) -> list[dict]:
    """Gradient norms per layer for the plain and the residual stack (cached)."""
    from cv_core.concepts import gradient_norms_by_layer

    return [gradient_norms_by_layer(depth=depth, residual=residual, steps=steps, seed=seed)
            for residual in (False, True)]


@st.cache_data(max_entries=16, show_spinner="Training a tiny model…")
def batchnorm_demo(steps: int, momentum: float, data_mean: float, data_std: float, seed: int) -> dict:
    """Moving statistics and train/inference gap of a BatchNormalization layer (cached)."""
    from cv_core.concepts import batchnorm_training_trace

    return batchnorm_training_trace(steps=steps, seed=seed, data_mean=data_mean, data_std=data_std, momentum=momentum)


def show_gradient_demo(prefix: str) -> None:
    """Residual connections vs vanishing gradients, measured."""
    st.markdown(
        "A deep stack of sigmoid layers, with and without residual connections. The chart shows how "
        "much gradient reaches each layer: without shortcuts it shrinks at every layer on its way back "
        "to the input (the *vanishing gradient*); with them the identity path carries it back."
    )
    cols = st.columns(3)
    depth = cols[0].slider("Depth (layers)", 4, 40, 20, key=f"{prefix}_grad_depth")
    steps = cols[1].slider("Training steps before the second measurement", 0, 50, 10, key=f"{prefix}_grad_steps")
    seed = cols[2].number_input("Seed", 0, 100, 0, key=f"{prefix}_grad_seed")
    results = gradient_demo(int(depth), int(steps), int(seed))
    st.plotly_chart(gradient_norms_figure(results), width="stretch")
    plain, residual = results
    ratio_plain = plain["initial_norms"][0] / plain["initial_norms"][-1]
    ratio_residual = residual["initial_norms"][0] / residual["initial_norms"][-1]
    st.markdown(
        f"Measured at initialisation: the first layer receives **{ratio_plain:.1e}** of the last layer's gradient "
        f"without shortcuts, and **{ratio_residual:.1e}** with them."
    )


def show_batchnorm_demo(prefix: str) -> None:
    """Batch normalisation in training vs inference, measured."""
    st.markdown(
        "In training, a `BatchNormalization` layer normalises with the current batch's statistics and "
        "updates moving averages; at inference it uses the moving averages. Until they catch up with "
        "the data, the model answers differently in the two modes."
    )
    cols = st.columns(4)
    steps = cols[0].slider("Training steps", 5, 200, 50, key=f"{prefix}_bn_steps")
    momentum = cols[1].select_slider("Momentum", [0.5, 0.8, 0.9, 0.95, 0.99], 0.9, key=f"{prefix}_bn_momentum")
    mean = cols[2].slider("Data mean", -5.0, 5.0, 3.0, 0.5, key=f"{prefix}_bn_mean")
    std = cols[3].slider("Data standard deviation", 0.5, 4.0, 2.0, 0.5, key=f"{prefix}_bn_std")
    trace = batchnorm_demo(int(steps), float(momentum), float(mean), float(std), 0)
    st.plotly_chart(batchnorm_stats_figure(trace), width="stretch")
    gap = trace["output_gap"]
    st.markdown(
        f"The moving mean went from 0 to **{trace['moving_mean'][-1]:.2f}** (data: {trace['data_mean']:.2f}); "
        f"the gap between `training=True` and `training=False` outputs fell from **{gap[0]:.3f}** to **{gap[-1]:.3f}**."
    )
