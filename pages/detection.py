"""Detection: a box and a class for each object. Find boxes with a trained detector (or with a
segmentation model, whose objects become boxes), move the score and NMS thresholds, see hits,
misses and false positives; score both approaches on the validation split; train a detector."""

import streamlit as st

from cv_core.detection import box_outcomes, filter_detections
from cv_core.i18n import N_, _, ngettext
from cv_core.runs.labels import dataset_id_label
from cv_core.plots.detection import approaches_figure, boxes_figure, outcomes_figure, precision_recall_figure
from ui import install_streamlit_patches
from ui.detection import (
    KINDS,
    VALIDATION_LIMIT,
    box_finder,
    box_runs,
    boxes_table,
    candidates,
    comparison_rows,
    curve_gap_notes,
    model_view,
    other_approach_runs,
    picture_picker,
    run_label,
    run_picker,
    show,
    true_boxes,
    validation_results,
)
from ui.i18n import tabs
from ui.task_page import requested, run_dataset, train_tab_view
from ui.training import show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

PREFIX = "detection"

st.title(_("Detection"))
st.caption(_("A box and a class for each object. Choose a trained detector — or a segmentation model, whose objects "
             "become boxes — and a picture: see the boxes it finds, move the score and overlap thresholds, and "
             "compare them with the true boxes. Score both approaches on the validation split. Train a detector in "
             "the **Train** tab."))
show_flash()

predict_tab, train_tab = tabs([N_("Find boxes"), N_("Train")], "detection_tab")


def boxes_section(raw, view, truths, finder, no_truth: str, tiny) -> None:
    """The thresholds and what they leave: only this part reruns when a slider moves."""

    @st.fragment
    def thresholds() -> None:
        cols = st.columns(2)
        score = cols[0].slider(_("Score threshold"), 0.0, 0.95, 0.3, 0.05, key=f"{PREFIX}_score", bind="query-params",
                               help=_("Keep boxes the model is at least this sure of. Lower finds more objects and "
                                      "more false positives."))
        overlap = cols[1].slider(_("NMS IoU threshold"), 0.1, 1.0, 0.5, 0.05, key=f"{PREFIX}_nms", bind="query-params",
                                 help=_("Non-maximum suppression: of two boxes of one class overlapping more than "
                                        "this (intersection over union), only the higher-scored stays. 1 keeps all."))
        (boxes,) = filter_detections(raw, float(score), float(overlap))
        hit = found = None
        if truths is not None:
            hit, found = box_outcomes(boxes, truths, 0.5)
        counts = st.columns(4)
        with counts[0].container(key=f"{PREFIX}_box_count"):
            candidates_count = int((raw.classes[0] >= 0).sum())
            st.metric(_("Boxes shown"), len(boxes),
                      help=ngettext("Of {n} candidate before the thresholds.", "Of {n} candidates before the thresholds.",
                                    candidates_count).format(n=candidates_count))
        if truths is not None:
            counts[1].metric(_("Hits"), sum(hit), help=_("Predicted boxes on a true box of their class (IoU ≥ 0.5)."))
            counts[2].metric(_("False positives"), len(hit) - sum(hit))
            counts[3].metric(_("Missed"), len(found) - sum(found), help=_("True boxes no predicted box found."))
        picture, scale = show(view)
        figures = st.columns(2)
        figures[0].plotly_chart(boxes_figure(picture, boxes, finder.shown_class_names, finder.palette, scale,
                                             title=ngettext("{n} predicted box (hover: class, score, corners)",
                                                            "{n} predicted boxes (hover: class, score, corners)",
                                                            len(boxes)).format(n=len(boxes))),
                                width="stretch", key=f"{PREFIX}_boxes")
        if truths is not None:
            figures[1].plotly_chart(outcomes_figure(picture, boxes, hit, truths, found, finder.shown_class_names, scale,
                                                    title=_("Against the true boxes")),
                                    width="stretch", key=f"{PREFIX}_outcomes")
        elif no_truth:
            figures[1].info(no_truth, icon=":material/info:")
        if boxes:
            st.dataframe(boxes_table(boxes, hit, finder.shown_class_names), hide_index=True, width="stretch",
                         key=f"{PREFIX}_table")
        small = int((tiny & (raw.scores > float(score))).sum())
        if small:
            st.caption(ngettext(
                "{n} more candidate box above the score threshold is smaller than one pixel and left out: the model "
                "puts an object there but gives it almost no size, as an undertrained detector does.",
                "{n} more candidate boxes above the score threshold are smaller than one pixel and left out: the model "
                "puts an object there but gives it almost no size, as an undertrained detector does.",
                small).format(n=small))

    thresholds()


