"""Run a benchmark script's ``main(argv)`` inside the test process, as ``python bench/<script>.py ARGS`` would.

A benchmark run as a child process pays for importing TensorFlow again (4-5 s of CPU on this machine);
inside a test process that has it loaded already, the script's own work is all that is left. Only for the
parts that train nothing: a run through the worker path turns on TensorFlow's op determinism for the whole
process, so those stay in child processes. What the script leaves in ``os.environ`` and
``sys.path`` is undone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_main(script: str, *args: str) -> tuple[int, str]:
    """``script``'s (e.g. ``"bench/instances.py"``) exit status and what it printed on standard output."""
    file = REPO / script
    spec = importlib.util.spec_from_file_location(f"bench_main_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    environ, search_path = dict(os.environ), list(sys.path)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up there
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            spec.loader.exec_module(module)
            status = module.main(list(args))
    except SystemExit as stop:
        status = stop.code
    finally:
        sys.modules.pop(spec.name, None)
        sys.path[:] = search_path
        os.environ.clear()
        os.environ.update(environ)
    return int(status or 0), out.getvalue()
