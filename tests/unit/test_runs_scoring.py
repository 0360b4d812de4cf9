"""cv_core.runs.scoring: the splits a run is scored on, and scores JSON can hold."""

import math

from cv_core.runs.scoring import SCORED_SPLITS, json_number, scored_splits, splits_with_pictures


def test_a_score_of_nothing_is_written_as_null():
    assert json_number(float("nan")) is None and json_number(None) is None
    assert json_number(0.25) == 0.25 and isinstance(json_number(1), float)
    assert not math.isnan(json_number(0.0))


def test_only_splits_with_pictures_are_scored():
    class Dataset:
        def count(self, split):
            return {"validation": 3, "test": 0}[split]

    assert splits_with_pictures(Dataset()) == ["validation"]


def test_score_rows_read_the_splits_that_were_scored_in_order():
    assert scored_splits({"test": {"map50": 0.5}, "validation": {}, "class_names": ["a"]}) == list(SCORED_SPLITS)
    assert scored_splits({"validation": None, "test": {"x": 1}}) == ["test"]
    assert scored_splits({}) == []


def test_a_score_row_has_the_label_then_each_split_rounded_and_a_sentence_as_it_is():
    from cv_core.i18n import use_language
    from cv_core.runs.scoring import score_row

    scores = {"validation": {"ap": 0.123456, "pairs": "3 of 4", "count": 7}, "test": {"ap": None}}
    assert score_row("AP", scores, ["validation", "test"], lambda s: s.get("ap")) == {
        "score": "AP", "validation": 0.123, "test": None}
    assert score_row("AP", scores, ["validation"], lambda s: s.get("ap"), digits=1) == {"score": "AP", "validation": 0.1}
    assert score_row("pairs", scores, ["validation"], lambda s: s.get("pairs"))["validation"] == "3 of 4"
    assert score_row("n", scores, ["validation"], lambda s: s.get("count"))["validation"] == 7
    with use_language("zh-TW"):  # the columns are the reader's words
        row = score_row("AP", scores, ["validation", "test"], lambda s: s.get("ap"))
    assert "validation" not in row and "test" not in row and "score" not in row
    assert list(row.values()) == ["AP", 0.123, None]


def test_each_split_with_pictures_is_read_at_the_model_size_and_scored():
    from cv_core.runs.scoring import score_each_split

    class Dataset:
        def count(self, split):
            return {"validation": 3, "test": 0}[split]

    read = []

    def samples(dataset, split, size):
        read.append((split, size))
        return [1, 2, 3], ["a", "b", "c"]

    scores = score_each_split(Dataset(), 32, samples, lambda images, truths: {"n": len(images), "t": truths[0]})
    assert scores == {"validation": {"n": 3, "t": "a"}}
    assert read == [("validation", (32, 32))]  # the test split has no pictures: not read
