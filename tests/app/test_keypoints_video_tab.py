"""The Video tab (``ui.keypoints_video.video_tab``) in a tiny script, with no model and with a tiny
untrained pose model: the built-in clip, an upload (good and bad), the frame slider and joints in
the URL, Stop and Go on, the downloads."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow


def tab_script(with_model: bool) -> None:
    import streamlit as st

    from cv_core.keypoints import PEOPLE
    from ui.keypoints_video import video_tab

    @st.cache_resource
    def tiny_model():
        from cv_core.keypoints.models import build_pose_model

        return build_pose_model((32, 32), PEOPLE.num_joints, (4, 8), output_stride=4, head_width=4)

    video_tab(tiny_model() if with_model else None, PEOPLE, 32)


def _texts(at) -> str:
    return " ".join(str(e.value) for kind in ("info", "warning", "error", "caption") for e in at.get(kind))


def _traces(at) -> list[str]:
    import json

    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return [trace.get("name") for trace in json.loads(charts[0].proto.spec)["data"]]


def test_without_a_model_the_built_in_clip_shows_its_truth():
    at = AppTest.from_function(tab_script, args=(False,), default_timeout=60).run()
    assert not at.exception
    assert "Train a keypoints model on the Keypoints and pose page's Train tab to see predictions." in _texts(at)
    assert "true joints" in _texts(at)
    assert len(at.get("image")) == 1
    assert sorted(set(_traces(at))) == [f"Person {i} · {side} ankle" for i in range(3) for side in ("left", "right")]
    at.slider(key="kpvideo_frame").set_value(30).run()
    at.multiselect(key="kpvideo_joints").set_value(["head"]).run()
    assert not at.exception
    # (the browser writes bound widgets into its address bar; the next test reads them back from it)
    assert sorted(set(_traces(at))) == ["Person 0 · head", "Person 1 · head", "Person 2 · head"]
    assert "at 2.50 seconds" in " ".join(str(e.proto) for e in at.get("image"))  # frame 30 at 12 frames a second
    assert [b.proto.label for b in at.get("download_button")] == ["Download the annotated clip (MP4)",
                                                                  "Download the annotated clip (GIF)"]


def test_choices_come_back_from_the_url():
    at = AppTest.from_function(tab_script, args=(False,), default_timeout=60)
    at.query_params["kpvideo_frame"] = "12"
    at.query_params["kpvideo_joints"] = "neck"
    at.run()
    assert not at.exception
    assert at.slider(key="kpvideo_frame").value == 12 and at.multiselect(key="kpvideo_joints").value == ["neck"]


def test_a_model_finds_people_in_every_frame_and_measures_its_speed():
    at = AppTest.from_function(tab_script, args=(True,), default_timeout=120).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frames processed"] == "48 / 48"
    assert float(metrics["Frames per second"]) > 0
    assert "Train a keypoints model" not in _texts(at)
    at.slider(key="kpvideo_frame").set_value(5).run()  # the work is kept: nothing is processed again
    assert not at.exception and {m.label: m.value for m in at.metric}["Frames processed"] == "48 / 48"


def test_stop_keeps_what_was_found_and_go_on_finishes(monkeypatch):
    import streamlit as st

    from ui import keypoints_video

    original = keypoints_video.VideoPoseFinder.step

    def interrupted(self):  # the person clicks Stop during the first batch: the run is cut there
        done = original(self)
        st.stop()
        return done

    monkeypatch.setattr(keypoints_video.VideoPoseFinder, "step", interrupted)
    at = AppTest.from_function(tab_script, args=(True,), default_timeout=120).run()
    assert not at.exception
    at.button(key="kpvideo_stop").click().run()
    assert not at.exception
    assert "Stopped after 8 of 48 frames; what was found so far is shown." in _texts(at)
    assert {m.label: m.value for m in at.metric}["Frames processed"] == "8 / 48"
    at.slider(key="kpvideo_frame").set_value(20).run()
    assert "This frame was not processed before the run stopped." in _texts(at)
    monkeypatch.setattr(keypoints_video.VideoPoseFinder, "step", original)
    at.button(key="kpvideo_go_on").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Frames processed"] == "48 / 48"


def test_uploads_good_and_bad():
    from cv_core.keypoints.video import walking_clip, write_clip

    at = AppTest.from_function(tab_script, args=(True,), default_timeout=120).run()
    at.segmented_control(key="kpvideo_source").set_value("upload").run()
    assert not at.exception and "Upload a GIF, MP4 or WebM clip to find the people in it." in _texts(at)
    at.file_uploader(key="kpvideo_upload").set_value(("broken.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(300),
                                                      "video/mp4")).run()
    assert not at.exception
    assert "**broken.mp4** could not be used. This MP4 file's data cannot be read" in _texts(at)
    clip = walking_clip(num_frames=10, image_size=64)
    at.file_uploader(key="kpvideo_upload").set_value(("walk.gif", write_clip(clip.frames, 10, "gif"),
                                                      "image/gif")).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Frames processed"] == "10 / 10"


def test_an_upload_without_a_model_shows_its_frames():
    from cv_core.keypoints.video import walking_clip, write_clip

    at = AppTest.from_function(tab_script, args=(False,), default_timeout=60)
    at.query_params["kpvideo_source"] = "Your clip"  # Streamlit binds the option's label
    at.run()
    clip = walking_clip(num_frames=6, image_size=64)
    at.file_uploader(key="kpvideo_upload").set_value(("walk.mp4", write_clip(clip.frames, 6), "video/mp4")).run()
    assert not at.exception
    assert "The clip as it was read, without skeletons: a keypoints model finds its people." in _texts(at)
    assert "Train a keypoints model on the Keypoints and pose page's Train tab to see predictions." in _texts(at)
    assert len(at.get("image")) == 1 and not at.get("plotly_chart") and not at.get("download_button")
