"""What the Similarity page builds on beside the metrics: a dataset split embedded row by row,
the fingerprint of its pictures, the 2-D PCA map, the map's figure, dataset labels and where
the pretrained weights are."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import open_dataset
from cv_core.similarity import dataset_pictures, embed_dataset, pca_2d, pictures_fingerprint, usable_rows


def _folder(root: Path, colours: dict[str, list[tuple[int, int, int]]]) -> Path:
    for name, values in colours.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for n, colour in enumerate(values):
            Image.new("RGB", (12, 10), colour).save(root / name / f"{n}.png")
    return root


def _mean_colour(pictures):
    return np.stack([p.reshape(-1, 3).mean(axis=0) for p in pictures]).astype(np.float32)


def test_embed_dataset_keeps_picture_order_and_marks_unreadable_pictures(tmp_path):
    root = _folder(tmp_path / "pets", {"cat": [(200, 10, 10)] * 3, "dog": [(10, 10, 200)] * 3})
    dataset = open_dataset("image_folder", str(root), validation_split=0.0)
    paths = [path for path, _ in dataset.files["train"]]
    paths[2].write_bytes(b"not a picture any more")
    calls = []

    def embed(pictures):
        calls.append(len(pictures))
        return _mean_colour(pictures)

    rows = embed_dataset(dataset, "train", embed, batch_size=4)
    assert rows.shape == (6, 3) and calls == [3, 2]  # batches of 4 pictures, less the broken one
    expected = [np.asarray(Image.open(p), np.float32).reshape(-1, 3).mean(axis=0) for p in paths if p != paths[2]]
    np.testing.assert_allclose(np.delete(rows, 2, axis=0), np.stack(expected))
    assert np.isnan(rows[2]).all()
    assert usable_rows(rows).tolist() == [True, True, False, True, True, True]
    part = embed_dataset(dataset, "train", embed, start=3, count=2)
    np.testing.assert_allclose(part, rows[3:5])
    with pytest.raises(ValueError, match="within the 6"):
        embed_dataset(dataset, "train", embed, start=5, count=2)


def test_usable_rows_leave_out_zero_rows_and_embed_dataset_refuses_an_unreadable_split(tmp_path):
    assert usable_rows([[0.0, 0.0], [1.0, 0.0], [np.inf, 1.0]]).tolist() == [False, True, False]
    root = _folder(tmp_path / "broken", {"a": [(1, 2, 3)], "b": [(4, 5, 6)]})
    dataset = open_dataset("image_folder", str(root), validation_split=0.0)
    for path, _ in dataset.files["train"]:
        path.write_bytes(b"")
    with pytest.raises(ValueError, match="readable picture"):
        embed_dataset(dataset, "train", _mean_colour)


def test_the_pictures_of_a_folder_are_known_by_their_files(tmp_path):
    root = _folder(tmp_path / "pets", {"cat": [(200, 10, 10)] * 2, "dog": [(10, 10, 200)] * 2})
    dataset = open_dataset("image_folder", str(root), validation_split=0.0)
    pictures = dataset_pictures(dataset, "train")
    assert pictures == [path for path, _ in dataset.files["train"]]
    assert dataset_pictures(dataset, "train", count=3) == pictures[:3]
    before = pictures_fingerprint(pictures)
    stamp = os.stat(pictures[0]).st_mtime_ns
    Image.new("RGB", (12, 10), (0, 255, 0)).save(pictures[0])
    os.utime(pictures[0], ns=(stamp + 10**9, stamp + 10**9))
    assert pictures_fingerprint(pictures) != before


def test_shapes_pictures_are_known_by_their_seed_size_and_split():
    first = pictures_fingerprint(dataset_pictures(open_dataset("shapes", seed=0, image_size=32), "validation"))
    assert first == pictures_fingerprint(dataset_pictures(open_dataset("shapes", seed=0, image_size=32), "validation"))
    others = [dataset_pictures(open_dataset("shapes", seed=1, image_size=32), "validation"),
              dataset_pictures(open_dataset("shapes", seed=0, image_size=48), "validation"),
              dataset_pictures(open_dataset("shapes", seed=0, image_size=32), "test"),
              dataset_pictures(open_dataset("shapes", seed=0, image_size=32), "validation", count=100)]
    assert len({first, *(pictures_fingerprint(p) for p in others)}) == 5


def test_dataset_labels_are_the_labels_of_its_samples():
    dataset = open_dataset("shapes", seed=3, image_size=32, validation_size=20)
    labels = dataset.labels("validation")
    assert labels.dtype == np.int64 and labels.shape == (20,)
    assert labels.tolist() == [dataset.sample("validation", i).label for i in range(20)]


def test_pca_2d_agrees_with_the_covariance_eigenvectors_and_places_new_points():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 6)) * [5, 3, 1, 0.5, 0.2, 0.1] + [10, 0, 0, 0, 0, 0]
    projection = pca_2d(data)
    unit = data / np.linalg.norm(data, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(np.cov(unit, rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:2]].T
    for axis, reference in zip(projection.axes, top):
        assert abs(abs(float(axis @ reference)) - 1) < 1e-4  # the same direction, up to sign
        assert axis[np.argmax(np.abs(axis))] > 0  # the sign rule: the largest loading is positive
    np.testing.assert_allclose(projection.explained, np.sort(values)[::-1][:2] / values.sum(), rtol=1e-3)
    np.testing.assert_allclose(projection.points, (unit - unit.mean(0)) @ projection.axes.T, atol=1e-4)
    np.testing.assert_allclose(projection.transform(data[:3] * 7.0), projection.points[:3], atol=1e-4)  # scale-free
    flipped = pca_2d(data[::-1])
    np.testing.assert_allclose(flipped.axes, projection.axes, atol=1e-4)  # the same map whatever the order


def test_a_map_turns_its_axes_to_match_another_map_of_the_same_pictures():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(50, 5)) * [4, 2, 1, 1, 1]
    projection = pca_2d(data)
    mirrored = projection.points * [-1, 1]  # the same map, its first axis the other way round
    turned = projection.oriented_like(mirrored)
    np.testing.assert_allclose(turned.points, mirrored, atol=1e-5)
    np.testing.assert_allclose(turned.transform(data), mirrored, atol=1e-4)  # new pictures land the same way
    assert projection.oriented_like(projection.points) is projection
    some = np.array([3, 7, 11])
    np.testing.assert_allclose(projection.oriented_like(-projection.points[some], rows=some).points,
                               -projection.points, atol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        projection.oriented_like(projection.points[:3])


def test_pca_2d_of_one_point_identical_points_and_one_direction():
    single = pca_2d([[1.0, 2.0, 3.0]])
    assert single.points.tolist() == [[0.0, 0.0]] and single.explained.tolist() == [0.0, 0.0]
    same = pca_2d([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])  # one direction: every unit row is equal
    assert np.allclose(same.points, 0)
    line = pca_2d([[1.0, 0.0], [0.0, 1.0]])
    assert line.explained[0] == pytest.approx(1.0) and line.explained[1] == 0.0
    assert abs(line.points[0, 0] - line.points[1, 0]) == pytest.approx(np.sqrt(2), abs=1e-5)
    with pytest.raises(ValueError, match="width 2"):
        line.transform([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="row 1"):
        pca_2d([[1.0, 0.0], [0.0, 0.0]])


def test_the_map_figure_draws_a_trace_per_class_and_the_query_as_a_star():
    from cv_core.plots.similarity import QUERY_TRACE, embedding_map_figure

    points = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], np.float32)
    figure = embedding_map_figure(points, np.array([2, 0, 2, 0]), ["circle", "square", "star"],
                                  indices=np.array([10, 11, 12, 13]), query=np.array([0.5, 0.5]))
    names = [trace.name for trace in figure.data]
    assert names == ["circle", "star", QUERY_TRACE]
    assert list(figure.data[1].customdata) == [10, 12] and list(figure.data[1].x) == [0, 2]
    assert figure.data[2].marker.symbol == "star"
    with pytest.raises(ValueError, match="as many points"):
        embedding_map_figure(points, np.array([0, 1]), ["a", "b"])


def test_pretrained_weights_are_found_without_loading_and_unknown_names_refused(tmp_path, monkeypatch):
    from cv_core.pretrained import SQUEEZENET_WEIGHTS_SHA256, XCEPTION_WEIGHTS_FILE, pretrained_weights_file
    import hashlib

    squeezenet = pretrained_weights_file("squeezenet")
    assert squeezenet is not None and hashlib.sha256(squeezenet.read_bytes()).hexdigest() == SQUEEZENET_WEIGHTS_SHA256
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(Path, "is_file", lambda self: str(self).startswith(str(tmp_path)) and os.path.isfile(self))
    assert pretrained_weights_file("xception") is None
    (tmp_path / "keras" / "models").mkdir(parents=True)
    (tmp_path / "keras" / "models" / XCEPTION_WEIGHTS_FILE).write_bytes(b"weights")
    assert pretrained_weights_file("xception") == tmp_path / "keras" / "models" / XCEPTION_WEIGHTS_FILE
    with pytest.raises(ValueError, match="squeezenet"):
        pretrained_weights_file("resnet")
