"""The image-similarity task entry: its loss, its balanced batches, its model, its epoch scores and maps.

The loss is checked against a direct numpy computation of its definition (Wang et al., 2019), the
epoch scores against :func:`cv_core.similarity.retrieval_scores` on the same embeddings, the map
against numpy's SVD; one slow test trains a tiny run through the worker.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cv_core.datasets import DatasetError
from cv_core.pipeline import balanced_indices
from cv_core.runs import TASKS, preset_spec, validate_spec
from cv_core.similarity.snapshots import embedding_snapshots, snapshot_path, write_snapshot

EPOCH_KEYS = ("val_precision_at_1", "val_recall_at_1", "val_recall_at_5", "val_map_at_r", "val_pair_auc")


# -- the loss ---------------------------------------------------------------------------------------


def _multi_similarity_by_definition(labels, embeddings, alpha, beta, base, margin) -> float:
    """The loss written from the paper's definition, anchor by anchor, pair by pair."""
    n = len(labels)
    similarity = embeddings @ embeddings.T
    total = 0.0
    for i in range(n):
        positives = [k for k in range(n) if k != i and labels[k] == labels[i]]
        negatives = [k for k in range(n) if labels[k] != labels[i]]
        kept_negatives = [k for k in negatives if positives and similarity[i, k] + margin > min(
            similarity[i, j] for j in positives)]
        kept_positives = [k for k in positives if negatives and similarity[i, k] - margin < max(
            similarity[i, j] for j in negatives)]
        pulled = np.log(1 + sum(np.exp(-alpha * (similarity[i, k] - base)) for k in kept_positives)) / alpha
        pushed = np.log(1 + sum(np.exp(beta * (similarity[i, k] - base)) for k in kept_negatives)) / beta
        total += pulled + pushed
    return total / n


@pytest.mark.parametrize("alpha, beta, base, margin", [(2.0, 50.0, 0.5, 0.1), (1.0, 10.0, 0.0, 0.3)])
def test_the_loss_is_multi_similarity_by_its_definition(alpha, beta, base, margin):
    from cv_core.similarity.losses import MultiSimilarityLoss

    rng = np.random.default_rng(0)
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])  # class 3 has no positive: its anchor keeps no pair
    embeddings = rng.normal(size=(len(labels), 5)) + 0.8 * np.eye(4, 5)[labels]
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    want = _multi_similarity_by_definition(labels, embeddings, alpha, beta, base, margin)
    got = float(MultiSimilarityLoss(alpha, beta, base, margin)(labels, embeddings.astype(np.float32)))
    assert got == pytest.approx(want, rel=1e-4)
    # Mining really drops pairs here: keeping every pair (an infinite margin) gives another number.
    assert _multi_similarity_by_definition(labels, embeddings, alpha, beta, base, 9.0) != pytest.approx(want)


def test_the_loss_is_small_when_classes_are_apart_and_saves_with_the_model():
    import keras

    from cv_core.similarity.losses import MultiSimilarityLoss

    labels = np.array([0, 0, 1, 1])
    apart = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float32)
    mixed = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], np.float32)
    loss = MultiSimilarityLoss()
    assert float(loss(labels, apart)) < 0.01 < float(loss(labels, mixed))
    restored = keras.losses.deserialize(keras.losses.serialize(MultiSimilarityLoss(beta=20.0)))
    assert isinstance(restored, MultiSimilarityLoss) and restored.beta == 20.0


# -- balanced batches -------------------------------------------------------------------------------


