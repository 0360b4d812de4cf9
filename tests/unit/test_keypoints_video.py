"""Pose in video (``cv_core.keypoints.video``): reading and writing clips, the limits and refusals,
the generated walking clip's truth, tracking, drawing, and the per-frame pose pipeline."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from cv_core.keypoints import PEOPLE
from cv_core.keypoints.instance import KeypointInstance
from cv_core.keypoints.video import (
    MAX_BYTES,
    ClipLimits,
    CorruptVideoError,
    EmptyVideoError,
    UnsupportedVideoError,
    VideoInputError,
    VideoTooLargeError,
    annotate_clip,
    draw_poses,
    letterbox_frames,
    read_clip,
    track_people,
    video_format,
    walking_clip,
    write_clip,
)


def moving_square(count: int = 12, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames of a white square moving right on a vertical grey ramp (flat areas: codecs keep them)."""
    frames = np.zeros((count, height, width, 3), np.uint8)
    frames[:] = np.linspace(40, 200, height, dtype=np.uint8)[None, :, None, None]
    for t in range(count):
        frames[t, 16:32, 4 + 3 * t:20 + 3 * t] = 255
    return frames


def webm_bytes(frames: np.ndarray, fps: int = 10) -> bytes:
    """A VP9 WebM written with PyAV directly (its header declares no frame count)."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return out.getvalue()


@pytest.fixture(scope="module")
def clip():
    return walking_clip(num_frames=20, image_size=64, num_people=2, seed=3)


# --- reading and writing ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_a_written_clip_reads_back_frame_for_frame(tmp_path, fmt):
    frames = moving_square()
    path = tmp_path / f"clip.{fmt}"
    path.write_bytes(write_clip(frames, fps=10, format=fmt))
    clip = read_clip(path.read_bytes())
    assert clip.format == fmt and len(clip) == len(frames)
    assert clip.frames.shape == frames.shape and clip.source_size == (64, 48)
    assert clip.fps == pytest.approx(10)
    np.testing.assert_allclose(clip.times, np.arange(len(frames)) / 10, atol=1e-6)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 4  # lossy codecs, but the same pictures
    square = [int(np.argmax(f[24, :, 0] > 230)) for f in clip.frames]  # the square's left edge, frame by frame
    assert square == [4 + 3 * t for t in range(len(frames))]


def test_webm_reads_and_odd_sizes_are_padded_for_h264():
    frames = moving_square(8)
    clip = read_clip(webm_bytes(frames))
    assert clip.format == "webm" and len(clip) == 8 and np.abs(clip.frames.astype(int) - frames).mean() < 4
    odd = read_clip(write_clip(frames[:, :47, :63], fps=5))
    assert odd.source_size == (64, 48)  # yuv420p needs even sides: one edge row and column added


def test_frames_are_shrunk_while_decoding():
    frames = moving_square(3, 96, 128)
    clip = read_clip(write_clip(frames, 10), frame_side=64)
    assert clip.frames.shape == (3, 48, 64, 3) and clip.source_size == (128, 96)


def test_the_format_comes_from_the_first_bytes():
    assert video_format(b"GIF89a....") == "gif"
    assert video_format(b"\x00\x00\x00\x20ftypisom") == "mp4"
    assert video_format(b"\x1a\x45\xdf\xa3\x01") == "webm"
    for data in (b"", b"\x89PNG\r\n\x1a\n" + bytes(100), b"RIFF....AVI LIST", b"ID3\x03 an mp3"):
        with pytest.raises(UnsupportedVideoError):
            video_format(data)


@pytest.mark.parametrize("data, error", [
    (b"", UnsupportedVideoError),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), UnsupportedVideoError),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(300), CorruptVideoError),
    (b"\x1a\x45\xdf\xa3" + b"garbage" * 40, CorruptVideoError),
    (b"GIF89a" + bytes([16, 0, 16, 0, 0, 0, 0]) + b";", EmptyVideoError),  # a GIF with no frame at all
])
def test_bad_files_raise_a_named_error_with_a_sentence(data, error):
    with pytest.raises(error) as caught:
        read_clip(data)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, VideoInputError)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".") and "Errno" not in message


def test_a_cut_or_damaged_clip_is_refused(clip):
    data = write_clip(clip.frames, fps=10)
    with pytest.raises(CorruptVideoError):
        read_clip(data[:len(data) // 2])  # MP4's index (moov) is at the end: cut off
    damaged = bytearray(data)
    damaged[len(damaged) // 2:len(damaged) // 2 + 400] = bytes(400)  # some frames' data zeroed
    with pytest.raises(CorruptVideoError, match="cannot be decoded"):
        read_clip(bytes(damaged))


def test_limits_from_the_header_refuse_before_any_frame_is_decoded():
    data = write_clip(moving_square(30), fps=10)
    for limits, words in ((ClipLimits(max_frames=10), "30 frames"), (ClipLimits(max_seconds=2.0), "3.0 seconds"),
                          (ClipLimits(max_side=32), "64 × 48 pixels"), (ClipLimits(max_bytes=len(data) - 1), "MB")):
        with pytest.raises(VideoTooLargeError, match=words) as caught:
            read_clip(data, limits)
        assert caught.value.frames_decoded == 0
    assert len(read_clip(data, ClipLimits(max_frames=30, max_seconds=3.0, max_side=64))) == 30  # exactly at them


def test_a_clip_that_hides_its_length_is_refused_while_decoding_not_after():
    data = webm_bytes(moving_square(40))  # WebM declares no frame count
    with pytest.raises(VideoTooLargeError, match="more than 10 frames") as caught:
        read_clip(data, ClipLimits(max_frames=10, max_seconds=100))
    assert caught.value.frames_decoded == 10  # stopped at the limit, not after decoding all 40


def test_the_default_byte_limit_is_checked_first():
    with pytest.raises(VideoTooLargeError, match="20 MB"):
        read_clip(b"GIF89a" + bytes(MAX_BYTES))


# --- the generated clip ----------------------------------------------------------------------------

def test_the_walking_clip_is_the_same_every_time(clip):
    again = walking_clip(num_frames=20, image_size=64, num_people=2, seed=3)
    assert np.array_equal(clip.frames, again.frames)
    assert not np.array_equal(clip.frames, walking_clip(num_frames=20, image_size=64, seed=4).frames)


def test_the_walking_clips_truth_lies_on_its_people(clip):
    from cv_core.keypoints.pose import posture

    assert clip.frames.shape == (20, 64, 64, 3) and len(clip.people) == len(clip.identities) == 20
    for frame, people, ids in zip(clip.frames, clip.people, clip.identities):
        assert sorted(ids) == [0, 1]
        changed = np.abs(frame.astype(int) - clip.background).max(axis=-1) > 30  # a person's pixels (noise < 15)
        drawn = np.zeros_like(changed)
        for person in people:
            assert person.points.shape == (PEOPLE.num_joints, 2) and posture(
                person.points, person.visibility > 0, PEOPLE) == "standing"
            x0, y0, x1, y1 = person.box
            drawn[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = True  # the box, and its anti-aliased rim
            for (x, y), v in zip(person.points, person.visibility):
                if v == 2:  # a visible joint sits on its figure's pixels
                    assert changed[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].any()
        assert not (changed & ~drawn).any()  # every drawn pixel is inside a person's box


def test_the_walkers_walk_apart(clip):
    def centre(t, identity):
        return clip.people[t][clip.identities[t].index(identity)].points[:, 0].mean()

    assert centre(-1, 0) < centre(0, 0) - 10 and centre(-1, 1) > centre(0, 1) + 10
    hip, knee = PEOPLE.joints.index("left_hip"), PEOPLE.joints.index("left_knee")
    thigh = [np.degrees(np.arctan2(*(p[0].points[knee] - p[0].points[hip]))) for p in clip.people]
    assert max(thigh) - min(thigh) > 15  # the legs swing (a cycle is 16 frames; the clip 20)


# --- tracking --------------------------------------------------------------------------------------

def _jittered(clip, seed=0):
    """The truth as a detector would give it: order shuffled, joints off by a pixel, one person missed once."""
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for t, (people, ids) in enumerate(zip(clip.people, clip.identities)):
        pairs = [(KeypointInstance(points=p.points + rng.normal(0, 1, p.points.shape).astype(np.float32),
                                   visibility=np.full(PEOPLE.num_joints, 2, np.uint8), box=p.box, area=p.area), i)
                 for p, i in zip(people, ids)]
        if t == 7:
            pairs = [pair for pair in pairs if pair[1] != 1]
        order = rng.permutation(len(pairs))
        frames.append([pairs[k][0] for k in order])
        truth.append([pairs[k][1] for k in order])
    return frames, truth


def test_tracking_keeps_each_walkers_identity(clip):
    people, truth = _jittered(clip)
    tracked = track_people(people, PEOPLE.sigmas)
    pairs = {(true, found) for ids, found_ids in zip(truth, tracked) for true, found in zip(ids, found_ids)}
    assert len(pairs) == 2 and len({found for _, found in pairs}) == 2  # one track per walker, all along


def test_four_walkers_cross_behind_the_first_two_and_keep_their_identities():
    crowd = walking_clip(num_frames=24, image_size=64, num_people=4, seed=1)
    assert all(sorted(ids) == [0, 1, 2, 3] for ids in crowd.identities)

    def centre(t, identity):
        return crowd.people[t][crowd.identities[t].index(identity)].points[:, 0].mean()

    assert centre(0, 2) < 16 < 48 < centre(-1, 2) and centre(0, 3) > 48 > 16 > centre(-1, 3)  # across the frame
    hidden = {i for people, ids in zip(crowd.people, crowd.identities) for p, i in zip(people, ids)
              if (p.visibility == 1).any()}
    assert {2, 3} & hidden  # a walker at the back is partly hidden while it passes
    people, truth = _jittered(crowd, seed=1)
    tracked = track_people(people, PEOPLE.sigmas)
    pairs = {(true, found) for ids, found_ids in zip(truth, tracked) for true, found in zip(ids, found_ids)}
    assert len(pairs) == 4 and len({found for _, found in pairs}) == 4


def test_identity_switches_are_counted_against_the_truth(clip):
    from cv_core.keypoints.video import identity_switches

    people, truth = _jittered(clip)
    scored = [[replace(p, score=1.0) for p in frame] for frame in people]
    kept = identity_switches(scored, track_people(people, PEOPLE.sigmas), clip.people, clip.identities, PEOPLE.sigmas)
    assert kept == {"switches": 0, "paired": 39, "true": 40}  # 20 frames x 2 people, one missed once
    swapped = [ids if t < 10 else [1 - i for i in ids] for t, ids in enumerate(truth)]  # the labels trade at frame 10
    assert identity_switches(scored, swapped, clip.people, clip.identities, PEOPLE.sigmas)["switches"] == 2


def test_tracking_can_fail(clip):
    """The same check sees identities change when tracks may never continue."""
    people, truth = _jittered(clip)
    tracked = track_people(people, PEOPLE.sigmas, min_similarity=1.01)
    pairs = {(true, found) for ids, found_ids in zip(truth, tracked) for true, found in zip(ids, found_ids)}
    assert len(pairs) > 2


# --- drawing and the annotated clip ----------------------------------------------------------------

def test_draw_poses_marks_the_joints_in_the_tracks_colour(clip):
    from cv_core.keypoints.video import track_colour

    frame = np.zeros((64, 64, 3), np.uint8)
    person = clip.people[0][0]
    drawn = draw_poses(frame, [person], PEOPLE, ids=[3])
    x, y = (int(v) for v in person.points[PEOPLE.joints.index("left_hip")])
    assert tuple(drawn[y, x]) == track_colour(3)
    assert draw_poses(frame, [person], PEOPLE, scale=2).shape == (128, 128, 3)
    assert np.array_equal(draw_poses(frame, [], PEOPLE), frame)


def test_the_annotated_clip_has_every_frame(clip):
    annotated = annotate_clip(clip.frames, clip.people, clip.identities, PEOPLE)
    assert annotated.shape == clip.frames.shape and not np.array_equal(annotated, clip.frames)
    for fmt in ("mp4", "gif"):
        assert len(read_clip(write_clip(annotated, clip.fps, fmt))) == len(clip.frames)
    partly = annotate_clip(clip.frames, clip.people[:5], clip.identities[:5], PEOPLE)  # a stopped run
    assert len(partly) == 20 and np.array_equal(partly[5:], clip.frames[5:])


def test_write_clip_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="shape"):
        write_clip(np.zeros((0, 8, 8, 3), np.uint8), 10)
    with pytest.raises(ValueError, match="format"):
        write_clip(np.zeros((2, 8, 8, 3), np.uint8), 10, format="avi")
    with pytest.raises(ValueError, match="fps"):
        write_clip(np.zeros((2, 8, 8, 3), np.uint8), 0)


def test_letterboxing_maps_points_back():
    frames = np.zeros((2, 40, 80, 3), np.uint8)
    frames[:, 10, 60] = 255
    batch, scale, (x0, y0) = letterbox_frames(frames, (64, 64))
    assert batch.shape == (2, 64, 64, 3) and scale == pytest.approx(0.8) and (x0, y0) == (0, 16)
    ys, xs = np.nonzero(batch[0, ..., 0] > 50)
    back = (np.array([xs.mean(), ys.mean()]) + 0.5 - [x0, y0]) / scale
    np.testing.assert_allclose(back, [60.5, 10.5], atol=0.7)


# --- the chart --------------------------------------------------------------------------------------

def test_the_track_chart_has_a_line_per_person_joint_and_axis(clip):
    from cv_core.plots.keypoint_video import joint_tracks_figure

    tracks = {i: np.stack([p[ids.index(i)].points for p, ids in zip(clip.people, clip.identities)]) for i in (0, 1)}
    fig = joint_tracks_figure(tracks, np.arange(20) / clip.fps, PEOPLE.joints, ["left_ankle", "head", "tail"],
                              current_time=0.5, frame_size=(64, 64))
    assert len(fig.data) == 2 * 2 * 2  # people x joints (tail is no joint) x (x, y)
    head = PEOPLE.joints.index("head")
    line = next(d for d in fig.data if d.name == "Person 1 · head" and d.yaxis == "y2")
    np.testing.assert_allclose(line.y, tracks[1][:, head, 1])
    assert list(fig.layout.yaxis2.range) == [64, 0]  # y drawn downwards, as in the frame


# --- finding poses with a model -----------------------------------------------------------------------

@pytest.mark.slow
def test_find_poses_runs_a_model_over_every_frame_and_can_stop(clip):
    from cv_core.keypoints.models import build_pose_model
    from cv_core.keypoints.video import VideoPoseFinder, find_poses

    model = build_pose_model((32, 32), PEOPLE.num_joints, (4, 8), output_stride=4, head_width=4)
    poses = find_poses(model, clip.frames, PEOPLE, score_threshold=0.0, batch_size=8)
    assert poses.complete and len(poses.people) == len(poses.track_ids) == 20 and poses.frames_per_second > 0
    for people, ids in zip(poses.people, poses.track_ids):
        assert len(people) == len(ids) == len(set(ids)) > 0  # threshold 0: every candidate kept
        for person in people:
            assert (person.points >= 0).all() and (person.points <= 64).all()  # back in the frame's pixels
            assert person.posture in ("standing", "sitting", "lying", None)
    tracks = poses.tracks()
    assert set(tracks) == {i for ids in poses.track_ids for i in ids}
    assert next(iter(tracks.values())).shape == (20, PEOPLE.num_joints, 2)
    stopped = find_poses(model, clip.frames, PEOPLE, batch_size=4, on_progress=lambda done, total: done < 8)
    assert len(stopped.people) == 8 and not stopped.complete
    finder = VideoPoseFinder(model, clip.frames, PEOPLE, batch_size=16)
    assert (finder.step(), finder.step(), finder.finished) == (16, 20, True)
    from cv_core.keypoints import FACE_LANDMARKS

    with pytest.raises(ValueError, match="skeleton's 6 joints"):
        VideoPoseFinder(model, clip.frames, FACE_LANDMARKS)


def test_the_trackers_similarity_is_cocos_oks():
    from cv_core.keypoints.metrics import object_keypoint_similarity
    from cv_core.keypoints.video import _oks_matrix

    rng = np.random.default_rng(0)
    points, tracks = rng.uniform(0, 50, (3, 14, 2)), rng.uniform(0, 50, (4, 14, 2))
    tracks[1] = points[0] + rng.normal(0, 2, (14, 2))
    labelled, track_labelled = rng.random((3, 14)) > 0.2, rng.random((4, 14)) > 0.2
    areas = rng.uniform(100, 900, 4)
    sigmas = np.asarray(PEOPLE.sigmas)
    matrix = _oks_matrix(points, labelled, tracks, track_labelled, areas, sigmas)
    for i in range(3):
        for j in range(4):
            expected = object_keypoint_similarity(points[i], tracks[j], labelled[i] & track_labelled[j], areas[j],
                                                  sigmas)
            assert matrix[i, j] == pytest.approx(expected, abs=1e-9)
    assert matrix[0, 1] > 0.5 > matrix[0, 0]
