"""bench/instances.py keeps working: it explains itself, and its decoding and page parts run and report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_explains_itself():
    result = subprocess.run([sys.executable, "bench/instances.py", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "usage:" in result.stdout and "--only" in result.stdout


@pytest.mark.slow
def test_decoding_and_page_parts_report_ratios_and_times():
    for part, marker in (("decoding", "decode, realistic / forward = "), ("page", "goal < 0.5 s:")):
        result = subprocess.run([sys.executable, "bench/instances.py", "--only", part, "--repeats", "3",
                                 "--page-calls", "2"], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert marker in result.stdout  # timed, not judged: the numbers belong to the machine
    assert "worst case" in result.stdout or part == "page"


@pytest.mark.slow
def test_the_on_screen_part_runs_the_page_and_reports():
    result = subprocess.run([sys.executable, "bench/instances.py", "--only", "screen", "--page-calls", "2"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| another picture: the whole page script |" in result.stdout and "goal < 0.5 s:" in result.stdout
