"""Pose in video: read a short clip, find and follow people frame by frame, draw them, write the clip.

1. **Read** (:func:`read_clip`): GIF, MP4 (or MOV) and WebM (or Matroska) through PyAV, whose wheel
   ships FFmpeg's libraries (nothing is downloaded at run time). The format is told from the
   file's first bytes and FFmpeg is asked for that demuxer only (no probing of other formats).
   The limits (:data:`MAX_BYTES`, :data:`MAX_SECONDS`, :data:`MAX_FRAMES`, :data:`MAX_SIDE`)
   are checked from the size and the header before any frame is decoded, then again frame by
   frame while decoding, so a clip past them is refused without decoding it all. Frames are
   shrunk while decoding to :data:`FRAME_SIDE` on their longer side, so memory stays bounded.
   Every refusal is a :class:`VideoInputError` (a ``ValueError``) with a sentence a page can show.
2. **A clip to try** (:func:`walking_clip`): stick figures of the ``people`` dataset walking apart and across
   over a fixed background, with their true joints in every frame, so a page shows something
   without a model and a test can score a model against the truth.
3. **Find and follow** (:class:`VideoPoseFinder`, :func:`find_poses`): a keypoint model on batches
   of frames (letterboxed to its input size), decoded with :mod:`cv_core.keypoints.decode`; then
   :class:`PoseTracker` gives each person an identity that stays from frame to frame (OKS with
   the person's position predicted from its last move, matched greedily, best first); each person
   gets its posture and orientation from :mod:`cv_core.keypoints.pose`.
4. **Draw and write** (:func:`draw_poses`, :func:`annotate_clip`, :func:`write_clip`): skeletons in
   each person's colour, and the annotated clip as MP4 (H.264 through PyAV) or GIF (Pillow).

>>> clip = walking_clip()
>>> poses = find_poses(model, clip.frames, PEOPLE)         # poses.people[t], poses.track_ids[t]
>>> movie = write_clip(annotate_clip(clip.frames, poses.people, poses.track_ids, PEOPLE), clip.fps)
"""

from __future__ import annotations

import functools
import io
import math
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from cv_core.i18n import _
from cv_core.keypoints.instance import KeypointInstance

__all__ = [
    "CLIP_FORMATS", "FRAME_SIDE", "MAX_BYTES", "MAX_FRAMES", "MAX_SECONDS", "MAX_SIDE", "TRACK_COLOURS", "Clip",
    "ClipLimits", "CorruptVideoError", "EmptyVideoError", "PoseTracker", "UnsupportedVideoError",
    "VideoInputError", "VideoPoseFinder", "VideoPoses", "VideoTooLargeError", "WalkingClip", "annotate_clip",
    "draw_poses", "find_poses", "identity_switches", "joint_tracks", "letterbox_frames", "read_clip",
    "track_colour", "track_people", "video_format", "walking_angles", "walking_clip", "write_clip",
]

#: The largest file read, in bytes (the app's upload limit).
MAX_BYTES = 20 * 1024 * 1024
#: The longest clip read, in seconds.
MAX_SECONDS = 20.0
#: The most frames read.
MAX_FRAMES = 240
#: The largest frame side read, in pixels (Full HD).
MAX_SIDE = 1920
#: Frames are shrunk while decoding so that their longer side is at most this (a pose model reads
#: 96-128 px; this keeps the drawing legible and 240 frames under 75 MB).
FRAME_SIDE = 320
#: The clip formats read: name -> (FFmpeg demuxer, what the person sees).
CLIP_FORMATS = {"gif": ("gif", "GIF"), "mp4": ("mp4", "MP4"), "webm": ("matroska", "WebM")}
#: Frames per second assumed for a clip that does not say.
DEFAULT_FPS = 10.0


class VideoInputError(ValueError):
    """A clip that cannot be used; the message is one sentence a page can show as it is."""


class UnsupportedVideoError(VideoInputError):
    """A file that is not a GIF, MP4 or WebM clip."""


class CorruptVideoError(VideoInputError):
    """A GIF, MP4 or WebM file whose data cannot be decoded (truncated or damaged)."""


class EmptyVideoError(VideoInputError):
    """A clip with no video frames."""


class VideoTooLargeError(VideoInputError):
    """A clip past the limits (bytes, seconds, frames or frame size).

    Attributes:
        frames_decoded: how many frames were decoded before it was refused (0: from the header).
    """

    def __init__(self, message: str, frames_decoded: int = 0) -> None:
        super().__init__(message)
        self.frames_decoded = frames_decoded


