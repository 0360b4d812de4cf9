"""``python -m cv_core.train``: bad specs exit non-zero with a message; a tiny run writes its run dir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cv_core import train
from cv_core.runs import files, folders

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cv_core.train", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "error: Expected `epochs` to be a positive whole number. Received: epochs=0"),
        (["--batch-size", "-4"], "Received: batch_size=-4"),
        (["--preset", "tiny", "--batch-size", "100"], "at most the 64 training images"),
        (["--learning-rate", "nan"], "Received: learning_rate=nan"),
        (["--image-size", "16", "--filters", "8,16,32,64,128"], "Expected `image_size` of at least 21 px"),
        (["--dataset", "nope"], "Expected a dataset name in"),
        (["--dataset", "image_folder", "--dataset-root", "/no/such/dir"], "does not exist"),
        (["--dataset-option", "train_size=0"], "The training split of 'shapes' is empty"),
    ],
)
def test_bad_spec_exits_2_with_message_and_creates_nothing(tmp_path, capsys, args, message):
    code = train.main([*args, "--runs-root", str(tmp_path / "runs")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "ten"], "argument --epochs: invalid int value: 'ten'"),
        (["--conv-type", "depthwise"], "argument --conv-type: invalid choice: 'depthwise'"),
        (["--filters", "8,x"], "expected comma-separated whole numbers"),
        (["--dataset-option", "oops"], "expected KEY=VALUE"),
    ],
)
def test_malformed_arguments_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        train.main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_flags_override_the_preset():
    args = train.build_parser().parse_args(
        ["--preset", "quick", "--conv-type", "conv2d", "--batchnorm", "none", "--no-residual",
         "--epochs", "3", "--filters", "8,16", "--dataset-option", "train_size=100", "--learning-rate", "0.01"])
    spec = train.spec_from_args(args)
    assert (spec.preset, spec.conv_type, spec.batchnorm, spec.residual, spec.epochs) == ("quick", "conv2d", "none", False, 3)
    assert spec.filters == (8, 16) and spec.learning_rate == 0.01
    assert spec.dataset_options["train_size"] == 100 and spec.dataset_options["image_size"] == 48


def test_estimate_prints_and_creates_nothing(tmp_path, capsys):
    assert train.main(["--preset", "quick", "--estimate", "--runs-root", str(tmp_path / "runs")]) == 0
    assert "estimated time on this machine" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()


def test_module_entry_point_refuses_bad_spec(tmp_path):
    result = run_cli("--epochs", "0", "--runs-root", str(tmp_path / "runs"), timeout=60)
    assert result.returncode == 2
    assert "Expected `epochs` to be a positive whole number" in result.stderr


@pytest.mark.slow
def test_tiny_run_in_the_foreground_writes_the_run_dir_and_a_narrow_model_at_64_px_trains(tmp_path, monkeypatch):
    # TensorFlow 2.21's oneDNN kernels aborted this run ("malloc(): corrupted top size"): the
    # Tiny mini-Xception (filters 8, 16) at 64 px. The worker now trains it with oneDNN off.
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    result = run_cli("--preset", "tiny", "--dataset", "shapes", "--batchnorm", "after_activation", "--epochs", "2",
                     "--batch-size", "16", "--image-size", "64", "--dataset-option", "train_size=48",
                     "--dataset-option", "validation_size=16", "--runs-root", str(tmp_path / "runs"))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "oneDNN optimisations are off" in result.stdout
    assert "epoch 1/2" in result.stdout and "epoch 2/2" in result.stdout
    assert ": completed - " in result.stdout
    (run,) = folders.list_runs(tmp_path / "runs")
    assert run.state == "completed" and run.status["pid"] is not None
    assert (run.spec.image_size, run.spec.batchnorm, run.spec.epochs) == (64, "after_activation", 2)
    assert [row["epoch"] for row in run.metrics] == [1, 2]
    assert (run.dir / "best.keras").is_file() and run.test_metrics["images"] == run.spec.dataset_options.get(
        "test_size", 32)
    assert any((run.dir / "tensorboard").rglob("events.out.tfevents.*"))
    # keras.callbacks.TensorBoard's event files, readable by TensorBoard itself.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = {}
    for split in ("train", "validation"):
        events = EventAccumulator(str(run.dir / "tensorboard" / split))
        events.Reload()
        tags[split] = set(events.Tags()["tensors"]) | set(events.Tags()["scalars"])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= tags["train"]
    assert {"epoch_loss", "epoch_accuracy"} <= tags["validation"]


def test_flags_choose_the_task_and_presets_apply_to_it():
    args = train.build_parser().parse_args(["--task", "segmentation", "--preset", "tiny", "--model", "unet"])
    spec = train.spec_from_args(args)
    assert (spec.task, spec.model, spec.preset, spec.image_size) == ("segmentation", "unet", "tiny", 32)
    assert spec.dataset_options["train_size"] == 64
    assert train.spec_from_args(train.build_parser().parse_args(["--preset", "tiny"])).task == "classification"


@pytest.mark.slow
def test_tiny_segmentation_run_from_the_command_line(tmp_path, capsys):
    """In this process (TensorFlow is loaded once): the same main() as ``python -m cv_core.train``, whose
    process entry point is tested above."""
    assert train.main(["--task", "segmentation", "--preset", "tiny", "--runs-root", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "val_mean_iou" in out and "test mean IoU" in out
    (run,) = folders.list_runs(tmp_path / "runs")
    assert run.state == "completed" and run.task.name == "segmentation"
    assert {"loss", "accuracy", "mean_iou", "val_loss", "val_accuracy", "val_mean_iou"} <= set(run.metrics[-1])
    scores = files.read_scores(run.dir)
    assert set(scores) == {"validation", "test"}
    for split in ("validation", "test"):
        assert len(scores[split]["iou"]) == len(scores[split]["dice"]) == 6
        assert scores[split]["class_names"][0] == "background"
    assert run.summary["class_names"][0] == "background" and run.summary["mask_background"] == 0


@pytest.mark.slow
def test_tiny_detection_run_from_the_command_line(tmp_path, capsys):
    """In this process (TensorFlow is loaded once): the same main() as ``python -m cv_core.train``."""
    assert train.main(["--task", "detection", "--preset", "tiny", "--runs-root", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "val_map50" in out and "test mAP@0.5" in out
    (run,) = folders.list_runs(tmp_path / "runs")
    assert run.state == "completed" and (run.task.name, run.spec.model) == ("detection", "centernet_s4")
    assert {"loss", "heatmap_loss", "size_loss", "offset_loss", "val_map50", "val_map50_95"} <= set(run.metrics[-1])
    scores = files.read_scores(run.dir)
    assert set(scores) == {"validation", "test"} and len(scores["test"]["ap50"]) == 5
    assert run.test_metrics["map50"] == scores["test"]["map50"] and run.test_score is not None


def test_only_narrow_models_lose_onednn(monkeypatch):
    import sys

    from cv_core.runs import preset_spec
    from cv_core.runs.worker import avoid_onednn_crash

    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # recorded, so the teardown removes what the call sets
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert not avoid_onednn_crash(preset_spec("quick"))  # 16-32-64-128 keeps oneDNN
    assert "TF_ENABLE_ONEDNN_OPTS" not in __import__("os").environ
    assert avoid_onednn_crash(preset_spec("tiny"))
    assert __import__("os").environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
