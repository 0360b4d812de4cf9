"""Similarity scores against direct computations from their definitions and hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from cv_core.similarity import cosine_similarity, pair_auc, pair_threshold, retrieval_scores


def _cos(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def _brute_retrieval(embeddings, labels, ks):
    """Leave-one-out retrieval straight from the definitions, one query at a time, in plain loops."""
    n = len(labels)
    p1, recalls, aps = [], {k: [] for k in ks}, []
    for q in range(n):
        r = sum(1 for j in range(n) if j != q and labels[j] == labels[q])
        if r == 0:
            continue  # no same-class neighbour: not a query
        others = [j for j in range(n) if j != q]
        # best first; equal similarities keep index order
        others.sort(key=lambda j: -_cos(embeddings[q], embeddings[j]))
        rel = [labels[j] == labels[q] for j in others]
        p1.append(float(rel[0]))
        for k in ks:
            recalls[k].append(float(any(rel[:k])))
        ap = 0.0
        for i in range(1, r + 1):
            if rel[i - 1]:
                ap += sum(rel[:i]) / i
        aps.append(ap / r)
    out = {"precision_at_1": float(np.mean(p1))}
    out.update({f"recall_at_{k}": float(np.mean(recalls[k])) for k in ks})
    out["map_at_r"] = float(np.mean(aps))
    return out


def _brute_auc(embeddings, labels):
    pos, neg = [], []
    n = len(labels)
    for i in range(n):
        for j in range(i + 1, n):
            (pos if labels[i] == labels[j] else neg).append(_cos(embeddings[i], embeddings[j]))
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg)), pos, neg


# -- cosine similarity ---------------------------------------------------------------------------------


def test_cosine_similarity_matches_the_definition():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6)) * 5.0
    sims = cosine_similarity(a, b)
    assert sims.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert sims[i, j] == pytest.approx(_cos(a[i], b[j]), abs=1e-6)


def test_cosine_similarity_hand_made_values():
    sims = cosine_similarity([[1, 0], [0, 2]], [[3, 0], [-1, 0], [1, 1]])
    np.testing.assert_allclose(sims, [[1, -1, math.sqrt(0.5)], [0, 0, math.sqrt(0.5)]], atol=1e-6)
    assert sims.min() >= -1 and sims.max() <= 1


@pytest.mark.parametrize("bad, row", [([[1.0, 2.0], [0.0, 0.0]], 1), ([[np.nan, 1.0], [1.0, 1.0]], 0),
                                      ([[1.0, 1.0], [np.inf, 1.0]], 1)])
def test_cosine_similarity_refuses_zero_nan_and_infinite_rows_naming_the_row(bad, row):
    with pytest.raises(ValueError, match=f"row {row}"):
        cosine_similarity(bad, [[1.0, 0.0]])
    with pytest.raises(ValueError, match=f"row {row}"):
        cosine_similarity([[1.0, 0.0]], bad)


# -- retrieval scores ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_retrieval_scores_match_a_brute_force_computation(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=30)
    labels[0] = 9  # a class with one sample: never a query, still a neighbour
    embeddings = rng.normal(size=(30, 5)) + labels[:, None] * 0.3
    got = retrieval_scores(embeddings, labels, ks=(1, 2, 5))
    want = _brute_retrieval(embeddings, labels, (1, 2, 5))
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
        assert 0.0 <= got[key] <= 1.0


def test_retrieval_scores_with_ties_follow_index_order():
    # Four identical rows of two classes: every similarity ties, neighbours in index order.
    embeddings = np.ones((4, 3))
    labels = [0, 1, 0, 1]
    got = retrieval_scores(embeddings, labels)
    assert got == pytest.approx(_brute_retrieval(embeddings, labels, (1, 5)))
    # Nearest other by index: query 0 -> 1 (miss), 1 -> 0 (miss), 2 -> 0 (hit), 3 -> 0 (miss).
    assert got["precision_at_1"] == pytest.approx(0.25)


def test_retrieval_scores_hand_made_case():
    # Class 0 at angle 0, 10 and 200 degrees; class 1 at 90 and 100 degrees.
    angles = np.radians([0, 10, 200, 90, 100])
    embeddings = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = [0, 0, 0, 1, 1]
    got = retrieval_scores(embeddings, labels, ks=(1, 5))
    # Query 0: 1(hit) 3 4 2(hit) -> R=2, AP = (1/1)/2 = 0.5.  Query 1: 0(hit) 3 4 2 -> AP 0.5.
    # Query 2 (200°): 4 (100° away), 3 (110°), then 0, 1 -> both of its first R=2 miss, AP 0.
    # Query 3: 4(hit) -> AP 1. Query 4: 3(hit) -> AP 1.
    assert got["precision_at_1"] == pytest.approx(4 / 5)
    assert got["recall_at_1"] == pytest.approx(4 / 5)
    assert got["recall_at_5"] == pytest.approx(1.0)
    assert got["map_at_r"] == pytest.approx((0.5 + 0.5 + 0 + 1 + 1) / 5)


def test_a_perfect_embedding_scores_one():
    embeddings = np.repeat(np.eye(3), 3, axis=0) + 0.01 * np.arange(9)[:, None]
    got = retrieval_scores(embeddings, np.repeat([0, 1, 2], 3))
    assert got == {"precision_at_1": 1.0, "recall_at_1": 1.0, "recall_at_5": 1.0, "map_at_r": pytest.approx(1.0)}


def test_retrieval_scores_refuse_one_class_and_singleton_classes():
    with pytest.raises(ValueError, match="same class"):
        retrieval_scores(np.eye(3), [4, 4, 4])
    with pytest.raises(ValueError, match="at least two samples"):
        retrieval_scores(np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="one label per embedding"):
        retrieval_scores(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="row 2"):
        retrieval_scores([[1, 0], [0, 1], [np.nan, 0]], [0, 0, 1])


# -- pair AUC and threshold ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_pair_auc_matches_brute_force_and_mann_whitney(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=25)
    embeddings = rng.normal(size=(25, 4)) + labels[:, None] * 0.5
    want, pos, neg = _brute_auc(embeddings, labels)
    assert pair_auc(embeddings, labels) == pytest.approx(want, abs=1e-9)
    u = mannwhitneyu(pos, neg).statistic
    assert pair_auc(embeddings, labels) == pytest.approx(u / (len(pos) * len(neg)), abs=1e-9)


def test_pair_auc_counts_ties_half():
    # Everything points the same way: every pair scores 1, so AUC = 1/2 exactly.
    assert pair_auc(np.ones((4, 2)), [0, 0, 1, 1]) == pytest.approx(0.5)
    # Hand-made: same-class pairs score 1, different-class pairs 0.
    assert pair_auc([[1, 0], [2, 0], [0, 1], [0, 3]], [0, 0, 1, 1]) == pytest.approx(1.0)
    # Same-class pairs score 0, 0; different-class pairs 1, 0, 0, 1: no wins, 4 ties of 8 -> 2 / 8.
    assert pair_auc([[1, 0], [0, 1], [1, 0], [0, 1]], [0, 0, 1, 1]) == pytest.approx(0.25)


def test_pair_auc_refuses_one_class_and_no_same_class_pair():
    with pytest.raises(ValueError, match="same class"):
        pair_auc(np.eye(3), [1, 1, 1])
    with pytest.raises(ValueError, match="same-class pair"):
        pair_auc(np.eye(3), [0, 1, 2])


def test_pair_threshold_maximises_youden_j_over_every_candidate():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=20)
    embeddings = rng.normal(size=(20, 4)) + labels[:, None]
    _, pos, neg = _brute_auc(embeddings, labels)
    best = max(np.mean(np.array(pos) >= t) - np.mean(np.array(neg) >= t) for t in pos + neg)
    chosen = pair_threshold(embeddings, labels)
    assert chosen.youden_j == pytest.approx(best, abs=1e-6)
    t = chosen.threshold
    assert chosen.true_positive_rate == pytest.approx(np.mean(np.array(pos) >= t - 1e-7))
    assert chosen.false_positive_rate == pytest.approx(np.mean(np.array(neg) >= t - 1e-7))


def test_pair_threshold_separates_a_separable_case_and_reads_a_score():
    chosen = pair_threshold([[1, 0], [2, 0.1], [0, 1], [0.1, 3]], [0, 0, 1, 1])
    assert chosen.youden_j == pytest.approx(1.0)
    assert chosen.is_same(0.999) and not chosen.is_same(0.2)
