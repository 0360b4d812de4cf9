"""Instance segmentation: every object's own mask, so two touching squares are two squares. Find the
objects of a picture once, filter them with a score slider, set them against the true objects and
against connected components of a semantic mask, read both approaches' validation scores, export a
picture's objects; train an instance model."""

import numpy as np
import streamlit as st

from cv_core.i18n import N_, _, ngettext
from ui import install_streamlit_patches
from ui.i18n import tabs
from ui.instances import (
    DEFAULT_SCORE,
    PREFIX,
    VALIDATION_LIMIT,
    candidates,
    export_buttons,
    instance_finder,
    instance_runs,
    model_view,
    no_run_message,
    object_rows,
    pairs_on_picture,
    picture_picker,
    run_picker,
    score_row,
    semantic_components,
    semantic_picker,
    semantic_validation_scores,
    start_requested_preset,
    stored_scores,
    true_objects,
)
from ui.task_page import requested, run_dataset, train_tab_view
from ui.training import show_flash

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Instance segmentation"))
st.caption(_("Every object's own mask: two touching squares are two squares, and a square cut in two by a bar is "
             "still one. Choose a trained instance model and a picture: see each object it finds in its own colour, "
             "move the score threshold, check them against the true objects, and set them beside connected "
             "components of a semantic mask. Train one in the **Train** tab."))
if start_requested_preset() is not None:
    st.rerun()
show_flash()

find_tab, train_tab = tabs([N_("Find objects"), N_("Train")], key=f"{PREFIX}_tab")


def objects_section(finder, found, semantic, view, truths, picture, route) -> None:
    """The score slider and what it leaves, the semantic route beside it: only this part reruns when the
    slider moves."""
    from cv_core.instances import filter_instances, match_instances
    from cv_core.plots.instances import instance_outcomes_figure, instances_figure, object_labels

    @st.fragment
    def objects() -> None:
        score = st.slider(_("Score threshold"), 0.0, 0.95, DEFAULT_SCORE, 0.05, key=f"{PREFIX}_score",
                          bind="query-params",
                          help=_("Keep objects the model is at least this sure of (its centre's heatmap value times "
                                 "its pixels' mean object probability). It only filters the objects found once."))
        shown = filter_instances(found, float(score))
        outcomes = match_instances(shown, truths) if truths is not None else None
        counts = st.columns(4)
        with counts[0].container(key=f"{PREFIX}_count"):
            st.metric(_("Objects shown"), len(shown),
                      help=ngettext("Of {count} object found before the threshold.",
                                    "Of {count} objects found before the threshold.", len(found)).format(count=len(found)))
        if outcomes is not None:
            counts[1].metric(_("Hits"), outcomes.hits,
                             help=_("Objects on a true object of their class with mask IoU ≥ 0.5 (each true object "
                                    "counted once, the best-scored first)."))
            counts[2].metric(_("False positives"), outcomes.false_positives)
            counts[3].metric(_("Missed"), outcomes.misses, help=_("True objects no shown object matches."))
        labels = object_labels(shown, finder.class_names)
        figures = st.columns(2)
        figures[0].plotly_chart(instances_figure(view, shown, finder.class_names, labels), width="stretch",
                                key=f"{PREFIX}_objects")
        if outcomes is not None:
            figures[1].plotly_chart(
                instance_outcomes_figure(view, shown, outcomes.hit, truths, outcomes.found, finder.class_names,
                                         title=_("Against the truth: hits green, false positives red, misses orange")),
                width="stretch", key=f"{PREFIX}_outcomes")
        else:
            figures[1].info(_("No true objects for your own picture: hits, misses and false positives need them."),
                            icon=":material/info:")
        if shown:
            st.dataframe(object_rows(shown, labels, finder.class_names, outcomes), hide_index=True,
                         width="stretch", key=f"{PREFIX}_table")
        elif found:
            st.caption(ngettext("No object reaches this score: lower the threshold to see the {count} found.",
                                "No object reaches this score: lower the threshold to see the {count} found.",
                                len(found)).format(count=len(found)))
        else:
            st.caption(_("The model finds no object in this picture: no centre peak stands out, or it calls every "
                         "pixel background. An undertrained model does this: train it longer."))
        st.markdown(_("**Export the objects shown**"))
        export_buttons(shown, finder, picture)
        st.divider()
        comparison_section(finder, shown, float(score), semantic, view, truths, picture, route)

    objects()


