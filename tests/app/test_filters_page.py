"""AppTest for the Filters page: patterns fill the grid, stepping layers, settings, three layers
side by side; on a small run model (fast) and on the offline SqueezeNet."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.test_interpret_pages import APP, fake_run, open_page


def open_filters(query: dict) -> AppTest:
    return open_page("pages/filters.py", query)


def pattern_captions(at) -> list[str]:
    return [img.proto.imgs[0].caption for img in at.get("image") if img.proto.imgs[0].caption.startswith("#")]


def layer_slider(at):
    return next(s for s in at.select_slider if s.key.startswith("filters_layer_"))


def test_filters_of_a_run_fill_the_grid_and_step_through_layers(runs_root):
    run_id = fake_run(runs_root)
    at = open_filters({"model": f"run:{run_id}"})
    assert at.title[0].value == "Filters"
    start = layer_slider(at).value
    assert start == "block1_sepconv1"  # an early layer: the stem sees raw pixels
    one_layer = pattern_captions(at)[:8]
    assert sorted(int(c.split()[0][1:]) for c in one_layer) == list(range(8))  # every filter of the layer, once
    assert all(" · ×" in c or "(noise " in c for c in one_layer)
    at.button(key="filters_layer_next").click().run()
    assert not at.exception
    assert layer_slider(at).value != start
    assert at.query_params["filter_layer"] == layer_slider(at).value
    # Three layers side by side (the tab's content is rendered too).
    headers = [m.value for m in at.markdown if m.value.startswith("**`")]
    assert len(headers) >= 3


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


def test_filters_of_squeezenet_offline(runs_root):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("pages/filters.py")
    at.session_state["_keep_interpret_model"] = "pretrained:squeezenet"
    at.run()
    assert not at.exception
    assert layer_slider(at).value == "fire2_squeeze1x1"
    assert len(pattern_captions(at)) >= 8
