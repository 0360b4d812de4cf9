"""Segmentation: a class for every pixel. Predict masks with a trained run (the book's figure 9.6,
live), split them into objects and boxes, see where the model looked; train a segmentation model."""

import numpy as np
import streamlit as st

from cv_core.i18n import N_, _, ngettext
from cv_core.interpret import METHODS, feature_map_layers
from cv_core.plots.segmentation import confidence_figure, picture_figure
from cv_core.overlays import overlay_mask
from cv_core.segmentation import DEFAULT_MIN_AREA, box_class_map, score_boxes
from ui import install_streamlit_patches
from ui.segmentation import (
    activation_map,
    class_scores_table,
    default_target_layer,
    find_objects,
    instance_objects,
    masks_row,
    no_objects_message,
    objects_picture,
    objects_source,
    objects_table,
    picture_picker,
    predict,
    predicted_regions,
    run_classes,
    run_picker,
    segmentation_runs,
    show,
    specks_note,
    truth_view,
    upload_view,
    validation_boxes,
)
from ui.data import dataset_key
from ui.i18n import tabs
from ui.task_page import requested, run_dataset, run_model, train_tab_view
from ui.training import show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

PREFIX = "segmentation"

st.title(_("Segmentation"))
st.caption(_("A class for every pixel. Choose a trained segmentation model and a picture: see its predicted mask "
             "beside the truth (the book's figure 9.6, live), how sure it is pixel by pixel, the separate objects "
             "and boxes hidden in the mask, and where it looked. Train one in the **Train** tab."))
show_flash()

predict_tab, train_tab = tabs([N_("Predict"), N_("Train")], key="segmentation_tab")


def objects_section(view, prediction, classes, dataset, subject, picture) -> None:
    """§4: from a semantic mask to separate objects and boxes, and those boxes scored; or an instance
    model's objects on the same picture, when one is chosen."""
    st.subheader(_("From the mask to objects"))
    st.caption(_("A mask says *what* is at each pixel, not *which* object: splitting each class's pixels into "
                 "connected regions gives the objects, and the box around each one turns the segmentation model "
                 "into a detector."))
    controls = st.columns(2)
    with controls[0]:
        instance_model = objects_source(PREFIX, classes)
    min_area = controls[1].slider(_("Smallest object (pixels)"), 1, 200, DEFAULT_MIN_AREA, key=f"{PREFIX}_min_area",
                                  bind="query-params",
                                  help=_("Connected regions smaller than this are specks, not objects."))
    if instance_model is not None:
        instance_section(view, classes, picture, instance_model, int(min_area))
        return
    mask, probabilities = prediction.argmax(axis=-1), prediction
    objects = find_objects(mask, probabilities, classes, int(min_area))
    sizes = predicted_regions(mask, classes)
    cols = st.columns([1, 1.3], gap="large")
    if objects:
        figure, labels = objects_picture(view, objects, classes)
        cols[0].plotly_chart(figure, width="stretch", key=f"{PREFIX}_objects_picture")
        cols[1].dataframe(objects_table(objects, labels, classes), hide_index=True, width="stretch",
                          key=f"{PREFIX}_objects")
        note = specks_note(objects, sizes, int(min_area))
        if note:
            cols[0].caption(note)
    else:
        cols[0].info(no_objects_message(sizes, classes, int(min_area)), icon=":material/info:")
    if dataset is None or not dataset.has_boxes:
        return
    class_map = box_class_map(dataset.mask_class_names or [], dataset.class_names)
    if not class_map:
        return
    with cols[1]:
        st.markdown(_("**These boxes against the true boxes, over the validation split**"))
        total = dataset.count("validation")
        st.caption(ngettext("Precision, recall and average precision at IoU ≥ 0.5 over the {n} validation picture "
                            "(each predicted object's mean confidence is its score).",
                            "Precision, recall and average precision at IoU ≥ 0.5 over the {n} validation pictures "
                            "(each predicted object's mean confidence is its score).", total).format(n=total))
        if not requested(PREFIX, "score_boxes", _("Score the boxes"), ":material/check_box:",
                         (subject.key, dataset_key(dataset), int(min_area))):
            return
        predictions, truths = validation_boxes(subject, dataset, int(min_area))
        scores = score_boxes(predictions, truths, 0.5)
        metrics = st.columns(3)
        metrics[0].metric(_("Precision"), f"{scores['precision']:.1%}" if scores["num_predictions"] else "—")
        metrics[1].metric(_("Recall"), f"{scores['recall']:.1%}" if scores["num_truths"] else "—")
        metrics[2].metric("AP @ IoU 0.5", f"{scores['ap']:.3f}" if np.isfinite(scores["ap"]) else "—")
        st.caption(ngettext("{matched} boxes matched of {predicted} predicted and {true} true, in {n} picture.",
                            "{matched} boxes matched of {predicted} predicted and {true} true, in {n} pictures.",
                            len(truths)).format(matched=scores["true_positives"], predicted=scores["num_predictions"],
                                                true=scores["num_truths"], n=len(truths)))


