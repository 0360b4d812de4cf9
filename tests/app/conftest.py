"""Shared AppTest fixtures: an empty runs folder per test."""

from __future__ import annotations

import pytest


@pytest.fixture
def runs_root(tmp_path, monkeypatch):
    """A fresh runs folder that the app under test reads (``CONVNET_LAB_RUNS``)."""
    root = tmp_path / "runs"
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(root))
    return root
