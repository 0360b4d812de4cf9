"""The similarity benchmark keeps working: its ``--smoke`` run (tiny sizes, measures nothing) prints its table.

Marked ``bench`` like ``tests/unit/test_bench.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.bench_main import run_main

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.bench


@pytest.mark.slow
def test_similarity_benchmark_smoke_run_reports_every_measurement():
    status, out = run_main("bench/similarity.py", "--smoke")
    assert status == 0, out[-3000:]
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert [name.split(" ")[0] for name in names] == ["embedding", "exact", "faiss", "faiss"]
    for row in rows:
        value = float(row.split("|")[2].split()[0])
        assert 0.0 < value < float("inf")  # a smoke run measures nothing: only "a positive, finite number"
    recall = float(rows[2].split("|")[2])
    assert recall <= 1.0


def test_similarity_benchmark_explains_itself():
    result = subprocess.run([sys.executable, "bench/similarity.py", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "usage:" in result.stdout and "--smoke" in result.stdout
    result = subprocess.run([sys.executable, "bench/similarity_quality.py", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "usage:" in result.stdout and "--seeds" in result.stdout


def test_the_quality_benchmark_ranks_a_pair_matrix_as_retrieval_scores_ranks_embeddings():
    sys.path.insert(0, str(REPO / "bench"))
    from similarity_quality import scores_from_similarity

    from cv_core.similarity import cosine_similarity, retrieval_scores

    rng = np.random.default_rng(0)
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])  # class 3 alone: no query
    embeddings = rng.normal(size=(len(labels), 4)) + np.eye(4)[labels]
    embeddings[5] = embeddings[6]  # a tie, kept in index order by both
    want = retrieval_scores(embeddings, labels)
    got = scores_from_similarity(cosine_similarity(embeddings, embeddings), labels)
    assert got == pytest.approx({key: want[key] for key in got})


@pytest.mark.slow
def test_the_quality_benchmark_smoke_run_scores_three_methods():
    result = subprocess.run([sys.executable, "bench/similarity_quality.py", "--smoke", "--seeds", "0"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    assert {"learned", "SqueezeNet", "SSIM"} <= set(rows)
    for method in ("learned", "SqueezeNet", "SSIM"):
        values = [float(cell.split()[0]) for cell in rows[method].strip("|").split("|")[1:]]
        assert all(0.0 <= value <= 1.0 for value in values)  # a smoke run measures nothing: only "scores"
