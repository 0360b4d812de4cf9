"""Shared AppTest fixtures: an empty runs folder per test."""

from __future__ import annotations

import pytest


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """A fresh runs folder that the app under test reads (``CONVNET_LAB_RUNS``)."""
    root = tmp_path / "runs"
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(root))
    return root


@pytest.fixture
def lab_roots(tmp_path, monkeypatch):
    """Fresh runs and data folders, and none of the class-mode settings: ``(runs, data)``."""
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("CONVNET_LAB_DATA", str(tmp_path / "data"))
    for name in ("CONVNET_LAB_SERVE", "CONVNET_LAB_OPERATOR_TOKEN", "CONVNET_LAB_DATA_ROOTS",
                 "CONVNET_LAB_MAX_RUNS_PER_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "runs", tmp_path / "data"
