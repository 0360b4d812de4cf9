"""Image similarity: how alike two pictures are, which pictures are most like one, and why.

- ``metrics``: cosine similarity, leave-one-out retrieval scores (precision@1, recall@k,
  MAP@R), pair ROC AUC and the threshold that reads a pair as "the same kind of thing".
- ``pixels``: the SSIM baseline.
- ``embed``: a Keras model's pooled layer as an embedding; pretrained SqueezeNet features.
- ``search``: exact cosine top-k, and a faiss HNSW index for large collections.
- ``cache``: embeddings kept on disk per model file and pictures.
- ``collection``: a dataset split embedded in order, one row per picture.
- ``projection``: the embedding map (a two-dimensional PCA).
- ``why``: Grad-CAM-style maps of what drives a pair's similarity.
- ``model``, ``losses``, ``training``, ``snapshots``, ``task``: the learned embedding, trained
  through the run pipeline as the ``similarity`` task (a mini-Xception with an L2-normalised
  embedding, the multi-similarity loss on class-balanced batches, retrieval scores and an
  embedding map every epoch).

>>> from cv_core.similarity import cosine_similarity, retrieval_scores, pair_auc
>>> scores = retrieval_scores(embeddings, labels)   # {"precision_at_1": ..., "map_at_r": ...}

TensorFlow and faiss load only when a function that needs them is called.
"""

from cv_core.similarity.cache import cached_embeddings, model_fingerprint, pictures_fingerprint
from cv_core.similarity.collection import dataset_pictures, embed_dataset, usable_rows
from cv_core.similarity.embed import EMBEDDING_LAYERS, embed_images, embed_pretrained, embedding_function
from cv_core.similarity.metrics import (PairThreshold, cosine_similarity, normalize_rows, pair_auc, pair_scores,
                                        pair_threshold, retrieval_scores)
from cv_core.similarity.model import EMBEDDING_DIM, build_embedding_net, compile_embedding_net
from cv_core.similarity.pixels import SSIM_SIZE, ssim
from cv_core.similarity.projection import Projection, pca_2d
from cv_core.similarity.search import APPROXIMATE_FROM, ApproximateIndex, ExactIndex, build_index, recall_at_k
from cv_core.similarity.snapshots import embedding_snapshots
from cv_core.similarity.why import SAME_EMBEDDING, why_similar

__all__ = [
    "APPROXIMATE_FROM", "ApproximateIndex", "EMBEDDING_DIM", "EMBEDDING_LAYERS", "ExactIndex", "PairThreshold",
    "Projection", "SAME_EMBEDDING", "SSIM_SIZE", "build_embedding_net", "build_index", "cached_embeddings",
    "compile_embedding_net", "cosine_similarity", "dataset_pictures", "embed_dataset", "embed_images",
    "embed_pretrained", "embedding_function", "embedding_snapshots", "model_fingerprint", "normalize_rows",
    "pair_auc", "pair_scores", "pair_threshold", "pca_2d", "pictures_fingerprint", "recall_at_k",
    "retrieval_scores", "ssim", "usable_rows", "why_similar",
]