def instance_section(view, classes, picture, finder, min_area: int) -> None:
    """The instance model's objects on this picture, in place of the mask's connected components."""
    score = st.slider(_("Smallest instance score"), 0.0, 0.95, 0.2, 0.05, key=f"{PREFIX}_instance_score",
                      bind="query-params",
                      help=_("Keep the instance model's objects it is at least this sure of."))
    objects = [o for o in instance_objects(finder, picture, view.shape[:2], float(score)) if o["area"] >= min_area]
    cols = st.columns([1, 1.3], gap="large")
    if objects:
        figure, labels = objects_picture(view, objects, classes)
        cols[0].plotly_chart(figure, width="stretch", key=f"{PREFIX}_objects_picture")
        cols[1].dataframe(objects_table(objects, labels, classes), hide_index=True, width="stretch",
                          key=f"{PREFIX}_objects")
        cols[0].caption(_("Objects of the instance model {run}: each object's own mask, found around its centre, so "
                          "touching objects of one class stay apart (its score is in the confidence column).").format(
            run=finder.run.id))
    else:
        cols[0].info(_("The instance model finds no object here scoring at least {score:.2f} and covering {area} "
                       "pixels: lower the score or the smallest object.").format(score=score, area=min_area),
                     icon=":material/info:")
    cols[1].page_link("pages/instances.py", label=_("Hits, misses and validation scores of the instance model"),
                      icon=":material/interests:")


def activation_section(view, prediction, classes, subject, picture_key) -> None:
    """Where the model looked to call pixels of one class (Grad-CAM and friends over the region)."""
    st.subheader(_("Where the model looked"))
    st.caption(_("A class-activation heatmap for a segmentation model: the target is the sum of the chosen class's "
                 "scores over the pixels predicted as that class, so the map shows what drove that region."))
    mask = prediction.argmax(axis=-1)
    present = [int(c) for c in np.unique(mask) if c != classes.background] or [classes.background]
    counts = {c: int((mask == c).sum()) for c in present}
    choices = list(range(len(classes.names)))
    cols = st.columns(3)
    class_index = cols[0].selectbox(_("Class"), choices, index=max(counts, key=counts.get),
                                    format_func=lambda i: (_("{index} · {name}") if i in counts else
                                                           _("{index} · {name} (not predicted here)")).format(
                                        index=i, name=classes.names[i]),
                                    key=f"{PREFIX}_cam_class_{picture_key}")
    methods = [m for m in METHODS if m != "score_cam"]
    method = cols[1].selectbox(_("Method"), methods, format_func=lambda m: METHODS[m].label, key=f"{PREFIX}_cam_method",
                               bind="query-params")
    layers = feature_map_layers(subject.model)
    default = default_target_layer(subject.model)
    layer = cols[2].selectbox(_("Target layer"), layers, index=layers.index(default) if default in layers else 0,
                              key=f"{PREFIX}_cam_layer", bind="query-params")
    heatmap = activation_map(subject, subject.key, picture_key, view, method, int(class_index), layer)
    from cv_core.interpret import overlay

    pictures = st.columns(2)
    region = overlay_mask(view, (mask == class_index).astype(np.uint8), 2, 0.6, ignore=(0,),
                          palette=np.array([[0, 0, 0], classes.palette[class_index]], np.uint8))
    pictures[0].image(show(region), caption=_("Pixels predicted as {name}").format(name=classes.names[class_index]), width="stretch")
    pictures[1].image(show(overlay(view, heatmap, 0.5)), width="stretch",
                      caption=_("{method} at `{layer}` for {name}").format(method=METHODS[method].label, layer=layer,
                                                                          name=classes.names[class_index]))


