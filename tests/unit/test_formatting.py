"""cv_core.formatting: durations, numbers and times in each language (the issue's "約 3 分 20 秒")."""

import datetime

import pytest

from cv_core.formatting import format_duration, format_number, format_percent, format_time
from cv_core.i18n import use_language
from cv_core.runs.compare import format_seconds


@pytest.mark.parametrize("language, seconds, about, text", [
    ("en", 42.4, False, "42 s"), ("en", 200, True, "about 3 min 20 s"), ("en", 7800, False, "2 h 10 min"),
    ("zh-TW", 42.4, False, "42 秒"), ("zh-TW", 200, True, "約 3 分 20 秒"), ("zh-TW", 7800, False, "2 小時 10 分"),
    ("zh-TW", None, False, "—"), ("en", float("nan"), True, "—")])
def test_format_duration(language, seconds, about, text):
    with use_language(language):
        assert format_duration(seconds, about=about) == text


def test_the_runs_duration_is_the_same_function():
    with use_language("zh-TW"):
        assert format_seconds(185) == "3 分 5 秒"
        assert format_seconds(None, unknown="估計中…") == "估計中…"


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_numbers_follow_cldr(language):
    # CLDR (Babel's data): both English and Taiwanese Mandarin group thousands with "," and use "." as the point.
    with use_language(language):
        assert format_number(1234567) == "1,234,567"
        assert format_number(0.91234, decimals=3) == "0.912"
        assert format_number(12, decimals=0) == "12"
        assert format_percent(0.256, decimals=1) == "25.6%"


def test_clock_times_follow_the_language():
    afternoon = datetime.datetime(2026, 12, 7, 14, 5).timestamp()
    with use_language("en"):
        assert format_time(afternoon) == "2:05\u202fPM"
    with use_language("zh-TW"):
        assert format_time(afternoon) == "下午2:05"
