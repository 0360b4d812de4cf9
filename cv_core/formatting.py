"""Numbers, durations and times written for the reader's language (``cv_core.i18n.current_language``).

    format_duration(200)                  # "3 min 20 s"        / "3 分 20 秒"
    format_duration(200, about=True)      # "about 3 min 20 s"  / "約 3 分 20 秒"
    format_number(1234567)                # "1,234,567"         / "1,234,567"
    format_number(0.91234, decimals=3)    # "0.912"
    format_time(timestamp)                # "14:05"             / "下午2:05"

Numbers and clock times come from Babel's CLDR data for the language; the duration's units are the
catalog's (``{minutes} min {seconds} s``), so the wording matches the rest of the lab.
"""

from __future__ import annotations

import math
from datetime import datetime

from cv_core.i18n import _, current_language

__all__ = ["babel_locale", "format_duration", "format_number", "format_percent", "format_time"]

#: Babel's locale for each language the lab offers.
BABEL_LOCALES = {"en": "en", "zh-TW": "zh_Hant_TW"}


def babel_locale(language: str | None = None) -> str:
    """Babel's locale name for ``language`` (default: the current one)."""
    return BABEL_LOCALES.get(language or current_language(), "en")


def format_duration(seconds: float | None, about: bool = False, unknown: str = "—") -> str:
    """'45 s', '3 min 5 s', '2 h 10 min' in the current language (rounded to the second), or ``unknown``.

    ``about=True`` says it is an estimate ("about 3 min 5 s" / "約 3 分 5 秒").
    """
    if seconds is None or not math.isfinite(float(seconds)):
        return unknown
    total = int(round(float(seconds)))
    if total < 60:
        text = _("{seconds} s").format(seconds=total)
    elif total < 3600:
        text = _("{minutes} min {seconds} s").format(minutes=total // 60, seconds=total % 60)
    else:
        text = _("{hours} h {minutes} min").format(hours=total // 3600, minutes=total % 3600 // 60)
    return _("about {duration}").format(duration=text) if about else text


def format_number(value: float, decimals: int | None = None) -> str:
    """``value`` with the language's digit grouping; ``decimals`` fixes the digits after the point."""
    from babel.numbers import format_decimal

    if decimals is None:
        return format_decimal(value, locale=babel_locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def format_percent(fraction: float, decimals: int = 0) -> str:
    """``fraction`` (0.25) as a percentage in the language's style ("25%")."""
    from babel.numbers import format_percent as babel_percent

    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return babel_percent(fraction, format=pattern, locale=babel_locale())


def format_time(timestamp: float) -> str:
    """A local clock time (hours and minutes) in the language's style."""
    from babel.dates import format_time as babel_time

    return babel_time(datetime.fromtimestamp(timestamp), format="short", locale=babel_locale())