@dataclass(frozen=True)
class ClipLimits:
    """What :func:`read_clip` accepts (the defaults are the module's constants)."""

    max_bytes: int = MAX_BYTES
    max_seconds: float = MAX_SECONDS
    max_frames: int = MAX_FRAMES
    max_side: int = MAX_SIDE


@dataclass(frozen=True)
class Clip:
    """A decoded clip.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB, the longer side at most the ``frame_side`` it was read with.
        fps: frames per second (the stream's average rate, else :data:`DEFAULT_FPS`).
        times: (T,) float64 seconds of each frame from the clip's start.
        format: "gif", "mp4" or "webm".
        source_size: ``(width, height)`` of the frames in the file.
    """

    frames: np.ndarray
    fps: float
    times: np.ndarray
    format: str
    source_size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def seconds(self) -> float:
        """The clip's length: the last frame's time plus one frame."""
        return float(self.times[-1]) + 1.0 / self.fps if len(self.times) else 0.0


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MB"


def video_format(data: bytes) -> str:
    """"gif", "mp4" or "webm", told from the file's first bytes (MOV counts as MP4, Matroska as WebM).

    Raises:
        UnsupportedVideoError: anything else (an empty file, a picture, a sound, an AVI).
    """
    head = bytes(data[:12])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if not head:
        raise UnsupportedVideoError(_("The file is empty."))
    raise UnsupportedVideoError(_("This file is not a GIF, MP4 or WebM clip; those are the video formats read here."))


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    """``(width, height)`` shrunk so the longer side is at most ``side`` (even sizes are not needed here)."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def read_clip(data: bytes, limits: ClipLimits = ClipLimits(), frame_side: int = FRAME_SIDE) -> Clip:
    """Decode a short GIF, MP4 or WebM clip into RGB frames (see the module docstring).

    Args:
        data: the file's bytes.
        limits: what is accepted (the module's constants by default).
        frame_side: frames are shrunk while decoding so that their longer side is at most this.

    Returns:
        :class:`Clip`.

    Raises:
        UnsupportedVideoError: not a GIF, MP4 or WebM file.
        VideoTooLargeError: past a limit: from the file's size or header before decoding, else as
            soon as a decoded frame passes one (``frames_decoded`` says how far it got).
        CorruptVideoError: damaged or truncated data.
        EmptyVideoError: no video stream, or no frame in it.
    """
    import av

    if len(data) > limits.max_bytes:
        raise VideoTooLargeError(_("The file is {size}; clips of at most {limit} are read here.").format(
            size=_megabytes(len(data)), limit=_megabytes(limits.max_bytes)))
    kind = video_format(data)
    name = CLIP_FORMATS[kind][1]
    try:
        container = av.open(io.BytesIO(data), mode="r", format=CLIP_FORMATS[kind][0])
    except av.error.FFmpegError:
        raise CorruptVideoError(_("This {format} file's data cannot be read; it may be damaged or cut short.").format(
            format=name)) from None
    with container:
        if not container.streams.video:
            raise EmptyVideoError(_("This {format} file holds no video.").format(format=name))
        stream = container.streams.video[0]
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if width < 1 or height < 1:
            raise CorruptVideoError(_("This {format} file does not say how large its frames are; it may be "
                                      "damaged.").format(format=name))
        if max(width, height) > limits.max_side:
            raise VideoTooLargeError(_("The frames are {width} × {height} pixels; clips of at most {side} pixels a "
                                       "side are read here.").format(width=width, height=height,
                                                                     side=limits.max_side))
        seconds = None
        if container.duration is not None and container.duration > 0:
            seconds = container.duration / 1_000_000
        elif stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        if seconds is not None and seconds > limits.max_seconds + 1e-6:
            raise VideoTooLargeError(_("The clip lasts {seconds:.1f} seconds; clips of at most {limit:g} seconds are "
                                       "read here.").format(seconds=seconds, limit=limits.max_seconds))
        if stream.frames and stream.frames > limits.max_frames:
            raise VideoTooLargeError(_("The clip has {frames} frames; clips of at most {limit} frames are read "
                                       "here.").format(frames=stream.frames, limit=limits.max_frames))
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate and 0 < float(rate) <= 1000 else DEFAULT_FPS
        out_w, out_h = _fit(width, height, frame_side)
        stream.thread_type = "AUTO"
        frames, times = [], []
        try:
            for frame in container.decode(stream):
                if len(frames) >= limits.max_frames:
                    raise VideoTooLargeError(_("The clip has more than {limit} frames; clips of at most {limit} "
                                               "frames are read here.").format(limit=limits.max_frames), len(frames))
                at = frame.time if frame.time is not None else len(frames) / fps
                if times and at > limits.max_seconds + 1e-6:
                    raise VideoTooLargeError(_("The clip lasts more than {limit:g} seconds; clips of at most "
                                               "{limit:g} seconds are read here.").format(limit=limits.max_seconds),
                                             len(frames))
                if (frame.width, frame.height) != (width, height):  # a size change mid-clip: keep the first size
                    frame = frame.reformat(width=width, height=height)
                frames.append(frame.to_ndarray(format="rgb24", width=out_w, height=out_h))
                times.append(float(at))
        except av.error.FFmpegError:
            raise CorruptVideoError(_("This {format} file's data cannot be decoded after frame {frame}; it may "
                                      "be damaged or cut short.").format(format=name, frame=len(frames))) from None
    if not frames:
        raise EmptyVideoError(_("This {format} clip has no frames.").format(format=name))
    times = np.asarray(times, np.float64)
    times -= times[0]
    return Clip(frames=np.stack(frames), fps=fps, times=times, format=kind, source_size=(width, height))


def write_clip(frames, fps: float, format: str = "mp4") -> bytes:
    """The frames as an MP4 (H.264, yuv420p, plays in browsers) or an animated GIF, as bytes.

    Args:
        frames: (T, H, W, 3) uint8 RGB (an odd side is padded by one pixel for H.264).
        fps: frames per second.
        format: "mp4" (PyAV) or "gif" (Pillow; GIF times frames in hundredths of a second).

    Raises:
        ValueError: no frames, frames of another shape, a non-positive rate or another format.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames) or frames.dtype != np.uint8:
        raise ValueError(f"Expected frames of shape (T, H, W, 3) uint8 with T >= 1. "
                         f"Received: shape {frames.shape}, dtype {frames.dtype}")
    if not fps > 0:
        raise ValueError(f"Expected `fps` > 0. Received: fps={fps!r}")
    if format == "gif":
        from PIL import Image

        # Octree palettes, one a frame, no dithering: several times faster than Pillow's default for
        # noisy frames, and the skeletons' flat colours survive it.
        pictures = [Image.fromarray(f).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
                    for f in frames]
        out = io.BytesIO()
        pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=max(20, round(1000 / fps / 10) * 10), loop=0)
        return out.getvalue()
    if format != "mp4":
        raise ValueError(f"Expected `format` to be one of ('mp4', 'gif'). Received: format={format!r}")
    import av

    height, width = frames.shape[1:3]
    pad = ((0, 0), (0, height % 2), (0, width % 2), (0, 0))
    if height % 2 or width % 2:
        frames = np.pad(frames, pad, mode="edge")
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001),
                                      options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for picture in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")))
        container.mux(stream.encode())
    return out.getvalue()


