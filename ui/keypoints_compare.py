"""Heatmaps against regression on the face landmarks: two single-object runs on the same picture,
their per-joint errors and their validation scores (glue for the Keypoints and pose page)."""

from __future__ import annotations

import streamlit as st

from cv_core.i18n import N_, _
from cv_core.keypoints import joint_label
from cv_core.runs import RunInfo
from ui.i18n import widget_key
from ui.keypoints import (
    PREFIX,
    KeypointFinder,
    candidates,
    keypoint_finder,
    model_label,
    model_view,
    show,
    true_instances,
)
from ui.task_page import Picture, run_dataset

#: The dataset the comparison is made on, and the two models compared.
DATASET = "landmarks"
MODELS = ("keypoint_heatmap", "keypoint_regression")
#: The two sides' names in titles and legends (the keys stay: widget keys are made from them). Not "Heatmaps",
#: which names the class activation heatmap page.
SIDE_LABELS = {"Heatmaps": N_("Heatmap model"), "Regression": N_("Regression model")}


def landmark_runs(runs: list[RunInfo]) -> dict[str, list[RunInfo]]:
    """The runs on the landmarks, by model (heatmap, regression), newest first."""
    return {model: [run for run in runs if run.spec is not None and run.spec.dataset == DATASET
                    and run.spec.model == model] for model in MODELS}


def missing_runs_message(found: dict[str, list[RunInfo]]) -> str:
    """How to get the runs the comparison lacks, in the Train tab's words."""
    if not found["keypoint_heatmap"] and not found["keypoint_regression"]:
        return _("This comparison needs two runs on the face landmarks: one heatmap model and one regression model. "
                 "In the **Train** tab, choose the **Quick** preset, set **Dataset** to *Face landmarks (built in)*, "
                 "**Image size** to 64 px and **Epochs** to 8, pick the model *One object: a heatmap per joint* and "
                 "press **Train**; when it is done, do the same with *One object: coordinates regressed by a dense "
                 "layer*. Each run takes two to three minutes on a 2-core CPU.")
    if not found["keypoint_heatmap"]:
        return _("A regression model on the face landmarks is ready; the comparison also needs a heatmap model. In "
                 "the **Train** tab, choose the **Quick** preset, set **Dataset** to *Face landmarks (built in)*, "
                 "**Image size** to 64 px and **Epochs** to 8, pick the model *One object: a heatmap per joint* and "
                 "press **Train**.")
    return _("A heatmap model on the face landmarks is ready; the comparison also needs a regression model. In the "
             "**Train** tab, choose the **Quick** preset, set **Dataset** to *Face landmarks (built in)*, **Image "
             "size** to 64 px and **Epochs** to 8, pick the model *One object: coordinates regressed by a dense "
             "layer* and press **Train**.")


def pick(runs: list[RunInfo], label: str, key: str) -> RunInfo:
    by_id = {run.id: run for run in runs}
    name = lambda rid: model_label(by_id[rid])  # noqa: E731 - the label, also read in the link's language
    chosen = st.selectbox(label, list(by_id), format_func=name, key=widget_key(key, list(by_id), name),
                          bind="query-params")
    return by_id.get(chosen, runs[0])


def validation_scores(run: RunInfo) -> dict:
    """The run's keypoint AP, PCK@0.2 and per-joint errors on its validation split (``scores.json``),
    or its best per-epoch AP and PCK while the final scores are not written."""
    from cv_core.runs.files import read_scores

    scores = (read_scores(run.dir) or {}).get("validation") or {}
    if scores:
        return {"ap": scores.get("kp_ap"), "pck": scores.get("pck"), "errors": scores.get("joint_error"),
                "images": scores.get("images"), "final": True}
    row = run.best_row or {}
    return {"ap": row.get("val_kp_ap"), "pck": row.get("val_pck"), "errors": None, "images": None, "final": False}


def one_object(finder: KeypointFinder, picture: Picture):
    """The single object the model finds on ``picture`` (no threshold: a single-object model always gives
    one), the truth it is compared with, and the picture as the model sees it."""
    from cv_core.keypoints import compare_with_truth, filter_keypoints

    view = model_view(finder, picture)
    raw, _heatmaps = candidates(finder, picture, view)
    found = filter_keypoints(raw, 0.0)[0][:1]
    truths = true_instances(finder, picture) or []
    return view, found, truths, compare_with_truth(found, truths, finder.skeleton)


