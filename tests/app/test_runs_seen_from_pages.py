"""Issue 19: what a page shows when a run changes elsewhere, the Tiny smoke test, and honest estimates.

Runs are put in each state by writing their folders as a worker and another browser would
(``create_run``, ``update_status``, ``request_cancel(by=...)``, deleting the folder), so no
training is needed; the live refresh itself (``run_every``, which AppTest does not fire) is
covered by ``tests/e2e/test_runs_seen_from_pages_browser.py``, and so is the server log's warning
after a dead worker is noticed (AppTest does not reproduce that one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.runs import files, folders, jobs, liveness, preset_spec

APP = str(Path(__file__).resolve().parents[2] / "app.py")
LAB = "pages/architecture_lab.py"


@pytest.fixture
def root(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(runs))
    for name in ("CONVNET_LAB_SERVE", "CONVNET_LAB_OPERATOR_TOKEN", "CONVNET_LAB_DATA_ROOTS",
                 "CONVNET_LAB_MAX_RUNS_PER_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return runs


def open_page(path: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def make_run(root: Path, state: str = "completed", epochs: int = 2, seed: int = 0, **status) -> Path:
    """A run folder as a worker leaves it: its state, and one metrics row per finished epoch."""
    run_dir = folders.create_run(preset_spec("tiny", epochs=epochs, seed=seed), root)
    files.update_status(run_dir, state=state, **status)
    files.write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.2 * e, "val_loss": 1.1 / e,
                                   "val_accuracy": 0.2 * e, "seconds": 0.2} for e in range(1, 3)])
    return run_dir


def alive() -> dict:
    """Status fields of a live worker (this test process), so the page does not mark the run interrupted."""
    return {"pid": os.getpid(), "pid_start": liveness.process_start_time(os.getpid())}


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def run_buttons(at: AppTest, run_dir: Path) -> list[str]:
    """Keys of the buttons and inputs that act on ``run_dir``."""
    widgets = list(at.button) + list(at.number_input)
    return [w.key for w in widgets if w.key and run_dir.name in w.key and "_forget_" not in w.key]


# -- deleted elsewhere -------------------------------------------------------------------------


def test_a_run_deleted_elsewhere_says_so_and_its_buttons_go(root):
    run_dir = make_run(root)
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name})
    assert run_buttons(at, run_dir)  # Continue for more epochs, its epochs
    shutil.rmtree(run_dir)  # another browser deletes it
    at.run()
    assert not at.exception
    assert f"Run `{run_dir.name}` no longer exists: it was deleted from another browser" in texts(at)
    assert run_buttons(at, run_dir) == []
    assert "seed ?" not in texts(at) and not at.get("vega_lite_chart")
    assert not at.get("page_link")  # no "Compare this run with others" for a run that is gone


def test_a_reload_does_not_quietly_follow_another_run(root):
    older = make_run(root, seed=1)
    newer = make_run(root, seed=2)
    shutil.rmtree(older)  # the followed run is deleted while the page is away
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": older.name})
    assert f"Run `{older.name}` no longer exists" in texts(at)
    assert newer.name not in texts(at)  # ...and the page does not show another run in its place
    assert at.query_params["architecture_lab_run"] in (older.name, [older.name])
    at.button(key=f"architecture_lab_forget_{older.name}").click().run()  # "Show the newest run"
    assert f"Run `{newer.name}`" in texts(at)
    assert at.query_params["architecture_lab_run"] in (newer.name, [newer.name])


def test_the_run_a_page_falls_back_to_goes_in_the_url(root):
    """A page opened without a run follows the newest; a reload must keep that one, not a newer one."""
    first = make_run(root, seed=1)
    at = open_page(LAB, {"architecture_lab_tab": "Train"})
    assert at.query_params["architecture_lab_run"] in (first.name, [first.name])
    second = make_run(root, seed=2)
    at.run()
    assert f"Run `{first.name}`" in texts(at) and second.name not in texts(at)


def test_resume_of_a_deleted_run_gives_a_clear_message(root):
    run_dir = make_run(root, state="cancelled")
    at = open_page("pages/compare_runs.py")
    assert [b.label for b in at.button if b.key == f"compare_runs_resume_{run_dir.name}"] == ["Resume"]
    shutil.rmtree(run_dir)
    at.button(key=f"compare_runs_resume_{run_dir.name}").click().run()
    assert not at.exception
    assert "seed ?" not in texts(at)
    assert f"Deleted from another browser or the command line since you chose them: `{run_dir.name}`" in texts(at)
    assert not run_dir.exists()  # nothing recreated it


def test_resume_button_of_the_lab_on_a_deleted_run(root):
    """The lab's own panel: a Resume pressed after the run was deleted elsewhere explains, and offers nothing."""
    run_dir = make_run(root, state="cancelled")
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name})
    resume = at.button(key=f"architecture_lab_resume_{run_dir.name}")
    shutil.rmtree(run_dir)
    resume.click().run()
    assert not at.exception
    assert "no longer exists: it was deleted" in texts(at) and "seed ?" not in texts(at)
    assert run_buttons(at, run_dir) == [] and not run_dir.exists()


