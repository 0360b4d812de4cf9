"""A browser is the same browser after a reload: its id comes from the token inside Streamlit's
XSRF cookie, which Tornado masks afresh on every page load (version 2: ``2|mask|masked|time``).
Hashing the whole cookie gave a new id on each reload, so a reload lost this browser's drafts
in the Mask studio (and its runs looked like someone else's)."""

from __future__ import annotations

import os

from ui.access import _xsrf_token


def cookie(token: bytes, mask: bytes, timestamp: int = 1796534975) -> str:
    masked = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|{timestamp}"


def test_the_same_token_under_two_masks_is_the_same_browser():
    token = os.urandom(16)
    first, second = cookie(token, os.urandom(4)), cookie(token, os.urandom(4))
    assert first != second  # what the browser sends before and after a reload
    assert _xsrf_token(first) == _xsrf_token(second) == token.hex()
    assert _xsrf_token(cookie(os.urandom(16), os.urandom(4))) != token.hex()  # another browser


def test_other_cookie_formats_are_used_as_they_are():
    for value in ("plain-token", "1|abc", "2|zz|not-hex|1", "2||abcd|1"):
        assert _xsrf_token(value) == value