def compare_view(runs: list[RunInfo]) -> None:
    """The tab: two runs, one picture, their skeletons, errors and scores side by side."""
    from cv_core.plots.keypoints import joint_errors_figure, outcomes_figure

    st.caption(_("Two ways to find one face's landmarks. A **heatmap** model paints, for each landmark, a map of "
                 "where it could be, on a grid laid over the picture, and takes its peak; a **regression** model turns "
                 "the picture's features into coordinates with a dense layer. Both trained on the same faces, both "
                 "scored with the same keypoint AP and PCK@0.2."))
    found = landmark_runs(runs)
    if not found["keypoint_heatmap"] or not found["keypoint_regression"]:
        st.info(missing_runs_message(found), icon=":material/model_training:")
        return
    cols = st.columns(2, gap="large")
    with cols[0]:
        heat = pick(found["keypoint_heatmap"], _("Heatmap model"), f"{PREFIX}_heatmap_run")
    with cols[1]:
        regression = pick(found["keypoint_regression"], _("Regression model"), f"{PREFIX}_regression_run")
    dataset = run_dataset(heat)
    if dataset is None or not dataset.count("validation"):
        st.info(_("The heatmap run's dataset has no validation pictures to compare on."), icon=":material/folder_off:")
        return
    from ui.data import dataset_key

    count = dataset.count("validation")
    index = int(st.number_input(_("Validation picture (0–{last})").format(last=count - 1), 0, count - 1, 0, key=f"{PREFIX}_compare_index",
                                bind="query-params"))
    try:
        sample = dataset.sample("validation", index)
    except Exception as exc:  # an unreadable file
        st.error(_("Validation picture {index} cannot be used: {error}").format(index=index, error=exc), icon=":material/broken_image:")
        return
    picture = Picture(f"{dataset_key(dataset)}|validation|{index}",
                      _("validation picture {index}").format(index=index), sample.image,
                      keypoints=tuple(sample.keypoints))
    height, width = picture.image.shape[:2]
    errors, columns = {}, st.columns(2, gap="large")
    for column, run, name in ((columns[0], heat, "Heatmaps"), (columns[1], regression, "Regression")):
        with column:
            finder = keypoint_finder(run, dataset)
            if finder is None:
                continue
            view, objects, truths, comparison = one_object(finder, picture)
            big, scale = show(view)
            match = comparison.matches[0] if comparison.matches else None
            column.plotly_chart(outcomes_figure(big, objects, truths, comparison, finder.skeleton, scale,
                                                title=_("{model}: {width} × {height} px in").format(
                                                    model=_(SIDE_LABELS[name]), width=view.shape[1],
                                                    height=view.shape[0])),
                                width="stretch", key=f"{PREFIX}_compare_{name.lower()}")
            metrics = st.columns(2) + st.columns(2)  # two rows: four labels do not fit side by side in half a page
            metrics[0].metric(_("OKS here"), f"{match.oks:.3f}" if match else "—",
                              help=_("Object keypoint similarity with the true face, 1 for a perfect match."))
            metrics[1].metric(_("PCK@0.2 here"), f"{match.pck:.2f}" if match else "—",
                              help=_("The share of landmarks within 0.2 of the eye distance."))
            scores = validation_scores(run)
            metrics[2].metric(_("Val. keypoint AP"), "—" if scores["ap"] is None else f"{scores['ap']:.3f}",
                              help=_("COCO keypoint AP on the run's validation split (or its best epoch's, on the "
                                     "first 64 pictures, until the run ends)."))
            metrics[3].metric(_("Val. PCK@0.2"), "—" if scores["pck"] is None else f"{scores['pck']:.3f}")
            if match is not None:
                # Errors in the picture's own pixels, so that models of different input sizes compare.
                errors[_(SIDE_LABELS[name])] = match.error * (width / view.shape[1])
    if len(errors) == 2:
        skeleton = keypoint_finder(heat, dataset).skeleton
        joints = [joint_label(name) for name in skeleton.joints]
        st.plotly_chart(joint_errors_figure(errors, joints,
                                            title=_("Error per landmark on this picture (pixels of the {width} × "
                                                    "{height} picture; lower is closer)").format(width=width,
                                                                                                  height=height)),
                        width="stretch", key=f"{PREFIX}_compare_errors")
        validation = {_(SIDE_LABELS[name]): validation_scores(run)["errors"] for name, run in (("Heatmaps", heat),
                                                                                             ("Regression", regression))}
        if all(v is not None for v in validation.values()):
            sizes = {"Heatmaps": heat.spec.image_size, "Regression": regression.spec.image_size}
            if sizes["Heatmaps"] == sizes["Regression"]:
                st.plotly_chart(joint_errors_figure(validation, joints,
                                                    title=_("Mean error per landmark over the validation split "
                                                            "(pixels at {size} px)").format(size=sizes["Heatmaps"])),
                                width="stretch", key=f"{PREFIX}_compare_validation_errors")
            else:
                st.caption(_("The two runs were trained at different image sizes, so their validation errors in "
                             "pixels are not set side by side; the errors on this picture above are in the "
                             "picture's own pixels."))
        st.caption(_("A heatmap answers *where* on a grid laid over the picture itself, and its refinement only has "
                     "to say where within a 4-pixel cell; the dense layer must learn to turn features into "
                     "coordinates, which is why regression is usually further off."))
