"""Keypoints and pose: the joints of every person, or the landmarks of one face. Find them on a picture,
move the score threshold, read each one's orientation and posture, look at a joint's heatmap, compare
with the truth; set heatmaps against regression; train a keypoint model."""

import streamlit as st

from cv_core.i18n import N_, _, ngettext
from cv_core.keypoints import PEOPLE, joint_label

from ui import install_streamlit_patches
from ui.keypoints import (
    DEFAULT_THRESHOLD,
    KIND_CAPTIONS,
    PREFIX,
    SKELETON_CAPTIONS,
    candidates,
    explain_missing_model,
    keypoint_finder,
    keypoint_runs,
    model_view,
    no_model_message,
    object_label,
    object_rows,
    picture_picker,
    readings,
    run_picker,
    show,
    true_instances,
    truth_summary,
    with_chosen_model,
)
from ui.keypoints_compare import compare_view
from ui.keypoints_video import video_tab
from ui.task_page import run_dataset, train_tab_view
from ui.training import show_flash
from ui.i18n import tabs as translated_tabs
from ui.i18n import widget_key

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Keypoints and pose"))
st.caption(_("Where are the points that matter? Choose a trained keypoint model and a picture: see each person's "
             "skeleton with its box, which way it leans and whether it stands, sits or lies, or a face's landmarks "
             "and how it is tilted and turned; move the score threshold; look at one joint's heatmap; and check the "
             "joints against the truth. Set heatmaps against regression on the face landmarks. Train a model in the "
             "**Train** tab."))
show_flash()


def points_section(finder, raw, heatmaps, view, truths, no_truth: str) -> None:
    """The threshold and what it leaves: only this part reruns when the slider or the joint moves."""
    from cv_core.keypoints import compare_with_truth, filter_keypoints
    from cv_core.plots.keypoints import heatmap_figure, outcomes_figure, skeleton_figure

    @st.fragment
    def points() -> None:
        if finder.kind == "regression":
            threshold = 0.0
        else:
            threshold = st.slider(_("Score threshold"), 0.0, 0.95, DEFAULT_THRESHOLD, 0.05, key=f"{PREFIX}_score",
                                  bind="query-params",
                                  help=_("Keep objects the model is at least this sure of. Lower finds more people, "
                                         "and more that are not there. It only filters what the model found once."))
        (found,) = filter_keypoints(raw, float(threshold))
        poses = readings(found, finder.skeleton)
        labels = [object_label(i + 1, p.score, r) for i, (p, r) in enumerate(zip(found, poses))]
        comparison = compare_with_truth(found, truths, finder.skeleton) if truths is not None else None
        counts = st.columns(4)
        with counts[0].container(key=f"{PREFIX}_count"):
            st.metric(_("Objects shown"), len(found),
                      help=ngettext("Of {count} candidate before the threshold.", "Of {count} candidates before the "
                                    "threshold.", len(raw.scores[0])).format(count=len(raw.scores[0])))
        if comparison is not None and comparison.matches:
            best = comparison.matches[0]
            with counts[1].container(key=f"{PREFIX}_oks"):
                st.metric(_("OKS, best object"), f"{best.oks:.3f}",
                          help=_("Object keypoint similarity of the best-scored object with its true one: 1 when "
                                 "every joint is exactly in place, falling off with the distance relative to the "
                                 "object's size and each joint's own tolerance."))
            counts[2].metric(_("PCK@0.2, best object"), f"{best.pck:.2f}",
                             help=_("The share of its labelled joints within 0.2 of the reference length (the torso "
                                    "diameter for people, the eye distance for faces)."))
            counts[3].metric(_("True objects missed"), len(comparison.missed))
        big, scale = show(view)
        figures = st.columns(2)
        figures[0].plotly_chart(skeleton_figure(big, found, finder.skeleton, scale, poses, labels,
                                                title=_("{count} object(s) found (hover a joint for its name)").format(
                                                    count=len(found))),
                                width="stretch", key=f"{PREFIX}_skeletons")
        if comparison is not None:
            figures[1].plotly_chart(outcomes_figure(big, found, truths, comparison, finder.skeleton, scale,
                                                    title=_("Against the truth: green joints hit, red ones miss")),
                                    width="stretch", key=f"{PREFIX}_outcomes")
        else:
            figures[1].info(no_truth, icon=":material/info:")
        st.caption(_(SKELETON_CAPTIONS[finder.kind]))
        if comparison is not None:
            st.caption(truth_summary(comparison, len([t for t in truths if not t.crowd and t.labelled.any()])))
        if found:
            st.dataframe(object_rows(found, poses, comparison), hide_index=True, width="stretch",
                         key=f"{PREFIX}_table")
        if heatmaps is None:
            return
        st.subheader(_("One joint's heatmap"))
        joints = list(finder.skeleton.joints)
        cols = st.columns([1, 2], gap="large")
        joint = cols[0].selectbox(_("Joint"), joints, format_func=joint_label,
                                  key=widget_key(f"{PREFIX}_joint", joints, joint_label),
                                  bind="query-params",
                                  help=_("The model paints one heatmap per joint: bright where it believes that joint "
                                         "is, for every object in the picture at once."))
        k = joints.index(joint)
        cols[0].caption(_("Each cell covers {stride} × {stride} pixels of the model's view. The crosses "
                          "mark where this joint was placed on each object shown; a cross away from a bright cell was "
                          "read from the person's centre because no peak was near.").format(stride=finder.stride))
        cols[1].plotly_chart(heatmap_figure(big, heatmaps[..., k], finder.stride, scale,
                                            [p.points[k] for p in found],
                                            title=_("Heatmap of {joint}").format(joint=joint_label(joint))),
                             width="stretch", key=f"{PREFIX}_heatmap")

    points()


def find_view() -> None:
    runs = keypoint_runs()
    if not runs:
        no_model_message()
        return
    explain_missing_model()
    setup = st.columns([1, 1.3], gap="large")
    with setup[0]:
        run = run_picker(runs)
        dataset = run_dataset(run)
        finder = keypoint_finder(run, dataset)
    if finder is None:
        return
    with setup[1]:
        picture = picture_picker(dataset)
    if picture is None:
        st.info(_("Choose a picture: a sample of the run's dataset, an upload or a camera photo."),
                icon=":material/image:")
        return
    view = model_view(finder, picture)
    raw, heatmaps = candidates(finder, picture, view)
    st.caption(_("{picture}, as the model sees it ({width} × {height} px). {how}").format(
        picture=picture.name, width=view.shape[1], height=view.shape[0], how=_(KIND_CAPTIONS[finder.kind])))
    truths = true_instances(finder, picture)
    points_section(finder, raw, heatmaps, view, truths,
                   _("No true keypoints for your own picture: hits, misses, OKS and PCK need them."))


def train_view() -> None:
    train_tab_view(PREFIX, "keypoints",
                   _("No keypoint runs yet. Press **Train** to start one; its keypoint AP and PCK@0.2 appear here as "
                     "it learns."))


#: The tabs, in order: a name and the function that fills it. A new tab is one more line here; the video tab
#: needs only the chosen model (without a run it shows the built-in clip's true skeletons).
VIEWS = {
    N_("Find the points"): find_view,
    N_("Heatmaps vs regression"): lambda: compare_view(keypoint_runs()),
    N_("Video"): lambda: with_chosen_model(video_tab, without_model=(PEOPLE, (128, 128))),
    N_("Train"): train_view,
}

tabs = translated_tabs(list(VIEWS), key=f"{PREFIX}_tab")
for tab, view in zip(tabs, VIEWS.values()):
    if tab.open:
        with tab:
            view()
