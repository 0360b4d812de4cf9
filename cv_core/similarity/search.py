"""Find the pictures most like this one: exact cosine top-k, and an approximate index beyond.

Exact search is a matrix product over unit rows, in chunks of the database so memory stays
bounded (chunk × queries floats) however many embeddings there are. Beyond
:data:`APPROXIMATE_FROM` embeddings an HNSW graph from faiss-cpu (inner product on unit
vectors = cosine similarity) answers instead; :func:`recall_at_k` measures how much of the
exact top-k it finds.
"""

from __future__ import annotations

import numpy as np

from cv_core.similarity.metrics import normalize_rows

__all__ = ["APPROXIMATE_FROM", "ApproximateIndex", "ExactIndex", "build_index", "recall_at_k"]

#: Databases of at least this many embeddings get an approximate index by default.
APPROXIMATE_FROM = 100_000
#: Database rows scored per chunk by :class:`ExactIndex`.
CHUNK_ROWS = 32_768


def _check_k(k: int, size: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"Expected `k` to be a positive integer. Received: k={k!r}")
    return min(int(k), size)


class ExactIndex:
    """Exact cosine top-k over a fixed set of embeddings (normalised once, at construction).

    Args:
        embeddings: (N, D) array-like, finite, no zero row.
        chunk_rows: database rows scored at once (bounds memory to chunk_rows × queries).
    """

    kind = "exact"

    def __init__(self, embeddings, chunk_rows: int = CHUNK_ROWS) -> None:
        self.unit = normalize_rows(embeddings)
        self.chunk_rows = int(chunk_rows)

    def __len__(self) -> int:
        return self.unit.shape[0]

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The k most similar embeddings to each query.

        Args:
            queries: (Q, D) or (D,) array-like.
            k: neighbours wanted (at most the database's size).

        Returns:
            (similarities (Q, k) float32, best first; indices (Q, k) int64 into the database).
        """
        q = normalize_rows(np.atleast_2d(queries), "queries")
        k = _check_k(k, len(self))
        best_scores = np.full((q.shape[0], 0), -np.inf, np.float32)
        best_index = np.zeros((q.shape[0], 0), np.int64)
        for start in range(0, len(self), self.chunk_rows):
            scores = q @ self.unit[start:start + self.chunk_rows].T
            take = min(k, scores.shape[1])
            part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            best_scores = np.concatenate([best_scores, np.take_along_axis(scores, part, axis=1)], axis=1)
            best_index = np.concatenate([best_index, part + start], axis=1)
            if best_scores.shape[1] > k:
                keep = np.argpartition(-best_scores, k - 1, axis=1)[:, :k]
                best_scores = np.take_along_axis(best_scores, keep, axis=1)
                best_index = np.take_along_axis(best_index, keep, axis=1)
        order = np.lexsort((best_index, -best_scores), axis=1)  # best first, ties by index
        return np.take_along_axis(best_scores, order, axis=1), np.take_along_axis(best_index, order, axis=1)


class ApproximateIndex:
    """Approximate cosine top-k: a faiss HNSW graph over unit vectors, inner-product metric.

    Args:
        embeddings: (N, D) array-like, finite, no zero row.
        neighbours: HNSW's M (links per node): more is slower to build, better recall.
        ef_construction: candidates kept while building.
        ef_search: candidates kept while searching (recall against speed).
    """

    kind = "approximate"

    def __init__(self, embeddings, neighbours: int = 32, ef_construction: int = 80, ef_search: int = 64) -> None:
        import faiss

        unit = normalize_rows(embeddings)
        self.index = faiss.IndexHNSWFlat(unit.shape[1], int(neighbours), faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = int(ef_construction)
        self.index.hnsw.efSearch = int(ef_search)
        self.index.add(np.ascontiguousarray(unit))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`ExactIndex.search`, approximately (an index of -1 marks a missing neighbour)."""
        q = normalize_rows(np.atleast_2d(queries), "queries")
        k = _check_k(k, len(self))
        scores, indices = self.index.search(np.ascontiguousarray(q), k)
        return scores.astype(np.float32), indices.astype(np.int64)


def build_index(embeddings, approximate_from: int = APPROXIMATE_FROM):
    """An :class:`ExactIndex`, or an :class:`ApproximateIndex` from ``approximate_from`` rows on."""
    count = np.shape(embeddings)[0]
    return ApproximateIndex(embeddings) if count >= approximate_from else ExactIndex(embeddings)


def recall_at_k(index, exact: ExactIndex, queries, k: int = 10) -> float:
    """Share of the exact top-k neighbours that ``index`` finds too, averaged over queries.

    Args:
        index: any index with ``search(queries, k)`` (usually an :class:`ApproximateIndex`).
        exact: the :class:`ExactIndex` over the same embeddings.
        queries: (Q, D) array-like.
        k: neighbours compared.

    Returns:
        A float in 0..1 (1 = every exact neighbour found).
    """
    _, truth = exact.search(queries, k)
    _, found = index.search(queries, k)
    hits = [np.intersect1d(t, f).size for t, f in zip(truth, found)]
    return float(np.mean(hits) / truth.shape[1])
