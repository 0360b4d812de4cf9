"""The run panel in zh-TW shows a failed run's reason in Chinese (the worker stores the sentence to translate)."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.i18n import use_language
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import read_status, status_text


@pytest.mark.slow
def test_the_run_panel_shows_a_failed_runs_reason_in_chinese(tmp_path, monkeypatch):
    """The Architecture lab's run panel, in zh-TW, on a run that failed with a lab error."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from cv_core.runs import worker
    from cv_core.similarity.training import check_scorable

    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path))
    for name in ("CONVNET_LAB_SERVE", "CONVNET_LAB_OPERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(worker, "run_training", lambda spec, run_dir, echo=None: check_scorable(np.array([0, 1])))
    run_dir = create_run(preset_spec("tiny"), tmp_path)
    worker.main(run_dir, echo=lambda line: None, queue=False)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=120)
    at.query_params.update({"lang": "zh-TW", "architecture_lab_tab": "Train", "architecture_lab_run": run_dir.name})
    at.run()
    at.switch_page("pages/architecture_lab.py").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    with use_language("zh-TW"):
        reason = status_text(read_status(run_dir), "error")
    assert reason in errors and "Expected the" not in errors, errors
