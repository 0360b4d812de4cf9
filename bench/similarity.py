"""Image-similarity speed, as ratios measured in the same run, the two sides taking turns.

Usage: python bench/similarity.py [--smoke] [--repeats 5] [--pictures 1000] [--image-size 96]
                                  [--database 10000] [--dim 512] [--large 100000] [--large-dim 128]

1. **Embedding**: :func:`cv_core.similarity.embed_images` of N pictures (the mini-Xception's
   last feature map, pooled; batches of 64) against one batched ``model.predict`` of the same
   model on the same pictures. Ratio: predict seconds / embed seconds (embedding throughput
   over predict throughput). Goal: >= 0.9.
2. **Exact query**: one query against :class:`~cv_core.similarity.ExactIndex` over 10,000
   random 512-value embeddings: median milliseconds per query. Goal: < 10 ms.
3. **Approximate index**: :class:`~cv_core.similarity.ApproximateIndex` (faiss HNSW) against
   exact search over 100,000 clustered 128-value embeddings, one query at a time: recall@10
   of the exact neighbours, and the speed ratio exact seconds / approximate seconds.
   Goal: recall@10 >= 0.95 at >= 10x.

Each part alternates its two sides (A B, then B A, ...) over ``--repeats`` rounds after a
warm-up and reports the median ratio with its quartiles. ``--smoke`` runs tiny sizes in
seconds: it checks the script, it measures nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_throughput import quartiles  # noqa: E402

from cv_core.similarity import ApproximateIndex, ExactIndex, embed_images, recall_at_k  # noqa: E402


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def alternate(first, second, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds of ``first`` and ``second`` over ``repeats`` rounds, the order alternating."""
    a, b = [], []
    for round_ in range(repeats):
        if round_ % 2 == 0:
            a.append(_timed(first))
            b.append(_timed(second))
        else:
            b.append(_timed(second))
            a.append(_timed(first))
    return a, b


def _row(name: str, ratios: list[float], what: str, goal: str) -> str:
    q1, q2, q3 = quartiles(ratios)
    return f"| {name} | {q2:.3f} (IQR {q1:.3f}-{q3:.3f}) | {len(ratios)} | {what} | {goal} |"


def embedding_part(pictures: int, image_size: int, repeats: int) -> str:
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(image_size, image_size, 3), num_classes=5, filters=(16, 32, 64),
                                augmentation=False)
    images = np.random.default_rng(0).uniform(0, 255, size=(pictures, image_size, image_size, 3)).astype(np.float32)
    embed = lambda: embed_images(model, images, batch_size=64)  # noqa: E731
    predict = lambda: model.predict(images, batch_size=64, verbose=0)  # noqa: E731
    embed(), predict()  # warm-up: tracing and the predict function
    embed_s, predict_s = alternate(embed, predict, repeats)
    print(f"embedding: embed {[round(t, 3) for t in embed_s]} s, predict {[round(t, 3) for t in predict_s]} s")
    return _row(f"embedding {pictures} pictures vs one batched predict", [p / e for p, e in zip(predict_s, embed_s)],
                "predict s / embed s", ">= 0.9")


def exact_part(database: int, dim: int, repeats: int, queries: int = 200) -> str:
    rng = np.random.default_rng(1)
    index = ExactIndex(rng.normal(size=(database, dim)).astype(np.float32))
    probes = rng.normal(size=(queries, dim)).astype(np.float32)
    index.search(probes[0], k=10)
    per_query = []
    for _ in range(repeats):
        seconds = _timed(lambda: [index.search(q, k=10) for q in probes])
        per_query.append(1000 * seconds / queries)
    q1, q2, q3 = quartiles(per_query)
    return (f"| exact query over {database} embeddings ({dim} values) | {q2:.3f} ms (IQR {q1:.3f}-{q3:.3f}) "
            f"| {repeats} x {queries} queries | ms per query, k=10 | < 10 ms |")


def approximate_part(large: int, dim: int, repeats: int, queries: int = 200) -> list[str]:
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(max(large // 100, 2), dim))
    data = (centres[rng.integers(0, len(centres), large)] + 0.5 * rng.normal(size=(large, dim))).astype(np.float32)
    probes = (centres[rng.integers(0, len(centres), queries)] + 0.5 * rng.normal(size=(queries, dim))).astype(np.float32)
    exact = ExactIndex(data)
    build = time.perf_counter()
    approximate = ApproximateIndex(data)
    build = time.perf_counter() - build
    recall = recall_at_k(approximate, exact, probes, k=10)
    one_by_one = lambda index: (lambda: [index.search(q, k=10) for q in probes])  # noqa: E731
    one_by_one(exact)(), one_by_one(approximate)()
    exact_s, approx_s = alternate(one_by_one(exact), one_by_one(approximate), repeats)
    print(f"approximate: built in {build:.1f} s; exact {[round(t, 3) for t in exact_s]} s, "
          f"approximate {[round(t, 3) for t in approx_s]} s for {queries} queries")
    return [f"| faiss HNSW recall@10 on {large} embeddings ({dim} values) | {recall:.3f} | {queries} queries "
            f"| share of exact top-10 found | >= 0.95 |",
            _row(f"faiss HNSW vs exact on {large} embeddings", [e / a for e, a in zip(exact_s, approx_s)],
                 "exact s / approximate s, one query at a time", ">= 10")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks the script, measures nothing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pictures", type=int, default=1000)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--database", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--large-dim", type=int, default=128)
    args = parser.parse_args(argv)
    if args.smoke:
        args.repeats, args.pictures, args.image_size = 2, 16, 32
        args.database, args.dim, args.large, args.large_dim = 500, 32, 2000, 16
    rows = [embedding_part(args.pictures, args.image_size, args.repeats),
            exact_part(args.database, args.dim, args.repeats),
            *approximate_part(args.large, args.large_dim, args.repeats)]
    print("| measurement | median | samples | what | goal |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
