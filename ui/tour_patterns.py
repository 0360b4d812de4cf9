"""The Chapter 9 tour's steps of 9-3, modern convnet architecture patterns: the pyramid, residual
connections, batch normalization and its placement, separable convolutions, the six principles and the
mini-Xception's curves, each drawn by the Architecture lab's and Compare runs' own functions (see
:mod:`ui.tour`)."""

from __future__ import annotations

import streamlit as st

from cv_core.i18n import _
from cv_core.tour import BN_LISTINGS, PRINCIPLES, REFERENCE_GRID, block_layer_order, pyramid_shapes
from ui.tour import PREFIX, followed_run, open_page, start_quick


# --------------------------------------------------------------------------------------
# 9-3
# --------------------------------------------------------------------------------------


def quick_description(**changes) -> str:
    """The anatomy key (:func:`ui.architecture.describe_spec`) of the Quick mini-Xception, with ``changes``."""
    from cv_core.runs import preset_spec
    from ui.architecture import describe_spec
    from ui.training import class_count

    spec = preset_spec("quick", **changes)
    return describe_spec(spec, class_count(spec)[0])


def view_blocks() -> None:
    from ui.architecture import show_anatomy

    st.markdown(_("A good model architecture narrows the **hypothesis space** to models likely to fit the data. "
                  "Modern convnets are **modular, hierarchical and reused**: a few layers make a block, the same "
                  "block is repeated, and blocks stack from simple features to abstract ones. Together they form a "
                  "**pyramid structure**: block after block, the feature maps shrink while the number of filters "
                  "grows. Below is the book's figure 9.8 for the lab's Quick mini-Xception, measured by building it."))
    show_anatomy(quick_description(), title=_("Quick mini-Xception: feature maps shrink while filters grow"))
    open_page("pages/architecture_lab.py", _("Change the blocks in the Architecture lab"),
              {"architecture_lab_tab": "Anatomy", "architecture_lab_preset": "Quick"}, icon=":material/science:")


def view_residual() -> None:
    from ui.architecture import show_gradient_demo

    st.markdown(_("Each layer of a deep stack passes back only part of the gradient it receives, so the signal that "
                  "reaches the first layers can shrink to nothing: **vanishing gradients**. A **residual connection** "
                  "adds a block's input back to its output: an identity path along which the gradient flows back "
                  "undiminished. The chart measures it on a deep stack of sigmoid layers, with and without residual "
                  "connections."))
    show_gradient_demo(PREFIX)
    open_page("pages/architecture_lab.py", _("The same measurement in the Architecture lab"),
              {"architecture_lab_tab": "Residual connections"}, icon=":material/science:")


def view_batchnorm() -> None:
    from ui.architecture import show_batchnorm_demo

    st.markdown(_("**Batch normalization** keeps each layer's outputs centred and scaled while the model trains. In "
                  "training, a BatchNormalization layer normalizes with the current batch's mean and variance and "
                  "updates a **moving mean** and a **moving variance**; at inference it uses those moving statistics "
                  "instead. Below, a tiny model: the moving mean catching up with the data, and how far the outputs "
                  "of the two modes differ."))
    show_batchnorm_demo(PREFIX)


@st.cache_data(show_spinner=False)
def _block_order(batchnorm: str) -> list[tuple[str, str]]:
    return block_layer_order(batchnorm)


def grid_result() -> tuple[list[dict], str | None]:
    """The best validation accuracy per variant of this lab's newest classification grid with a score
    (rows of :func:`cv_core.runs.summarise_experiment`), and its title; ([], None) without one."""
    from cv_core.runs import experiment_title, summarise_experiment
    from ui.compare import experiment_ids
    from ui.run_panel import visible_runs

    runs = [run for run in visible_runs() if run.task.name == "classification"]
    for experiment in experiment_ids(runs):
        members = [r for r in runs if r.spec is not None and r.spec.experiment_id == experiment]
        rows = summarise_experiment(members, experiment)
        if any(row["best_score_mean"] is not None for row in rows):
            return rows, experiment_title(members)
    return [], None


def placement_scores(rows: list[dict]) -> dict[tuple[str, str], float]:
    """``{(conv type, batch-norm placement): mean best validation accuracy}`` of grid rows, or of
    :data:`cv_core.tour.REFERENCE_GRID`."""
    out = {}
    for row in rows:
        mean = row.get("best_score_mean", row.get("mean"))
        if mean is not None:
            out[(row["conv_type"], row["batchnorm"])] = float(mean)
    return out


def variant_params(conv_type: str, batchnorm: str) -> int:
    """Parameters of the Quick mini-Xception with ``conv_type`` and ``batchnorm``, from building it (cached)."""
    from ui.architecture import anatomy

    return int(anatomy(quick_description(conv_type=conv_type, batchnorm=batchnorm))["params"])