# --- The bundled clip: people of the `people` dataset walking --------------------------------------

#: One walking cycle (two steps), in frames.
STEP_CYCLE = 16
#: Each walker's path: start and end x, the range of its feet's y, the range of its height (fractions of the side).
_WALKS = ((0.44, 0.20, (0.86, 0.93), (0.42, 0.55)), (0.56, 0.80, (0.86, 0.93), (0.42, 0.55)),
          (0.12, 0.88, (0.60, 0.66), (0.28, 0.34)), (0.88, 0.12, (0.52, 0.58), (0.26, 0.32)))


def walking_angles(phase: float) -> dict:
    """The limbs' angles of a walking figure at ``phase`` (radians) of its cycle.

    The two sides swing half a cycle apart, each arm against its own side's leg, within the
    ``people`` dataset's walking range (a striding thigh up to 20° out, the knee bending while the
    leg swings back), so :func:`~cv_core.keypoints.pose.posture` reads "standing" throughout.
    """
    sides = {}
    for side, shift in ((1, 0.0), (-1, math.pi)):
        swing = math.sin(phase + shift)
        thigh = 6.0 + 14.0 * swing
        shin = thigh - 14.0 * max(0.0, math.cos(phase + shift))
        upper = 20.0 - 12.0 * swing
        sides[side] = {"arm": (upper, upper + 18.0), "leg": (thigh, shin)}
    return sides


