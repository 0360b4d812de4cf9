"""Model measurements kept on disk: answered without a process the second time, never across a
change of the code that builds the model, and never from a file that does not match."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from cv_core import anatomy, measurements

DESCRIPTION = {"kind": "spec", "num_classes": 3,
               "spec": {"model": "small_convnet", "filters": [8, 16], "image_size": 32}}
SUMMARY = {"params": 1234, "mult_adds": 5678, "activations": 90, "largest_map": 12, "weight_tensors": 4,
           "blocks": [{"block": "head", "params": 1234}], "layers": 5, "name": "made_up"}


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path))
    return tmp_path


class Child(list):
    """The measuring child's calls; ``fail`` makes it refuse like the builder does."""
    fail = False


@pytest.fixture
def child(monkeypatch):
    """``subprocess.run`` as the measuring child: counts its calls and answers SUMMARY (or fails)."""
    calls = Child()

    def run(args, **kwargs):
        calls.append(args)
        if calls.fail:
            return subprocess.CompletedProcess(args, 2, "", "error: too small\n")
        return subprocess.CompletedProcess(args, 0, json.dumps(SUMMARY) + "\n", "")

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_a_measured_description_is_answered_from_disk_without_a_process(cache, child):
    assert anatomy.summarise_in_subprocess(DESCRIPTION) == SUMMARY
    assert len(child) == 1
    assert anatomy.summarise_in_subprocess(json.loads(json.dumps(DESCRIPTION))) == SUMMARY
    assert len(child) == 1  # the second answer came from the file
    assert [p.parent.name for p in cache.glob("measurements/*/*.json")] == [measurements.code_fingerprint()[:20]]
    other = {**DESCRIPTION, "num_classes": 4}
    anatomy.summarise_in_subprocess(other)
    assert len(child) == 2  # another description is measured


def test_a_failed_measurement_is_not_kept(cache, child):
    child.fail = True
    with pytest.raises(ValueError, match="too small"):
        anatomy.summarise_in_subprocess(DESCRIPTION)
    with pytest.raises(ValueError, match="too small"):
        anatomy.summarise_in_subprocess(DESCRIPTION)
    assert len(child) == 2
    assert not list(cache.glob("measurements/*/*.json"))


def test_changed_code_measures_again(cache, child, monkeypatch, tmp_path_factory):
    package = tmp_path_factory.mktemp("package")
    (package / "models.py").write_text("WIDTH = 8\n")
    monkeypatch.setattr(measurements, "_PACKAGE", package)
    measurements.code_fingerprint.cache_clear()
    try:
        anatomy.summarise_in_subprocess(DESCRIPTION)
        first = measurements.code_fingerprint()
        (package / "models.py").write_text("WIDTH = 16\n")  # the builder changed
        measurements.code_fingerprint.cache_clear()
        assert measurements.code_fingerprint() != first
        assert measurements.recall(DESCRIPTION) is None
        anatomy.summarise_in_subprocess(DESCRIPTION)
        assert len(child) == 2
    finally:
        measurements.code_fingerprint.cache_clear()


def test_an_unreadable_or_mismatched_file_is_measured_again(cache):
    measurements.remember(DESCRIPTION, SUMMARY)
    path = next(cache.glob("measurements/*/*.json"))
    path.write_text("{not json")
    assert measurements.recall(DESCRIPTION) is None
    path.write_text(json.dumps({"description": {**DESCRIPTION, "num_classes": 9}, "measurement": SUMMARY}))
    assert measurements.recall(DESCRIPTION) is None  # (a name collision would read another model's numbers)
    path.write_text(json.dumps({"description": DESCRIPTION, "measurement": [1, 2]}))
    assert measurements.recall(DESCRIPTION) is None
    measurements.remember(DESCRIPTION, SUMMARY)
    assert measurements.recall(DESCRIPTION) == SUMMARY


def test_older_code_versions_beyond_the_newest_few_are_deleted(cache):
    root = cache / "measurements"
    for index in range(measurements.KEEP_VERSIONS + 2):
        old = root / f"old{index}"
        old.mkdir(parents=True)
        os.utime(old, (1_000_000 + index, 1_000_000 + index))
    measurements.remember(DESCRIPTION, SUMMARY)
    left = sorted(p.name for p in root.iterdir())
    assert measurements.measurements_dir().name in left
    assert sorted(set(left) - {measurements.measurements_dir().name}) == [
        f"old{index}" for index in range(2, measurements.KEEP_VERSIONS + 2)]  # the newest kept


def test_a_cache_that_cannot_be_written_is_skipped_with_a_warning(monkeypatch, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(blocker))
    measurements.remember(DESCRIPTION, SUMMARY)
    assert "Could not keep the model's measurement" in caplog.text
    assert measurements.recall(DESCRIPTION) is None


def test_the_suite_shares_one_cache_folder(suite_cache):
    assert os.environ["CONVNET_LAB_CACHE"] == str(suite_cache)
    assert measurements.measurements_dir().parent == suite_cache / "measurements"


def test_arrays_are_kept_per_description_and_read_back_without_pickle(cache):
    import numpy as np

    description = {"kind": "filter_patterns", "model": "squeezenet", "layer": "conv1", "filters": [0, 1]}
    patterns = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    assert measurements.recall_arrays(description) is None
    measurements.remember_arrays(description, {"patterns": patterns})
    kept = measurements.recall_arrays(description)
    assert set(kept) == {"patterns"} and kept["patterns"].dtype == np.uint8
    np.testing.assert_array_equal(kept["patterns"], patterns)
    assert measurements.recall_arrays({**description, "filters": [0, 2]}) is None  # another description
    (file,) = cache.glob("measurements/*/*.npz")
    assert file.parent.name == measurements.code_fingerprint()[:20]
    file.write_bytes(file.read_bytes()[:40])  # truncated: ignored, computed again
    assert measurements.recall_arrays(description) is None
    import json

    with open(file, "wb") as hostile:  # the right description, and a pickle inside: never unpickled
        np.savez(hostile, __description__=np.array(json.dumps(description, sort_keys=True)),
                 patterns=np.array([{"a": 1}], dtype=object))
    assert measurements.recall_arrays(description) is None
    measurements.remember_arrays(description, {"patterns": patterns})  # written again over it
    np.testing.assert_array_equal(measurements.recall_arrays(description)["patterns"], patterns)
