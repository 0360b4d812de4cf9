"""AppTest for the Filters page: patterns fill the grid, stepping layers, settings, three layers
side by side; on a small run model (fast) and on the offline SqueezeNet."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_interpret_pages import APP, fake_run, open_page


def open_filters(query: dict) -> AppTest:
    return open_page("pages/filters.py", query)


def pattern_captions(at) -> list[str]:
    return [img.proto.imgs[0].caption for img in at.get("image") if "Filter " in img.proto.imgs[0].caption]


def filter_of(caption: str) -> int:
    """The filter a caption names: "Filter 7 · excited 5.2× more than by noise" -> 7."""
    return int(re.search(r"Filter (\d+)", caption).group(1))


def layer_slider(at):
    return next(s for s in at.select_slider if s.key.startswith("filters_layer_"))


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_filters_of_a_run_fill_the_grid_and_step_through_layers(runs_root):
    run_id = fake_run(runs_root)
    at = open_filters({"model": f"run:{run_id}"})
    assert at.title[0].value == "Filters"
    start = layer_slider(at).value
    assert start == "block1_sepconv1"  # an early layer: the stem sees raw pixels
    one_layer = pattern_captions(at)[:8]
    assert sorted(filter_of(c) for c in one_layer) == list(range(8))  # every filter of the layer, once
    assert all(" · excited " in c or "search failed" in c for c in one_layer)
    assert at.query_params["filter_layer"] == start and at.query_params["steps"] == "30"
    at.button(key="filters_layer_next").click().run()
    assert not at.exception
    assert layer_slider(at).value != start
    assert at.query_params["filter_layer"] == layer_slider(at).value
    # Three layers side by side (the tab's content is rendered too).
    headers = [m.value for m in at.markdown if m.value.startswith("**`")]
    assert len(headers) >= 3


@pytest.mark.slow
def test_filters_settings_change_the_patterns(runs_root):
    run_id = fake_run(runs_root)
    at = open_filters({"model": f"run:{run_id}"})
    before = [img.proto.imgs[0].url for img in at.get("image")][:8]
    at.toggle(key="filters_fourier").set_value(False).run()  # the book's plain pixel ascent
    assert not at.exception
    after = [img.proto.imgs[0].url for img in at.get("image")][:8]
    assert before != after
    at.select_slider(key="filters_steps").set_value(10).run()
    assert not at.exception and pattern_captions(at)
    assert at.query_params["fourier"] == "off" and at.query_params["steps"] == "10"


def test_filters_settings_come_back_from_the_address(runs_root):
    run_id = fake_run(runs_root)
    at = open_filters({"model": f"run:{run_id}", "fourier": "off", "steps": "10", "jitter": "0", "blur": "0.5",
                       "decay": "0.01", "count": "16"})
    assert at.toggle(key="filters_fourier").value is False
    assert at.select_slider(key="filters_steps").value == 10 and at.select_slider(key="filters_jitter").value == 0
    assert at.select_slider(key="filters_blur").value == 0.5 and at.select_slider(key="filters_decay").value == 0.01
    assert at.select_slider(key="filters_count").value == 16


def test_filter_captions_say_it_in_words_and_flag_a_failed_search():
    from cv_core.interpret.filters import search_gain
    from ui.filters import failed_note, gain_caption

    assert gain_caption(7, 10.0, 2.0) == "Filter 7 · excited 5.0× more than by noise"
    assert search_gain(10.0, 2.0) == ("times", 5.0)
    # noise below zero: a ratio would mean nothing, the two activations are given
    assert search_gain(304.0, -61.0) == ("above", 365.0)
    assert gain_caption(1, 304.0, -61.0) == "Filter 1 · excited to 304 (noise: -61)"
    # the "#7 · -86.3 (noise -32)": the search ended below its starting noise
    assert search_gain(-86.3, -32.0) == ("failed", None) and search_gain(1.0, 1.0)[0] == "failed"
    assert "search failed" in gain_caption(7, -86.3, -32.0)
    assert "filter 7:" in failed_note([7]) and "filters 3, 7:" in failed_note([3, 7])


@pytest.mark.slow
def test_filters_of_squeezenet_offline(runs_root):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("pages/filters.py")
    at.session_state["_keep_interpret_model"] = "pretrained:squeezenet"
    at.run()
    assert not at.exception
    assert layer_slider(at).value == "fire2_squeeze1x1"
    assert len(pattern_captions(at)) >= 8


@pytest.mark.slow
def test_a_pretrained_models_patterns_are_kept_on_disk_for_the_next_server(runs_root, monkeypatch, tmp_path):
    """Computed once per machine and code version: a restarted server (here: the in-memory store
    emptied, and gradient ascent made to fail) shows the same patterns from the cache folder."""
    from cv_core import measurements
    from ui import filters

    kept = tmp_path / "kept"  # this test's own: nothing kept from before (the converted model stays shared)
    monkeypatch.setattr(measurements, "measurements_dir", lambda: kept)

    def open_squeezenet():
        at = AppTest.from_file(APP, default_timeout=300)
        at.run()
        at.switch_page("pages/filters.py")
        at.session_state["_keep_interpret_model"] = "pretrained:squeezenet"
        at.query_params["steps"] = "10"  # a short search: what is kept matters here, not how good it is
        at.run()
        assert not at.exception, at.exception
        assert at.query_params["steps"] == "10"
        return at

    filters._pattern_store()["results"].clear()
    first = open_squeezenet()
    shown = [img.proto.imgs[0].url for img in first.get("image")]
    assert len(list(kept.glob("*.npz"))) >= 1
    filters._pattern_store()["results"].clear()

    def no_ascent(*args, **kwargs):
        raise AssertionError("the patterns were computed again")

    monkeypatch.setattr("cv_core.interpret.filters.filter_patterns", no_ascent)
    again = open_squeezenet()
    assert pattern_captions(again) == pattern_captions(first) and len(pattern_captions(again)) >= 8
    assert [img.proto.imgs[0].url for img in again.get("image")] == shown
