"""Train from the command line, in the foreground, through the same worker code as the app.

Examples::

    python -m cv_core.train --preset quick
    python -m cv_core.train --task segmentation --preset tiny
    python -m cv_core.train --task segmentation --model unet --conv-type separable --epochs 10
    python -m cv_core.train --task detection --preset tiny
    python -m cv_core.train --task keypoints --preset quick
    python -m cv_core.train --task keypoints --dataset landmarks --model keypoint_heatmap --image-size 64
    python -m cv_core.train --dataset shapes --conv-type separable --batchnorm before_activation \\
        --epochs 10 --batch-size 32 --image-size 96 --preset quick --runs-root runs
    python -m cv_core.train --preset book --dataset-root data/cats_vs_dogs_small
    python -m cv_core.train --resume runs/20250101-120000-quick-sep-bnpre-s0-1a2b

The spec is the preset's (``quick`` by default) for the task (``--task``, classification
by default: presets apply to every task) with the given flags on top. It is
validated first: an impossible spec exits with status 2 and says why, before anything is
created. The run directory has the same layout as a run started from the app, and the
run waits its turn behind runs already queued in the same runs root. With more than one
GPU visible, training uses ``tf.distribute.MirroredStrategy`` (``--batch-size`` is then
the global batch). Exit status: 0 completed, 1 failed, 2 bad arguments or spec,
3 cancelled, 4 interrupted (Ctrl-C; resume with ``--resume RUN_DIR``).

On several machines, set ``TF_CONFIG`` on each (see :mod:`cv_core.runs.cluster`) and run
the same command with the same ``--run-id`` everywhere: training uses
``tf.distribute.MultiWorkerMirroredStrategy``, the chief writes ``<runs root>/<run id>``
and the other workers ``<runs root>/<run id>/workers/<index>``. Running the same
commands again resumes an interrupted run from its last finished epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cv_core.runs import files, folders, jobs
from cv_core.runs import spec as specs
from cv_core.runs.cost import estimate_seconds
from cv_core.runs.tasks import TASKS

__all__ = ["build_parser", "main", "spec_from_args"]


def _filters(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers such as 32,64,128; received {text!r}"
        ) from None


def _option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE; received {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m cv_core.train``."""
    parser = argparse.ArgumentParser(
        prog="python -m cv_core.train",
        description="Train a chapter 9 convnet in the foreground and write a run directory.",
    )
    parser.add_argument("--preset", choices=tuple(specs.PRESETS), default="quick",
                        help="starting spec (default: quick); the flags below override it")
    parser.add_argument("--task", choices=tuple(TASKS), default="classification",
                        help="what to train: one label per picture, a class for every pixel, a box and a "
                             "class for each object, the joints of each person / one object's landmarks, or "
                             "every object's own mask (instances) (default: classification)")
    parser.add_argument("--dataset", help="dataset name, e.g. shapes, image_folder, cats_vs_dogs, oxford_pets, "
                                          "user:<name>; for keypoints: people, landmarks, coco_keypoints, "
                                          "userkp:<name>")
    parser.add_argument("--dataset-root", help="the dataset's folder (not needed for shapes)")
    parser.add_argument("--dataset-option", action="append", type=_option, default=[], metavar="KEY=VALUE",
                        help="dataset option, repeatable, e.g. train_size=500 (JSON values)")
    parser.add_argument("--model", choices=tuple(dict.fromkeys(m for t in TASKS.values() for m in t.architectures)),
                        help="classification: mini_xception, small_convnet; segmentation: segmentation_model "
                             "(the book's), unet; detection: centernet_s4, centernet_s8 (output stride 4 or 8); "
                             "keypoints: pose_centernet, keypoint_heatmap, keypoint_regression; instances: "
                             "instance_unet")
    parser.add_argument("--conv-type", choices=specs.CONV_TYPES)
    parser.add_argument("--batchnorm", choices=specs.BATCHNORMS)
    parser.add_argument("--residual", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--filters", type=_filters, help="block widths, e.g. 32,64,128,256,512")
    parser.add_argument("--image-size", type=int, help="side of the square training images in pixels")
    parser.add_argument("--augmentation", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--dropout-rate", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--optimizer", choices=specs.OPTIMIZERS)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--notes")
    parser.add_argument("--runs-root", help=f"where run directories go (default: ${files.RUNS_ROOT_ENV} or ./runs)")
    parser.add_argument("--estimate", action="store_true", help="print the spec and time estimate, then exit")
    parser.add_argument("--resume", metavar="RUN_DIR", help="resume an interrupted or cancelled run instead")
    parser.add_argument("--run-id", help="the run folder's name (required on every worker of a multi-worker "
                                         "run; running again with the same id resumes it)")
    parser.add_argument("--lr-schedule", choices=specs.LR_SCHEDULES, help="constant, or warm-up then cosine decay")
    parser.add_argument("--quiet", action="store_true", help="print only the final line")
    return parser


_FIELDS = ("dataset", "dataset_root", "model", "conv_type", "batchnorm", "residual", "filters", "image_size",
           "augmentation", "dropout_rate", "epochs", "batch_size", "learning_rate", "optimizer", "lr_schedule", "seed",
           "notes")


def spec_from_args(args: argparse.Namespace):
    """The :class:`TrainSpec` the parsed arguments describe (not validated yet)."""
    overrides = {name: getattr(args, name) for name in _FIELDS if getattr(args, name) is not None}
    overrides["task"] = args.task
    preset = {**specs.PRESETS[args.preset], **TASKS[args.task].presets.get(args.preset, {})}
    # The preset's dataset options (split sizes...) only make sense for the preset's dataset.
    same_dataset = overrides.get("dataset", preset.get("dataset")) == preset.get("dataset")
    base = dict(preset.get("dataset_options", {})) if same_dataset else {}
    overrides["dataset_options"] = {**base, **dict(args.dataset_option)}
    return specs.preset_spec(args.preset, **overrides)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    echo = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    from cv_core.runs import cluster, worker

    try:
        workers = cluster.cluster_size()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if workers > 1 and not args.run_id:
        print(f"error: ${cluster.TF_CONFIG_ENV} names a cluster of {workers} workers: give every worker the same "
              "--run-id", file=sys.stderr)
        return 2
    if args.run_id is not None and not _safe_name(args.run_id):
        print(f"error: expected --run-id to be a folder name (letters, digits, '-', '_', '.'); "
              f"received {args.run_id!r}", file=sys.stderr)
        return 2

    if args.resume:
        run_dir = Path(args.resume)
        try:
            jobs.prepare_resume(run_dir)
        except (folders.RunStateError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        try:
            spec = specs.validate_spec(spec_from_args(args))
        except specs.SpecError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.estimate:
            print(json.dumps(spec.to_dict(), indent=1))
            print(f"estimated time on this machine: {_estimate(spec):.0f} s")
            return 0
        try:
            run_dir = _run_folder(spec, args, workers)
        except (folders.RunStateError, FileExistsError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        echo(f"run directory: {run_dir}")
        echo(f"estimated time on this machine: {_estimate(spec):.0f} s")
    state = worker.main(run_dir, echo=echo, queue=workers == 1)
    if args.quiet:
        print(f"{run_dir}: {state}")
    return worker.EXIT_CODES.get(state, 1)


def _estimate(spec) -> float:
    """The run's expected seconds on this machine; the first time, the machine is timed (said on stderr)."""
    from cv_core.runs.calibration import known_machine_speed

    if known_machine_speed() is None:
        print("timing this machine once for the time estimate (three short training runs, under a minute)...",
              file=sys.stderr)
    return estimate_seconds(spec)


def _safe_name(name: str) -> bool:
    return bool(name) and len(name) <= 200 and name not in (".", "..") and all(
        c.isalnum() or c in "-_." for c in name)


def _run_folder(spec, args, workers: int) -> Path:
    """A new run folder, or the named one to resume (the chief's, or this worker's own).

    Raises:
        RunStateError: the named run exists and cannot be resumed (it completed, or runs).
    """
    from cv_core.runs import cluster

    if args.run_id is None:
        return folders.create_run(spec, args.runs_root)
    root = files.default_runs_root(args.runs_root)
    if workers > 1 and not cluster.is_chief():
        kind, index = cluster.task()
        root = root / args.run_id / "workers"
        name = f"{kind}-{index}"
    else:
        name = args.run_id
    run_dir = root / name
    if (run_dir / files.STATUS_FILE).exists():
        jobs.prepare_resume(run_dir)  # raises unless interrupted or cancelled
        return run_dir
    return folders.create_run(spec, root, run_id=name)


if __name__ == "__main__":
    sys.exit(main())