def view_bn_placement() -> None:
    from ui.training import BN_LABELS, CONV_LABELS

    st.markdown(_("Where should batch normalization go? Listing 9.4 normalizes after the activation. Listing 9.5, "
                  "the book's advice, drops the convolution's bias, normalizes, and only then applies the activation, "
                  "so that the ReLU sees inputs centred on zero. The lab builds both (block 1 of its mini-Xception, "
                  "layer by layer, below) and its grid trains both, and a variant without batch normalization, on "
                  "several seeds."))
    cols = st.columns(2)
    for col, placement, heading in ((cols[0], "after_activation", _("Listing 9.4: after the activation")),
                                    (cols[1], "before_activation", _("Listing 9.5: before the activation (the "
                                                                     "book's choice)"))):
        with col:
            st.markdown(f"**{heading}**")
            st.code(BN_LISTINGS[placement], language="python")
            st.caption(_("The lab's block 1, built this way:"))
            st.code("\n".join(f"{name}  ·  {kind}" for name, kind in _block_order(placement)), language=None)
    rows, title = grid_result()
    if rows:
        from ui.compare import summary_rows

        st.markdown(_("**Measured by this lab's grid** ({title}):").format(title=title))
        st.dataframe(summary_rows(rows), hide_index=True, width="stretch", key=f"{PREFIX}_grid")
    else:
        st.markdown(_("**Measured by the lab**: the Quick preset's 2 × 3 grid, three seeds per variant (18 runs, "
                      "2026-12-06). Best validation accuracy; chance is 20%. This lab has no grid of its own yet."))
        table = [{_("convolutions"): CONV_LABELS[row["conv_type"]],
                  _("batch normalization"): _(BN_LABELS[row["batchnorm"]]),
                  _("parameters"): f"{variant_params(row['conv_type'], row['batchnorm']):,}",
                  _("best val. accuracy (mean ± std)"): f"{row['mean']:.1%} ± {row['std'] * 100:.1f}",
                  _("range"): f"{row['min']:.1%} – {row['max']:.1%}"} for row in REFERENCE_GRID]
        st.dataframe(table, hide_index=True, width="stretch", key=f"{PREFIX}_grid")
    scores = placement_scores(rows or list(REFERENCE_GRID))
    if all(("separable", b) in scores for b in ("before_activation", "after_activation", "none")):
        st.markdown(_("With SeparableConv2D: batch normalization before the activation **{before:.1%}**, after it "
                      "**{after:.1%}**, none **{none:.1%}**.").format(
            before=scores[("separable", "before_activation")], after=scores[("separable", "after_activation")],
            none=scores[("separable", "none")]))
    open_page("pages/compare_runs.py", _("Run the grid on Compare runs"), {"compare_runs_tab": "Run the grid"},
              icon=":material/grid_view:")


def view_separable() -> None:
    from ui.architecture import show_comparison

    st.markdown(_("A **depthwise separable convolution** splits a convolution in two: a depthwise convolution "
                  "looks at each input channel on its own, in space, then a **pointwise convolution** (1 × 1) mixes "
                  "the channels. It assumes that spatial patterns and the correlations between channels can be "
                  "learned apart, and it needs far fewer parameters and multiply-adds. Below, the Quick "
                  "mini-Xception built both ways, block by block."))
    show_comparison(quick_description(conv_type="conv2d"), quick_description(conv_type="separable"),
                    labels=("Conv2D", "SeparableConv2D"))
    open_page("pages/architecture_lab.py", _("Compare them in the Architecture lab"),
              {"architecture_lab_tab": "Anatomy", "architecture_lab_preset": "Quick"}, icon=":material/science:")


