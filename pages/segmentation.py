"""Segmentation: a class for every pixel. Predict masks with a trained run (the book's figure 9.6,
live), split them into objects and boxes, see where the model looked; train a segmentation model."""

import numpy as np
import streamlit as st

from cv_core.interpret import METHODS, feature_map_layers
from cv_core.plots.segmentation import confidence_figure, picture_figure
from cv_core.overlays import overlay_mask
from cv_core.segmentation import DEFAULT_MIN_AREA, box_class_map, score_boxes
from ui.segmentation import (
    BOX_CHUNK,
    activation_map,
    box_chunk,
    class_scores_table,
    default_target_layer,
    find_objects,
    masks_row,
    model_stamp,
    objects_picture,
    objects_table,
    picture_picker,
    predict,
    run_classes,
    run_dataset,
    run_model,
    run_picker,
    segmentation_runs,
    show,
    truth_view,
    upload_view,
)
from ui.training import show_flash, task_train_view

PREFIX = "segmentation"

st.title("Segmentation")
st.caption("A class for every pixel. Choose a trained segmentation model and a picture: see its predicted mask "
           "beside the truth (the book's figure 9.6, live), how sure it is pixel by pixel, the separate objects "
           "and boxes hidden in the mask, and where it looked. Train one in the **Train** tab.")
show_flash()

predict_tab, train_tab = st.tabs(["Predict", "Train"], key="segmentation_tab", bind="query-params")


def objects_section(view, prediction, classes, dataset, subject, run) -> None:
    """§4: from a semantic mask to separate objects and boxes, and those boxes scored."""
    st.subheader("From the mask to objects")
    st.caption("A mask says *what* is at each pixel, not *which* object: splitting each class's pixels into "
               "connected regions gives the objects, and the box around each one turns the segmentation model "
               "into a detector.")
    min_area = st.slider("Smallest object (pixels)", 1, 200, DEFAULT_MIN_AREA, key=f"{PREFIX}_min_area",
                         help="Connected regions smaller than this are specks, not objects.")
    mask, probabilities = prediction.argmax(axis=-1), prediction
    objects = find_objects(mask, probabilities, classes, int(min_area))
    cols = st.columns([1, 1.3], gap="large")
    if objects:
        picture, labels = objects_picture(view, objects, classes)
        cols[0].image(picture, caption=f"{len(objects)} object(s), each in its own colour", width="stretch")
        cols[1].dataframe(objects_table(objects, labels, classes), hide_index=True, width="stretch",
                          key=f"{PREFIX}_objects")
    else:
        cols[0].info("No objects: the model predicts only the background here.", icon=":material/info:")
    if dataset is None or not dataset.has_boxes:
        return
    class_map = box_class_map(dataset.mask_class_names or [], dataset.class_names)
    if not class_map:
        return
    with cols[1]:
        st.markdown("**These boxes against the true boxes, over the validation split**")
        total = dataset.count("validation")
        st.caption(f"Precision, recall and average precision at IoU ≥ 0.5 over the {total} validation pictures "
                   "(each predicted object's mean confidence is its score).")
        asked = st.session_state.get(f"{PREFIX}_boxes_for")
        key = (run.id, model_stamp(run), int(min_area))
        if st.button("Score the boxes", icon=":material/check_box:", key=f"{PREFIX}_score_boxes"):
            st.session_state[f"{PREFIX}_boxes_for"] = asked = key
        if asked != key:
            return
        bar = st.progress(0.0, text="Predicting the validation pictures…")
        predictions, truths = [], []
        from ui.data import dataset_key

        for start in range(0, total, BOX_CHUNK):
            found, true = box_chunk(subject, subject.key, key[1], dataset, dataset_key(dataset), start,
                                    min(BOX_CHUNK, total - start), int(min_area))
            predictions += found
            truths += true
            done = min(total, start + BOX_CHUNK)
            bar.progress(done / max(1, total), text=f"{done} of {total} validation pictures")
        bar.empty()
        scores = score_boxes(predictions, truths, 0.5)
        metrics = st.columns(3)
        metrics[0].metric("Precision", f"{scores['precision']:.1%}" if scores["num_predictions"] else "—")
        metrics[1].metric("Recall", f"{scores['recall']:.1%}" if scores["num_truths"] else "—")
        metrics[2].metric("AP @ IoU 0.5", f"{scores['ap']:.3f}" if np.isfinite(scores["ap"]) else "—")
        st.caption(f"{scores['true_positives']} boxes matched of {scores['num_predictions']} predicted and "
                   f"{scores['num_truths']} true, in {len(truths)} pictures.")


