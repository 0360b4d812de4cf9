"""Links to the training form, Compare runs and Mask studio open the same choices in either language.

Widgets bound to the URL whose option labels are translated have one key and URL parameter per
language (``ui.i18n.widget_key``): ``architecture_lab_preset`` in English, ``architecture_lab_preset.zh-TW``
in Chinese. Given the widget's options and ``format_func``, ``widget_key`` reads a link written in the
other language, so ``?architecture_lab_preset=Tiny&lang=zh-TW`` opens 極小 (its Chinese label) and
``?architecture_lab_preset.zh-TW=極小`` opens Tiny in English. Each link here names an option that is
not the widget's default, so a widget that ignored the link would fail its assertion.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core import i18n
from cv_core.runs import preset_spec
from cv_core.runs.tasks import task_of
from ui.mask_canvas import TOOLS
from ui.mask_studio import SPLITS
from ui.training import BN_LABELS, DIFFICULTY_LABELS, PRESET_LABELS, SCHEDULE_LABELS, dataset_label

APP = str(Path(__file__).resolve().parents[2] / "app.py")

pytestmark = pytest.mark.slow  # the pages import TensorFlow

TINY = preset_spec("tiny")
CLASSIFIERS = task_of("classification").architectures


def label(message: str, language: str) -> str:
    """``message`` as the page shows it in ``language`` (what Streamlit writes into the URL)."""
    with i18n.use_language(language):
        return str(i18n._(str(message)))


def other(options, default):
    """The first option that is not the default."""
    return next(option for option in options if option != default)


MODEL = other(CLASSIFIERS, TINY.model)
BATCHNORM = other(BN_LABELS, TINY.batchnorm)
SCHEDULE = other(SCHEDULE_LABELS, TINY.lr_schedule)
DIFFICULTY = other(DIFFICULTY_LABELS, TINY.dataset_options.get("difficulty", "hard"))
DATASET = "image_folder"


def form_link(language: str, *, dataset: bool) -> dict:
    """The training form's parameters as Streamlit writes them in ``language`` (Tiny preset, Train tab)."""
    suffix = "" if language == "en" else f".{language}"
    query = {
        "architecture_lab_tab": "Train",
        f"architecture_lab_preset{suffix}": label(PRESET_LABELS["tiny"], language),
        f"architecture_lab_tiny_model{suffix}": label(CLASSIFIERS[MODEL].label, language),
        f"architecture_lab_tiny_bn{suffix}": label(BN_LABELS[BATCHNORM], language),
        f"architecture_lab_tiny_schedule{suffix}": label(SCHEDULE_LABELS[SCHEDULE], language),
    }
    if dataset:
        with i18n.use_language(language):
            query[f"architecture_lab_tiny_dataset{suffix}"] = dataset_label(DATASET)
    else:
        query[f"architecture_lab_tiny_difficulty{suffix}"] = label(DIFFICULTY_LABELS[DIFFICULTY], language)
    return query


def open_page(page: str, language: str, query: dict, timeout: int = 180) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update({"lang": language, **query})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def speaking():
    """AppTest formats widget values in the test's thread: read them in the page's language."""
    def use(language):
        i18n.set_language_source(lambda: language)
        return i18n.use_language(language)
    yield use
    i18n.set_language_source(None)


def assert_form(at: AppTest, suffix: str, *, dataset: bool) -> None:
    assert at.radio(key=f"architecture_lab_preset{suffix}").value == "tiny"
    assert at.radio(key=f"architecture_lab_tiny_model{suffix}").value == MODEL
    assert at.radio(key=f"architecture_lab_tiny_bn{suffix}").value == BATCHNORM
    assert at.selectbox(key=f"architecture_lab_tiny_schedule{suffix}").value == SCHEDULE
    if dataset:
        assert at.selectbox(key=f"architecture_lab_tiny_dataset{suffix}").value == DATASET
    else:
        assert at.selectbox(key=f"architecture_lab_tiny_difficulty{suffix}").value == DIFFICULTY


@pytest.mark.parametrize("dataset", [False, True], ids=["difficulty", "dataset"])
def test_an_english_link_to_the_training_form_opens_its_choices_in_chinese(lab_roots, speaking, dataset):
    with speaking("zh-TW"):
        at = open_page("pages/architecture_lab.py", "zh-TW", form_link("en", dataset=dataset))
        assert_form(at, ".zh-TW", dataset=dataset)


@pytest.mark.parametrize("dataset", [False, True], ids=["difficulty", "dataset"])
def test_a_chinese_link_to_the_training_form_opens_its_choices_in_english(lab_roots, speaking, dataset):
    with speaking("en"):
        at = open_page("pages/architecture_lab.py", "en", form_link("zh-TW", dataset=dataset))
        assert_form(at, "", dataset=dataset)


def grid_link(language: str) -> dict:
    suffix = "" if language == "en" else f".{language}"
    return {"compare_runs_tab": "Run the grid",
            f"compare_runs_grid_preset{suffix}": label(PRESET_LABELS["book"], language),
            f"compare_runs_grid_whose{suffix}": label("My runs", language)}  # the default is All runs


@pytest.mark.parametrize(("link", "page"), [("en", "zh-TW"), ("zh-TW", "en")])
def test_a_link_to_the_grid_opens_its_choices_in_the_other_language(lab_roots, speaking, link, page):
    suffix = "" if page == "en" else f".{page}"
    with speaking(page):
        at = open_page("pages/compare_runs.py", page, grid_link(link))
        assert at.selectbox(key=f"compare_runs_grid_preset{suffix}").value == "book"
        assert at.button_group(key=f"compare_runs_grid_whose{suffix}").value == "My runs"


def studio_link(language: str) -> dict:
    suffix = "" if language == "en" else f".{language}"
    return {f"mask_studio_src_split{suffix}": label(SPLITS["validation"], language),
            f"mask_studio_tool{suffix}": label(TOOLS["eraser"][0], language),
            f"mask_studio_preview{suffix}": label("Mask only", language),
            f"mask_studio_start{suffix}": label("An empty mask (all background)", language)}


@pytest.mark.parametrize(("link", "page"), [("en", "zh-TW"), ("zh-TW", "en")])
def test_a_link_to_the_mask_studio_opens_its_choices_in_the_other_language(lab_roots, speaking, link, page):
    suffix = "" if page == "en" else f".{page}"
    with speaking(page):
        at = open_page("pages/mask_studio.py", page, studio_link(link), timeout=90)
        at.button(key="mask_studio_preset_shapes").click().run()
        at.text_input(key="mask_studio_new_name").input("linked").run()
        at.button(key="mask_studio_create").click().run()
        assert not at.exception, at.exception
        assert at.selectbox(key=f"mask_studio_src_split{suffix}").value == "validation"
        assert at.button_group(key=f"mask_studio_tool{suffix}").value == "eraser"
        assert at.button_group(key=f"mask_studio_preview{suffix}").value == "mask"
        assert at.radio(key=f"mask_studio_start{suffix}").value == "empty"
