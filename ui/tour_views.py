"""The Chapter 9 tour's steps of 9-1 (the tasks), 9-2 (segmentation) and 9-4 (what convnets learn), each
drawn by the functions of the page it links to (see :mod:`ui.tour`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from cv_core.i18n import _, ngettext
from cv_core.tour import instance_picture, three_tasks
from ui.tour import PREFIX, followed_run, open_page, rerun_when_saved, start_quick

#: The bundled photo the 9-4 steps explain, and the pretrained model that explains it (offline).
PHOTO = "chelsea"
MODEL = "pretrained:squeezenet"
#: Where the lab's pages are, to link to a page only once it exists.
PAGES = Path(__file__).resolve().parent.parent / "pages"


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