def test_deleting_a_run_already_deleted_elsewhere(root):
    run_dir = make_run(root)
    at = open_page("pages/compare_runs.py")
    delete = at.button(key=f"compare_runs_delete_{run_dir.name}")
    folders.delete_run(run_dir)  # another browser was quicker
    delete.click().run()
    assert not at.exception and not at.error
    assert f"Run `{run_dir.name}` was already deleted, from another browser or the command line." in texts(at)


def test_a_run_deleted_here_says_you_deleted_it(root):
    run_dir = make_run(root)
    at = open_page("pages/compare_runs.py")
    at.button(key=f"compare_runs_delete_{run_dir.name}").click().run()
    assert not run_dir.exists() and not at.warning  # no "deleted from another browser" for my own delete
    at.switch_page(LAB)
    at.query_params["architecture_lab_tab"] = "Train"
    at.query_params["architecture_lab_run"] = run_dir.name
    at.run()
    assert f"You deleted run `{run_dir.name}`" in texts(at)


# -- cancelled elsewhere -----------------------------------------------------------------------


def test_a_run_cancelled_from_another_browser_says_so(root):
    run_dir = make_run(root, state="running", **alive())
    files.write_metrics(run_dir, [])
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name})
    assert at.button(key=f"architecture_lab_cancel_{run_dir.name}").label == "Cancel"
    jobs.request_cancel(run_dir, by="another-browser")
    at.run()
    assert "Cancelling: someone in another browser asked for it" in texts(at)
    assert not [b for b in at.button if b.key == f"architecture_lab_cancel_{run_dir.name}"]
    files.update_status(run_dir, state="cancelled", pid=None)  # the worker stops
    at.run()
    assert "Cancelled from another browser after 0 finished epochs" in texts(at)


def test_a_run_cancelled_here_says_so(root):
    run_dir = make_run(root, state="running", **alive())
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name})
    at.button(key=f"architecture_lab_cancel_{run_dir.name}").click().run()
    status = files.read_status(run_dir)
    assert status["cancel_requested_by"] and jobs.cancel_origin(status, status["cancel_requested_by"]) == "here"
    files.update_status(run_dir, state="cancelled", pid=None)
    at.run()
    assert "Cancelled from this browser after 2 finished epochs" in texts(at)


def test_compare_page_says_who_cancelled(root):
    mine = make_run(root, state="running", seed=1, **alive())
    theirs = make_run(root, state="running", seed=2, **alive())
    at = open_page("pages/compare_runs.py", {"compare_runs_whose": "All runs"})
    at.button(key=f"compare_runs_cancel_{mine.name}").click().run()
    jobs.request_cancel(theirs, by="another-browser")
    for run_dir in (mine, theirs):
        files.update_status(run_dir, state="cancelled", pid=None)
    at.run()
    captions = [c.value for c in at.caption]
    assert "Cancelled from this browser." in captions and "Cancelled from another browser." in captions