def predict_view() -> None:
    runs = segmentation_runs()
    if not runs:
        st.info(_("No segmentation model yet. Train one in the **Train** tab (the Tiny preset takes seconds; Quick "
                  "gives clean masks in a few minutes); it appears here as soon as it has saved its first epoch."),
                icon=":material/model_training:")
        return
    setup = st.columns([1, 1.3], gap="large")
    with setup[0]:
        run = run_picker(PREFIX, runs)
        subject = run_model(run)
    if subject is None:
        return
    with setup[1]:
        dataset = run_dataset(run)
        picture = picture_picker(PREFIX, dataset)
    if picture is None:
        st.info(_("Choose a picture: a sample of the run's dataset, or an upload."), icon=":material/image:")
        return
    classes = run_classes(run, int(subject.model.output_shape[-1]))
    size = subject.input_size
    view = upload_view(picture.image, size)
    truth = truth_view(picture.true_mask, size)
    if truth is not None and truth.max() >= len(classes.names):
        truth = None  # not in the run's classes
    probabilities = predict(subject, subject.key, picture.key, view)
    mask, confidence = probabilities.argmax(axis=-1), probabilities.max(axis=-1)

    st.subheader(_("Predicted mask"))
    masks_row(view, mask, truth, classes)

    @st.fragment
    def overlay_and_confidence() -> None:
        opacity = st.slider(_("Mask opacity over the picture"), 0.0, 1.0, 0.5, 0.05, key=f"{PREFIX}_opacity",
                            bind="query-params")
        blended = overlay_mask(view, mask, len(classes.names), float(opacity), ignore=(classes.background,),
                               palette=classes.palette)
        cols = st.columns(2)
        cols[0].plotly_chart(picture_figure(blended, mask, confidence, classes.names,
                                            title=_("The mask over the picture (hover: class and probability)")),
                             width="stretch", key=f"{PREFIX}_overlay")
        cols[1].plotly_chart(confidence_figure(confidence, mask, classes.names), width="stretch",
                             key=f"{PREFIX}_confidence")

    overlay_and_confidence()
    if truth is not None:
        st.markdown(_("**This picture, class by class**"))
        rows = class_scores_table(truth, mask, classes)
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{PREFIX}_scores")
        mean = np.mean([r["IoU"] for r in rows]) if rows else float("nan")
        st.caption(ngettext("Mean IoU over this {n} class: **{mean}**. IoU: pixels of the class in both masks ÷ pixels "
                            "in either; Dice: twice the shared pixels ÷ the pixels in each, added.",
                            "Mean IoU over these {n} classes: **{mean}**. IoU: pixels of the class in both masks ÷ "
                            "pixels in either; Dice: twice the shared pixels ÷ the pixels in each, added.",
                            len(rows)).format(n=len(rows), mean=f"{mean:.3f}"))
    st.divider()
    objects_section(view, probabilities, classes, dataset, subject, picture)
    st.divider()
    activation_section(view, probabilities, classes, subject, picture.key)


def train_view() -> None:
    train_tab_view(PREFIX, "segmentation",
                   _("No segmentation runs yet. Press **Train** to start one; its curves appear here as it learns."))


if predict_tab.open:
    with predict_tab:
        predict_view()

if train_tab.open:
    with train_tab:
        train_view()
