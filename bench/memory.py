"""Memory of the Streamlit server while a person clicks through every page, against a bare app.

Usage: python bench/memory.py [--goal-gb 1.5] [--pages "Home,Datasets,..."]

Starts ``streamlit run app.py`` on a free port (with an empty runs folder), opens it in
headless Chromium, and visits every page of the sidebar navigation; on each page it opens
every tab, and on the Architecture lab it shows the anatomy of both reference models
(VGG16 and Xception: the heaviest thing the lab builds). The server's resident memory
is read from ``/proc/<pid>/status``: ``VmHWM`` (its peak) and ``VmRSS`` (after the visit,
once it has been idle for a few seconds). The reference is a one-line Streamlit app
visited the same way. Training workers are separate processes and are not counted (no
run is started). Prints a markdown table; exits 1 if the final RSS is above the goal.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage"]
CHROMIUM = os.environ.get("CONVNET_LAB_CHROMIUM", "/usr/bin/chromium")
REFERENCES = ("VGG16 (224 px, keras.applications)", "Xception (299 px, keras.applications)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def start(script: str, cwd: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{script} did not start")


def wait_idle(page, timeout: float = 180_000) -> None:
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid^=\"stSkeleton\"]')", timeout=timeout)


def visit_everything(page, url: str, only: set[str] | None) -> list[str]:
    """Every page of the navigation, every tab, both reference anatomies; returns the pages seen."""
    page.goto(url)
    wait_idle(page)
    if only == set():  # the reference app: one page, no navigation
        return ["(one page)"]
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_test_id("stSidebarNavLink").first.wait_for()
    titles = [t.splitlines()[-1].strip() for t in nav.get_by_test_id("stSidebarNavLink").all_inner_texts()]
    seen = []
    for title in titles:
        if only and title not in only:
            continue
        nav.get_by_text(title, exact=True).click()
        time.sleep(0.5)
        wait_idle(page)
        seen.append(title)
        for name in page.get_by_role("tab").all_inner_texts():
            try:
                page.get_by_role("tab", name=name.strip(), exact=True).first.click(timeout=10_000)
            except Exception:  # a tab that went away when another was opened
                continue
            time.sleep(0.3)
            wait_idle(page)
        if title == "Architecture lab":
            page.get_by_role("tab", name="Anatomy").click()
            wait_idle(page)
            for reference in REFERENCES:
                page.locator(".st-key-architecture_lab_compare [data-testid=stSelectbox]").click()
                page.get_by_role("option", name=reference).click()
                time.sleep(0.5)
                wait_idle(page)
    return seen


def measure(script: str, cwd: Path, env: dict, browser, only: set[str] | None, settle: float) -> dict:
    process, url = start(script, cwd, env)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        seen = visit_everything(page, url, only)
        page.close()
        time.sleep(settle)
        result = memory(process.pid)
        result["pages"] = seen
        return result
    finally:
        process.terminate()
        process.wait(20)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal-gb", type=float, default=1.5)
    parser.add_argument("--pages", help="comma-separated page titles to visit (default: all)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before the final reading")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    only = set(args.pages.split(",")) if args.pages else None
    with tempfile.TemporaryDirectory(prefix="convnet-lab-memory-") as tmp:
        env = dict(os.environ, CONVNET_LAB_RUNS=str(Path(tmp) / "runs"))
        (Path(tmp) / "hello.py").write_text('import streamlit as st\nst.title("Hello")\n')
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            bare = measure("hello.py", Path(tmp), env, browser, set(), args.settle)
            lab = measure("app.py", ROOT, env, browser, only, args.settle)
            browser.close()
    gb = 1024**3
    print(f"Server memory after visiting {len(lab['pages'])} pages ({', '.join(lab['pages'])}), "
          f"every tab, and the VGG16 and Xception anatomies")
    print()
    print("| server | peak RSS (GB) | final RSS (GB) |")
    print("|---|---:|---:|")
    print(f"| reference: one-line Streamlit app | {bare['VmHWM'] / gb:.2f} | {bare['VmRSS'] / gb:.2f} |")
    print(f"| Convnet Lab | {lab['VmHWM'] / gb:.2f} | {lab['VmRSS'] / gb:.2f} |")
    verdict = lab["VmRSS"] / gb <= args.goal_gb
    print()
    print(f"Goal: final RSS under {args.goal_gb:g} GB: {'met' if verdict else 'NOT met'}.")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
