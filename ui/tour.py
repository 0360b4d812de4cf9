"""The chapter-9 tour page: the steps of :data:`cv_core.tour.STEPS` in the slides' order, each with its
paragraph and the live piece of the lab, drawn by the functions the lab's own pages use.

The step is kept in the URL (``?step=<key>``) and in the session (a trip to another page and back
returns to it). Everything heavy is cached by the functions reused here (anatomy, the concept demos,
the interpretation results, the segmentation predictions); a step that needs a trained run offers
a button that starts the Quick preset. Session-state keys start with ``tour``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.i18n import _, ngettext
from cv_core.tour import (BN_LISTINGS, PRINCIPLES, REFERENCE_GRID, SECTIONS, STEPS, block_layer_order,
                          instance_picture, neighbours, pyramid_shapes, step_index, three_tasks)

PREFIX = "tour"
#: The URL parameter that names the step.
PARAM = "step"
#: The bundled photo the 9-4 steps explain, and the pretrained model that explains it (offline).
PHOTO = "chelsea"
MODEL = "pretrained:squeezenet"
#: Where the lab's pages are, to link to a page only once it exists.
PAGES = Path(__file__).resolve().parent.parent / "pages"


# --------------------------------------------------------------------------------------
# Where we are in the tour
# --------------------------------------------------------------------------------------


def current_step() -> int:
    """The step shown: the URL's, else this session's last, else the first; written back to both."""
    key = st.query_params.get(PARAM) or st.session_state.get("_keep_tour_step")
    index = step_index(key)
    go_to(STEPS[index].key)
    return index


def go_to(key: str) -> None:
    """Show step ``key`` (also a button's callback)."""
    st.session_state["_keep_tour_step"] = key
    if st.query_params.get(PARAM) != key:
        st.query_params[PARAM] = key


def _jumped(widget: str, labels: list[str]) -> None:
    go_to(STEPS[labels.index(st.session_state[widget])].key)


def step_label(key: str) -> str:
    """"9-3 · Residual connections against vanishing gradients"."""
    step = STEPS[step_index(key)]
    return _("{section} · {title}").format(section=step.section, title=_(step.title))


def navigation(index: int, where: str) -> None:
    """Previous and Next around the list of steps (``where``: "top" or "bottom", for the widgets' keys)."""
    before, after = neighbours(STEPS[index].key)
    cols = st.columns([1.2, 4, 1.2], vertical_alignment="bottom")
    cols[0].button(_("Previous step"), key=f"{PREFIX}_previous_{where}", icon=":material/chevron_left:",
                   on_click=go_to, args=(before,), disabled=before is None, width="stretch")
    if where == "top":
        from cv_core.i18n import current_language

        # The options are the labels themselves, in the reader's language (a format_func that translates
        # would give other words wherever the language is not this page's: AppTest's own thread). One widget
        # per step and language: it starts at the step shown.
        labels = [step_label(step.key) for step in STEPS]
        widget = f"{PREFIX}_jump_{STEPS[index].key}_{current_language()}"
        cols[1].selectbox(_("Step"), labels, index=index, key=widget, on_change=_jumped, args=(widget, labels))
    else:
        cols[1].caption(_("Step {number} of {total}").format(number=index + 1, total=len(STEPS)))
    cols[2].button(_("Next step"), key=f"{PREFIX}_next_{where}", icon=":material/chevron_right:",
                   on_click=go_to, args=(after,), disabled=after is None, width="stretch")


def show_step(index: int) -> None:
    """The step's heading, paragraph and live piece."""
    step = STEPS[index]
    st.subheader(_("{section} {name}").format(section=step.section, name=_(SECTIONS[step.section])))
    st.markdown(f"#### {_(step.title)}")
    VIEWS[step.key]()


def open_page(path: str, label: str, query: dict | None = None, icon: str = ":material/open_in_new:") -> None:
    """A link to one of the lab's pages with its state in the URL."""
    st.page_link(path, label=label, icon=icon, query_params=query or None)


# --------------------------------------------------------------------------------------
# Runs a step needs
# --------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def _quick_seconds(task: str) -> float | None:
    """The Quick preset's expected time (cached: the estimate builds the model to measure it)."""
    from cv_core.runs import estimate_seconds, preset_spec

    try:
        return estimate_seconds(preset_spec("quick", task=task))
    except Exception:  # noqa: BLE001 - the estimate is a nicety; the button works without it
        return None


def start_quick(task: str, prefix: str) -> None:
    """A button that starts the ``task``'s Quick preset, and the expected time under it; the new run is
    followed under ``prefix`` (``<prefix>_run`` in the URL)."""
    from cv_core.runs import SpecError, preset_spec, submit_run, validate_spec
    from cv_core.runs.compare import format_seconds
    from cv_core.serving import AccessError
    from ui.access import browser_id, is_operator, policy
    from ui.run_panel import follow_run
    from ui.training import flash, my_active_runs

    spec = preset_spec("quick", task=task)
    clicked = st.button(_("Start the Quick preset"), type="primary", icon=":material/play_arrow:",
                        key=f"{prefix}_start_quick")
    if not clicked:
        with st.spinner(_("Estimating how long it takes…")):  # the first time, the estimate builds the model
            seconds = _quick_seconds(task)
        if seconds is not None:
            st.caption(_("Expected time on a 2-core CPU: about {time}. It trains in the background; you can leave "
                         "this page.").format(time=format_seconds(seconds)))
        return
    try:
        validated = validate_spec(spec)
        policy().check_queue(my_active_runs(None), 1, operator=is_operator())
    except (SpecError, AccessError) as exc:
        st.error(_("This run cannot start: {reason}").format(reason=exc), icon=":material/block:")
        return
    follow_run(prefix, submit_run(validated, owner=browser_id()))
    flash(_("Training started in the background."), ":material/rocket_launch:")
    st.rerun()


def followed_run(prefix: str) -> Path | None:
    """The run this step started (this session, or named in the URL), if any."""
    from cv_core.runs import default_runs_root

    chosen = st.session_state.get(f"{prefix}_run")
    if chosen:
        return Path(chosen)
    named = st.query_params.get(f"{prefix}_run")
    if named and "/" not in named and not named.startswith(".") and "\x00" not in named:
        return default_runs_root() / named
    return None


def rerun_when_saved(run_dir: Path) -> None:
    """Redraw the whole step as soon as ``run_dir`` has saved a model (the live panel redraws only itself)."""
    from cv_core.runs import best_model_path

    @st.fragment(run_every=3.0)
    def watch() -> None:
        if best_model_path(run_dir).exists():
            st.rerun()

    watch()


# --------------------------------------------------------------------------------------
# 9-1
# --------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def _cached_three_tasks(language: str):
    return three_tasks(image_size=320, translate=_)  # the class names drawn in ``language``


def _three_tasks():
    """The showcase picture labelled three ways, its class names in the reader's language (cached per language)."""
    from cv_core.i18n import current_language

    return _cached_three_tasks(current_language())


def view_tasks() -> None:
    st.markdown(_("Computer vision has three basic tasks. **Image classification** gives the whole picture one "
                  "label. **Image segmentation** gives every pixel a class, so the picture falls into zones. "
                  "**Object detection** draws a bounding box around each object of interest and names its class. "
                  "Below, one generated picture of the lab's shapes dataset carries all three answers at once."))
    shown = _three_tasks()
    cols = st.columns(3)
    cols[0].image(shown.picture, width="stretch", output_format="PNG")
    cols[0].markdown(_("**Image classification**: one label for the whole picture: **{label}**, its largest "
                       "shape.").format(label=shown.label))
    cols[1].image(shown.mask_picture, width="stretch", output_format="PNG")
    cols[1].markdown(_("**Image segmentation**: a class for every pixel: {classes} and the background.")
                     .format(classes=", ".join(shown.present)))
    cols[2].image(shown.boxes_picture, width="stretch", output_format="PNG")
    cols[2].markdown(ngettext("**Object detection**: a bounding box and a class for each object: {count} object here.",
                              "**Object detection**: a bounding box and a class for each object: {count} objects "
                              "here.", shown.objects).format(count=shown.objects))
    open_page("pages/datasets.py", _("More pictures, with their masks and boxes, on the Datasets page"),
              icon=":material/photo_library:")


def instances_page() -> str | None:
    """The instance segmentation page, once the lab has one."""
    return "pages/instances.py" if (PAGES / "instances.py").is_file() else None


def view_niche() -> None:
    st.markdown(_("Beyond the three basic tasks lie the niche tasks of computer vision. **Image similarity scoring** "
                  "measures how alike two pictures are. **Keypoint detection** finds points of interest, such as a "
                  "face's landmarks, and **pose estimation** joins a person's keypoints into a skeleton. **Instance "
                  "segmentation** (the next step) tells apart the objects of one class. Each has its page in the lab: "
                  "open one, then come back here with the browser's Back button."))
    links = [("pages/similarity.py", ":material/join_inner:",
              _("Image similarity scoring: how alike two pictures are, three ways, and a picture's nearest "
                "neighbours.")),
             ("pages/keypoints.py", ":material/accessibility_new:",
              _("Keypoint detection and pose estimation: every person's joints, their posture and which way they "
                "face."))]
    page = instances_page()
    if page is not None:
        links.append((page, ":material/interests:", _("Instance segmentation: a mask for each object, not only for "
                                                      "each class.")))
    cols = st.columns(3)
    for col, (path, icon, text) in zip(cols, links):
        with col.container(border=True, height="stretch"):
            st.page_link(path, icon=icon)
            st.caption(text)
    if page is None:
        cols[2].caption(_("Instance segmentation has no page of its own yet: the next step shows its masks."))


# --------------------------------------------------------------------------------------
# 9-2
# --------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def _quick_test_picture(index: int, language: str) -> tuple[np.ndarray, np.ndarray]:
    """A test picture of the segmentation Quick preset's dataset with its true mask coloured and a legend
    (its class names in ``language``)."""
    from cv_core.datasets import open_dataset
    from cv_core.overlays import class_palette, colorize_mask, mask_legend, upscale
    from cv_core.runs import preset_spec

    spec = preset_spec("quick", task="segmentation")
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    sample = dataset.sample("test", index)
    names = [_(name) for name in dataset.mask_class_names or []]
    palette = class_palette(len(names))
    picture = upscale(sample.image, 320)
    mask = upscale(colorize_mask(sample.mask, len(names), palette), 320)
    return picture, np.concatenate([mask, mask_legend(names, palette, mask.shape[1], skip=(0,))])


def view_segmentation() -> None:
    st.markdown(_("Image segmentation comes in two kinds. **Semantic segmentation** classifies each pixel on its own: "
                  "two objects of one class share a colour and merge into one zone. **Instance segmentation** also "
                  "tells the objects apart, each with its own mask. What a segmentation model predicts is a "
                  "**segmentation mask**: a picture the size of the input whose every pixel holds a class. The "
                  "first row shows the two kinds on one picture; the second is the book's figure 9.6, live: a test "
                  "picture beside the mask a trained model predicts for it."))
    from cv_core.overlays import upscale

    shown = _three_tasks()
    cols = st.columns(3)
    cols[0].image(shown.picture, width="stretch", caption=_("The picture"))
    cols[1].image(shown.mask_picture, width="stretch", caption=_("Semantic segmentation: one colour per class"))
    if shown.sample.instances is not None:
        cols[2].image(upscale(instance_picture(shown.sample.instances), 320), width="stretch",
                      caption=_("Instance segmentation: one colour per object"))
    heading = _("Figure 9.6, live: a test picture and its predicted segmentation mask")
    st.markdown(f"##### {heading}")
    figure_9_6()


def figure_9_6() -> None:
    """A segmentation run's prediction on a test picture, or the true mask and a Quick button without a run."""
    from ui.segmentation import masks_row, predict, run_classes, segmentation_runs, truth_view, upload_view
    from ui.task_page import run_dataset, run_model

    runs = segmentation_runs()
    if runs:
        run = runs[0]
        subject = run_model(run)
        dataset = run_dataset(run)
        if subject is None or dataset is None or not dataset.count("test"):
            return
        count = dataset.count("test")
        index = int(st.number_input(_("Test picture (0–{last})").format(last=count - 1), 0, count - 1, 0,
                                    key=f"{PREFIX}_seg_picture", bind="query-params"))
        try:
            sample = dataset.sample("test", index)
        except Exception as exc:  # noqa: BLE001 - an unreadable file of a folder dataset
            st.error(_("Test picture {index} cannot be used: {reason}").format(index=index, reason=exc),
                     icon=":material/broken_image:")
            return
        from ui.data import dataset_key

        classes = run_classes(run, int(subject.model.output_shape[-1]))
        view = upload_view(sample.image, subject.input_size)
        truth = truth_view(sample.mask, subject.input_size)
        if truth is not None and truth.max() >= len(classes.names):
            truth = None
        probabilities = predict(subject, subject.key, f"{dataset_key(dataset)}|test|{index}", view)
        masks_row(view, probabilities.argmax(axis=-1), truth, classes)
        st.caption(_("Predicted by run {run} ({label}), the newest segmentation run with a saved model.")
                   .format(run=run.id, label=run.label))
        open_page("pages/segmentation.py", _("Open this run on the Segmentation page"),
                  {"run": run.id, "segmentation_split": "test", "segmentation_index": str(index)},
                  icon=":material/category:")
        return
    from cv_core.i18n import current_language

    picture, truth = _quick_test_picture(0, current_language())
    cols = st.columns(3)
    cols[0].image(picture, width="stretch", caption=_("A test picture"))
    cols[2].image(truth, width="stretch", caption=_("Its true segmentation mask"))
    with cols[1]:
        run_dir = followed_run(f"{PREFIX}_seg")
        if run_dir is not None:
            st.info(_("The predicted mask appears here once the run has saved its first epoch."),
                    icon=":material/hourglass_top:")
        else:
            st.info(_("No segmentation model yet, so the predicted mask is missing. Start the Quick preset (a "
                      "U-Net on 48-px shapes) and it appears here once the run has saved its first epoch."),
                    icon=":material/model_training:")
            start_quick("segmentation", f"{PREFIX}_seg")
    if run_dir is not None:
        from ui.run_panel import live_run_panel

        live_run_panel(run_dir, f"{PREFIX}_seg")
        rerun_when_saved(run_dir)


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
                  _("batch normalization"): BN_LABELS[row["batchnorm"]],
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


# --------------------------------------------------------------------------------------
# 9-4
# --------------------------------------------------------------------------------------


def photo_subject():
    """SqueezeNet (offline), the bundled photo, its model input and its key; (None, ...) with the reason shown."""
    from ui.interpret import digest, load_subject, samples_for

    subject = load_subject(MODEL)
    if subject is None:
        return None, None, None, None
    samples = samples_for(subject)
    sample = next((s for s in samples if s.name == PHOTO), samples[0] if samples else None)
    if sample is None:
        return None, None, None, None
    batch = subject.preprocess(sample.photo)
    return subject, sample, batch, digest(batch)


def view_activations() -> None:
    from cv_core.plots.interpret import channel_grid_figure
    from ui.interpret_results import display_photo, layer_infos, layer_outputs

    st.markdown(_("Interpreting what a convnet learns starts with its **intermediate activations**: the feature maps "
                  "each layer outputs for one picture. Early layers keep edges and colours, so the picture is still "
                  "recognisable; deeper layers grow more abstract and sparser. Here SqueezeNet (trained on ImageNet, "
                  "shipped with the lab) looks at a bundled photo: the first 16 channels of an early layer and of a "
                  "deep one."))
    subject, sample, batch, key = photo_subject()
    if subject is None:
        return
    names = [info.name for info in layer_infos(subject)]
    outputs = layer_outputs(subject, key, batch)
    early = next((n for n in names if n.startswith("relu_conv1")), names[0])
    deep = subject.comparison_layers[-1] if subject.comparison_layers else names[-1]
    cols = st.columns([1, 2.4], gap="large")
    cols[0].image(display_photo(sample.photo, 320), caption=sample.name, width="stretch")
    with cols[1]:
        for layer in (early, deep):
            values = np.asarray(outputs[layer], dtype=np.float32)
            if values.ndim != 3:
                continue
            shown = list(range(min(16, values.shape[-1])))
            st.plotly_chart(channel_grid_figure(values, shown, columns=8,
                                                title=_("{layer}: channels {first}–{last}").format(
                                                    layer=layer, first=shown[0], last=shown[-1])),
                            width="stretch", key=f"{PREFIX}_activations_{layer}")
    open_page("pages/activations.py", _("Step through every layer on the Activations page"),
              {"model": MODEL, "sample": sample.name, "layer": early}, icon=":material/layers:")


def view_filters() -> None:
    from ui.filters import FilterSettings, comparison_grid

    st.markdown(_("What does each **filter** respond to? Start from a grey, noisy picture and change it by **gradient "
                  "ascent** so that one filter responds as strongly as it can: the picture that comes out is the "
                  "pattern that filter looks for (figure 9.17). Early filters respond to colours and edges, deeper "
                  "ones to textures and parts of objects. Below, the first four filters of an early, a middle and a "
                  "late layer of SqueezeNet (computed once, then kept)."))
    subject, _sample, _batch, _key = photo_subject()
    if subject is None:
        return
    comparison_grid(subject, FilterSettings(), PREFIX)
    open_page("pages/filters.py", _("Any layer and filter on the Filters page"), {"model": MODEL},
              icon=":material/blur_on:")


def view_heatmap() -> None:
    from cv_core.interpret import last_conv_layer, overlay
    from ui.interpret import short_name
    from ui.interpret_results import display_photo, explanation

    st.markdown(_("A **class activation heatmap** shows which parts of a picture led the model to its answer: the "
                  "last convolution layer's feature maps, each weighted by how much the class's score depends on it "
                  "(Grad-CAM). Figure 9.18 does this for an African elephant; here SqueezeNet explains its top class "
                  "on a bundled photo."))
    subject, sample, batch, key = photo_subject()
    if subject is None:
        return
    layer = last_conv_layer(subject.model)
    result = explanation(subject, key, batch, "grad_cam", None, layer, False)
    photo = display_photo(sample.photo, 480)
    name = short_name(subject.class_names[result.class_index])
    cols = st.columns(2)
    cols[0].image(photo, caption=sample.name, width="stretch")
    cols[1].image(overlay(photo, result.heatmap, 0.5), width="stretch",
                  caption=_("Grad-CAM at `{layer}` for “{name}” (p = {probability:.1%})").format(
                      layer=layer, name=name, probability=float(result.probabilities[result.class_index])))
    open_page("pages/heatmaps.py", _("Other classes, layers and methods on the Heatmaps page"),
              {"model": MODEL, "sample": sample.name, "method": "grad_cam"}, icon=":material/local_fire_department:")


#: Each step's view, by its key.
VIEWS = {
    "tasks": view_tasks, "niche": view_niche, "segmentation": view_segmentation, "blocks": view_blocks,
    "residual": view_residual, "batchnorm": view_batchnorm, "bn-placement": view_bn_placement,
    "separable": view_separable, "principles": view_principles, "curves": view_curves,
    "activations": view_activations, "filters": view_filters, "heatmap": view_heatmap,
}