# -- the Tiny preset is a smoke test -----------------------------------------------------------


@pytest.mark.parametrize("page, prefix, expect", [
    (LAB, "architecture_lab", "expect an accuracy near chance"),
    ("pages/segmentation.py", "segmentation", "expect masks of background only"),
    ("pages/detection.py", "detection", "expect no boxes found"),
    ("pages/instances.py", "instances", "expect no object above the page's default score"),
])
def test_tiny_says_it_is_a_smoke_test_and_switches_to_quick(root, page, prefix, expect):
    at = open_page(page, {f"{prefix}_tab": "Train", f"{prefix}_preset": "Tiny"})
    info = [i.value for i in at.info if i.value.startswith("Tiny is a smoke test")]
    assert len(info) == 1 and expect in info[0]
    assert f"on {preset_spec('tiny').dataset_options['train_size']} pictures" in info[0]
    at.button(key=f"{prefix}_to_quick").click().run()
    assert not at.exception
    assert at.radio(key=f"{prefix}_preset").value == "quick"
    assert not any(i.value.startswith("Tiny is a smoke test") for i in at.info)


def test_a_finished_tiny_run_says_it_was_a_smoke_test(root):
    run_dir = make_run(root)
    at = open_page(LAB, {"architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name,
                         "architecture_lab_preset": "Tiny"})
    assert any(i.value.startswith("This was the Tiny smoke test") for i in at.info)
    assert [b.label for b in at.button if "to_quick" in (b.key or "")] == ["Switch to Quick"]  # one, by the form
    at.button(key="architecture_lab_to_quick").click().run()
    assert at.radio(key="architecture_lab_preset").value == "quick"
    # On Quick: the note on the run stays (it says what the run was); nothing left to switch.
    assert any(i.value.startswith("This was the Tiny smoke test") for i in at.info)
    assert not [b for b in at.button if "to_quick" in (b.key or "")]


# -- Streamlit's warnings and the estimates ----------------------------------------------------


@pytest.fixture
def streamlit_warnings(monkeypatch):
    """Warnings Streamlit logs about widgets (it logs the default-value one once per process)."""
    from streamlit.elements.lib import policies

    logged: list[str] = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda message, *args, **kwargs: logged.append(message % args))
    return logged


def test_no_default_value_warning_when_switching_to_quick(root, streamlit_warnings):
    at = open_page(LAB, {"architecture_lab_preset": "Tiny", "architecture_lab_tab": "Train"})
    at.button(key="architecture_lab_to_quick").click().run()
    assert at.radio(key="architecture_lab_preset").value == "quick"
    assert not [w for w in streamlit_warnings if "default value" in w], streamlit_warnings


def test_no_default_value_warning_when_a_chosen_run_is_deleted(root, streamlit_warnings):
    first, second = make_run(root, seed=1), make_run(root, seed=2)
    at = open_page("pages/compare_runs.py")
    assert set(at.multiselect(key="compare_runs_chosen").value) == {first.name, second.name}
    shutil.rmtree(first)
    at.run()
    assert at.multiselect(key="compare_runs_chosen").value == [second.name]
    assert not [w for w in streamlit_warnings if "default value" in w], streamlit_warnings


def test_an_estimator_bug_shows_and_an_expected_problem_is_a_message(root, monkeypatch):
    import ui.training
    from cv_core.runs import SpecError

    def impossible(spec, **kwargs):
        raise SpecError("Expected a spec that fits. Received: one that does not")

    monkeypatch.setattr(ui.training, "estimate_seconds", impossible)
    at = open_page(LAB, {"architecture_lab_tab": "Train"})
    assert any(c.value.endswith("No time estimate yet: Expected a spec that fits. Received: one that does not")
               for c in at.caption)

    def broken(spec, **kwargs):
        raise ZeroDivisionError("a bug in the estimator")

    monkeypatch.setattr(ui.training, "estimate_seconds", broken)
    at.run()
    assert at.exception  # the bug shows (the app redacts its message), rather than the estimate just vanishing