@dataclass(frozen=True)
class WalkingClip:
    """The bundled clip and its truth.

    Attributes:
        frames: (T, S, S, 3) uint8.
        people: per frame, the people in it (:class:`~cv_core.keypoints.KeypointInstance`, the
            ``people`` skeleton, visibility as the dataset's), in drawing order (back to front).
        identities: per frame, each person's identity (its index in the cast), in ``people``'s order.
        fps: frames per second.
        background: (S, S, 3) uint8, the frames' background before the people and the noise.
    """

    frames: np.ndarray
    people: list
    identities: list
    fps: float
    background: np.ndarray

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.frames)) / self.fps


def walking_clip(num_frames: int = 48, image_size: int = 128, num_people: int = 2, fps: float = 12.0, seed: int = 0,
                 difficulty: str = "easy") -> WalkingClip:
    """A generated clip of stick figures walking apart and across, with their joints in every frame.

    The figures are the ``people`` dataset's (:func:`cv_core.datasets.people.pose_figure` with
    :func:`walking_angles`, drawn with the same parts and colours), on one background of the
    chosen difficulty (a fixed camera) with fresh pixel noise each frame. The first two start
    near the middle and walk apart, left and right; a third and a fourth, further back (smaller,
    higher in the frame), cross the whole frame in opposite directions, passing behind the first
    two (their hidden joints get visibility 1). Each has its own height and phase of its walking
    cycle; the further ones are drawn first.

    Args:
        num_frames: frames (1 to :data:`MAX_FRAMES`).
        image_size: the square frame's side (32 to 512).
        num_people: 1 to 4.
        fps: frames per second.
        seed: the same arguments always give the same clip.
        difficulty: the background's "easy", "medium" or "hard" (clutter and noise; no bars).

    Returns:
        :class:`WalkingClip`.
    """
    from cv_core.datasets.drawing import composite, contrasting_colour, joint_visibility, owner_box, part_cover
    from cv_core.datasets.people import _figure_parts, pose_figure
    from cv_core.datasets.shapes import DIFFICULTIES, _background, draw_clutter

    if not (isinstance(num_frames, int) and 1 <= num_frames <= MAX_FRAMES):
        raise ValueError(f"Expected `num_frames` in [1, {MAX_FRAMES}]. Received: num_frames={num_frames!r}")
    if not (isinstance(image_size, int) and 32 <= image_size <= 512):
        raise ValueError(f"Expected `image_size` in [32, 512]. Received: image_size={image_size!r}")
    if not (isinstance(num_people, int) and 1 <= num_people <= 4):
        raise ValueError(f"Expected `num_people` in [1, 4]. Received: num_people={num_people!r}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"Expected `difficulty` to be one of {tuple(DIFFICULTIES)}. Received: {difficulty!r}")
    level = DIFFICULTIES[difficulty]
    size = image_size
    rng = np.random.default_rng([seed, 15, 5])
    background = draw_clutter(rng, _background(rng, size, level), level)
    cast = []
    for k in range(num_people):
        start, end, grounds, heights = _WALKS[k]
        height = size * rng.uniform(*heights)
        start, end = size * start, size * end
        ground = size * rng.uniform(*grounds)  # where the feet are
        cast.append({"height": height, "start": start, "end": end, "ground": ground,
                     "phase": rng.uniform(0, 2 * math.pi), "lean": rng.uniform(-4, 4),
                     "width": max(1.2, height * rng.uniform(0.04, 0.06)), "head_seed": int(rng.integers(1 << 30)),
                     "colour": contrasting_colour(rng, background[int(ground) - 1, int(np.clip(start, 0, size - 1))])})
    order = sorted(range(num_people), key=lambda k: cast[k]["height"])  # further (smaller) people first
    frames, truths, identities = [], [], []
    for t in range(num_frames):
        progress = t / max(1, num_frames - 1)
        image = background.astype(np.float32)
        instance = np.full((size, size), -1, np.int32)
        placed = []
        for depth, k in enumerate(order):
            person = cast[k]
            phase = person["phase"] + 2 * math.pi * t / STEP_CYCLE
            figure = pose_figure("walking", person["height"], person["lean"],
                                 np.random.default_rng(person["head_seed"]), angles=walking_angles(phase))
            bob = 0.012 * person["height"] * abs(math.cos(phase))
            feet = float(figure["points"][:, 1].max())
            at = np.array([person["start"] + (person["end"] - person["start"]) * progress,
                           person["ground"] - feet - bob])
            own = np.zeros((size, size), np.float32)
            for parts in _figure_parts(figure, at, person["height"], person["width"]):
                cover = part_cover(size, parts)
                image = composite(image, cover, person["colour"])
                own = np.maximum(own, cover)
            instance[own >= 0.5] = depth
            placed.append((k, figure["points"] + at, own >= 0.5))
        noise = np.random.default_rng([seed, 15, 6, t])
        image = image + noise.normal(0, noise.uniform(*level.noise), size=image.shape)
        frames.append(np.clip(np.rint(image), 0, 255).astype(np.uint8))
        people, ids = [], []
        for depth, (k, points, own) in enumerate(placed):
            box, area = owner_box(instance, depth, own)
            people.append(KeypointInstance(points=points.astype(np.float32),
                                           visibility=joint_visibility(points, instance, depth), box=box, area=area,
                                           posture="standing", articulation="walking",
                                           orientation=float(cast[k]["lean"])))
            ids.append(k)
        truths.append(people)
        identities.append(ids)
    return WalkingClip(frames=np.stack(frames), people=truths, identities=identities, fps=float(fps),
                       background=np.clip(np.rint(background), 0, 255).astype(np.uint8))


# --- Following people from frame to frame ----------------------------------------------------------

def _oks_matrix(points: np.ndarray, labelled: np.ndarray, tracks: np.ndarray, track_labelled: np.ndarray,
                areas: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """COCO's OKS of N poses against M tracks over the joints both label: (N, M), 0 where none is shared.

    Args:
        points: (N, K, 2); labelled: (N, K) bool; tracks: (M, K, 2); track_labelled: (M, K) bool;
        areas: (M,) the tracks' areas (OKS's scale); sigmas: (K,).
    """
    d2 = ((points[:, None] - tracks[None]) ** 2).sum(axis=-1)  # (N, M, K)
    scale = 2 * np.maximum(areas, 1.0)[None, :, None] * ((2 * sigmas) ** 2)[None, None, :]
    both = labelled[:, None, :] & track_labelled[None, :, :]
    count = both.sum(axis=-1)
    total = np.where(both, np.exp(-d2 / scale), 0.0).sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


@dataclass
class _Track:
    identity: int
    points: np.ndarray  # (K, 2) last seen
    labelled: np.ndarray  # (K,) bool
    area: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))  # pixels per frame
    last_frame: int = 0


