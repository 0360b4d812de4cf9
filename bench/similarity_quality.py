"""Image-similarity quality: the learned embedding against SqueezeNet features and SSIM, same pictures.

Usage: python bench/similarity_quality.py [--seeds 0,1,2] [--pictures 300] [--epochs N] [--run RUN_DIR]
                                          [--smoke]

For each seed, the Quick preset of the similarity task is trained on ``shapes`` drawn with that
seed (``spec.seed`` and the dataset's ``seed``: other pictures, another initialisation, another
order), through :func:`cv_core.runs.worker.run_training` in a temporary folder. Then, on the
same validation pictures (``--pictures`` of them, spread over the split), three ways of
comparing two pictures are scored leave-one-out, every picture querying all the others:

1. **learned**: the run's best model (its output is the embedding), cosine similarity;
2. **SqueezeNet**: the offline ImageNet SqueezeNet's pooled ``fire9_concat`` features, cosine
   similarity (:func:`cv_core.similarity.embed_pretrained`);
3. **SSIM**: structural similarity of every pair of pictures at their own size
   (:func:`cv_core.similarity.ssim`), the pixel baseline.

Precision@1 and MAP@R (Musgrave et al., 2020) come from :func:`cv_core.similarity.retrieval_scores`
for the two embeddings; SSIM gives no embedding, only a matrix of pair scores, so it is ranked
by :func:`scores_from_similarity`, which the script first checks against ``retrieval_scores`` on
the learned embedding's own cosine matrix. The table gives each seed's numbers, their mean and
their spread (max - min). ``--run`` scores an existing similarity run instead of training
(one "seed": the run's own data). ``--smoke`` trains the Tiny preset for one epoch on a few
pictures: it checks the script, it measures nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cv_core.runs import preset_spec  # noqa: E402


def scores_from_similarity(similarity, labels) -> dict:
    """Leave-one-out precision@1 and MAP@R from an (N, N) matrix of pair scores (higher: more alike).

    The same definitions as :func:`cv_core.similarity.retrieval_scores` (ties keep index order;
    a sample alone in its class does not query), for a similarity that is not a cosine.
    """
    similarity = np.array(similarity, np.float64)
    labels = np.asarray(labels)
    np.fill_diagonal(similarity, -np.inf)
    hits, precisions = [], []
    for query in range(len(labels)):
        others = int((labels == labels[query]).sum()) - 1
        if others == 0:
            continue
        order = np.argsort(-similarity[query], kind="stable")[:len(labels) - 1]
        relevant = labels[order] == labels[query]
        hits.append(relevant[0])
        ranks = np.arange(1, others + 1)
        precisions.append(float((np.cumsum(relevant[:others]) / ranks * relevant[:others]).sum() / others))
    return {"precision_at_1": float(np.mean(hits)), "map_at_r": float(np.mean(precisions))}


def ssim_matrix(images) -> np.ndarray:
    """SSIM of every pair of pictures at their own size (symmetric, 1 on the diagonal)."""
    from cv_core.similarity import ssim

    n = len(images)
    matrix = np.eye(n)
    size = images.shape[1:3]
    for i in range(n):
        for j in range(i + 1, n):
            matrix[i, j] = matrix[j, i] = ssim(images[i], images[j], size=size)
    return matrix


def score_run(run_dir: Path, pictures: int) -> dict:
    """The three methods' precision@1 and MAP@R on ``pictures`` validation pictures of a run's data."""
    from cv_core._tf import keras
    from cv_core.datasets import open_dataset
    from cv_core.runs import read_spec
    from cv_core.similarity import cosine_similarity, embed_images, embed_pretrained, retrieval_scores
    from cv_core.similarity.training import split_pictures

    spec = read_spec(run_dir)
    dataset = open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options)
    images, labels, _ = split_pictures(dataset, "validation", (spec.image_size, spec.image_size), pictures)
    model = keras().models.load_model(run_dir / "best.keras", compile=False)
    learned = embed_images(model, images)
    check = scores_from_similarity(cosine_similarity(learned, learned), labels)
    want = retrieval_scores(learned, labels)
    assert all(abs(check[key] - want[key]) < 1e-6 for key in check), (check, want)  # the SSIM ranking is sound
    started = time.perf_counter()
    results = {"learned": {key: want[key] for key in check},
               "SqueezeNet": {key: value for key, value in retrieval_scores(embed_pretrained(list(images)), labels)
                              .items() if key in check},
               "SSIM": scores_from_similarity(ssim_matrix(images), labels)}
    print(f"  {len(images)} pictures, SqueezeNet and SSIM in {time.perf_counter() - started:.0f} s", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--pictures", type=int, default=300)
    parser.add_argument("--epochs", type=int, help="epochs of each run (the Quick preset's when absent)")
    parser.add_argument("--run", help="score this similarity run instead of training")
    parser.add_argument("--smoke", action="store_true", help="Tiny preset, one epoch: checks the script")
    args = parser.parse_args(argv)
    from cv_core.runs import create_run
    from cv_core.runs.worker import run_training

    per_seed: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="convnet-lab-quality-") as root:
        if args.run:
            runs = [("run", Path(args.run))]
        else:
            runs = []
            for seed in (int(s) for s in args.seeds.split(",")):
                spec = preset_spec("tiny" if args.smoke else "quick", task="similarity", seed=seed)
                spec = spec.replace(dataset_options={**spec.dataset_options, "seed": seed},
                                    epochs=1 if args.smoke else args.epochs or spec.epochs)
                started = time.perf_counter()
                run_dir = create_run(spec, root)
                run_training(spec, run_dir)
                print(f"seed {seed}: trained {spec.epochs} epochs in {time.perf_counter() - started:.0f} s",
                      flush=True)
                runs.append((f"seed {seed}", run_dir))
        names = []
        for name, run_dir in runs:
            names.append(name)
            for method, scores in score_run(run_dir, 12 if args.smoke else args.pictures).items():
                per_seed.setdefault(method, []).append(scores)
    lines = ["| method | " + " | ".join(f"P@1 {n}" for n in names) + " | P@1 mean (spread) | "
             + " | ".join(f"MAP@R {n}" for n in names) + " | MAP@R mean (spread) |",
             "|---|" + "---:|" * (2 * len(names) + 2)]
    for method, rows in per_seed.items():
        cells = []
        for key in ("precision_at_1", "map_at_r"):
            values = [row[key] for row in rows]
            cells += [f"{v:.3f}" for v in values] + [f"{np.mean(values):.3f} ({max(values) - min(values):.3f})"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