def test_every_balanced_batch_holds_positives_for_every_picture():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 7 + [3] * 1 + [4] * 20)  # class 3: one picture
    rng = np.random.default_rng(0)
    for batch_size, per_class in [(16, 4), (10, 4), (7, 2), (32, 4)]:
        for _ in range(20):
            chosen = balanced_indices(labels, batch_size, per_class, rng)
            drawn = labels[chosen]
            counts = np.bincount(drawn, minlength=5)
            assert len(chosen) == batch_size and counts[3] == 0  # a lone picture could have no positive
            assert (counts[counts > 0] >= 2).all() and (counts > 0).sum() >= 2
            assert (counts > 0).sum() == min(4, max(2, batch_size // per_class))


def test_balanced_batches_refuse_what_cannot_give_positives():
    rng = np.random.default_rng(0)
    with pytest.raises(DatasetError, match="two classes with two pictures"):
        balanced_indices(np.array([0, 0, 0, 1]), 8, 4, rng)
    with pytest.raises(DatasetError, match="at least 4"):
        balanced_indices(np.array([0, 0, 1, 1]), 3, 2, rng)


def test_the_training_pipeline_gives_full_balanced_batches():
    from cv_core.classification.data import LABELS
    from cv_core.datasets import open_dataset
    from cv_core.pipeline import class_balanced_batches

    dataset = open_dataset("shapes", image_size=16, train_size=40, validation_size=8, test_size=0)
    train = class_balanced_batches(dataset, "train", LABELS, (16, 16), batch_size=12, per_class=3, seed=1)
    batches = list(train.as_numpy_iterator())
    assert len(batches) == dataset.steps_per_epoch("train", 12) == 4
    truth = {dataset.sample("train", i).image.tobytes(): dataset.sample("train", i).label for i in range(40)}
    for images, labels in batches:
        assert images.shape == (12, 16, 16, 3) and images.dtype == np.float32 and images.max() <= 255
        counts = np.bincount(labels)
        assert (counts[counts > 0] >= 2).all() and (counts > 0).sum() == 4
        for image, label in zip(images.astype(np.uint8), labels):  # each picture keeps its own class
            assert truth[image.tobytes()] == label
    again = [labels for _, labels in train.as_numpy_iterator()]
    assert any(not np.array_equal(a, b[1]) for a, b in zip(again, batches))  # a fresh draw every epoch


# -- the model ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("conv_type, batchnorm", [("separable", "before_activation"), ("conv2d", "none")])
def test_the_model_gives_unit_vectors_and_has_no_class_head(conv_type, batchnorm):
    from cv_core.similarity.model import build_embedding_net

    model = build_embedding_net((24, 24, 3), embedding_dim=8, conv_type=conv_type, batchnorm=batchnorm,
                                filters=(4, 8), augmentation=True, dropout_rate=0.2)
    names = [layer.name for layer in model.layers]
    assert names[-3:] == ["embedding_dense", "embedding_bn", "embedding"] and "predictions" not in names
    assert {"stem_conv", "global_pool", "dropout", "augment_flip"} <= set(names)
    assert f"block2_{'sepconv' if conv_type == 'separable' else 'conv'}1" in names
    pictures = np.random.default_rng(0).uniform(0, 255, (5, 24, 24, 3)).astype(np.float32)
    vectors = np.asarray(model(pictures, training=False))
    assert vectors.shape == (5, 8)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("changes, message", [
    ({"embedding_dim": 1}, "embedding_dim"), ({"input_shape": (8, 8, 3)}, "at least 9 pixels"),  # 2 ** 2 + 5
    ({"conv_type": "depthwise"}, "conv_type"), ({"dropout_rate": 1.0}, "dropout_rate"),
])
def test_the_builder_says_what_it_expected(changes, message):
    from cv_core.similarity.model import build_embedding_net

    with pytest.raises(ValueError, match=message):
        build_embedding_net(**{"input_shape": (24, 24, 3), "filters": (4, 8, 16), **changes})


# -- the epoch scores and the map ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_net():
    from cv_core.similarity.model import build_embedding_net

    return build_embedding_net((16, 16, 3), embedding_dim=6, filters=(4, 8))


def test_the_callback_scores_are_retrieval_scores_of_the_same_embeddings(tiny_net, tmp_path):
    from cv_core.datasets import open_dataset
    from cv_core.similarity import embed_images, pair_auc, pca_2d, retrieval_scores
    from cv_core.similarity.training import RetrievalScoresCallback, split_pictures

    dataset = open_dataset("shapes", image_size=16, train_size=4, validation_size=30, test_size=0)
    callback = RetrievalScoresCallback(dataset, (16, 16), limit=20, batch_size=7, run_dir=tmp_path)
    callback.set_model(tiny_net)
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    images, labels, indices = split_pictures(dataset, "validation", (16, 16), limit=20)
    assert len(indices) == 20 and indices[0] == 0 and indices[-1] == 29  # spread over the split
    embeddings = embed_images(tiny_net, images)
    want = retrieval_scores(embeddings, labels)
    assert {key: logs[f"val_{key}"] for key in want} == pytest.approx(want)
    assert logs["val_pair_auc"] == pytest.approx(pair_auc(embeddings, labels))
    assert set(EPOCH_KEYS) <= set(logs)
    [snapshot] = embedding_snapshots(tmp_path)
    assert snapshot["epoch"] == 1 and np.array_equal(snapshot["indices"], indices)
    assert np.array_equal(snapshot["labels"], labels) and snapshot["class_names"] == dataset.class_names
    np.testing.assert_allclose(snapshot["points"], pca_2d(embeddings).points, atol=1e-5)


def test_a_split_that_cannot_be_scored_is_refused_when_training_starts(tiny_net):
    from cv_core.similarity.training import RetrievalScoresCallback, check_scorable

    with pytest.raises(DatasetError, match="two classes"):
        check_scorable(np.array([3, 3, 3]))
    with pytest.raises(DatasetError, match="two pictures or more"):
        check_scorable(np.array([0, 1, 2]))

    class OneClass:
        class_names = ["only"]

        def count(self, split):
            return 3

        def readable_sample(self, split, index):
            from cv_core.datasets import Sample

            return Sample(image=np.zeros((4, 4, 3), np.uint8), label=0)

    callback = RetrievalScoresCallback(OneClass(), (16, 16))
    with pytest.raises(DatasetError, match="Received: 3 readable picture"):
        callback.on_train_begin()


def test_each_epochs_map_keeps_the_orientation_of_the_map_before(tiny_net, tmp_path):
    """PCA fixes an axis only up to its sign: a map follows the previous epoch's (from disk after a resume)."""
    from cv_core.datasets import open_dataset
    from cv_core.similarity import embed_images, pca_2d
    from cv_core.similarity.training import RetrievalScoresCallback, split_pictures

    dataset = open_dataset("shapes", image_size=16, train_size=4, validation_size=20, test_size=0)
    images, labels, indices = split_pictures(dataset, "validation", (16, 16))
    fitted = pca_2d(embed_images(tiny_net, images))
    assert (np.abs(fitted.points).max(axis=0) > 1e-3).all()  # two real axes to turn
    mirrored = fitted.points * np.array([-1.0, 1.0])
    write_snapshot(tmp_path, 1, mirrored, labels, indices, dataset.class_names, fitted.explained)
    callback = RetrievalScoresCallback(dataset, (16, 16), run_dir=tmp_path)
    callback.set_model(tiny_net)
    for epoch in (1, 2):  # epoch 2 follows epoch 1's file; epoch 3 follows epoch 2, held in memory
        callback.on_epoch_end(epoch, {})
        np.testing.assert_allclose(embedding_snapshots(tmp_path)[-1]["points"], mirrored, atol=1e-5)
    write_snapshot(tmp_path, 3, -fitted.points, labels, indices[::-1], dataset.class_names)  # other pictures
    fresh = RetrievalScoresCallback(dataset, (16, 16), run_dir=tmp_path)
    fresh.set_model(tiny_net)
    fresh.on_epoch_end(3, {})  # not the same pictures: no reference, the fitted orientation
    np.testing.assert_allclose(embedding_snapshots(tmp_path)[-1]["points"], fitted.points, atol=1e-5)


def test_snapshots_round_trip_oldest_first(tmp_path):
    assert embedding_snapshots(tmp_path) == []
    for epoch in (2, 1, 10):
        write_snapshot(tmp_path, epoch, np.full((3, 2), epoch, np.float32), [0, 1, 1], [5, 6, 9], ["a", "b"],
                       (0.6, 0.3))
    snapshot_path(tmp_path, 11).write_bytes(b"not an npz")  # half a file is skipped, not raised
    snapshots = embedding_snapshots(tmp_path)
    assert [s["epoch"] for s in snapshots] == [1, 2, 10]
    last = snapshots[-1]
    assert last["points"].dtype == np.float32 and last["points"].shape == (3, 2) and (last["points"] == 10).all()
    assert last["labels"].tolist() == [0, 1, 1] and last["indices"].tolist() == [5, 6, 9]
    assert last["class_names"] == ["a", "b"] and last["explained"] == pytest.approx([0.6, 0.3])


# -- the entry ---------------------------------------------------------------------------------------


def test_the_task_is_in_the_table_and_its_specs_validate():
    from cv_core.runs.cost import estimate_epoch_seconds, estimate_seconds
    from cv_core.runs.tasks import TASK_MODULES, dataset_names
    from cv_core.similarity.task import SIMILARITY_EPOCH_IMAGES

    task = TASKS["similarity"]
    assert TASK_MODULES["similarity"] == "cv_core.similarity.task" and task.label == "Image similarity"
    assert (task.monitor, task.mode, task.test_metric) == ("val_map_at_r", "max", "map_at_r")
    assert "oxford_pets" in dataset_names(task) and "image_folder" in dataset_names(task)
    tiny = validate_spec(preset_spec("tiny", task="similarity"))
    quick = validate_spec(preset_spec("quick", task="similarity"))
    assert (tiny.task, tiny.model, quick.dataset) == ("similarity", "mini_xception", "shapes")
    validation = quick.dataset_options["validation_size"]
    assert task.epoch_scored_images(quick, validation) == min(SIMILARITY_EPOCH_IMAGES, validation) > 0
    assert 0 < estimate_epoch_seconds(quick) < estimate_seconds(quick)
    book = preset_spec("book", task="similarity", dataset_root="/data/pets")
    assert book.dataset == "oxford_pets" and book.augmentation


def test_a_model_without_classes_builds_and_compiles_through_the_table():
    from cv_core.datasets import open_dataset
    from cv_core.runs import build_model, compile_model
    from cv_core.similarity.losses import MultiSimilarityLoss

    task = TASKS["similarity"]
    dataset = open_dataset("shapes", train_size=4, validation_size=2, test_size=0)
    assert task.num_classes(dataset) is None and task.class_names(dataset) == []
    spec = preset_spec("tiny", task="similarity")
    model = build_model(spec, None)
    compile_model(spec, model, None, steps_per_epoch=4)
    assert isinstance(model.loss, MultiSimilarityLoss) and model.outputs[0].shape[-1] == 64
    title, caption = task.anatomy(spec, None)
    assert "64 numbers" in caption and "no class output" in caption


def test_score_rows_show_every_score_of_each_split():
    rows = TASKS["similarity"].score_rows({
        "validation": {"precision_at_1": 0.91234, "recall_at_1": 0.9, "recall_at_5": 0.99, "map_at_r": 0.7,
                       "pair_auc": 0.95, "threshold": 0.42},
        "test": {"precision_at_1": 0.8, "map_at_r": 0.6},
    })
    assert [row["score"].split(":")[0] for row in rows] == [
        "Precision@1", "Recall@1", "Recall@5", "MAP@R", "Pair ROC AUC", "Threshold"]
    assert rows[0]["validation"] == 0.912 and rows[0]["test"] == 0.8 and rows[1]["test"] is None
    assert TASKS["similarity"].score_rows({}) == []


@pytest.mark.slow
def test_a_tiny_run_trains_through_the_worker(tmp_path):
    from cv_core.runs import create_run, load_run, read_metrics
    from cv_core.runs.worker import run_training

    spec = preset_spec("tiny", task="similarity", epochs=2)
    run_dir = create_run(spec, tmp_path)
    results = run_training(spec, run_dir)
    rows = read_metrics(run_dir)
    assert [row["epoch"] for row in rows] == [1, 2]
    for row in rows:
        assert set(EPOCH_KEYS) <= set(row) and all(0 <= row[key] <= 1 for key in EPOCH_KEYS)
    scores = json.loads((run_dir / "scores.json").read_text())
    for split in ("validation", "test"):
        assert {"precision_at_1", "recall_at_1", "recall_at_5", "map_at_r", "pair_auc", "threshold"} <= set(
            scores[split])
    assert results["map_at_r"] == scores["test"]["map_at_r"] == load_run(run_dir).test_score
    assert [s["epoch"] for s in embedding_snapshots(run_dir)] == [1, 2]
    assert load_run(run_dir).summary["num_classes"] is None