def validation_section(run, finder, dataset, runs) -> None:
    """mAP, per-class precision–recall, and the other approach on the same pictures."""
    st.subheader(_("On the validation split"))
    if dataset is None or not dataset.has_boxes or dataset.count("validation") == 0:
        st.info(_("This run's dataset has no validation pictures with true boxes to score against."),
                icon=":material/info:")
        return
    if finder.kind == "segmentation" and finder.class_map is None:
        st.info(_("This segmentation model's classes are not the dataset's object classes: its boxes cannot be "
                  "scored against the true ones."), icon=":material/info:")
        return
    limit = min(VALIDATION_LIMIT, dataset.count("validation"))
    others = other_approach_runs(run, runs)
    other_kind = "segmentation" if finder.kind == "detection" else "detection"
    other = None
    if others:
        by_id = {r.id: r for r in others}
        label = _("Compare with (detector, same dataset)") if other_kind == "detection" else \
            _("Compare with (boxes from segmentation, same dataset)")
        chosen = st.selectbox(label, list(by_id),
                              format_func=lambda rid: run_label(by_id[rid]), key=f"{PREFIX}_other_run",
                              bind="query-params")
        other = by_id[chosen]
    elif other_kind == "segmentation":
        st.caption(_("To set boxes from segmentation beside this detector, train a segmentation model on "
                     "**{dataset}** on the Segmentation page (its **Train** tab); it appears here.").format(
                         dataset=dataset_id_label(run.spec.dataset)))
    else:
        st.caption(_("To set a detector beside these boxes, train one on **{dataset}** in the **Train** tab "
                     "above; it appears here.").format(dataset=dataset_id_label(run.spec.dataset)))
    st.caption(ngettext("Both scored on the first {n} validation picture of **{dataset}**, at a score threshold of "
                        "0.01 (as benchmarks do: the precision–recall curve needs the unsure boxes too).",
                        "Both scored on the first {n} validation pictures of **{dataset}**, at a score threshold of "
                        "0.01 (as benchmarks do: the precision–recall curve needs the unsure boxes too).",
                        limit).format(n=limit, dataset=dataset_id_label(run.spec.dataset)))
    if not requested(PREFIX, "score_validation", _("Score the validation split"), ":material/analytics:",
                     (finder.key, other.id if other else None)):
        return
    results, note = validation_results(finder, other, dataset, limit)
    if note:
        st.caption(note)
    mine = next(iter(results.values()))

    metrics = st.columns(3)
    metrics[0].metric("mAP@0.5", f"{mine.map50:.3f}", help=_("Mean over classes of the area under each "
                                                             "precision–recall curve, a hit needing IoU ≥ 0.5."))
    metrics[1].metric("mAP@0.5:0.95", f"{mine.map50_95:.3f}", help=_("The same averaged over IoU thresholds 0.50, "
                                                                     "0.55, …, 0.95 (COCO's): it rewards tight boxes."))
    metrics[2].metric(_("Pictures scored"), mine.images)
    st.plotly_chart(precision_recall_figure(mine.curves, finder.shown_class_names), width="stretch",
                    key=f"{PREFIX}_pr")
    notes = curve_gap_notes(mine.curves, finder.shown_class_names)
    if notes:
        st.caption("  \n".join(notes))
    st.markdown(_("**Detector and boxes from segmentation, on the same pictures**") if len(results) > 1 else
                _("**This model's scores, class by class**"))
    rows = comparison_rows(results, finder.shown_class_names)
    st.dataframe(rows, hide_index=True, width="stretch", key=f"{PREFIX}_comparison")
    for label, scores in results.items():
        if scores.boxes == 0:
            st.caption(_("{model} found no box on these pictures, so every AP is 0 (a model this undertrained "
                         "sees only background: train it longer).").format(model=label))
    bars = {label: {"mAP": scores.map50, **{name: scores.ap50(i) for i, name in enumerate(finder.shown_class_names)}}
            for label, scores in results.items()}
    st.plotly_chart(approaches_figure(bars), width="stretch", key=f"{PREFIX}_approaches")


def find_view() -> None:
    runs = box_runs()
    if not runs:
        st.info(_("No detector yet. Train one in the **Train** tab (the Tiny preset takes seconds; Quick finds the "
                  "shapes well in a few minutes), or train a segmentation model on the Segmentation page: its objects "
                  "become boxes here too."), icon=":material/model_training:")
        return
    setup = st.columns([1, 1.3], gap="large")
    with setup[0]:
        run = run_picker(PREFIX, runs)
        dataset = run_dataset(run)
        finder = box_finder(run, dataset)
    if finder is None:
        return
    with setup[1]:
        picture = picture_picker(PREFIX, dataset)
    if picture is None:
        st.info(_("Choose a picture: a sample of the run's dataset, an upload or a camera photo."),
                icon=":material/image:")
        return
    view = model_view(finder, picture)
    raw, tiny = candidates(finder, picture, view)
    how = (_("A CenterNet-style detector: every heatmap peak is a candidate box; the thresholds below only filter "
             "them.")
           if finder.kind == "detection" else
           _("A segmentation model: each connected region of one class in its mask is an object, and the box around "
             "it a candidate scored by the region's mean confidence."))
    st.caption(_("{picture}, as the model sees it ({width} × {height} px).").format(
        picture=picture.name, width=view.shape[1], height=view.shape[0]) + " " + how)
    truths = true_boxes(finder, picture)
    if picture.boxes is None:
        no_truth = _("No true boxes for your own picture: hits, misses and false positives need them.")
    else:
        no_truth = _("This segmentation model's classes are not the dataset's object classes, so its boxes cannot be "
                     "matched with the true ones.")
    boxes_section(raw, view, truths, finder, no_truth, tiny)
    st.divider()
    validation_section(run, finder, dataset, runs)


def train_view() -> None:
    train_tab_view(PREFIX, "detection",
                   _("No detection runs yet. Press **Train** to start one; its losses and mAP appear here as it "
                     "learns."))


if predict_tab.open:
    with predict_tab:
        find_view()

if train_tab.open:
    with train_tab:
        train_view()