def activation_section(view, prediction, classes, subject, picture_key) -> None:
    """Where the model looked to call pixels of one class (Grad-CAM and friends over the region)."""
    st.subheader("Where the model looked")
    st.caption("A class-activation heatmap for a segmentation model: the target is the sum of the chosen class's "
               "scores over the pixels predicted as that class, so the map shows what drove that region.")
    mask = prediction.argmax(axis=-1)
    present = [int(c) for c in np.unique(mask) if c != classes.background] or [classes.background]
    counts = {c: int((mask == c).sum()) for c in present}
    choices = list(range(len(classes.names)))
    cols = st.columns(3)
    class_index = cols[0].selectbox("Class", choices, index=max(counts, key=counts.get),
                                    format_func=lambda i: f"{i} · {classes.names[i]}" + ("" if i in counts else
                                                                                        " (not predicted here)"),
                                    key=f"{PREFIX}_cam_class_{picture_key}")
    methods = [m for m in METHODS if m != "score_cam"]
    method = cols[1].selectbox("Method", methods, format_func=lambda m: METHODS[m].label, key=f"{PREFIX}_cam_method")
    layers = feature_map_layers(subject.model)
    default = default_target_layer(subject.model)
    layer = cols[2].selectbox("Target layer", layers, index=layers.index(default) if default in layers else 0,
                              key=f"{PREFIX}_cam_layer")
    heatmap = activation_map(subject, subject.key, picture_key, view, method, int(class_index), layer)
    from cv_core.interpret import overlay

    pictures = st.columns(2)
    region = overlay_mask(view, (mask == class_index).astype(np.uint8), 2, 0.6, ignore=(0,),
                          palette=np.array([[0, 0, 0], classes.palette[class_index]], np.uint8))
    pictures[0].image(show(region), caption=f"Pixels predicted as {classes.names[class_index]}", width="stretch")
    pictures[1].image(show(overlay(view, heatmap, 0.5)), width="stretch",
                      caption=f"{METHODS[method].label} at `{layer}` for {classes.names[class_index]}")


def predict_view() -> None:
    runs = segmentation_runs()
    if not runs:
        st.info("No segmentation model yet. Train one in the **Train** tab (the Tiny preset takes seconds; Quick "
                "gives clean masks in a few minutes); it appears here as soon as it has saved its first epoch.",
                icon=":material/model_training:")
        return
    setup = st.columns([1, 1.3], gap="large")
    with setup[0]:
        run = run_picker(PREFIX, runs)
        subject = run_model(run)
    if subject is None:
        return
    with setup[1]:
        picture = picture_picker(PREFIX, run)
    if picture is None:
        st.info("Choose a picture: a sample of the run's dataset, or an upload.", icon=":material/image:")
        return
    classes = run_classes(run, int(subject.model.output_shape[-1]))
    size = subject.input_size
    view = upload_view(picture.image, size)
    truth = truth_view(picture.true_mask, size)
    if truth is not None and truth.max() >= len(classes.names):
        truth = None  # not in the run's classes
    probabilities = predict(subject, subject.key, f"{picture.key}|{model_stamp(run)}", view)
    mask, confidence = probabilities.argmax(axis=-1), probabilities.max(axis=-1)

    st.subheader("Predicted mask")
    masks_row(view, mask, truth, classes)

    @st.fragment
    def overlay_and_confidence() -> None:
        opacity = st.slider("Mask opacity over the picture", 0.0, 1.0, 0.5, 0.05, key=f"{PREFIX}_opacity")
        blended = overlay_mask(view, mask, len(classes.names), float(opacity), ignore=(classes.background,),
                               palette=classes.palette)
        cols = st.columns(2)
        cols[0].plotly_chart(picture_figure(blended, mask, confidence, classes.names,
                                            title="The mask over the picture (hover: class and probability)"),
                             width="stretch", key=f"{PREFIX}_overlay")
        cols[1].plotly_chart(confidence_figure(confidence, mask, classes.names), width="stretch",
                             key=f"{PREFIX}_confidence")

    overlay_and_confidence()
    if truth is not None:
        st.markdown("**This picture, class by class**")
        rows = class_scores_table(truth, mask, classes)
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{PREFIX}_scores")
        mean = np.mean([r["IoU"] for r in rows]) if rows else float("nan")
        st.caption(f"Mean IoU over these {len(rows)} classes: **{mean:.3f}**. IoU: pixels of the class in both "
                   "masks ÷ pixels in either; Dice: twice the shared pixels ÷ the pixels in each, added.")
    st.divider()
    objects_section(view, probabilities, classes, run_dataset(run), subject, run)
    st.divider()
    activation_section(view, probabilities, classes, subject, f"{picture.key}|{model_stamp(run)}")


def anatomy_text(spec, classes: int) -> tuple[str, str]:
    return (f"{spec.variant}: the map shrinks, then grows back",
            (f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px "
             f"in, one probability per class and pixel out ({classes} classes, "
             f"{spec.dataset})."))


def train_view() -> None:
    task_train_view(PREFIX, "segmentation", anatomy_text,
                    "No segmentation runs yet. Press **Train** to start one; its curves appear here as it learns.")


if predict_tab.open:
    with predict_tab:
        predict_view()

if train_tab.open:
    with train_tab:
        train_view()