def comparison_section(finder, shown, score, semantic, view, truths, picture, route) -> None:
    """Semantic mask + connected components beside the instance model's objects shown, on the same picture."""
    from cv_core.plots.instances import instances_figure

    st.subheader(_("Connected components of a semantic mask, beside the instance model"))
    st.caption(_("A semantic mask says *what* each pixel is, not *which* object: splitting each class's pixels into "
                 "connected regions merges touching objects of one class into one and cuts an object crossed by a bar "
                 "in two. The instance model groups pixels around object centres instead."))
    if route.offered == 0:
        st.caption(_("No segmentation run with this model's classes yet, so the semantic mask here is the instance "
                     "model's own semantic head. Train a segmentation model on the Segmentation page to set a "
                     "semantic model of its own beside it."))
    components = semantic_components(route, picture, semantic, finder.input_size)
    cols = st.columns(2)
    cols[0].plotly_chart(instances_figure(view, components, finder.class_names,
                                          title=ngettext("Connected components: {count} object",
                                                         "Connected components: {count} objects",
                                                         len(components)).format(count=len(components))),
                         width="stretch", key=f"{PREFIX}_components")
    cols[0].caption(route.label)
    cols[1].plotly_chart(instances_figure(view, shown, finder.class_names,
                                          title=ngettext("Instance model: {count} object above {score:.2f}",
                                                         "Instance model: {count} objects above {score:.2f}",
                                                         len(shown)).format(count=len(shown), score=score)),
                         width="stretch", key=f"{PREFIX}_side_by_side")
    if truths is None:
        return
    together, pairs = pairs_on_picture(components, truths)
    apart, _pairs = pairs_on_picture(shown, truths)
    if pairs:
        st.caption(_("Touching same-class pairs of true objects on this picture: {pairs}. Told apart by connected "
                     "components: {components}; by the instance model: {instances}.").format(
            pairs=pairs, components=together, instances=apart))
    else:
        st.caption(_("No two true objects of one class touch on this picture: choose a crowded picture to see the "
                     "difference."))


def scores_section(finder, dataset, route) -> None:
    """The validation scores of both approaches in one table: stored where present, else on request."""
    st.subheader(_("Validation scores of both"))
    stored = (stored_scores(finder.run) or {}).get("validation")
    rows = []
    if isinstance(stored, dict):
        rows.append(score_row(_("Instance model ({run})").format(run=finder.run.id), stored))
        if isinstance(stored.get("components"), dict):
            rows.append(score_row(_("Connected components of its own semantic head"), stored["components"],
                                  stored.get("images")))
    else:
        st.caption(_("This run has no final scores yet (they are written when it ends); its curves are in the "
                     "**Train** tab and on Compare runs."))
    if route is not None and route.run is not None:
        if dataset is None or dataset.count("validation") == 0:
            st.caption(_("The instance run's validation pictures cannot be read, so the semantic run is not scored "
                         "on them."))
        else:
            limit = min(VALIDATION_LIMIT, dataset.count("validation"))
            st.caption(_("The segmentation run's connected components are scored on the first {count} validation "
                         "pictures of the instance run's dataset, at the segmentation model's own input size.").format(
                count=limit))
            if requested(PREFIX, "score_semantic", _("Score the segmentation run"), ":material/analytics:",
                         (route.key, finder.key, limit)):
                scores = semantic_validation_scores(route, dataset, limit)
                rows.append(score_row(_("Connected components of segmentation run {run}").format(run=route.run.id),
                                      scores))
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch", key=f"{PREFIX}_scores")
        st.caption(_("COCO mask AP: the mean over IoU thresholds 0.50, 0.55, …, 0.95 of the area under each class's "
                     "precision–recall curve (101 points), averaged over classes; AP50 and AP75 at one threshold. A "
                     "touching pair is separated when each of its two objects has its own found object of its class "
                     "with mask IoU ≥ 0.5."))


def find_view() -> None:
    runs = instance_runs()
    if not runs:
        no_run_message()
        return
    setup = st.columns([1, 1.3], gap="large")
    with setup[0]:
        run = run_picker(runs)
        dataset = run_dataset(run)
        finder = instance_finder(run)
        route = semantic_picker(finder) if finder is not None else None
    if finder is None or route is None:
        return
    with setup[1]:
        picture = picture_picker(dataset)
    if picture is None:
        st.info(_("Choose a picture: a sample of the run's dataset, an upload or a camera photo."),
                icon=":material/image:")
        return
    view = model_view(finder.input_size, picture)
    found, semantic = candidates(finder, picture, view)
    st.caption(_("{picture}, as the model sees it ({width} × {height} px). The model runs once: every peak of its "
                 "centre heatmaps is an object's centre, every object pixel follows its predicted offset to the "
                 "nearest centre; the slider below only filters the objects found.").format(
        picture=picture.name, width=view.shape[1], height=view.shape[0]))
    truths = true_objects(finder, picture)
    objects_section(finder, found, semantic, view, truths, picture, route)
    st.divider()
    scores_section(finder, dataset, route)


def train_view() -> None:
    train_tab_view(PREFIX, "instances",
                   _("No instance segmentation runs yet. Press **Train** to start one; its mask AP appears here as "
                     "it learns."))


if find_tab.open:
    with find_tab:
        find_view()

if train_tab.open:
    with train_tab:
        train_view()
