"""Keypoint speed, as ratios measured in the same run: decoding against the forward pass, and scoring.

Usage: python bench/keypoints.py [--image-size 96] [--batch-size 1] [--repeats 60]
                                 [--only decoding|scoring|video|page|landmarks] [--video-frames 48] [--model PATH]
                                 [--seeds 0 1 2] [--runs-root DIR]

**Decoding** (issue 15: at most 15% of the model's forward pass). A page runs the pose model
once per picture and redraws the skeletons on every move of the score slider. For one picture
at the Quick preset's size, with the pose model the Quick preset trains
(:func:`cv_core.keypoints.build_pose_model`, 14 joints):

* **forward**: the model called inside a ``tf.function``, its six outputs fetched as numpy;
* **predict_raw**: :func:`cv_core.keypoints.decode.predict_raw_keypoints`, the same compiled
  forward pass, then the candidates in numpy (centre peaks, boxes, regressed joints, each joint
  heatmap's peaks) and the snapping: what a page runs once per picture; its extra time over
  **forward** is decoding's share;
* **filter**: :func:`cv_core.keypoints.decode.filter_keypoints` at the page's default threshold
  0.3 (a slider move), on the candidates of a perfect model for a people picture (its targets
  decoded: a few people pass) and on the untrained model's (threshold 0: all 20 pass);
* **decode** = (predict_raw - forward) + filter.

Steps are timed round by round, interleaved (this VM's speed drifts); each ratio is the median
over rounds of that round's ratio, and the ratio of the fastest times.

**Scoring** (``--only scoring``): what the per-epoch callback costs per scored picture beyond its
forward pass (the pose decoding, COCO keypoint AP, PCK), the number behind the task's
``seconds_per_scored_image``: :func:`cv_core.keypoints.evaluate.evaluate_keypoint_model` on 64
people pictures against the same pictures' forward pass alone.

**Pose in video** (``--only video``; issue 15: at least 10 frames a second on this 2-core CPU).
The built-in walking clip (:func:`cv_core.keypoints.video.walking_clip`, 48 frames of 128 px, 3 people),
written as MP4, through the whole pipeline a page runs, with the Quick preset's pose model at
128 px (untrained: speed does not depend on the weights): **decode** (:func:`read_clip`),
**pose** (:func:`find_poses`: letterbox, forward pass, decoding, tracking, posture; batches of 8;
threshold 0, so all 20 candidates a frame are followed and drawn: the worst case; at the page's
0.3 the untrained model keeps nobody, which times the model, decoding and letterboxing alone),
**draw** (:func:`annotate_clip`) and **encode** (:func:`write_clip`, MP4; the GIF fallback and the
page's 3x enlarged drawing are timed beside it). The steps take turns round after round; frames
a second = 48 / the round's decode + pose + draw + encode, median over rounds, and each step's
share of the round; the forward pass alone is timed in the same rounds, for the pipeline's ratio to it.
``--model run/best.keras`` times a trained model instead (at its own input size, threshold 0.3) and
scores it against the clip's truth: keypoint AP, PCK@0.2, identities and identity switches.

**The page** (``--only page``; issue 15: a picture to skeletons on screen, warm, in under 0.5 s at
the default size). What the Keypoints and pose page does for a new picture, once the model is
loaded and traced, step by step as ``ui/keypoints.py`` and ``pages/keypoints.py`` call them:
the picture resized to the model's input, one forward pass kept as numpy
(:func:`cv_core.keypoints.predict_keypoint_outputs`), the candidates
(:func:`cv_core.keypoints.raw_keypoints`), the threshold (:func:`filter_keypoints`), each person's
pose (:func:`read_pose`), the comparison with the truth (:func:`compare_with_truth`), the three
figures (skeletons, against the truth, a joint's heatmap) and their JSON, which is what
``st.plotly_chart`` sends to the browser. Against the forward pass alone, interleaved rounds,
medians. A slider move is the same without the forward pass and the candidates.

**Heatmaps against regression on the landmarks** (``--only landmarks``, not part of the default
run: it trains). The two single-object models, each trained through the run worker
(:func:`cv_core.runs.worker.run_training`) with :func:`landmark_spec` once per seed; per model,
the best validation keypoint AP and PCK@0.2, and the test split's, as mean ± standard deviation
over the seeds, and each joint's mean error. Issue 15's goal: heatmaps beat regression by more
than the spread of three seeds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.datasets import open_dataset  # noqa: E402
from cv_core.keypoints import PEOPLE  # noqa: E402
from cv_core.keypoints.decode import filter_keypoints, predict_raw_keypoints, raw_keypoints  # noqa: E402
from cv_core.keypoints.models import build_pose_model  # noqa: E402
from cv_core.keypoints.targets import encode_pose_targets, instance_arrays, targets_as_outputs  # noqa: E402

FILTERS = (16, 32, 64, 128)


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _model(side: int):
    return build_pose_model((side, side), PEOPLE.num_joints, FILTERS, head_width=32)


def decoding(args) -> dict[str, float]:
    """Decoding against the forward pass (see the module docstring); returns the median ratios."""
    import tensorflow as tf

    side = args.image_size
    model = _model(side)
    dataset = open_dataset("people", image_size=side, validation_size=8, difficulty="medium")
    samples = dataset.samples("validation", count=args.batch_size)
    images = np.stack([s.image for s in samples]).astype(np.float32)
    compiled = tf.function(lambda x: model(x, training=False),
                           input_signature=[tf.TensorSpec((None, side, side, 3), tf.float32)])
    perfect = [targets_as_outputs(encode_pose_targets(*instance_arrays(s.keypoints, PEOPLE.num_joints),
                                                      (side, side), 4)) for s in samples]
    realistic = raw_keypoints({k: np.stack([p[k] for p in perfect]) for k in perfect[0]}, 4)
    worst = predict_raw_keypoints(model, images)
    steps = {
        "forward": lambda: {k: v.numpy() for k, v in compiled(images).items()},
        "predict_raw": lambda: predict_raw_keypoints(model, images),
        "filter, realistic, 0.3": lambda: filter_keypoints(realistic, 0.3),
        "filter, worst case, 0.0": lambda: filter_keypoints(worst, 0.0),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(5 + args.repeats):
        for name, step in steps.items():
            elapsed = seconds(step)
            if round_ >= 5:
                times[name].append(elapsed)
    raw_step = [p - f for p, f in zip(times["predict_raw"], times["forward"])]
    times["decode, realistic"] = [r + f for r, f in zip(raw_step, times["filter, realistic, 0.3"])]
    times["decode, worst case"] = [r + f for r, f in zip(raw_step, times["filter, worst case, 0.0"])]
    fastest_raw_step = max(0.0, min(times["predict_raw"]) - min(times["forward"]))
    people = [len(p) for p in filter_keypoints(realistic, 0.3)]
    print(f"Pose model {side} px, {model.count_params():,} parameters, batch {args.batch_size}; people kept "
          f"(realistic): {people}; {args.repeats} interleaved rounds")
    print()
    print("| step | median ms | fastest ms | ratio to forward, median of rounds | ratio to forward, fastest |")
    print("|---|---:|---:|---:|---:|")
    forward = times["forward"]
    ratios = {}
    for name, values in times.items():
        ratio = statistics.median(v / f for v, f in zip(values, forward))
        ratios[name] = ratio
        fastest = min(values)
        if name.startswith("decode"):  # the fastest raw step plus the fastest filter, not the smallest difference
            fastest = fastest_raw_step + min(times["filter, realistic, 0.3" if "realistic" in name
                                                 else "filter, worst case, 0.0"])
        print(f"| {name} | {1000 * statistics.median(values):.2f} | {1000 * fastest:.2f} | {ratio:.3f} | "
              f"{fastest / min(forward):.3f} |")
    print()
    verdict = "meets" if max(ratios["decode, realistic"], ratios["decode, worst case"]) <= 0.15 else "misses"
    print(f"Decoding costs {ratios['decode, realistic']:.1%} (realistic) and {ratios['decode, worst case']:.1%} "
          f"(worst case) of the forward pass: {verdict} the 15% goal.")
    return ratios


def scoring(args) -> float:
    """Seconds per scored picture beyond the forward pass (see the module docstring)."""
    from cv_core.keypoints.evaluate import evaluate_keypoint_model, keypoint_samples

    side = args.image_size
    model = _model(side)
    dataset = open_dataset("people", image_size=side, validation_size=64, difficulty="easy")
    images, truths = keypoint_samples(dataset, "validation", (side, side))
    batch = 16
    forward = lambda: [model.predict_on_batch(images[i:i + batch].astype(np.float32))  # noqa: E731
                       for i in range(0, len(images), batch)]
    scored = lambda: evaluate_keypoint_model(model, images, truths, PEOPLE, batch_size=batch)  # noqa: E731
    forward(), scored()
    extra = []
    for _ in range(args.repeats // 10 + 3):
        a, b = seconds(forward), seconds(scored)
        extra.append((b - a) / len(images))
    value = statistics.median(extra)
    print(f"Scoring {len(images)} pictures at {side} px: {1000 * value:.2f} ms per picture beyond the forward pass "
          f"(median of {len(extra)} rounds)")
    return value


def video(args) -> float:
    """Frames a second through decode, pose, draw and encode (see the module docstring); returns the median."""
    import tensorflow as tf

    from cv_core.keypoints.video import annotate_clip, find_poses, letterbox_frames, read_clip, walking_clip, write_clip

    from cv_core.keypoints.models import keypoint_model_geometry

    side = 128
    trained = args.model is not None
    if trained:
        from cv_core.keypoints.models import load_keypoint_model

        model = load_keypoint_model(args.model, compile=False)
    else:
        model = _model(side)
    model_side = keypoint_model_geometry(model).image_size
    walking = walking_clip(num_frames=args.video_frames, image_size=side, num_people=args.video_people,
                           difficulty=args.video_difficulty)
    data = write_clip(walking.frames, walking.fps, "mp4")
    count = len(walking.frames)
    compiled = tf.function(lambda x: model(x, training=False),
                           input_signature=[tf.TensorSpec((None, *model_side, 3), tf.float32)])
    batch, _, _ = letterbox_frames(walking.frames, model_side)
    state: dict = {}
    # Untrained, threshold 0: every candidate (20 a frame) is followed and drawn, the worst case for tracking
    # and drawing. A trained model (--model) runs at the page's 0.3 and keeps the clip's people.
    threshold = 0.3 if trained else 0.0

    def pose():
        state["poses"] = find_poses(model, state["clip"].frames, PEOPLE, score_threshold=threshold, batch_size=8)

    def draw(scale=1):
        poses = state["poses"]
        state["drawn" if scale == 1 else "large"] = annotate_clip(state["clip"].frames, poses.people, poses.track_ids,
                                                                  PEOPLE, scale)

    steps = {
        "decode": lambda: state.update(clip=read_clip(data)),
        "pose": pose,
    }
    if not trained:
        steps["pose at threshold 0.3 (nobody kept: model, decoding, letterbox)"] = \
            lambda: find_poses(model, state["clip"].frames, PEOPLE, score_threshold=0.3, batch_size=8)
    steps |= {
        "draw": draw,
        "encode MP4": lambda: write_clip(state["drawn"], walking.fps, "mp4"),
        "forward only": lambda: [compiled(batch[i:i + 8]).popitem()[1].numpy() for i in range(0, count, 8)],
        "encode GIF": lambda: write_clip(state["drawn"], walking.fps, "gif"),
        "draw 3x (the page's)": lambda: draw(3),
        "encode MP4 3x (the page's)": lambda: write_clip(state["large"], walking.fps, "mp4"),
    }
    rounds = max(5, args.repeats // 6)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_ in range(2 + rounds):
        for name, step in steps.items():
            elapsed = seconds(step)
            if round_ >= 2:
                times[name].append(elapsed)
    pipeline = ("decode", "pose", "draw", "encode MP4")
    totals = [sum(times[name][r] for name in pipeline) for r in range(rounds)]
    page = [totals[r] - times["draw"][r] - times["encode MP4"][r] + times["draw 3x (the page's)"][r]
            + times["encode MP4 3x (the page's)"][r] for r in range(rounds)]
    people = [len(p) for p in state["poses"].people[:8]]
    print(f"Pose in video: {count} frames of {side} px ({args.video_people} people, {args.video_difficulty} "
          f"background), the pose model at {model_side[0]} px "
          f"({model.count_params():,} parameters, {'trained: ' + str(args.model) if trained else 'untrained'}; "
          f"threshold {threshold}; people kept in the first frames: {people}); {rounds} interleaved rounds")
    print()
    print("| step | median ms per frame | fastest ms per frame | share of decode + pose + draw + encode (median) |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        share = statistics.median(v / t for v, t in zip(values, totals))
        print(f"| {name} | {1000 * statistics.median(values) / count:.2f} | {1000 * min(values) / count:.2f} | "
              f"{share:.1%} |")
    fps = statistics.median(count / t for t in totals)
    page_fps = statistics.median(count / t for t in page)
    ratio = statistics.median(t / f for t, f in zip(totals, times["forward only"]))
    print()
    if trained:
        from cv_core.keypoints.evaluate import score_keypoints
        from cv_core.keypoints.video import identity_switches

        poses = find_poses(model, walking.frames, PEOPLE, score_threshold=0.01, batch_size=8)
        scores = score_keypoints(poses.people, walking.people, PEOPLE)
        shown = find_poses(model, walking.frames, PEOPLE, score_threshold=0.3, batch_size=8)
        kept = identity_switches(shown.people, shown.track_ids, walking.people, walking.identities, PEOPLE.sigmas)
        print(f"Against the clip's truth: keypoint AP {scores.ap:.3f}, AP50 {scores.ap50:.3f}, PCK@0.2 {scores.pck:.3f}"
              f"; at 0.3, {len(shown.tracks())} identities for {len(set(i for f in walking.identities for i in f))} "
              f"people, {kept['switches']} identity switches, {kept['paired']} of {kept['true']} true person-frames "
              f"paired (OKS > 0.5).")
    print(f"Decode + pose + draw + encode: {fps:.1f} frames a second (median; fastest round "
          f"{count / min(totals):.1f}); with the page's 3x drawing and its MP4, {page_fps:.1f}; the pipeline takes "
          f"{ratio:.2f}x the forward pass alone. Goal >= 10 frames a second: {'met' if fps >= 10 else 'missed'}.")
    return fps


def page(args) -> dict[str, float]:
    """Warm time from a picture to the page's figures, against the forward pass (see the module docstring)."""
    import plotly.io

    from cv_core.images import resize_image
    from cv_core.keypoints import compare_with_truth, predict_keypoint_outputs, read_pose, scale_instances
    from cv_core.overlays import upscale
    from cv_core.plots.keypoints import heatmap_figure, outcomes_figure, skeleton_figure

    side = args.image_size
    model = _model(side)
    people = open_dataset("people", image_size=160, difficulty="easy", validation_size=8)
    samples = [people.sample("validation", i) for i in range(8)]

    def forward(picture):
        predict_keypoint_outputs(model, resize_image(picture, (side, side)).astype(np.float32))

    def figures(found, truths, view, heatmaps):
        big = upscale(view, 384)
        scale = big.shape[0] / view.shape[0]
        poses = [read_pose(p.points, p.visibility, PEOPLE) for p in found]
        labels = [f"Person {i + 1}: {p.score:.2f}" for i, p in enumerate(found)]
        comparison = compare_with_truth(found, truths, PEOPLE)
        for fig in (skeleton_figure(big, found, PEOPLE, scale, poses, labels),
                    outcomes_figure(big, found, truths, comparison, PEOPLE, scale),
                    heatmap_figure(big, heatmaps[..., 0], 4, scale, [p.points[0] for p in found])):
            plotly.io.to_json(fig, validate=False)

    def whole(sample):
        view = resize_image(sample.image, (side, side))
        outputs = predict_keypoint_outputs(model, view.astype(np.float32))
        raw = raw_keypoints(outputs, 4, (side, side))
        (found,) = filter_keypoints(raw, 0.0)  # an untrained model: every candidate, the most to draw
        truths = scale_instances(sample.keypoints, sample.image.shape[:2], (side, side))
        figures(found, truths, view, outputs["joint_heatmap"][0])

    def slider(sample, raw, heatmaps, view, truths):
        (found,) = filter_keypoints(raw, 0.0)
        figures(found, truths, view, heatmaps)

    for sample in samples[:2]:  # warm: tracing, plotly's first figure
        whole(sample)
    prepared = []
    for sample in samples:
        view = resize_image(sample.image, (side, side))
        outputs = predict_keypoint_outputs(model, view.astype(np.float32))
        prepared.append((sample, raw_keypoints(outputs, 4, (side, side)), outputs["joint_heatmap"][0], view,
                         scale_instances(sample.keypoints, sample.image.shape[:2], (side, side))))
    times = {"forward": [], "picture to figures": [], "slider move": []}
    for round_ in range(max(3, args.repeats // 8)):
        for index, sample in enumerate(samples):
            times["forward"].append(seconds(lambda: forward(sample.image)))
            times["picture to figures"].append(seconds(lambda: whole(sample)))
            times["slider move"].append(seconds(lambda: slider(*prepared[index])))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"The page at {side} px (a 160 px people picture, every candidate drawn, 20 people), warm, medians of "
          f"{len(times['forward'])}:")
    for name, value in medians.items():
        print(f"  {name:>20}: {1000 * value:7.1f} ms")
    print(f"  picture to figures is {medians['picture to figures'] / medians['forward']:.1f}x the forward pass; "
          f"goal < 500 ms: {'met' if medians['picture to figures'] < 0.5 else 'missed'}")
    return medians


def landmark_spec(model: str, seed: int):
    """The spec of the landmarks comparison: 64 px faces (medium difficulty), 1,500 training pictures, 8 epochs."""
    from cv_core.runs import preset_spec

    return preset_spec("quick", task="keypoints", model=model, dataset="landmarks", image_size=64, epochs=8,
                       seed=seed, dataset_options={"image_size": 64, "train_size": 1500, "validation_size": 200,
                                                   "test_size": 200, "difficulty": "medium"})


def landmarks(args) -> dict:
    """Heatmaps against regression on the landmarks, through the worker (see the module docstring)."""
    import json
    import tempfile

    from cv_core.runs import create_run, read_metrics
    from cv_core.runs.worker import run_training

    root = Path(args.runs_root or tempfile.mkdtemp(prefix="kp-landmarks-"))
    results: dict[str, list[dict]] = {}
    for seed in args.seeds:
        for model in ("keypoint_heatmap", "keypoint_regression"):
            spec = landmark_spec(model, seed)
            run_dir = create_run(spec, root)
            start = time.perf_counter()
            run_training(spec, run_dir)
            best = max(read_metrics(run_dir), key=lambda row: row["val_kp_ap"])
            scores = json.loads((run_dir / "scores.json").read_text())
            results.setdefault(model, []).append({
                "seed": seed, "val_kp_ap": best["val_kp_ap"], "val_pck": best["val_pck"],
                "test_kp_ap": scores["test"]["kp_ap"], "test_pck": scores["test"]["pck"],
                "joint_error": scores["test"]["joint_error"], "seconds": time.perf_counter() - start})
            print(f"seed {seed} {model}: best val. AP {best['val_kp_ap']:.3f}, PCK {best['val_pck']:.3f}; "
                  f"test AP {scores['test']['kp_ap']:.3f}, PCK {scores['test']['pck']:.3f} "
                  f"({time.perf_counter() - start:.0f} s) {run_dir}", flush=True)
    print()
    print("| model | seeds | best val. keypoint AP | best val. PCK@0.2 | test keypoint AP | test PCK@0.2 | "
          "test mean error per joint (px) |")
    print("|---|---:|---:|---:|---:|---:|---|")

    def spread(values):
        return f"{statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}"

    for model, rows in results.items():
        errors = np.nanmean([row["joint_error"] for row in rows], axis=0)
        print(f"| {model} | {len(rows)} | {spread([r['val_kp_ap'] for r in rows])} | "
              f"{spread([r['val_pck'] for r in rows])} | {spread([r['test_kp_ap'] for r in rows])} | "
              f"{spread([r['test_pck'] for r in rows])} | {', '.join(f'{e:.2f}' for e in errors)} |")
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--only", choices=("decoding", "scoring", "video", "page", "landmarks"))
    parser.add_argument("--video-frames", type=int, default=48, help="frames of the walking clip (--only video)")
    parser.add_argument("--video-people", type=int, default=3, help="people walking in the clip (1 to 4)")
    parser.add_argument("--video-difficulty", default="easy", help="the clip's background: easy, medium or hard")
    parser.add_argument("--model", help="a trained keypoints model (.keras) for --only video: timed at its own "
                                        "input size, and scored against the clip's truth")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs-root", help="where the landmarks comparison's runs go (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.only == "landmarks":
        landmarks(args)
        return
    if args.only in (None, "decoding"):
        decoding(args)
    if args.only in (None, "scoring"):
        print()
        scoring(args)
    if args.only in (None, "video"):
        print()
        video(args)
    if args.only in (None, "page"):
        print()
        page(args)


if __name__ == "__main__":
    main()
