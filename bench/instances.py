"""Instance segmentation speed, as ratios and times measured in the same run: decoding, the page, training.

Usage: python bench/instances.py [--repeats 60] [--page-calls 20] [--train-size 320] [--epochs 6]
                                 [--training-repeats 1] [--only decoding|page|screen|training]
                                 [--screen-runs RUNS_FOLDER]
       python bench/instances.py --quality INSTANCE_RUN SEMANTIC_RUN [...]

**Decoding against the forward pass.** The page runs the model once per picture and then draws the
objects; decoding (centre peaks, every object pixel to its centre, class and score per object) must
cost little next to the forward pass. At the Quick preset's size (64 px) and its instance U-Net, for
one picture: **forward** is the model inside its compiled ``tf.function``
(:func:`cv_core.instances.decode.forward_function`), outputs fetched as numpy; **decode** is
:func:`cv_core.instances.decode_instances` on those outputs, on two output sets:

- *realistic*: the targets of a crowded shapes picture (five to six objects, touching and cut by a
  bar) decoded as if they were the model's outputs;
- *worst case*: the untrained model's outputs with its centre heatmap replaced by noise in (0, 1),
  so that 100 centres pass the threshold and every pixel is an object pixel.

The two steps are timed in turn, round by round (this VM's speed drifts by the second): each ratio is
the median over rounds of that round's ratio, and the ratio of the fastest times. Goal (issue 17):
decoding <= 20 % of the forward pass.

**The page path, warm**: from a picture of the crowded validation split (96 px, larger than the
model's view) to its objects: resize to the model's view, :func:`cv_core.instances.predict_raw_instances`,
:func:`cv_core.instances.decode_instances`, connected components of the semantic head for the side
by side view, and the matching against the true objects (hits, misses, false positives through
:func:`cv_core.instances.mask_iou_matrix`), on a different picture each call, the model traced.
Streamlit's own work is not in it (the page comes later). Goal: < 0.5 s.

**On screen, warm**: the Instance segmentation page itself (``pages/instances.py``) run by Streamlit's
``AppTest`` on a run folder: after the first picture (model loaded, traced), each call moves to
another validation picture and reruns the whole script: the picture, the one forward pass, decoding,
both figures, hits and misses, the table, the COCO JSON and PNG exports, connected components beside
it and the scores table; then the score slider is moved (the fragment alone reruns, no forward pass).
The browser's drawing is not in it. ``--screen-runs`` names a folder of runs (an instance run and,
if wanted, a segmentation run with the same classes), e.g. trained Quick runs; without it an untrained
Quick-sized instance run is built (its objects score under the default threshold, so fewer are drawn).
Goal: < 0.5 s a picture.

**Training**: the run worker's path (:func:`cv_core.runs.worker.run_training` on the instances
task: its pipeline with flips, every run callback, mask AP on the first validation pictures
every epoch) against a bare ``model.fit`` of the same model on the same ``tf.data`` pipeline, in two
processes taking turns epoch by epoch (``bench/train_throughput.py``'s ``worker_against_bare``); the
first epoch of each side is left out. Ratio per epoch: bare seconds / worker seconds, the median with
its interquartile range. Goal: >= 0.95, with mask AP each epoch.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cv_core.instances import (connected_components, decode_instances, encode_instance_targets,  # noqa: E402
                               forward_function, mask_iou_matrix, predict_raw_instances, targets_as_outputs)


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _quick_model():
    from cv_core.runs import build_model, preset_spec

    spec = preset_spec("quick", task="instances")
    return spec, build_model(spec, 6)


def _crowded_picture(size: int):
    from cv_core.datasets.shapes import render_shapes

    for index in range(200):  # the first validation picture with five objects or more
        sample = render_shapes(0, "validation", index, size, "crowded")
        if len(sample.boxes) >= 5:
            return sample
    raise RuntimeError("no crowded picture with five objects")  # pragma: no cover


def decoding(args) -> dict:
    """Part 1: decoding against the forward pass (see the module docstring)."""
    spec, model = _quick_model()
    side = spec.image_size
    forward = forward_function(model)
    picture = _crowded_picture(side)
    image = picture.image[None].astype(np.float32)
    realistic = targets_as_outputs(encode_instance_targets(picture.mask, picture.instances, 6), 6)
    outputs = {k: np.array(v)[0] for k, v in forward(image).items()}
    noise = np.random.default_rng(0).uniform(0, 1, outputs["centre"].shape).astype(np.float32)
    worst = {**outputs, "centre": noise, "semantic": np.eye(6, dtype=np.float32)[np.ones((side, side), int)]}
    steps = {
        "forward": lambda: {k: v.numpy() for k, v in forward(image).items()},
        "decode, realistic": lambda: decode_instances(realistic["semantic"], realistic["centre"], realistic["offset"]),
        "decode, worst case": lambda: decode_instances(worst["semantic"], worst["centre"], worst["offset"]),
    }
    for _ in range(5):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            times[name].append(seconds(step))
    found = [len(steps[name]()) for name in ("decode, realistic", "decode, worst case")]
    print(f"Instance U-Net {side} px (Quick preset), {model.count_params():,} parameters, one picture; objects "
          f"decoded: realistic {found[0]} (of {len(picture.boxes)} true), worst case {found[1]}; "
          f"{args.repeats} interleaved rounds")
    print()
    print("| step | median ms | fastest ms | ratio to forward, median of rounds | ratio to forward, fastest |")
    print("|---|---:|---:|---:|---:|")
    ratios = {}
    for name, values in times.items():
        median_ratio = statistics.median(v / f for v, f in zip(values, times["forward"]))
        fastest_ratio = min(values) / min(times["forward"])
        ratios[name] = (median_ratio, fastest_ratio)
        print(f"| {name} | {1000 * statistics.median(values):.2f} | {1000 * min(values):.2f} | "
              f"{median_ratio:.3f} | {fastest_ratio:.3f} |")
    print()
    for name in ("decode, realistic", "decode, worst case"):
        median_ratio, fastest_ratio = ratios[name]
        verdict = "met" if max(median_ratio, fastest_ratio) <= 0.20 else "NOT met"
        print(f"{name} / forward = {median_ratio:.3f} (median), {fastest_ratio:.3f} (fastest); goal <= 0.20: {verdict}")
    return ratios


def page_path(calls: int) -> float:
    """Part 2: a picture to its objects, warm, as the page will compute it."""
    from cv_core.datasets import open_dataset, resize_image, resize_mask
    from cv_core.instances import truth_objects

    spec, model = _quick_model()
    view = (spec.image_size, spec.image_size)
    dataset = open_dataset("shapes", image_size=96, train_size=0, validation_size=200, test_size=0,
                           difficulty="crowded")

    def page(index: int) -> int:
        sample = dataset.sample("validation", index)
        picture = resize_image(sample.image, view)
        raw = predict_raw_instances(model, picture[None])
        found = decode_instances(raw["semantic"][0], raw["centre"][0], raw["offset"][0])
        components = connected_components(raw["semantic"][0])
        truths = truth_objects(resize_mask(sample.mask, view), resize_mask(sample.instances, view))
        for objects in (found, components):
            ious = mask_iou_matrix([o["mask"] for o in objects], [t["mask"] for t in truths])
            _ = (ious >= 0.5).any(axis=0), (ious >= 0.5).any(axis=1)  # hits / misses, false positives
        return len(found)

    for index in range(3):  # tracing, first allocations: the page's first picture
        page(index)
    times = []
    for index in range(3, 3 + calls):
        times.append(seconds(lambda i=index: page(i)))
    median = statistics.median(times)
    print(f"Page path, warm: {spec.variant} at {spec.image_size} px, untrained, {calls} crowded pictures of 96 px")
    print()
    print("| page path: picture to objects (s) | median | slowest | goal |")
    print("|---|---:|---:|---|")
    print(f"| resize, forward, decode, connected components, truths, matching | {median:.4f} | {max(times):.4f} "
          f"| < 0.5 s |")
    print(f"goal < 0.5 s: {'met' if median < 0.5 else 'NOT met'}")
    return median


def screen(runs_folder: str | None, calls: int) -> float:
    """Part 3: the page's script, warm, a picture at a time (AppTest), and the slider's fragment."""
    import os
    import shutil
    import tempfile

    from streamlit.testing.v1 import AppTest

    root = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    runs = root / "runs"
    if runs_folder:
        shutil.copytree(runs_folder, runs, ignore=shutil.ignore_patterns("tensorboard", "backup"))
    else:
        from cv_core.runs import create_run, preset_spec
        from cv_core.runs.files import update_status, write_json_atomic

        spec, model = _quick_model()
        run_dir = create_run(spec, runs)
        model.save(run_dir / "best.keras")
        write_json_atomic(run_dir / "summary.json", {"task": "instances", "num_classes": 6, "mask_background": 0,
                                                     "class_names": ["background", "circle", "square", "triangle",
                                                                     "star", "cross"]})
        update_status(run_dir, state="completed")
    os.environ["CONVNET_LAB_RUNS"] = str(runs)
    os.environ["CONVNET_LAB_DATA"] = str(root / "data")
    app = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(app), default_timeout=600)
    at.run()
    at.switch_page("pages/instances.py").run()
    if at.exception:
        raise RuntimeError(at.exception)
    for index in (1, 2):  # the first pictures: model loaded, forward traced, figures' code imported
        at.number_input(key="instances_index").set_value(index).run()
    pictures, slider = [], []
    for index in range(3, 3 + calls):
        pictures.append(seconds(lambda i=index: at.number_input(key="instances_index").set_value(i).run()))
        value = 0.1 if index % 2 else 0.2
        slider.append(seconds(lambda v=value: at.slider(key="instances_score").set_value(v).run()))
    if at.exception:
        raise RuntimeError(at.exception)
    shown = at.metric[0].value
    median, moved = statistics.median(pictures), statistics.median(slider)
    print(f"On screen, warm: pages/instances.py in AppTest, {calls} validation pictures "
          f"({'runs of ' + runs_folder if runs_folder else 'an untrained Quick-sized run'}); last picture: {shown} "
          "objects shown")
    print()
    print("| on screen (s) | median | slowest | goal |")
    print("|---|---:|---:|---|")
    print(f"| another picture: the whole page script | {median:.3f} | {max(pictures):.3f} | < 0.5 s |")
    print(f"| the score slider moved: its fragment | {moved:.3f} | {max(slider):.3f} | |")
    print(f"goal < 0.5 s: {'met' if median < 0.5 else 'NOT met'}")
    shutil.rmtree(root, ignore_errors=True)
    return median


def training(args) -> float:
    """Part 3: the worker path against a bare fit, epoch by epoch, interleaved."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_throughput import scored_training_table

    from cv_core.instances.task import INSTANCE_EPOCH_IMAGES
    from cv_core.runs import preset_spec

    options = {"image_size": 64, "train_size": args.train_size, "validation_size": args.validation_size,
               "test_size": 0, "difficulty": "crowded"}
    spec = preset_spec("quick", task="instances", epochs=args.epochs, dataset_options=options)
    scored = min(INSTANCE_EPOCH_IMAGES, args.validation_size)
    return scored_training_table(spec, args.training_repeats, 6, scored)


