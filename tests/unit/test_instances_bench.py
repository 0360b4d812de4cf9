"""bench/instances.py keeps working: it explains itself, and its decoding and page parts run and report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench_main import run_main

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_explains_itself():
    result = subprocess.run([sys.executable, "bench/instances.py", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "usage:" in result.stdout and "--only" in result.stdout


@pytest.mark.slow
def test_decoding_and_page_parts_report_ratios_and_times():
    for part, marker in (("decoding", "decode, realistic / forward = "), ("page", "goal < 0.5 s:")):
        status, out = run_main("bench/instances.py", "--only", part, "--repeats", "3", "--page-calls", "2")
        assert status == 0 and marker in out, out[-3000:]  # timed, not judged: the numbers belong to the machine
        assert "worst case" in out or part == "page"


@pytest.mark.slow
def test_the_on_screen_part_runs_the_page_and_reports():
    status, out = run_main("bench/instances.py", "--only", "screen", "--page-calls", "2")
    assert status == 0 and "| another picture: the whole page script |" in out and "goal < 0.5 s:" in out, out[-3000:]