class PoseTracker:
    """Gives each person found in a frame an identity that stays the same from frame to frame.

    A track predicts where its person is now from where it was last seen and its last move
    (constant velocity over the frames it was missed). Each new person is scored against every
    live track by OKS (the track's area as the scale, the skeleton's sigmas); pairs are taken
    greedily, best first, as long as their OKS is at least ``min_similarity``; a person left
    over starts a new track (the next integer). A track unseen for more than ``max_gap`` frames
    ends.

    Args:
        sigmas: (K,) the skeleton's OKS sigmas.
        min_similarity: the lowest OKS that continues a track.
        max_gap: frames a track may go unseen and still be continued.
    """

    def __init__(self, sigmas, min_similarity: float = 0.1, max_gap: int = 8) -> None:
        self.sigmas = np.asarray(sigmas, np.float64)
        self.min_similarity = float(min_similarity)
        self.max_gap = int(max_gap)
        self.frame = -1
        self.next_id = 0
        self.tracks: list[_Track] = []

    def update(self, people: list) -> list[int]:
        """The identities of one frame's people (:class:`KeypointInstance` objects), in their order."""
        self.frame += 1
        self.tracks = [t for t in self.tracks if self.frame - t.last_frame <= self.max_gap]
        pairs = []
        if people and self.tracks:
            points = np.stack([np.asarray(p.points, np.float64) for p in people])
            labelled = np.stack([np.asarray(p.visibility) > 0 for p in people])
            predicted = np.stack([t.points + t.velocity * (self.frame - t.last_frame) for t in self.tracks])
            similarity = _oks_matrix(points, labelled, predicted, np.stack([t.labelled for t in self.tracks]),
                                     np.array([t.area for t in self.tracks]), self.sigmas)
            rows, cols = np.nonzero(similarity >= self.min_similarity)
            order = np.argsort(-similarity[rows, cols], kind="stable")
            pairs = [(float(similarity[rows[n], cols[n]]), int(rows[n]), int(cols[n])) for n in order]
        ids: list[int | None] = [None] * len(people)
        used = set()
        for _score, i, j in pairs:  # best first
            if ids[i] is None and j not in used:
                ids[i], used = self.tracks[j].identity, used | {j}
                self._move(self.tracks[j], people[i])
        for i, person in enumerate(people):
            if ids[i] is None:
                ids[i] = self.next_id
                self.next_id += 1
                self.tracks.append(_Track(ids[i], np.asarray(person.points, np.float64),
                                          np.asarray(person.visibility) > 0, _area(person), last_frame=self.frame))
        return [int(i) for i in ids]

    def _move(self, track: _Track, person) -> None:
        points, labelled = np.asarray(person.points, np.float64), np.asarray(person.visibility) > 0
        both = labelled & track.labelled
        if both.any():
            gap = self.frame - track.last_frame
            track.velocity = (points[both] - track.points[both]).mean(axis=0) / gap
        track.points = np.where(labelled[:, None], points, track.points)
        track.labelled = labelled | track.labelled
        track.area, track.last_frame = _area(person), self.frame


