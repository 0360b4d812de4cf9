"""Shared test settings: keep TensorFlow quiet and threads modest; markers; the fake worker.

Markers (``pytest.ini`` refuses unknown ones):

- ``slow``: trains a real model, starts TensorFlow worker processes or a browser, or takes more
  than about 2 s. ``python -m pytest -m "not slow"`` is the fast lane for edit-test loops; CI and
  ``python -m pytest`` run everything.
- ``browser``: drives headless Chromium (every test under ``tests/e2e``; also ``slow``).
- ``bench``: runs a script of ``bench/`` on a tiny setting (``tests/unit/test_bench.py``).
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")

TESTS = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a real model, starts TensorFlow workers or a browser, or "
                                       "takes more than about 2 s (left out by -m \"not slow\")")
    config.addinivalue_line("markers", "browser: end-to-end test in headless Chromium")
    config.addinivalue_line("markers", "bench: runs a benchmark script of bench/ on a tiny setting")


def pytest_collection_modifyitems(config, items):
    """Every browser test is ``browser`` and ``slow``; every benchmark smoke test is ``bench``."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if TESTS / "e2e" in path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if path.name == "test_bench.py":
            item.add_marker(pytest.mark.bench)


@pytest.fixture
def fake_worker(monkeypatch):
    """Workers started during this test run ``tests/fake_worker.py``: the real worker's queue, status
    and metrics files, with made-up training instead of TensorFlow (about 1 s per tiny run)."""
    from cv_core.runs.jobs import WORKER_MODULE_ENV

    from tests.fake_worker import BATCH_SECONDS_ENV

    monkeypatch.setenv(WORKER_MODULE_ENV, "tests.fake_worker")
    monkeypatch.setenv(BATCH_SECONDS_ENV, os.environ.get(BATCH_SECONDS_ENV) or "0.05")
