"""AppTest for the Architecture lab and Compare runs pages, including a real tiny training run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.runs import list_runs, preset_spec, submit_run

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(root))
    return root


def open_page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(path).run()
    assert not at.exception
    return at


def wait_until_final(root, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = list_runs(root)
        if runs and all(r.state in ("completed", "failed", "cancelled", "interrupted") for r in runs):
            return runs
        time.sleep(0.5)
    raise AssertionError(f"runs did not finish: {[(r.id, r.state) for r in list_runs(root)]}")


def test_lab_shows_anatomy_and_comparison(runs_root):
    at = open_page("pages/architecture_lab.py")
    assert at.title[0].value == "Architecture lab"
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Parameters", "Multiply-adds per image", "Layers"}
    params_separable = int(metrics["Parameters"].replace(",", ""))
    charts = at.get("plotly_chart")
    titles = [c.proto.spec for c in charts]
    assert any("feature maps shrink" in t for t in titles)
    assert any("Gradient reaching each layer" in t for t in titles)
    # Switch to Conv2D: the same architecture costs more parameters.
    at.radio(key="architecture_lab_quick_conv").set_value("conv2d").run()
    params_conv2d = int({m.label: m.value for m in at.metric}["Parameters"].replace(",", ""))
    assert params_conv2d > 3 * params_separable


def test_lab_refuses_impossible_settings(runs_root):
    at = open_page("pages/architecture_lab.py")
    at.text_input(key="architecture_lab_quick_mini_xception_filters").input("32, sixty-four").run()
    assert "whole numbers" in at.error[0].value
    at.text_input(key="architecture_lab_quick_mini_xception_filters").input("8, 16, 32, 64, 128, 256, 512").run()
    at.select_slider(key="architecture_lab_quick_size").set_value(32).run()
    at.button(key="architecture_lab_train").click().run()
    assert not at.exception
    assert any("cannot start" in e.value for e in at.error)
    assert list_runs(runs_root) == []


def test_lab_trains_a_tiny_run_and_shows_curves(runs_root):
    at = open_page("pages/architecture_lab.py")
    at.radio(key="architecture_lab_preset").set_value("tiny").run()
    at.button(key="architecture_lab_train").click().run()
    assert not at.exception
    (run,) = wait_until_final(runs_root)
    assert run.state == "completed" and [r["epoch"] for r in run.metrics] == [1, 2]
    at.run()
    assert any(s.value.startswith("Completed: best validation accuracy") for s in at.success)
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any('"text":"Accuracy"' in t for t in titles) and any('"text":"Loss"' in t for t in titles)


def test_compare_page_empty_then_with_runs(runs_root):
    at = open_page("pages/compare_runs.py")
    assert any("No runs yet" in i.value for i in at.info)
    for conv in ("separable", "conv2d"):
        submit_run(preset_spec("tiny", conv_type=conv, epochs=1), runs_root)
    wait_until_final(runs_root)
    at = open_page("pages/compare_runs.py")
    assert len(at.multiselect(key="compare_runs_chosen").value) == 2
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("accuracy" in t for t in charts) and any("loss" in t for t in charts)
    tables = at.dataframe
    assert len(tables) >= 2  # measured table and config diff
    diff = tables[1].value
    assert "conv_type" in list(diff["field"])


def test_compare_page_grid_refuses_bad_book_folder(runs_root):
    at = open_page("pages/compare_runs.py")
    at.selectbox(key="compare_runs_grid_preset").select("book").run()
    at.text_input(key="compare_runs_grid_root").input("/no/such/cats").run()
    at.button(key="compare_runs_grid_go").click().run()
    assert not at.exception
    assert any("cannot start" in e.value for e in at.error)
    assert list_runs(runs_root) == []


def test_compare_page_runs_the_grid_and_summarises_it(runs_root):
    at = open_page("pages/compare_runs.py")
    at.selectbox(key="compare_runs_grid_preset").select("tiny").run()
    at.number_input(key="compare_runs_grid_seeds").set_value(1).run()
    at.number_input(key="compare_runs_grid_tiny_epochs").set_value(1).run()
    at.button(key="compare_runs_grid_go").click().run()
    assert not at.exception
    assert any("6 runs" in s.value for s in at.success)
    runs = wait_until_final(runs_root, timeout=240)
    assert len(runs) == 6 and all(r.state == "completed" for r in runs)
    assert {r.spec.experiment_label for r in runs} == {
        f"{conv} / {bn}" for conv in ("separable", "conv2d")
        for bn in ("before_activation", "after_activation", "none")}
    at = open_page("pages/compare_runs.py")
    summary = at.dataframe[-1].value
    assert len(summary) == 6 and set(summary["completed"]) == {1}
    assert any("Grid experiment" in c.proto.spec for c in at.get("plotly_chart"))


def test_lab_offers_resume_after_the_worker_is_killed(runs_root):
    import os
    import signal

    from cv_core.runs import read_metrics, read_status

    run_dir = submit_run(preset_spec("tiny", epochs=40, dataset_options={
        "image_size": 32, "train_size": 256, "validation_size": 32, "test_size": 32}), runs_root)
    deadline = time.time() + 90
    while time.time() < deadline and len(read_metrics(run_dir)) < 1:
        time.sleep(0.2)
    assert read_metrics(run_dir), "the run never finished an epoch"
    os.kill(read_status(run_dir)["pid"], signal.SIGKILL)
    time.sleep(0.5)
    at = open_page("pages/architecture_lab.py")
    at.radio(key="architecture_lab_preset").set_value("tiny").run()
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Interrupted after") for w in warnings), warnings
    resume = [b for b in at.button if b.label == "Resume"]
    assert resume
    done_before = len(read_metrics(run_dir))
    resume[0].click().run()
    (run,) = wait_until_final(runs_root, timeout=180)
    assert run.state == "completed"
    epochs = [r["epoch"] for r in run.metrics]
    assert epochs == list(range(1, 41)) and done_before >= 1


def test_compare_page_deletes_a_run_only_after_confirmation(runs_root):
    run_dir = submit_run(preset_spec("tiny", epochs=1), runs_root)
    wait_until_final(runs_root)
    at = open_page("pages/compare_runs.py")
    assert [b.label for b in at.button if b.key == f"compare_runs_delete_{run_dir.name}"] == ["Yes, delete it"]
    assert run_dir.exists()
    at.button(key=f"compare_runs_delete_{run_dir.name}").click().run()
    assert not at.exception
    assert not run_dir.exists()
    assert any("No runs yet" in i.value for i in at.info)


def test_sidebar_lists_runs_training_in_the_background(runs_root):
    from cv_core.runs import request_cancel

    run_dir = submit_run(preset_spec("tiny", epochs=200), runs_root)
    try:
        # The sidebar is shared; AppTest drops a run_every fragment's sidebar after
        # switch_page (a real browser keeps it), so look at it on the first page.
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception
        sidebar = " ".join(m.value for m in at.sidebar.markdown) + " ".join(c.value for c in at.sidebar.caption)
        assert "Training in the background" in sidebar
        assert "separable / before_activation (seed 0)" in sidebar
    finally:
        request_cancel(run_dir)
    runs = wait_until_final(runs_root)
    assert runs[0].state == "cancelled"
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "Runs are stored in" in " ".join(c.value for c in at.sidebar.caption)
    assert "Training in the background" not in " ".join(m.value for m in at.sidebar.markdown)
