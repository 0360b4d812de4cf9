"""Exact and approximate nearest-neighbour search, the on-disk embedding cache and the SSIM baseline."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cv_core.similarity import (ApproximateIndex, ExactIndex, build_index, cached_embeddings, cosine_similarity,
                                recall_at_k, ssim)


def _clustered(count, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim))
    return (centres[rng.integers(0, 20, count)] + 0.3 * rng.normal(size=(count, dim))).astype(np.float32)


@pytest.mark.parametrize("chunk_rows", [7, 1000])
def test_exact_search_matches_a_full_sort_of_cosine_similarity(chunk_rows):
    data, queries = _clustered(300), _clustered(5, seed=1)
    scores, indices = ExactIndex(data, chunk_rows=chunk_rows).search(queries, k=10)
    full = cosine_similarity(queries, data)
    for row in range(5):
        order = np.argsort(-full[row], kind="stable")[:10]
        np.testing.assert_array_equal(indices[row], order)
        np.testing.assert_allclose(scores[row], full[row, order], atol=1e-6)


def test_exact_search_of_one_vector_and_k_beyond_the_size():
    scores, indices = ExactIndex([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).search([2.0, 0.0], k=10)
    assert indices.tolist() == [[0, 2, 1]]
    np.testing.assert_allclose(scores, [[1.0, np.sqrt(0.5), 0.0]], atol=1e-6)
    with pytest.raises(ValueError, match="positive integer"):
        ExactIndex([[1.0, 0.0]]).search([1.0, 0.0], k=0)
    with pytest.raises(ValueError, match="row 0"):
        ExactIndex([[1.0, 0.0]]).search([0.0, 0.0], k=1)


def test_approximate_index_finds_almost_all_exact_neighbours():
    data, queries = _clustered(3000), _clustered(50, seed=2)
    approximate = ApproximateIndex(data)
    recall = recall_at_k(approximate, ExactIndex(data), queries, k=10)
    assert 0.9 <= recall <= 1.0
    scores, _ = approximate.search(queries[:1], k=3)
    assert scores.shape == (1, 3) and np.all(np.diff(scores[0]) <= 1e-6)  # best first


def test_recall_at_k_counts_shared_neighbours():
    class Wrong:
        def search(self, queries, k):
            return None, np.tile(np.arange(100, 100 + k), (len(queries), 1))

    data = _clustered(200)
    exact = ExactIndex(data)
    assert recall_at_k(exact, exact, data[:4], k=5) == 1.0
    assert recall_at_k(Wrong(), exact, data[:4], k=5) <= 0.2  # at most one shared id per 5


def test_build_index_switches_to_approximate_at_the_threshold():
    data = _clustered(60)
    assert build_index(data, approximate_from=61).kind == "exact"
    assert build_index(data, approximate_from=60).kind == "approximate"


def test_cache_computes_once_and_recomputes_when_model_or_pictures_change(tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"weights v1")
    pictures = [np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)]
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(2, 3) + len(calls)

    first = cached_embeddings(tmp_path / "cache", "validation", model, pictures, compute)
    again = cached_embeddings(tmp_path / "cache", "validation", model, pictures, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, again)
    pictures[1] = pictures[1] * 2
    cached_embeddings(tmp_path / "cache", "validation", model, pictures, compute)
    assert len(calls) == 2
    model.write_bytes(b"weights v2")
    os.utime(model, ns=(1, 1))
    latest = cached_embeddings(tmp_path / "cache", "validation", model, pictures, compute)
    assert len(calls) == 3 and latest[0, 0] == 3
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 1 and files[0].startswith("embeddings-validation-") and files[0].endswith(".npy")
    assert np.load(tmp_path / "cache" / files[0], allow_pickle=False)[0, 0] == 3  # plain .npy, no pickle


def test_cache_keys_picture_files_by_their_content_and_refuses_odd_names(tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"m")
    photo = tmp_path / "a.png"
    photo.write_bytes(b"one")
    calls = []
    compute = lambda: calls.append(1) or np.ones((1, 2), np.float32)  # noqa: E731
    cached_embeddings(tmp_path, "folder", model, [photo], compute)
    cached_embeddings(tmp_path, "folder", model, [photo], compute)
    photo.write_bytes(b"changed")
    os.utime(photo, ns=(5, 5))
    cached_embeddings(tmp_path, "folder", model, [photo], compute)
    assert len(calls) == 2
    with pytest.raises(ValueError, match="name"):
        cached_embeddings(tmp_path, "../x", model, [photo], compute)


def test_ssim_of_a_picture_with_itself_is_one_and_sizes_and_modes_may_differ():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    assert ssim(photo, photo) == pytest.approx(1.0)
    grey = photo.mean(axis=-1).astype(np.uint8)
    rgba = np.concatenate([photo, np.full((60, 80, 1), 255, np.uint8)], axis=-1)
    assert ssim(photo, rgba) == pytest.approx(1.0)  # alpha dropped
    assert -1.0 <= ssim(grey, photo[:30]) <= 1.0
    assert ssim(photo, 255 - photo) < 0.1  # the negative is structurally opposite
    with pytest.raises(ValueError, match="shape"):
        ssim(np.zeros((2, 3, 4, 5)), photo)
