"""Shared test settings: keep TensorFlow quiet and threads modest; markers; the fake worker.

Markers (``pytest.ini`` refuses unknown ones):

- ``slow``: trains a real model, starts TensorFlow worker processes or a browser, or takes more
  than about 2 s. ``python -m pytest -n 2 -m "not slow"`` is the fast lane for edit-test loops; CI
  runs everything (the README's command; a plain ``python -m pytest`` does too, serially).
- ``browser``: drives headless Chromium (every test under ``tests/e2e``; also ``slow``).
- ``bench``: runs a script of ``bench/`` on a tiny setting (``tests/unit/test_bench.py``).
- ``timing``: compares a measured wall-clock time with an estimate or a bound, so it must run alone
  on the machine. The README's command runs the rest on two pytest-xdist workers
  (``-n 2 -m "not timing"``), then these in a second, serial pytest (``-m timing``); under several
  xdist workers they are skipped with that reason instead of failing from the other worker's load.
"""

import os
from pathlib import Path

import pytest

#: pytest-xdist workers sharing the machine (1 without xdist).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
#: Several workers share the machine: wall-clock comparisons (``timing``) would measure them.
PARALLEL = WORKERS > 1

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Two threads per worker also under pytest-xdist: one each was not faster (tests/unit training slice).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")

TESTS = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a real model, starts TensorFlow workers or a browser, or "
                                       "takes more than about 2 s (left out by -m \"not slow\")")
    config.addinivalue_line("markers", "browser: end-to-end test in headless Chromium")
    config.addinivalue_line("markers", "bench: runs a benchmark script of bench/ on a tiny setting")
    config.addinivalue_line("markers", "timing: measures wall-clock time against an estimate or bound; runs serially "
                                       "(python -m pytest -m timing), skipped under several xdist workers")


def pytest_collection_modifyitems(config, items):
    """Every browser test is ``browser`` and ``slow``; every benchmark smoke test is ``bench``."""
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if TESTS / "e2e" in path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if path.name == "test_bench.py":
            item.add_marker(pytest.mark.bench)
        if PARALLEL and item.get_closest_marker("timing"):
            item.add_marker(pytest.mark.skip(reason="a timing test runs alone: python -m pytest -m timing"))


@pytest.fixture(scope="session", autouse=True)
def suite_cache(tmp_path_factory):
    """One cache folder (``$CONVNET_LAB_CACHE``) and a machine speed of 1 for the whole run, shared by the xdist workers and
    by the apps and run workers the tests start: converted models and model measurements
    (:mod:`cv_core.measurements`) are made by the first test that needs them, and no test reads
    what an earlier run or the developer's own use of the lab left in ``~/.cache``."""
    from cv_core.pretrained.cache import CACHE_ENV
    from cv_core.runs.calibration import MACHINE_SPEED_ENV

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common folder
    folder = shared / "convnet_lab_cache"
    os.environ[CACHE_ENV] = str(folder)
    # The time estimate at the tuning machine's speed: timing this machine (cv_core.runs.calibration) under
    # the suite's own load would measure the load. The timing tests remove it and time the machine.
    os.environ.setdefault(MACHINE_SPEED_ENV, "1")
    return folder


@pytest.fixture
def fake_worker(monkeypatch):
    """Workers started during this test run ``tests/fake_worker.py``: the real worker's queue, status
    and metrics files, with made-up training instead of TensorFlow (about 1 s per tiny run)."""
    from cv_core.runs.jobs import WORKER_MODULE_ENV

    from tests.fake_worker import BATCH_SECONDS_ENV

    monkeypatch.setenv(WORKER_MODULE_ENV, "tests.fake_worker")
    monkeypatch.setenv(BATCH_SECONDS_ENV, os.environ.get(BATCH_SECONDS_ENV) or "0.05")