def _area(person) -> float:
    if person.area and person.area > 0:
        return float(person.area)
    points = np.asarray(person.points)[np.asarray(person.visibility) > 0]
    if len(points) < 2:
        return 1.0
    extent = points.max(axis=0) - points.min(axis=0)
    return float(max(extent[0] * extent[1], 1.0))


def track_people(people_per_frame: list, sigmas, min_similarity: float = 0.1, max_gap: int = 8) -> list:
    """:class:`PoseTracker` over a whole clip: one list of identities per frame, in each frame's order."""
    tracker = PoseTracker(sigmas, min_similarity, max_gap)
    return [tracker.update(people) for people in people_per_frame]


# --- Finding people in every frame -----------------------------------------------------------------

def letterbox_frames(frames, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Frames scaled to fit ``size`` (height, width) with their aspect kept, centred on black.

    Returns:
        ``(batch (T, H, W, 3) float32 in [0, 255], scale, (x offset, y offset))``: a point in the
        batch maps back to the frame as ``(p - offset) / scale``.
    """
    from PIL import Image

    frames = np.asarray(frames)
    height, width = frames.shape[1:3]
    out_h, out_w = size
    scale = min(out_w / width, out_h / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    x0, y0 = (out_w - new_w) // 2, (out_h - new_h) // 2
    batch = np.zeros((len(frames), out_h, out_w, 3), np.float32)
    for i, frame in enumerate(frames):
        picture = frame if (new_w, new_h) == (width, height) else \
            np.asarray(Image.fromarray(frame).resize((new_w, new_h), Image.Resampling.BILINEAR))
        batch[i, y0:y0 + new_h, x0:x0 + new_w] = picture
    return batch, float(new_w / width), (float(x0), float(y0))


@dataclass
class VideoPoses:
    """The people found in a clip's frames, followed from frame to frame.

    Attributes:
        people: per frame, :class:`~cv_core.keypoints.KeypointInstance` objects in the frame's
            pixels, best score first, with ``posture`` and ``orientation`` read from their joints.
        track_ids: per frame, each person's identity, in ``people``'s order.
        num_joints: K.
        seconds: time spent finding and following them (the model, decoding, tracking).
        total_frames: frames in the clip (``len(people)`` is how many were processed).
    """

    people: list
    track_ids: list
    num_joints: int
    seconds: float
    total_frames: int

    @property
    def complete(self) -> bool:
        return len(self.people) == self.total_frames

    @property
    def frames_per_second(self) -> float:
        return len(self.people) / self.seconds if self.seconds > 0 else float("nan")

    def tracks(self) -> dict[int, np.ndarray]:
        """Each identity's joints over the processed frames (:func:`joint_tracks`)."""
        return joint_tracks(self.people, self.track_ids, self.num_joints)


def joint_tracks(people_per_frame: list, ids_per_frame: list, num_joints: int) -> dict[int, np.ndarray]:
    """Each identity's joints frame by frame: ``{id: (T, K, 2)}``, NaN where it is not in the frame.

    Works for found people (:class:`VideoPoses`) and a clip's truth (:class:`WalkingClip`) alike.
    """
    out: dict[int, np.ndarray] = {}
    for t, (people, ids) in enumerate(zip(people_per_frame, ids_per_frame)):
        for person, identity in zip(people, ids):
            if identity not in out:
                out[identity] = np.full((len(people_per_frame), num_joints, 2), np.nan, np.float32)
            out[identity][t] = person.points
    return dict(sorted(out.items()))


def _describe(person: KeypointInstance, skeleton) -> KeypointInstance:
    from cv_core.keypoints.pose import person_orientation, posture

    visible = np.asarray(person.visibility) > 0
    return replace(person, posture=posture(person.points, visible, skeleton),
                   orientation=person_orientation(person.points, visible, skeleton))


class VideoPoseFinder:
    """Finds and follows people in a clip a batch of frames at a time, so a page can show progress,
    stop, and take up again where it stopped.

    Args:
        model: a keypoint model from :mod:`cv_core.keypoints.models` (its input size is read from it).
        frames: (T, H, W, 3) uint8, letterboxed to the model's input batch by batch.
        skeleton: the model's skeleton (its joints count must be the model's).
        score_threshold: people scoring at most this are dropped (as :func:`filter_keypoints`).
        batch_size: frames per forward pass.
        min_similarity, max_gap: the :class:`PoseTracker`'s.
    """

    def __init__(self, model, frames, skeleton, score_threshold: float = 0.3, batch_size: int = 8,
                 min_similarity: float = 0.1, max_gap: int = 8) -> None:
        from cv_core.keypoints.models import keypoint_model_geometry

        geometry = keypoint_model_geometry(model)
        if geometry.num_joints != skeleton.num_joints:
            raise ValueError(f"Expected a model with the skeleton's {skeleton.num_joints} joints. "
                             f"Received: a model with {geometry.num_joints}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"Expected `batch_size` to be an integer >= 1. Received: batch_size={batch_size!r}")
        self.model, self.frames, self.skeleton = model, np.asarray(frames), skeleton
        self.input_size = geometry.image_size
        self.score_threshold, self.batch_size = score_threshold, batch_size
        self.tracker = PoseTracker(skeleton.sigmas, min_similarity, max_gap)
        self.people: list = []
        self.track_ids: list = []
        self.seconds = 0.0

    @property
    def done(self) -> int:
        return len(self.people)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.frames)

    def step(self) -> int:
        """Process the next batch of frames; returns how many frames are done."""
        from cv_core.keypoints.decode import filter_keypoints, predict_raw_keypoints

        if self.finished:
            return self.done
        start = time.perf_counter()
        chunk = self.frames[self.done:self.done + self.batch_size]
        batch, scale, (x0, y0) = letterbox_frames(chunk, self.input_size)
        found = filter_keypoints(predict_raw_keypoints(self.model, batch), self.score_threshold)
        height, width = self.frames.shape[1:3]
        limit = np.array([width, height], np.float32)
        shift = np.array([x0, y0], np.float32)
        for people in found:
            placed = []
            for person in people:
                points = np.clip((person.points - shift) / scale, 0, limit).astype(np.float32)
                bx0, by0, bx1, by1 = person.box
                box = (max(0.0, (bx0 - x0) / scale), max(0.0, (by0 - y0) / scale),
                       min(float(width), (bx1 - x0) / scale), min(float(height), (by1 - y0) / scale))
                placed.append(_describe(replace(person, points=points, box=box, area=person.area / scale ** 2),
                                        self.skeleton))
            self.people.append(placed)
            self.track_ids.append(self.tracker.update(placed))
        self.seconds += time.perf_counter() - start
        return self.done

    def result(self) -> VideoPoses:
        """What has been found so far (``complete`` once every frame is done)."""
        return VideoPoses(people=list(self.people), track_ids=list(self.track_ids),
                          num_joints=self.skeleton.num_joints, seconds=self.seconds, total_frames=len(self.frames))


def find_poses(model, frames, skeleton, score_threshold: float = 0.3, batch_size: int = 8,
               on_progress=None) -> VideoPoses:
    """Find and follow people in every frame (:class:`VideoPoseFinder` to the end).

    Args:
        on_progress: called as ``on_progress(done, total)`` after each batch; returning False stops
            early (the result then holds the frames done).
    """
    finder = VideoPoseFinder(model, frames, skeleton, score_threshold, batch_size)
    while not finder.finished:
        done = finder.step()
        if on_progress is not None and on_progress(done, len(finder.frames)) is False:
            break
    return finder.result()


def identity_switches(people_per_frame: list, ids_per_frame: list, truth_per_frame: list, truth_ids_per_frame: list,
                      sigmas, min_oks: float = 0.5) -> dict:
    """How well identities were kept, against a clip's truth (MOT's identity switches).

    In each frame the found people are paired with the true ones as COCO pairs them
    (:func:`~cv_core.keypoints.match_instances`, best score first, OKS above ``min_oks``); a true
    person whose paired identity differs from the one it was last paired with is a switch.

    Returns:
        ``{"switches": int, "paired": int, "true": int}``: switches, true person-frames paired, and
        true person-frames with a labelled joint.
    """
    from cv_core.keypoints.metrics import match_instances

    last: dict = {}
    switches = paired = true = 0
    for people, ids, truths, truth_ids in zip(people_per_frame, ids_per_frame, truth_per_frame, truth_ids_per_frame):
        counted = [n for n, t in enumerate(truths) if (np.asarray(t.visibility) > 0).any()]
        true += len(counted)
        if not people or not counted:
            continue
        pairs = match_instances([p.as_prediction() for p in people], [truths[n].as_truth() for n in counted], sigmas,
                                min_oks)
        for found, index, _score in pairs:
            who = truth_ids[counted[index]]
            paired += 1
            if who in last and last[who] != ids[found]:
                switches += 1
            last[who] = ids[found]
    return {"switches": switches, "paired": paired, "true": true}


# --- Drawing ---------------------------------------------------------------------------------------

#: One colour per identity (cycled): Tableau's ten.
TRACK_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
                 (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def track_colour(identity: int) -> tuple[int, int, int]:
    """The RGB colour of an identity (the same in the drawing and the chart)."""
    return TRACK_COLOURS[int(identity) % len(TRACK_COLOURS)]


def draw_poses(frame, people: list, skeleton, ids=None, scale: int = 1) -> np.ndarray:
    """A frame with each person's skeleton drawn over it.

    Edges are lines over a dark outline, joints dots (a hidden or unconfirmed joint, visibility
    1, is a ring); each person in its identity's colour (:func:`track_colour`; without ``ids``,
    its place in the list), with its identity written by its head.

    Args:
        frame: (H, W, 3) uint8.
        people: :class:`~cv_core.keypoints.KeypointInstance` objects in the frame's pixels.
        skeleton: gives the edges.
        ids: one identity per person, or None.
        scale: draw on a frame enlarged this many times (sharper lines on a small frame).

    Returns:
        (H·scale, W·scale, 3) uint8.
    """
    from PIL import Image, ImageDraw

    picture = Image.fromarray(np.asarray(frame, np.uint8))
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)
    side = max(picture.width, picture.height)
    width = max(1, round(side / 160))
    radius = max(1.5, side / 110)
    for n, person in enumerate(people):
        colour = track_colour(ids[n] if ids is not None else n)
        points = np.asarray(person.points, np.float64) * scale
        labelled = np.asarray(person.visibility) > 0
        for a, b in skeleton.edges:
            if labelled[a] and labelled[b]:
                line = [tuple(points[a]), tuple(points[b])]
                draw.line(line, fill=(0, 0, 0), width=width + 2)
                draw.line(line, fill=colour, width=width)
        for j, (x, y) in enumerate(points):
            if not labelled[j]:
                continue
            box = [x - radius, y - radius, x + radius, y + radius]
            if person.visibility[j] >= 2:
                draw.ellipse(box, fill=colour, outline=(0, 0, 0))
            else:
                draw.ellipse(box, fill=None, outline=colour, width=max(1, width))
        if ids is not None and labelled.any():
            top = points[labelled][np.argmin(points[labelled][:, 1])]
            outline, letters = _label_masks(str(ids[n]), max(10, round(side / 28)))
            at = (int(top[0] + radius + 1), int(max(0.0, top[1] - 3 * radius)))
            picture.paste((0, 0, 0), at, outline)
            picture.paste(colour, at, letters)
    return np.asarray(picture)


@functools.lru_cache(maxsize=128)
def _label_masks(text: str, size: int):
    """An identity's number as two masks, its dark outline and its letters (rendered once, then pasted:
    rendering text is most of the drawing's cost when many people are drawn)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size)
    left, top, right, bottom = font.getbbox(text, stroke_width=1)
    extent, origin = (right - left + 2, bottom - top + 2), (1 - left, 1 - top)
    outline, letters = Image.new("L", extent, 0), Image.new("L", extent, 0)
    ImageDraw.Draw(outline).text(origin, text, fill=255, font=font, stroke_width=1, stroke_fill=255)
    ImageDraw.Draw(letters).text(origin, text, fill=255, font=font)
    return outline, letters


def annotate_clip(frames, people_per_frame: list, ids_per_frame: list | None, skeleton, scale: int = 1) -> np.ndarray:
    """Every frame with its people drawn (:func:`draw_poses`); frames past the lists are drawn bare.

    Returns:
        (T, H·scale, W·scale, 3) uint8, as many frames as ``frames``.
    """
    out = []
    for t, frame in enumerate(frames):
        people = people_per_frame[t] if t < len(people_per_frame) else []
        ids = ids_per_frame[t] if ids_per_frame is not None and t < len(ids_per_frame) else None
        out.append(draw_poses(frame, people, skeleton, ids, scale))
    return np.stack(out)
