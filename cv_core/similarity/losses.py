"""The learned embedding's loss: multi-similarity (Wang et al., CVPR 2019), on cosine similarity.

For a batch of unit vectors ``e`` with classes ``y``, ``S = e eᵀ`` (cosine similarities). For
each anchor ``i``, its positives are the other pictures of its class and its negatives the
pictures of other classes. Pairs are first **mined** with a margin ε:

- a negative ``k`` is kept when ``S_ik + ε > min`` over the anchor's positives (it is closer
  than the hardest positive, or nearly);
- a positive ``k`` is kept when ``S_ik - ε < max`` over the anchor's negatives.

Then, with the kept sets ``P_i`` and ``N_i``::

    L_i = 1/α · log(1 + Σ_{k∈P_i} exp(-α (S_ik - λ))) + 1/β · log(1 + Σ_{k∈N_i} exp(β (S_ik - λ)))

and the loss is the mean of ``L_i`` over the batch (an anchor with no kept pair adds 0). Every
informative pair counts, weighted by how hard it is (the soft-max inside each log), which is
why it learns faster and more steadily from scratch than a triplet loss that keeps only the
hardest negative. α = 2, β = 50, λ = 0.5, ε = 0.1: the paper's values.

The loss needs positives in every batch: train it on class-balanced batches
(:func:`cv_core.pipeline.class_balanced_batches`). :class:`MultiSimilarityLoss` is a
registered Keras serialisable (package ``cv_core``): a compiled embedding model saves and
loads once this module is imported. Importing it imports TensorFlow.
"""

from __future__ import annotations

from cv_core._tf import keras as _keras

keras = _keras()
ops = keras.ops

__all__ = ["MS_ALPHA", "MS_BASE", "MS_BETA", "MS_MARGIN", "MultiSimilarityLoss", "multi_similarity_loss"]

#: The paper's weights of positive and negative pairs, the similarity they are pushed around
#: (λ) and the mining margin (ε).
MS_ALPHA, MS_BETA, MS_BASE, MS_MARGIN = 2.0, 50.0, 0.5, 0.1

#: Stands for "no pair" inside the soft-max sums (exp of it is exactly 0 in float32).
_ABSENT = -1e9


def _log_one_plus_sum_exp(x, keep):
    """``log(1 + Σ_k exp(x_k))`` over the kept entries of each row, computed stably."""
    x = ops.where(keep, x, _ABSENT)
    return ops.logsumexp(ops.concatenate([ops.zeros_like(x[:, :1]), x], axis=1), axis=1)


def multi_similarity_loss(labels, embeddings, alpha: float = MS_ALPHA, beta: float = MS_BETA,
                          base: float = MS_BASE, margin: float = MS_MARGIN):
    """Each anchor's multi-similarity loss (see the module docstring).

    Args:
        labels: (B,) class of each picture (any numeric dtype).
        embeddings: (B, D) unit vectors (the model's output).
        alpha, beta, base, margin: α, β, λ and ε.

    Returns:
        (B,) float: ``L_i`` per anchor; their mean is the batch's loss.
    """
    labels = ops.reshape(labels, (-1,))
    similarity = ops.matmul(embeddings, ops.transpose(embeddings))
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    self_pair = ops.cast(ops.eye(ops.shape(similarity)[0]), "bool")
    positive = ops.logical_and(same, ops.logical_not(self_pair))
    negative = ops.logical_not(same)
    # Similarities lie in [-1, 1]: 2 and -2 stand for "no positive" and "no negative".
    hardest_positive = ops.min(ops.where(positive, similarity, 2.0), axis=1, keepdims=True)
    hardest_negative = ops.max(ops.where(negative, similarity, -2.0), axis=1, keepdims=True)
    kept_negative = ops.logical_and(negative, similarity + margin > hardest_positive)
    kept_positive = ops.logical_and(positive, similarity - margin < hardest_negative)
    pulled = _log_one_plus_sum_exp(-alpha * (similarity - base), kept_positive) / alpha
    pushed = _log_one_plus_sum_exp(beta * (similarity - base), kept_negative) / beta
    return pulled + pushed


@keras.saving.register_keras_serializable(package="cv_core")
class MultiSimilarityLoss(keras.losses.Loss):
    """Multi-similarity loss of a batch of unit embeddings against their classes.

    ``y_true``: (B,) class indices; ``y_pred``: (B, D) L2-normalised embeddings. Keras averages
    the per-anchor losses over the batch.

    Args:
        alpha, beta, base, margin: α, β, λ and ε of the module docstring.
        name: the loss's name.
    """

    def __init__(self, alpha: float = MS_ALPHA, beta: float = MS_BETA, base: float = MS_BASE,
                 margin: float = MS_MARGIN, name: str = "multi_similarity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha, self.beta, self.base, self.margin = float(alpha), float(beta), float(base), float(margin)

    def call(self, y_true, y_pred):
        return multi_similarity_loss(y_true, y_pred, self.alpha, self.beta, self.base, self.margin)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta, "base": self.base,
                "margin": self.margin}
