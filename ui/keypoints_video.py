"""The Keypoints and pose page's Video tab: people found and followed through a short clip.

:func:`video_tab` is all a page calls. The clip is the built-in walking people
(:func:`cv_core.keypoints.video.walking_clip`, with its true joints) or an upload (GIF, MP4 or
WebM within :mod:`cv_core.keypoints.video`'s limits, stated above the uploader). With a model,
the frames are processed a batch at a time under a progress bar, with a Stop button; the work
done is kept in the session, so a click elsewhere (which interrupts the script) takes it up
again where it stopped, and Stop keeps what was found. The frame slider, the joint-track chart
and its joints are kept in the URL (``kpvideo_source``, ``kpvideo_frame``, ``kpvideo_joints``).
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from cv_core.i18n import N_, _, ngettext
from cv_core.keypoints import joint_label
from cv_core.keypoints.video import (
    FRAME_SIDE,
    MAX_BYTES,
    MAX_FRAMES,
    MAX_SECONDS,
    MAX_SIDE,
    VideoInputError,
    VideoPoseFinder,
    annotate_clip,
    draw_poses,
    joint_tracks,
    read_clip,
    walking_clip,
    write_clip,
)
from ui.i18n import widget_key

PREFIX = "kpvideo"
SOURCES = ("bundled", "upload")
SOURCE_LABELS = {"bundled": N_("Walking people (built in)"), "upload": N_("Your clip")}
UPLOAD_TYPES = ["gif", "mp4", "webm"]
#: The built-in clip: three people of the `people` set, two walking apart and one crossing behind them,
#: 4 seconds at 12 frames a second.
BUNDLED = {"num_frames": 48, "image_size": 128, "num_people": 3, "fps": 12.0, "seed": 0, "difficulty": "easy"}
#: People scoring at most this are not drawn (the Keypoints page's default threshold).
SCORE_THRESHOLD = 0.3
#: Frames per forward pass.
BATCH_SIZE = 8
#: Frames are drawn this many pixels on their longer side on screen (enlarged with sharp pixels).
SHOWN_SIDE = 384
#: Joints charted when the person has chosen none yet.
DEFAULT_JOINTS = ("left_ankle", "right_ankle")

_FINDER = f"_{PREFIX}_finder"
_STOPPED = f"_{PREFIX}_stopped"
_MOVIE = f"_{PREFIX}_movie"


def limits_sentence() -> str:
    """The clip limits, in one sentence."""
    return _("Clips of up to {seconds:g} seconds, {frames} frames, {side} pixels a side and {megabytes} MB are read, "
             "as GIF, MP4 or WebM; longer ones are refused before they are decoded.").format(
                 seconds=MAX_SECONDS, frames=MAX_FRAMES, side=MAX_SIDE, megabytes=MAX_BYTES // (1024 * 1024))


@st.cache_data(max_entries=1, show_spinner=False)
def bundled_clip():
    """The built-in walking clip (the same every time: drawn once per process)."""
    return walking_clip(**BUNDLED)


@st.cache_data(max_entries=2, ttl=900, show_spinner=False)
def _read(file_id: str, language: str, _data: bytes):
    """(clip, None) or (None, reason), keyed by the upload's id (a new id for every upload) and the language
    the reason is written in."""
    try:
        return read_clip(_data), None
    except VideoInputError as exc:
        return None, str(exc)


def _scale(frames: np.ndarray) -> int:
    return max(1, SHOWN_SIDE // max(frames.shape[1:3]))


def _model_signature(model) -> tuple:
    # Cached models are shared and never changed (STYLE.md), so one object is one set of weights.
    return id(model), getattr(model, "name", ""), int(model.count_params())


def _stop(signature) -> None:
    st.session_state[_STOPPED] = signature


def _go_on() -> None:
    st.session_state.pop(_STOPPED, None)


def _find(model, frames: np.ndarray, skeleton, signature):
    """The people of every frame, processed under a progress bar with Stop, kept for the session.

    Returns:
        :class:`cv_core.keypoints.video.VideoPoses` of the frames done (all of them unless stopped).
    """
    kept = st.session_state.get(_FINDER)
    if kept is None or kept[0] != signature:
        kept = (signature, VideoPoseFinder(model, frames, skeleton, SCORE_THRESHOLD, BATCH_SIZE))
        st.session_state[_FINDER] = kept
        st.session_state.pop(_MOVIE, None)
    finder = kept[1]
    total = len(frames)
    if finder.finished:
        return finder.result()
    if st.session_state.get(_STOPPED) == signature:
        cols = st.columns([4, 1], vertical_alignment="center")
        cols[0].warning(ngettext("Stopped after {done} of {total} frame; what was found so far is shown.",
                                 "Stopped after {done} of {total} frames; what was found so far is shown.",
                                 total).format(done=finder.done, total=total),
                        icon=":material/pause_circle:")
        cols[1].button(_("Go on"), key=f"{PREFIX}_go_on", icon=":material/play_arrow:", on_click=_go_on)
        return finder.result()
    working = st.empty()
    with working.container():
        cols = st.columns([4, 1], vertical_alignment="center")
        bar = cols[0].progress(finder.done / total, text=_("Finding people: frame {done} of {total}.").format(
            done=finder.done, total=total))
        cols[1].button(_("Stop"), key=f"{PREFIX}_stop", icon=":material/stop:", on_click=_stop, args=(signature,))
    while not finder.finished:
        done = finder.step()
        bar.progress(done / total, text=_("Finding people: frame {done} of {total}.").format(done=done, total=total))
    working.empty()
    return finder.result()


def _movie(key, frames, people, ids, skeleton, fps) -> bytes | None:
    """The annotated clip as MP4, encoded once per result; None when this machine cannot encode it."""
    kept = st.session_state.get(_MOVIE)
    if kept is not None and kept[0] == key:
        return kept[1]
    try:
        data = write_clip(annotate_clip(frames, people, ids, skeleton, _scale(frames)), fps, "mp4")
    except Exception:  # noqa: BLE001 - no H.264 encoder: the GIF download still works
        data = None
    st.session_state[_MOVIE] = (key, data)
    return data


def _gif(frames, people, ids, skeleton, fps) -> bytes:
    return write_clip(annotate_clip(frames, people, ids, skeleton, _scale(frames)), fps, "gif")


def _frame_table(people, ids) -> None:
    from ui.keypoints import posture_word

    rows = [{_("Person"): identity, _("Posture"): posture_word(person.posture),
             _("Torso angle (°)"): None if person.orientation is None else round(float(person.orientation), 1)}
            for person, identity in zip(people, ids)]
    for row, person in zip(rows, people):
        if person.score is not None:  # a truth has no score
            row[_("Score")] = round(float(person.score), 2)
    st.dataframe(rows, hide_index=True, width="stretch")


def _joint_name(name: str) -> str:
    return joint_label(name).replace("_", " ")


def _joint_names(skeleton) -> list[str]:
    chosen = st.multiselect(_("Joints to chart"), list(skeleton.joints),
                            default=[j for j in DEFAULT_JOINTS if j in skeleton.joints] or [skeleton.joints[0]],
                            format_func=_joint_name, key=widget_key(f"{PREFIX}_joints", list(skeleton.joints),
                                                                    _joint_name, multiple=True),
                            bind="query-params",
                            help=_("Each chosen joint's position in every frame, one line per person and joint."))
    return list(chosen)


@st.fragment
def _viewer(frames, times, people, ids, skeleton, mode: str) -> None:
    """The frame slider, the annotated frame, its people, and the joint-track chart (a fragment: moving
    the slider or choosing joints reruns only this).

    ``mode`` says whose people these are: "found" (by the model), "truth" (the clip's), or "none"
    (an upload without a model: the frames alone).
    """
    from cv_core.plots.keypoint_video import joint_tracks_figure

    last = len(frames) - 1
    if st.session_state.get(f"{PREFIX}_frame", 0) > last:  # a shorter clip than the last one
        st.session_state[f"{PREFIX}_frame"] = last
    index = st.slider(_("Frame"), 0, last, 0, key=f"{PREFIX}_frame", bind="query-params", disabled=last == 0,
                      help=_("The frame shown, with its people's skeletons; the chart marks its time."))
    done = len(people)
    shown = people[index] if index < done else []
    shown_ids = ids[index] if index < done else []
    cols = st.columns([3, 2], gap="medium")
    with cols[0]:
        picture = draw_poses(frames[index], shown, skeleton, shown_ids, _scale(frames))
        st.image(picture, caption=_("Frame {index} of {last}, at {seconds:.2f} seconds.").format(
            index=index, last=last, seconds=times[index]), output_format="PNG")
    with cols[1]:
        if mode == "none":
            st.caption(_("The clip as it was read, without skeletons: a keypoints model finds its people."))
        elif index >= done:
            st.caption(_("This frame was not processed before the run stopped."))
        elif not shown:
            st.caption(_("No one was found in this frame."))
        else:
            if mode == "truth":
                st.caption(_("The people in this frame, from the clip's truth."))
            else:
                st.caption(_("The people found in this frame, with the posture and torso angle read from their "
                             "joints."))
            _frame_table(shown, shown_ids)
    if mode == "none":
        return
    joints = _joint_names(skeleton)
    if not joints:
        st.caption(_("Choose a joint to chart its track."))
        return
    tracks = joint_tracks(people, ids, skeleton.num_joints)
    if not tracks:
        st.caption(_("No one was found in the clip, so there is no track to chart."))
        return
    height, width = frames.shape[1:3]
    figure = joint_tracks_figure(tracks, times[:done], skeleton.joints, joints, current_time=float(times[index]),
                                 frame_size=(width, height), person_label=_("Person {identity}"),
                                 x_title=_("x (pixels)"), y_title=_("y (pixels, down)"),
                                 time_title=_("time (seconds)"))
    st.plotly_chart(figure, width="stretch", key=f"{PREFIX}_chart")


def video_tab(model, skeleton, image_size) -> None:
    """The Video tab: a clip, its people found and followed frame by frame, their joints charted.

    Args:
        model: a keypoint model (from a finished keypoints run), or None: then the built-in clip
            shows its true skeletons, and the tab says how to get a model.
        skeleton: the model's (or the clip's) :class:`~cv_core.keypoints.Skeleton`.
        image_size: the model's input side (an int or ``(height, width)``): frames are fitted to it.
    """
    from cv_core.keypoints import PEOPLE

    height, width = (image_size, image_size) if isinstance(image_size, int) else (int(d) for d in image_size)
    st.caption(limits_sentence())
    source = st.segmented_control(_("Clip"), SOURCES, default="bundled", format_func=lambda s: _(SOURCE_LABELS[s]),
                                  key=widget_key(f"{PREFIX}_source", SOURCES, lambda s: _(SOURCE_LABELS[s])),
                                  bind="query-params", required=True) or "bundled"
    truth = None
    if source == "upload":
        upload = st.file_uploader(_("A short clip"), type=UPLOAD_TYPES, key=f"{PREFIX}_upload", help=limits_sentence())
        if upload is None:
            st.info(_("Upload a GIF, MP4 or WebM clip to find the people in it."), icon=":material/movie:")
            return
        from cv_core.i18n import current_language

        clip, problem = _read(upload.file_id, current_language(), upload.getvalue())
        if problem is not None:
            st.error(_("**{name}** could not be used. {problem}").format(name=upload.name, problem=problem), icon=":material/broken_image:")
            return
        frames, times, fps, clip_key = clip.frames, clip.times, clip.fps, ("upload", upload.file_id)
        st.caption(ngettext("{count} frame at {fps:.3g} frames a second ({seconds:.1f} seconds), shown at most {side} "
                            "pixels a side.",
                            "{count} frames at {fps:.3g} frames a second ({seconds:.1f} seconds), shown at most {side} "
                            "pixels a side.", len(frames)).format(count=len(frames), fps=fps, seconds=clip.seconds,
                                                                  side=FRAME_SIDE))
    else:
        walking = bundled_clip()
        frames, times, fps, clip_key = walking.frames, walking.times, walking.fps, ("bundled",)
        truth = (walking.people, walking.identities)
        if model is not None and tuple(skeleton.joints) != tuple(PEOPLE.joints):
            st.info(_("The built-in clip shows walking people, and the chosen run finds the points of another "
                      "skeleton: choose a pose run trained on people, or upload a clip of your own."),
                    icon=":material/info:")

    usable = model is not None
    if usable:
        from cv_core.keypoints.models import keypoint_model_geometry

        joints = keypoint_model_geometry(model).num_joints
        if joints != skeleton.num_joints:
            st.warning(_("This model finds {joints} joints but the skeleton has {skeleton}, so it cannot be used "
                         "here.").format(joints=joints, skeleton=skeleton.num_joints), icon=":material/warning:")
            usable = False
    if not usable:
        if model is None:
            st.info(_("Train a keypoints model on the Keypoints and pose page's Train tab to see predictions."),
                    icon=":material/school:")
        if truth is None:
            _viewer(frames, times, [], [], skeleton, mode="none")
            return
        people, ids, drawn = truth[0], truth[1], PEOPLE
        st.caption(_("The skeletons drawn are the clip's true joints, as the generator placed them."))
        _viewer(frames, times, people, ids, drawn, mode="truth")
        _downloads(("truth",) + clip_key, frames, people, ids, drawn, fps)
        return

    signature = clip_key + _model_signature(model) + (skeleton.joints, SCORE_THRESHOLD)
    st.caption(_("Each frame is fitted into the model's {width} × {height} pixel input, its people found and "
                 "matched to those of the frame before by their joints, so that each keeps its number.").format(
                     width=width, height=height))
    poses = _find(model, frames, skeleton, signature)
    cols = st.columns(3)
    cols[0].metric(_("Frames per second"), "—" if not poses.people else f"{poses.frames_per_second:.1f}",
                   help=_("Frames fitted, read by the model, decoded and followed per second on this computer, "
                          "measured on this clip."))
    cols[1].metric(_("Frames processed"), f"{len(poses.people)} / {poses.total_frames}")
    cols[2].metric(_("People followed"), len(poses.tracks()))
    _viewer(frames, times, poses.people, poses.track_ids, skeleton, mode="found")
    _downloads(signature + (len(poses.people),), frames, poses.people, poses.track_ids, skeleton, fps)


def _downloads(key, frames, people, ids, skeleton, fps) -> None:
    """The annotated clip, playing, and its MP4 and GIF downloads."""
    movie = _movie(key, frames, people, ids, skeleton, fps)
    cols = st.columns(2)
    if movie is not None:
        with st.expander(_("The annotated clip"), expanded=False, icon=":material/movie:"):
            st.video(movie, format="video/mp4", loop=True)
        cols[0].download_button(_("Download the annotated clip (MP4)"), movie, file_name="poses.mp4",
                                mime="video/mp4", key=f"{PREFIX}_download_mp4", on_click="ignore",
                                icon=":material/download:")
    else:
        cols[0].caption(_("This computer cannot write MP4 video; the GIF download still works."))
    cols[1].download_button(_("Download the annotated clip (GIF)"),
                            functools.partial(_gif, frames, people, ids, skeleton, fps), file_name="poses.gif",
                            mime="image/gif", key=f"{PREFIX}_download_gif", on_click="ignore",
                            icon=":material/download:")
