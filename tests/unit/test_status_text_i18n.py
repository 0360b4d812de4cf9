"""Status sentences a worker writes (waiting, a NaN loss, a lab error) read in the reader's language."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.i18n import N_, LazyText, _, text_from_json, text_to_json, use_language
from cv_core.runs import create_run, preset_spec
from cv_core.runs.files import read_status, status_text, update_status


def test_a_sentence_survives_json_with_its_nested_sentences():
    text = LazyText(N_("Picture {index} of the {split} split cannot be used: {error}"), index=3,
                    split=LazyText("validation"), error=ValueError("broken"))
    data = text_to_json(text)
    assert data["en"] == "Picture 3 of the validation split cannot be used: broken"
    back = text_from_json(data)
    assert str(back) == data["en"]
    with use_language("zh-TW"):
        chinese = str(back)
        assert chinese == _("Picture {index} of the {split} split cannot be used: {error}").format(
            index=3, split=_("validation"), error="broken")
    assert chinese != data["en"]
    assert text_to_json("plain text") is None and text_from_json({"en": "x"}) is None


def test_status_text_translates_only_while_the_english_still_says_it():
    waiting = text_to_json(LazyText(N_("Waiting to resume from its last completed epoch")))
    status = {"message": waiting["en"], "message_text": waiting}
    with use_language("zh-TW"):
        assert status_text(status, "message") == _("Waiting to resume from its last completed epoch") != waiting["en"]
        # A later writer changed the message without knowing the translation: read as it is.
        assert status_text({**status, "message": "Training epoch 2/5"}, "message") == "Training epoch 2/5"
        assert status_text({"error": "KeyError: 'x'"}, "error") == "KeyError: 'x'"
    assert status_text({}, "error") == ""


@pytest.mark.parametrize("raise_it", ["dataset_error", "nan_loss"])
def test_a_failed_runs_reason_reads_in_chinese(raise_it, tmp_path, monkeypatch):
    """Through the worker's own failure path (training replaced by the error it would raise)."""
    from cv_core.runs import worker
    from cv_core.runs.callbacks import RunStopped
    from cv_core.similarity.training import check_scorable

    def fail(spec, run_dir, echo=None):
        if raise_it == "dataset_error":
            check_scorable(np.array([0, 1]))  # one picture per class: nothing to retrieve
        raise RunStopped("failed", LazyText(N_("Loss became NaN at epoch {epoch} batch {batch}."), epoch=2, batch=5))

    monkeypatch.setattr(worker, "run_training", fail)
    run_dir = create_run(preset_spec("tiny"), tmp_path)
    assert worker.main(run_dir, echo=lambda line: None, queue=False) == "failed"
    status = read_status(run_dir)
    english = status_text(status, "error")
    with use_language("zh-TW"):
        chinese = status_text(status, "error")
    if raise_it == "dataset_error":
        assert status["error"].startswith("DatasetError: Expected the validation split to hold at least two classes")
        assert english == status["error"].removeprefix("DatasetError: ")
    else:
        assert status["error"] == english == "Loss became NaN at epoch 2 batch 5."
    assert chinese != english and not any(c.isascii() and c.isalpha() for c in chinese.replace("NaN", ""))


def test_a_resumed_run_waits_in_the_readers_language(tmp_path):
    from cv_core.runs.jobs import prepare_resume

    run_dir = create_run(preset_spec("tiny"), tmp_path)
    update_status(run_dir, state="cancelled")
    prepare_resume(run_dir)
    status = read_status(run_dir)
    assert status["state"] == "queued" and status["message"] == "Waiting to resume from its last completed epoch"
    with use_language("zh-TW"):
        assert status_text(status, "message") == _("Waiting to resume from its last completed epoch")