def quality(pairs: list[str]) -> None:
    """Mask AP of instance runs against connected components of segmentation runs, on the same pictures.

    ``pairs``: run folders, instance run then semantic run, repeated (one pair per seed). Both are
    scored on the whole validation split of the instance run's dataset at its size.
    """
    from cv_core.datasets import open_dataset
    from cv_core.instances import evaluate_instance_model, evaluate_semantic_model, instance_samples
    from cv_core.runs import load_best_model, load_run

    if len(pairs) % 2:
        raise SystemExit("Expected run folders in pairs: an instance run, then a semantic run.")
    rows = []
    for instance_dir, semantic_dir in zip(pairs[::2], pairs[1::2]):
        spec = load_run(instance_dir).spec
        dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
        images, truths = instance_samples(dataset, "validation", (spec.image_size, spec.image_size))
        own = evaluate_instance_model(load_best_model(instance_dir), images, truths, dataset.mask_background)
        semantic = evaluate_semantic_model(load_best_model(semantic_dir), images, truths, dataset.mask_background)
        rows.append((spec.seed, own["instances"], own["components"], semantic))
    print(f"Validation split: {len(images)} pictures, {rows[0][1]['touching_pairs']} touching same-class pairs")
    print()
    print("| seed | instance model AP50 / AP / AP75 | components of its semantic head AP50 / AP | components of the "
          "semantic run AP50 / AP | pairs separated: instances / semantic run |")
    print("|---|---|---|---|---|")
    for seed, inst, comp, sem in rows:
        print(f"| {seed} | {inst['mask_ap50']:.3f} / {inst['mask_ap']:.3f} / {inst['mask_ap75']:.3f} | "
              f"{comp['mask_ap50']:.3f} / {comp['mask_ap']:.3f} | {sem['mask_ap50']:.3f} / {sem['mask_ap']:.3f} | "
              f"{inst['pairs_separated']} / {sem['pairs_separated']} of {inst['touching_pairs']} |")
    margins = [inst["mask_ap50"] - sem["mask_ap50"] for _, inst, _, sem in rows]
    print()
    print(f"AP50 margin (instances - semantic run's components): {[round(m, 3) for m in margins]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--page-calls", type=int, default=20)
    parser.add_argument("--train-size", type=int, default=320)
    parser.add_argument("--validation-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--training-repeats", type=int, default=1)
    parser.add_argument("--only", choices=("decoding", "page", "screen", "training"))
    parser.add_argument("--screen-runs", metavar="RUNS_FOLDER",
                        help="runs the on-screen part opens (default: an untrained Quick-sized run it builds)")
    parser.add_argument("--quality", nargs="+", metavar="RUN_DIR",
                        help="score run folders in pairs (instance run, semantic run) instead of timing")
    args = parser.parse_args(argv)
    if args.quality:
        quality(args.quality)
        return 0
    if args.only in (None, "decoding"):
        decoding(args)
        print()
    if args.only in (None, "page"):
        page_path(args.page_calls)
        print()
    if args.only in (None, "screen"):
        screen(args.screen_runs, args.page_calls)
        print()
    if args.only in (None, "training"):
        training(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
