"""How well embeddings keep classes together: cosine similarity, retrieval scores, pair AUC.

Definitions (the standard ones, so the numbers compare with papers):

- cosine similarity: ``a·b / (|a| |b|)``, in -1..1.
- leave-one-out retrieval: every sample queries all the *others*, ranked by cosine
  similarity (ties keep index order: a stable sort). A sample whose class has no other
  member cannot be a query.
- precision@1: share of queries whose nearest other sample is of their class.
- recall@k: the metric-learning convention (e.g. Musgrave et al., 2020): share of queries
  with at least one same-class sample among their k nearest others.
- MAP@R: Musgrave, Belongie and Lim, *A Metric Learning Reality Check* (ECCV 2020). With R
  the number of other samples of the query's class, ``AP@R = (1/R) Σ_{i=1..R} P(i) rel(i)``
  over the first R neighbours; MAP@R is its mean over queries.
- pair AUC: ROC AUC of "same class" (positive) against "different class" (negative) over
  all unordered pairs i < j, scored by cosine similarity; ties count one half (the
  Mann-Whitney U statistic divided by n_pos × n_neg).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PairThreshold", "cosine_similarity", "normalize_rows", "pair_auc", "pair_scores",
           "pair_threshold", "retrieval_scores"]

#: Queries ranked per block in :func:`retrieval_scores`: bounds memory to block × N.
_QUERY_BLOCK = 256


def normalize_rows(x, name: str = "embeddings") -> np.ndarray:
    """Rows scaled to unit length, float32.

    Args:
        x: (N, D) array-like of finite numbers.
        name: what to call ``x`` in error messages.

    Returns:
        (N, D) float32, each row of L2 norm 1.

    Raises:
        ValueError: not 2-D, a NaN or infinite value, or a zero row (the message names the row).
    """
    array = np.asarray(x, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"Expected `{name}` of shape (N, D). Received: shape {array.shape}")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"Expected finite `{name}`. Received: row {row} holds NaN or infinity.")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if (norms == 0).any():
        row = int(np.flatnonzero(norms[:, 0] == 0)[0])
        raise ValueError(f"Expected non-zero rows in `{name}`. Received: row {row} is all zeros "
                         "(its direction, so its cosine similarity, is undefined).")
    return array / norms


def cosine_similarity(a, b) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    Args:
        a: (N, D) array-like; rows are normalised here.
        b: (M, D) array-like, same D.

    Returns:
        (N, M) float32 in -1..1.

    Raises:
        ValueError: a zero, NaN or infinite row (named), or shapes that do not match.
    """
    a = normalize_rows(a, "a")
    b = normalize_rows(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Expected `a` and `b` with the same width. Received: {a.shape[1]} and {b.shape[1]}")
    return np.clip(a @ b.T, -1.0, 1.0)


def _labels(labels, count: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (count,):
        raise ValueError(f"Expected one label per embedding ({count}). Received: labels of shape {labels.shape}")
    if np.unique(labels).size < 2:
        raise ValueError("Expected samples of at least two classes. Received: every sample has the same class, "
                         "so same-class and different-class cannot be told apart.")
    return labels


def retrieval_scores(embeddings, labels, ks=(1, 5)) -> dict:
    """Leave-one-out retrieval scores by cosine similarity (definitions in the module docstring).

    Args:
        embeddings: (N, D) array-like, one row per sample.
        labels: (N,) class of each sample (any comparable values).
        ks: the k of each recall@k.

    Returns:
        ``{"precision_at_1", "recall_at_<k>" for each k, "map_at_r"}``, floats in 0..1,
        averaged over the samples that can query.

    Raises:
        ValueError: bad embeddings (see :func:`normalize_rows`), one class only, no class
            with two samples, or a k below 1.
    """
    unit = normalize_rows(embeddings)
    labels = _labels(labels, unit.shape[0])
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise ValueError(f"Expected every k >= 1. Received: ks={ks}")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    others = counts[inverse] - 1  # R of each sample
    queries = np.flatnonzero(others > 0)
    if queries.size == 0:
        raise ValueError("Expected a class with at least two samples. Received: every class has one sample, "
                         "so no sample has a same-class neighbour to find.")
    columns = max(max(ks), int(others.max()))
    hits_at_1 = np.zeros(queries.size, bool)
    found = {k: np.zeros(queries.size, bool) for k in ks}
    average_precision = np.zeros(queries.size, np.float64)
    for start in range(0, queries.size, _QUERY_BLOCK):
        block = queries[start:start + _QUERY_BLOCK]
        sims = unit[block] @ unit.T
        sims[np.arange(block.size), block] = -np.inf  # leave the query out: it sorts last
        order = np.argsort(-sims, axis=1, kind="stable")[:, :min(columns, unit.shape[0] - 1)]
        relevant = inverse[order] == inverse[block][:, None]
        rows = slice(start, start + block.size)
        hits_at_1[rows] = relevant[:, 0]
        for k in ks:
            found[k][rows] = relevant[:, :k].any(axis=1)
        r = others[block]
        ranks = np.arange(1, relevant.shape[1] + 1)
        within_r = ranks[None, :] <= r[:, None]
        precision = np.cumsum(relevant, axis=1) / ranks
        average_precision[rows] = (precision * relevant * within_r).sum(axis=1) / r
    scores = {"precision_at_1": float(hits_at_1.mean())}
    scores.update({f"recall_at_{k}": float(found[k].mean()) for k in ks})
    scores["map_at_r"] = float(average_precision.mean())
    return scores


def pair_scores(embeddings, labels) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity and "same class" of every unordered pair i < j.

    Memory grows as N²: about 20 bytes per pair (a few thousand validation samples is fine).

    Returns:
        (scores (P,) float32, same (P,) bool), P = N(N-1)/2, pairs in ``np.triu_indices`` order.

    Raises:
        ValueError: as :func:`retrieval_scores`, or no same-class pair.
    """
    unit = normalize_rows(embeddings)
    labels = _labels(labels, unit.shape[0])
    i, j = np.triu_indices(unit.shape[0], k=1)
    same = labels[i] == labels[j]
    if not same.any():
        raise ValueError("Expected at least one class with two samples. Received: no same-class pair.")
    scores = np.einsum("pd,pd->p", unit[i], unit[j]) if i.size < 2_000_000 else (unit @ unit.T)[i, j]
    return np.clip(scores, -1.0, 1.0).astype(np.float32), same


def pair_auc(embeddings, labels) -> float:
    """ROC AUC of same-class against different-class pairs by cosine similarity, ties half.

    Args:
        embeddings: (N, D) array-like.
        labels: (N,) class of each sample.

    Returns:
        The probability that a random same-class pair scores above a random
        different-class pair (ties count 1/2): a float in 0..1.

    Raises:
        ValueError: as :func:`pair_scores`.
    """
    from scipy.stats import rankdata

    scores, same = pair_scores(embeddings, labels)
    ranks = rankdata(scores)  # average ranks: a tie counts one half
    positives, negatives = int(same.sum()), int((~same).sum())
    u = ranks[same].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


@dataclass(frozen=True)
class PairThreshold:
    """The cosine similarity above which a pair reads as "probably the same kind of thing".

    Attributes:
        threshold: a pair with similarity >= threshold is called "same".
        true_positive_rate: share of same-class pairs called "same" at the threshold.
        false_positive_rate: share of different-class pairs called "same".
        youden_j: true_positive_rate - false_positive_rate, the quantity maximised.
    """

    threshold: float
    true_positive_rate: float
    false_positive_rate: float
    youden_j: float

    def is_same(self, similarity: float) -> bool:
        """Whether a pair with this cosine similarity reads as the same kind of thing."""
        return bool(similarity >= self.threshold)


def pair_threshold(embeddings, labels) -> PairThreshold:
    """The threshold that best separates same-class from different-class pairs (Youden's J).

    Every distinct pair score is a candidate; the one maximising TPR - FPR wins (the highest
    such threshold on a tie, the strictest rule).

    Raises:
        ValueError: as :func:`pair_scores`.
    """
    scores, same = pair_scores(embeddings, labels)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_same = scores[order], same[order]
    true_positives = np.cumsum(sorted_same)
    false_positives = np.cumsum(~sorted_same)
    last_of_value = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]  # ">= value" ends here
    tpr = true_positives[last_of_value] / same.sum()
    fpr = false_positives[last_of_value] / (~same).sum()
    best = int(np.argmax(tpr - fpr))
    return PairThreshold(threshold=float(sorted_scores[last_of_value][best]), true_positive_rate=float(tpr[best]),
                         false_positive_rate=float(fpr[best]), youden_j=float(tpr[best] - fpr[best]))
