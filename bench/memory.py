"""Memory of the Streamlit server while a person clicks through every page, against a bare app.

Usage: python bench/memory.py [--goal-gb 1.5] [--pages "Home,Datasets,..."] [--path pages|interpretation|both]

Starts ``streamlit run app.py`` on a free port (with an empty runs folder), opens it in
headless Chromium, and then:

* ``pages``: visits every page of the sidebar navigation; on each page it opens every tab,
  and on the Architecture lab it shows the anatomy of both reference models (VGG16 and
  Xception: the heaviest thing the lab builds);
* ``interpretation``: clicks through Heatmaps, Activations and Filters as a person trying
  them would: every heatmap method, another layer and class, test-time smoothing, two models,
  the sanity check; bad files (not a picture, a truncated PNG, a picture too small, a header
  that declares 30000 × 30000 pixels); a 10000 × 10000 PNG and a 10000 × 10000 JPEG (both
  under the 20 MB upload limit); the upload carried to Activations (every layer stepped
  through) and Filters (three layers of patterns), and back;
* ``both`` (the default): the pages, then the interpretation click-through, in one server.

The server's resident memory is read from ``/proc/<pid>/status``: ``VmHWM`` (its peak) and
``VmRSS`` (after each phase, once it has been idle for a few seconds). The reference is a
one-line Streamlit app visited the same way. Training workers are separate processes and are
not counted (no run is started). Prints a markdown table; exits 1 if the final RSS is above
the goal.
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


# --------------------------------------------------------------------------------------
# The interpretation click-through
# --------------------------------------------------------------------------------------


def bad_and_big_files(folder: Path) -> dict[str, Path]:
    """The files a person might throw at the uploader: broken ones, and two 10000 x 10000 photos."""
    import io
    import struct
    import zlib

    import numpy as np
    from PIL import Image

    files = {}
    files["not a picture"] = folder / "notes.png"
    files["not a picture"].write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture" * 50)
    small = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)).save(small, "PNG")
    files["truncated"] = folder / "truncated.png"
    files["truncated"].write_bytes(small.getvalue()[: len(small.getvalue()) // 2])
    files["too small"] = folder / "tiny.png"
    Image.new("RGB", (4, 4), (200, 30, 30)).save(files["too small"])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # declares 900 megapixels
    files["declared bomb"] = folder / "bomb.png"
    files["declared bomb"].write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    side = 10_000
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    big = np.empty((side, side, 3), np.uint8)  # a smooth picture: compresses far under 20 MB
    big[..., 0] = ramp[None, :]
    big[..., 1] = ramp[:, None]
    big[..., 2] = 128
    files["10000 x 10000 PNG"] = folder / "huge.png"
    Image.fromarray(big).save(files["10000 x 10000 PNG"], optimize=False, compress_level=6)
    files["10000 x 10000 JPEG"] = folder / "huge.jpg"
    Image.fromarray(big).save(files["10000 x 10000 JPEG"], quality=80)
    del big
    from skimage import data

    files["a cat"] = folder / "cat.jpg"
    Image.fromarray(data.chelsea()).save(files["a cat"], quality=92)
    for name, path in files.items():
        if path.stat().st_size > 20 * 1024 * 1024:
            raise RuntimeError(f"{name} is {path.stat().st_size / 2**20:.0f} MB, over the 20 MB upload limit")
    return files


def _settle(page) -> None:
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=3_000)
    except Exception:  # the rerun was already over, or too quick to see
        pass
    wait_idle(page)


def _pick(page, label: str, option: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True)).first.locator("input")
    box.click()
    box.fill(option)  # long lists only render the options in view: filter first
    page.get_by_role("option", name=option, exact=True).first.click()
    _settle(page)


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))
    _settle(page)


def _open(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=180_000)
    _settle(page)


def interpretation_click_through(page, url: str, files: dict[str, Path], log) -> list[str]:
    """Heatmaps, Activations and Filters with bad files and big uploads; returns what was done."""
    done = []
    page.goto(url)
    wait_idle(page)
    _open(page, "Heatmaps")
    log("Heatmaps opened")
    for method in ("Grad-CAM++", "HiResCAM", "Score-CAM", "SmoothGrad (pixels)", "Grad-CAM"):
        _pick(page, "Method", method)
        log(f"  method {method}")
    _pick(page, "Target layer", "fire9_concat")
    page.get_by_text("Test-time smoothing", exact=True).click()
    _settle(page)
    page.get_by_role("radio", name="Two models", exact=True).click()
    _settle(page)
    log("  layer, smoothing, two models")
    page.get_by_role("button", name="Run the sanity check").click()
    _settle(page)
    done.append("Heatmaps: five methods, a layer, smoothing, two models, the sanity check")
    log(done[-1])
    page.get_by_role("radio", name="Upload", exact=True).click()
    _settle(page)
    for name in ("not a picture", "truncated", "too small", "declared bomb", "10000 x 10000 PNG", "10000 x 10000 JPEG",
                 "not a picture", "a cat"):
        _upload(page, files[name])
        log(f"  uploaded {name}")
    done.append("Heatmaps: four bad files, two 10000 x 10000 photos, a cat")
    _open(page, "Activations")
    if page.get_by_role("button", name="Next").count() == 0:  # the upload did not follow: upload it again
        _upload(page, files["a cat"])
    steps = 0
    while steps < 60:
        button = page.get_by_role("button", name="Next")
        if button.is_disabled():
            break
        button.click()
        _settle(page)
        steps += 1
        if steps % 10 == 0:
            log(f"  {steps} layers")
    done.append(f"Activations: the upload, {steps} layers stepped through")
    log(done[-1])
    _upload(page, files["10000 x 10000 PNG"])
    done.append("Activations: another 10000 x 10000 upload")
    log(done[-1])
    _open(page, "Filters")
    for _ in range(2):
        page.get_by_role("button", name="Next").first.click()
        _settle(page)
    done.append("Filters: three layers of patterns")
    log(done[-1])
    _open(page, "Heatmaps")
    done.append("Heatmaps again")
    log(done[-1])
    return done


def measure(script: str, cwd: Path, env: dict, browser, only: set[str] | None, settle: float,
            path: str = "pages", files: dict[str, Path] | None = None, log=print) -> dict:
    """Run the server, do the click-through(s), and read its memory after each (bytes)."""
    process, url = start(script, cwd, env)
    outer_log = log

    def log(line: str) -> None:  # each step with the server's memory so far, to find where it grows
        reading = memory(process.pid)
        outer_log(f"{line} (RSS {reading['VmRSS'] / 2**30:.2f} GB, peak {reading['VmHWM'] / 2**30:.2f} GB)")

    try:
        result: dict = {"phases": []}
        if path in ("pages", "both"):
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            result["pages"] = visit_everything(page, url, only)
            page.close()
            time.sleep(settle)
            result["phases"].append(("every page and tab", memory(process.pid)))
        if path in ("interpretation", "both") and only != set():
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(180_000)
            result["interpretation"] = interpretation_click_through(page, url, files, log)
            page.close()
            time.sleep(settle)
            result["phases"].append(("then the interpretation click-through", memory(process.pid)))
        if not result["phases"]:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.goto(url)
            wait_idle(page)
            page.close()
            time.sleep(settle)
            result["phases"].append(("one page", memory(process.pid)))
        result.update(result["phases"][-1][1])
        return result
    finally:
        process.terminate()
        process.wait(20)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal-gb", type=float, default=1.5)
    parser.add_argument("--pages", help="comma-separated page titles to visit (default: all)")
    parser.add_argument("--path", choices=("pages", "interpretation", "both"), default="both",
                        help="every page and tab, the interpretation click-through with bad and big uploads, "
                             "or both in one server (default)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before each reading")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    only = set(args.pages.split(",")) if args.pages else None

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="convnet-lab-memory-") as tmp:
        env = dict(os.environ, CONVNET_LAB_RUNS=str(Path(tmp) / "runs"))
        (Path(tmp) / "hello.py").write_text('import streamlit as st\nst.title("Hello")\n')
        files = bad_and_big_files(Path(tmp)) if args.path != "pages" else None
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            bare = measure("hello.py", Path(tmp), env, browser, set(), args.settle, path="pages")
            lab = measure("app.py", ROOT, env, browser, only, args.settle, path=args.path, files=files, log=log)
            browser.close()
    gb = 1024**3
    if "pages" in lab:
        print(f"Pages visited: {len(lab['pages'])} ({', '.join(lab['pages'])}), every tab, and the VGG16 and "
              "Xception anatomies.")
    for step in lab.get("interpretation", []):
        print(f"- {step}")
    print()
    print("| server | after | peak RSS so far (GB) | RSS (GB) |")
    print("|---|---|---:|---:|")
    print(f"| reference: one-line Streamlit app | one page | {bare['VmHWM'] / gb:.2f} | {bare['VmRSS'] / gb:.2f} |")
    for phase, reading in lab["phases"]:
        print(f"| Convnet Lab | {phase} | {reading['VmHWM'] / gb:.2f} | {reading['VmRSS'] / gb:.2f} |")
    verdict = lab["VmRSS"] / gb <= args.goal_gb
    print()
    print(f"Goal: final RSS under {args.goal_gb:g} GB: {'met' if verdict else 'NOT met'} "
          f"({lab['VmRSS'] / gb:.2f} GB).")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
