"""Figures of pose in video: chosen joints' tracks over time, one line per person and joint.

Two panels share the time axis: the joint's x (across the frame) above, its y (down the frame,
drawn with the frame's top at the top, as in the picture) below. Each person keeps its colour
from the annotated frames (:func:`cv_core.keypoints.video.track_colour`); each joint its dash. A
person not found in a frame leaves a gap in its lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cv_core.i18n import _

__all__ = ["JOINT_DASHES", "joint_tracks_figure"]

#: Dashes of the chosen joints, in the order chosen (cycled).
JOINT_DASHES = ("solid", "dot", "dash", "dashdot", "longdash", "longdashdot")


def _hex(colour) -> str:
    r, g, b = (int(c) for c in colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def joint_tracks_figure(tracks: Mapping[int, np.ndarray], times, joint_names: Sequence[str],
                        chosen: Sequence[str], current_time: float | None = None,
                        frame_size: tuple[int, int] | None = None,
                        person_label: str | None = None, x_title: str | None = None,
                        y_title: str | None = None, time_title: str | None = None) -> go.Figure:
    """Chosen joints' positions over time, for every person followed through a clip.

    Args:
        tracks: ``{identity: (T, K, 2)}`` joints per frame, NaN where the person is not found
            (:meth:`cv_core.keypoints.video.VideoPoses.tracks`, or a clip's truth).
        times: (T,) seconds of the frames.
        joint_names: the skeleton's K joint names.
        chosen: the joints to draw (names from ``joint_names``; others are skipped).
        current_time: draws a vertical line at this time (the frame on screen), if given.
        frame_size: ``(width, height)``: fixes the axes to the frame (else they fit the data).
        person_label, x_title, y_title, time_title: the words shown (``person_label`` is formatted
            with ``identity``); None: "Person {identity}", "x (pixels)", "y (pixels, down)" and
            "time (seconds)" in the current language (:mod:`cv_core.i18n`). Joint names are shown
            with :func:`cv_core.keypoints.joint_label`.

    Returns:
        A plotly figure with two rows (x, then y) and one line per person and joint in each.
    """
    from cv_core.keypoints.skeletons import joint_label
    from cv_core.keypoints.video import track_colour

    person_label = _("Person {identity}") if person_label is None else person_label
    x_title = _("x (pixels)") if x_title is None else x_title
    y_title = _("y (pixels, down)") if y_title is None else y_title
    time_title = _("time (seconds)") if time_title is None else time_title

    times = np.asarray(times, np.float64)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    joints = [name for name in chosen if name in joint_names]
    for identity, track in tracks.items():
        track = np.asarray(track, np.float64)
        colour = _hex(track_colour(identity))
        person = person_label.format(identity=identity)
        for n, name in enumerate(joints):
            j = list(joint_names).index(name)
            dash = JOINT_DASHES[n % len(JOINT_DASHES)]
            label = f"{person} · {joint_label(name).replace('_', ' ')}"
            for row, axis in ((1, 0), (2, 1)):
                fig.add_scatter(x=times[:len(track)], y=track[:, j, axis], mode="lines", name=label,
                                legendgroup=label, showlegend=row == 1, connectgaps=False,
                                line=dict(color=colour, dash=dash, width=2),
                                hovertemplate=f"{label}<br>%{{x:.2f}} s: %{{y:.1f}} px<extra></extra>",
                                row=row, col=1)
    if current_time is not None:
        fig.add_vline(x=float(current_time), line=dict(color="rgba(0, 0, 0, 0.45)", width=1, dash="dot"))
    fig.update_yaxes(title_text=x_title, row=1, col=1)
    fig.update_yaxes(title_text=y_title, autorange="reversed", row=2, col=1)
    if frame_size is not None:
        width, height = frame_size
        fig.update_yaxes(range=[0, width], autorange=False, row=1, col=1)
        fig.update_yaxes(range=[height, 0], autorange=False, row=2, col=1)
    fig.update_xaxes(title_text=time_title, row=2, col=1)
    if len(times):
        fig.update_xaxes(range=[float(times[0]), float(times[-1])])
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=40, b=10), hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return fig
