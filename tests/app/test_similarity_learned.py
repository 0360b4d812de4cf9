"""AppTest for the Similarity page with a similarity run: the learned score read against the run's
threshold, the run's epoch maps, the Train tab (the run's model is built, not trained, except in the
one slow test that trains a Tiny run through a real worker)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.app.test_similarity_page import captions, colour_folder, folder_query, open_page, plotly_values, scores, text


def _task_ready() -> bool:
    from cv_core.runs.tasks import TASKS

    return "similarity" in TASKS


#: These tests need the similarity task's entry (cv_core.similarity.task) in the task table.
needs_task = pytest.mark.skipif(not _task_ready(), reason="the similarity task (cv_core.similarity.task) is not "
                                                          "in this lab's task table")


@pytest.fixture
def roots(lab_roots, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path / "cache"))
    return lab_roots


@pytest.mark.slow  # about 3 s here: left out of the fast lane
@needs_task
def test_the_learned_score_is_read_against_the_runs_threshold(roots, tmp_path):
    from cv_core.datasets import resize_image
    from cv_core.pretrained import sample_photos
    from cv_core.runs import load_best_model, load_run
    from cv_core.similarity import cosine_similarity
    from tests.app.similarity_runs import THRESHOLD, built_run
    from ui.task_page import run_dataset

    runs_root, _ = roots
    run_dir = built_run(runs_root)
    at = open_page({"similarity_b_source": "Photo"})
    assert at.query_params["run"] in (run_dir.name, [run_dir.name])
    assert at.toggle(key="similarity_run_data").value  # the run's own pictures first
    assert f"as run {run_dir.name} learned from them" in text(at)
    values = scores(at)
    assert set(values) == {"Pixels · SSIM", "Pretrained · SqueezeNet 1.1 features", "Learned embedding"}
    model = load_best_model(run_dir)
    size = tuple(model.input_shape[1:3])
    first = run_dataset(load_run(run_dir)).sample("validation", 0).image
    pictures = np.stack([resize_image(p, size) for p in (first, sample_photos()["chelsea"])]).astype(np.float32)
    embeddings = model.predict(pictures, verbose=0)
    expected = float(cosine_similarity(embeddings[:1], embeddings[1:])[0, 0])
    assert values["Learned embedding"] == f"{expected:.3f}"
    word = "At or above" if expected >= THRESHOLD else "Below"
    assert f"{word} this run's threshold of {THRESHOLD:.3f}" in text(at)
    assert "(pair ROC AUC 0.750)" in text(at)
    assert "Learned (the chosen run)" in at.selectbox(key="similarity_features").options
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    other = open_page(folder_query(root, similarity_run_data="false"))  # another dataset for the same run
    assert any(c.startswith("validation picture 0 · blue") for c in captions(other))
    assert other.selectbox(key="similarity_dataset").value == "image_folder"


@needs_task
def test_a_run_without_scores_yet_and_the_maps_of_its_epochs(roots, tmp_path):
    from tests.app.similarity_runs import built_run

    runs_root, _ = roots
    run_dir = built_run(runs_root, threshold=None, epochs=3)
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    at = open_page(folder_query(root, similarity_run_data="false"))
    assert "no pair threshold yet" in text(at)
    at = open_page(folder_query(root, similarity_run_data="false", similarity_tab="Embedding map",
                                similarity_epoch="2"))
    assert "How the map changed while the run learned" in text(at)
    assert at.select_slider(key="similarity_epoch").value == 2
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    snapshot = next(f for f in figures if "After epoch 2" in json.dumps(f["layout"]["title"]))
    from cv_core.similarity.task import embedding_snapshots

    written = embedding_snapshots(run_dir)[1]
    shown = {int(n): (x, y) for trace in snapshot["data"] for n, x, y in
             zip(plotly_values(trace["customdata"]), plotly_values(trace["x"]), plotly_values(trace["y"]))}
    assert sorted(shown) == sorted(written["indices"].tolist())
    for index, point in zip(written["indices"], written["points"]):
        assert np.allclose(shown[int(index)], point, atol=1e-5)


@needs_task
def test_a_run_no_better_than_chance_says_its_score_means_little(roots):
    from tests.app.similarity_runs import built_run

    runs_root, _ = roots
    built_run(runs_root, pair_auc=0.52)
    at = open_page({"similarity_b_source": "Photo"})
    assert "little better than chance (pair ROC AUC 0.520; 0.5 is chance)" in text(at)
    assert "probably" not in " ".join(m.value for m in at.markdown if "run" in m.value)


@needs_task
def test_the_map_of_the_runs_own_pictures_runs_the_way_its_epoch_maps_do(roots):
    from cv_core.similarity.task import embedding_snapshots
    from tests.app.similarity_runs import built_run

    runs_root, _ = roots
    run_dir = built_run(runs_root, epochs=2)
    at = open_page({"similarity_tab": "Embedding map", "similarity_features": "Learned (the chosen run)"})
    at.button(key="similarity_embed").click().run()
    assert not at.exception
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "validation pictures of" in json.dumps(json.loads(c.proto.spec)["layout"]["title"]))
    mine = {int(n): (x, y) for trace in figure["data"][:-1] for n, x, y in
            zip(plotly_values(trace["customdata"]), plotly_values(trace["x"]), plotly_values(trace["y"]))}
    newest = embedding_snapshots(run_dir)[-1]
    shared = [i for i, n in enumerate(newest["indices"]) if int(n) in mine]
    assert len(shared) >= 5
    ours = np.array([mine[int(newest["indices"][i])] for i in shared])
    theirs = newest["points"][shared]
    assert ((ours - ours.mean(0)) * theirs).sum(axis=0).min() >= 0  # neither axis runs against the epoch map


@needs_task
def test_the_train_tab_draws_the_embedding_model_it_builds(roots):
    from cv_core.runs import architecture_cost, preset_spec

    at = open_page({"similarity_tab": "Train", "similarity_preset": "Tiny"})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == f"{architecture_cost(preset_spec('tiny', task='similarity'), None).params:,}"
    assert "a picture in, a vector out" in " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "No similarity runs yet" in text(at)


@needs_task
@pytest.mark.slow
def test_the_train_tab_trains_a_tiny_run_that_the_scores_then_use(roots):
    import time

    from cv_core.runs import list_runs

    runs_root, _ = roots
    at = open_page({"similarity_tab": "Train", "similarity_preset": "Tiny"})
    at.button(key="similarity_train").click().run()
    assert not at.exception
    deadline = time.time() + 300
    while time.time() < deadline and not (list_runs(runs_root) and list_runs(runs_root)[0].state in
                                          ("completed", "failed", "cancelled", "interrupted")):
        time.sleep(0.5)
    (run,) = list_runs(runs_root)
    assert run.state == "completed" and run.spec.task == "similarity", (run.dir / "worker.log").read_text()
    at = open_page({"similarity_tab": "Two pictures", "similarity_b_index": "0"})
    values = scores(at)
    assert values["Learned embedding"] == "1.000"  # the same picture twice
    from cv_core.runs import read_scores

    validation = read_scores(run.dir)["validation"]  # the task's own final scores are what the page reads
    if validation["pair_auc"] < 0.6:  # a Tiny run is too small to learn: the page says its score means little
        assert f"little better than chance (pair ROC AUC {validation['pair_auc']:.3f}" in text(at)
    else:
        assert f"this run's threshold of {validation['threshold']:.3f}" in text(at)
