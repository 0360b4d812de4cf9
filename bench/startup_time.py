"""Time from `streamlit run app.py` to Home painted in headless Chromium, and the same for Datasets.

Usage: python bench/startup_time.py [--repeats 3]

Prints the median over repeats. The reference in the same run is a one-line "hello" Streamlit
app started and painted the same way, so the ratio shows what the lab adds on top of
Streamlit itself.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_to_paint(browser, script: str, cwd: Path, ready_selector: str, path: str = "") -> float:
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.headless", "true"],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + path)
        page.wait_for_selector(ready_selector, timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        elapsed = time.perf_counter() - start
        page.close()
        return elapsed
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        hello = Path(tmp) / "hello.py"
        hello.write_text("import streamlit as st\nst.title('Hello')\n")
        browser = p.chromium.launch(executable_path=os.environ.get("CONVNET_LAB_CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        rows = []
        for label, script, cwd, selector, path in [
            ("reference: one-line Streamlit app", str(hello), Path(tmp), "h1", ""),
            ("Convnet Lab Home", "app.py", ROOT, '[data-testid="stImage"] img', ""),
            ("Convnet Lab Datasets", "app.py", ROOT, '[data-testid="stMetricValue"]', "/datasets"),
        ]:
            times = [time_to_paint(browser, script, cwd, selector, path) for _ in range(args.repeats)]
            rows.append((label, statistics.median(times)))
        browser.close()
    reference = rows[0][1]
    print("| what | median seconds from `streamlit run` to painted | ratio to reference |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {seconds / reference:.2f} |")


if __name__ == "__main__":
    main()
