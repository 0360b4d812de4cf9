"""Shared test settings: keep TensorFlow quiet and threads modest; register markers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "2")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end test in headless Chromium")
