"""The embedding map: embeddings projected to two dimensions by PCA (numpy, no scikit-learn).

Rows are L2-normalised first, so the map shows the geometry cosine similarity sees. Each
axis's sign is fixed (its largest loading positive), so the same embeddings always draw the
same map, and a new picture can be placed on it with :meth:`Projection.transform`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cv_core.similarity.metrics import normalize_rows

__all__ = ["Projection", "pca_2d"]


@dataclass(frozen=True)
class Projection:
    """A fitted two-dimensional PCA of unit embeddings.

    Attributes:
        mean: (D,) mean of the unit rows it was fitted on.
        axes: (2, D) the two principal directions (unit rows; a zero row where the data has
            fewer than two directions of spread).
        explained: (2,) share of the total variance along each axis, in 0..1.
        points: (N, 2) the fitted embeddings on the map.
    """

    mean: np.ndarray
    axes: np.ndarray
    explained: np.ndarray
    points: np.ndarray

    def transform(self, embeddings) -> np.ndarray:
        """Place embeddings of the same model on this map.

        Args:
            embeddings: (M, D) or (D,) array-like, finite, no zero row.

        Returns:
            (M, 2) float32 map coordinates.
        """
        unit = normalize_rows(np.atleast_2d(embeddings))
        if unit.shape[1] != self.mean.shape[0]:
            raise ValueError(f"Expected embeddings of width {self.mean.shape[0]}. Received: width {unit.shape[1]}")
        return ((unit - self.mean) @ self.axes.T).astype(np.float32)

    def oriented_like(self, reference, rows=None) -> "Projection":
        """This map with each axis turned round where it runs against another map of the same pictures.

        PCA fixes an axis only up to its sign: two maps of one model can be mirror images. Each
        axis whose points correlate negatively with ``reference`` is flipped; nothing else changes.

        Args:
            reference: (M, 2) the pictures' coordinates on the other map.
            rows: (M,) which of this map's points they are (all, in order, by default).

        Returns:
            A :class:`Projection` (this one where no axis needs turning).

        Raises:
            ValueError: ``reference`` of another length than the points it is compared with.
        """
        points = self.points if rows is None else self.points[np.asarray(rows, np.int64)]
        reference = np.asarray(reference, np.float64).reshape(-1, 2)
        if reference.shape != points.shape:
            raise ValueError(f"Expected a reference of shape {points.shape}. Received: shape {reference.shape}")
        signs = np.where((points.astype(np.float64) * reference).sum(axis=0) < 0, -1.0, 1.0)
        if (signs > 0).all():
            return self
        return Projection(self.mean, (self.axes * signs[:, None]).astype(np.float32), self.explained,
                          (self.points * signs).astype(np.float32))


def pca_2d(embeddings) -> Projection:
    """Fit a two-dimensional PCA map of embeddings (rows normalised to unit length first).

    Args:
        embeddings: (N, D) array-like, N >= 1, finite, no zero row.

    Returns:
        A :class:`Projection`; its ``points`` are the embeddings on the map. With one
        embedding (or identical ones) every point is (0, 0) and ``explained`` is zero.

    Raises:
        ValueError: bad embeddings (see :func:`~cv_core.similarity.normalize_rows`).
    """
    unit = normalize_rows(embeddings).astype(np.float64)
    mean = unit.mean(axis=0)
    centred = unit - mean
    # The right singular vectors of the centred rows are the eigenvectors of their D x D scatter
    # matrix, the singular values squared its eigenvalues: the same PCA as an SVD of the N x D
    # rows, as a D x D problem, which stays fast in a training process (an N x D SVD there took
    # up to a second beside TensorFlow's busy threads, a D x D one a few milliseconds).
    variance, vectors = np.linalg.eigh(centred.T @ centred)
    variance, vt = np.clip(variance[::-1], 0.0, None), vectors[:, ::-1].T
    axes = np.zeros((2, unit.shape[1]))
    explained = np.zeros(2)
    total = float(variance.sum())
    for k in range(min(2, vt.shape[0])):
        if total <= 0 or variance[k] <= total * 1e-12:
            break
        axis = vt[k]
        largest = int(np.argmax(np.abs(axis)))
        axes[k] = axis if axis[largest] >= 0 else -axis
        explained[k] = variance[k] / total
    points = (centred @ axes.T).astype(np.float32)
    return Projection(mean.astype(np.float32), axes.astype(np.float32), explained, points)