def principle_measurements() -> dict[str, str]:
    """What the lab measures of each of :data:`cv_core.tour.PRINCIPLES`, one sentence each (cached parts)."""
    from ui.architecture import anatomy, gradient_demo, ratio_text

    quick = anatomy(quick_description())
    blocks = [row for row in quick["blocks"] if row["block"].startswith("block")]
    sizes = sorted({row["layers"] for row in blocks})
    pyramid = pyramid_shapes(quick["blocks"])
    plain = anatomy(quick_description(model="small_convnet", filters=(32, 64, 128, 256)))
    conv = anatomy(quick_description(conv_type="conv2d"))
    plain_stack, residual_stack = gradient_demo(20, 10, 0)

    def first_over_last(result) -> float:
        last = float(result["initial_norms"][-1])
        return float(result["initial_norms"][0]) / last if last > 0 else float("nan")

    rows, _title = grid_result()
    scores = placement_scores(rows or list(REFERENCE_GRID))
    source = _("this lab's grid") if rows else _("the lab's reference grid (18 runs)")
    out = {
        "blocks": (_("The Quick mini-Xception is {blocks} repeated blocks of {layers} layers each: separable "
                     "convolutions, batch normalization, ReLU, max pooling and a residual shortcut.").format(
            blocks=len(blocks), layers=sizes[0]) if len(sizes) == 1 else
            _("The Quick mini-Xception is {blocks} repeated blocks of {low} to {high} layers.").format(
                blocks=len(blocks), low=sizes[0], high=sizes[-1])),
        "pyramid": _("Block by block, the feature maps shrink from {first} × {first} to {last} × {last} pixels while "
                     "the filters grow from {low} to {high}.").format(
            first=pyramid[0][1], last=pyramid[-1][1], low=pyramid[0][2], high=pyramid[-1][2]) if pyramid else "—",
        "deep": _("The mini-Xception has {deep_layers} layers and {deep_params} parameters; chapter 8's plain "
                  "convnet at the same input has {plain_layers} layers and {plain_params} parameters.").format(
            deep_layers=quick["layers"], deep_params=f"{quick['params']:,}", plain_layers=plain["layers"],
            plain_params=f"{plain['params']:,}"),
        "residual": _("In a stack of 20 sigmoid layers, the first layer receives {plain} of the last layer's gradient "
                      "without residual connections, and {residual} with them.").format(
            plain=ratio_text(first_over_last(plain_stack)), residual=ratio_text(first_over_last(residual_stack))),
        "separable": _("The Quick mini-Xception has {separable} parameters with SeparableConv2D and {conv} with "
                       "Conv2D: {share:.0%} of them.").format(
            separable=f"{quick['params']:,}", conv=f"{conv['params']:,}", share=quick["params"] / conv["params"]),
    }
    if ("separable", "none") in scores and ("separable", "before_activation") in scores:
        out["batchnorm"] = _("Best validation accuracy in {source}: {none:.1%} without batch normalization (chance: "
                             "20%), {before:.1%} with it before the activation.").format(
            source=source, none=scores[("separable", "none")], before=scores[("separable", "before_activation")])
    else:
        out["batchnorm"] = _("Run the grid on Compare runs to measure it.")
    return out


def view_principles() -> None:
    st.markdown(_("Section 9-3 ends with six principles for building a convnet. Each one stands beside what this lab "
                  "measures of it: the Quick preset's model built and counted, the gradient measured layer by layer, "
                  "the grid's accuracies."))
    measured = principle_measurements()
    for number, (key, principle) in enumerate(PRINCIPLES, start=1):
        with st.container(border=True):
            cols = st.columns([1, 1], gap="large")
            cols[0].markdown(_("**{number}.** {principle}").format(number=number, principle=_(principle)))
            cols[1].markdown(measured[key])


def classification_runs_with_curves():
    """This browser's mini-Xception classification runs that finished an epoch, newest first."""
    from ui.run_panel import visible_runs

    return [run for run in visible_runs() if run.task.name == "classification" and run.spec is not None
            and run.spec.model == "mini_xception" and run.metrics]


def view_curves() -> None:
    from cv_core.plots.training import curves_figure

    st.markdown(_("Putting the patterns together gives the mini-Xception: repeated blocks of separable convolutions "
                  "with batch normalization and residual connections. The book's figure 9.11 plots its **training "
                  "and validation accuracy / loss** epoch by epoch: solid lines for training, dashed for validation. "
                  "Where the two drift apart, the model has started to overfit."))
    followed = followed_run(f"{PREFIX}_curves")
    if followed is not None:
        from ui.run_panel import live_run_panel

        live_run_panel(followed, f"{PREFIX}_curves")
        return
    runs = classification_runs_with_curves()
    if not runs:
        st.info(_("No mini-Xception run yet, so there are no curves to show. Start the Quick preset (the "
                  "mini-Xception on 48-px shapes): its curves fill in here epoch by epoch."),
                icon=":material/model_training:")
        start_quick("classification", f"{PREFIX}_curves")
        return
    run = runs[0]
    cols = st.columns(2)
    for col, (metric, title) in zip(cols, (("accuracy", _("Training and validation accuracy")),
                                           ("loss", _("Training and validation loss")))):
        col.plotly_chart(curves_figure({run.label: run.metrics}, metric, title=title), width="stretch",
                         key=f"{PREFIX}_curves_{metric}")
    st.caption(_("Run {run} ({label}), the newest mini-Xception run with a finished epoch: {epochs} epochs.")
               .format(run=run.id, label=run.label, epochs=len(run.metrics)))
    open_page("pages/compare_runs.py", _("Overlay it with other runs on Compare runs"), icon=":material/compare:")
