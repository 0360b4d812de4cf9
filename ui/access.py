"""Who is this browser, and may it do this? The serving policy as seen from a page.

See :mod:`cv_core.serving` for the rules. A browser is recognised across reloads and tabs
by the cookie Streamlit itself sets for XSRF protection (only a hash of it is stored in
run folders, and nothing new is stored in the browser); where there is no such cookie
(XSRF protection off, page tests), by its session.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets

import streamlit as st

from cv_core.i18n import _

from cv_core.serving import AccessError, ServingPolicy

__all__ = ["AccessError", "browser_id", "is_operator", "listens_beyond_this_machine", "may_manage", "policy",
           "operator_box"]

_XSRF_COOKIE = "_streamlit_xsrf"


@st.cache_resource
def _policy() -> ServingPolicy:
    return ServingPolicy.from_environment()


def policy() -> ServingPolicy:
    """The server's serving policy (read once from its environment)."""
    return _policy()


def browser_id() -> str:
    """An opaque id of this browser, stable across reloads: recorded as a run's owner."""
    cookie = None
    try:
        cookie = st.context.cookies.get(_XSRF_COOKIE)
    except Exception:  # no request context (bare scripts, some tests)
        cookie = None
    if isinstance(cookie, str) and cookie:  # (page tests' mocked context gives a new object every run)
        return hashlib.sha256(f"convnet-lab|{_xsrf_token(cookie)}".encode()).hexdigest()[:16]
    if "access_browser_id" not in st.session_state:
        st.session_state["access_browser_id"] = "session-" + secrets.token_hex(8)
    return st.session_state["access_browser_id"]


def _xsrf_token(cookie: str) -> str:
    """The token inside Tornado's XSRF cookie: version 2 (``2|mask|masked token|time``) masks it
    afresh on every page load, so only the unmasked token is the same after a reload."""
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return cookie
        if mask:
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    return cookie


def is_operator() -> bool:
    """Whether this browser has typed the operator token (class mode)."""
    return bool(st.session_state.get("access_operator"))


def may_manage(run) -> bool:
    """Whether this browser may cancel, resume, continue or delete ``run`` (a RunInfo)."""
    return policy().may_manage(run.owner, browser_id(), is_operator())


def listens_beyond_this_machine() -> bool:
    """Whether Streamlit accepts connections from other machines (``server.address``)."""
    address = (st.get_option("server.address") or "").strip()
    if not address:
        return True  # Streamlit's default: every interface
    if address == "localhost":
        return False
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return True


def operator_box() -> None:
    """In class mode: the sidebar field where the operator types the token."""
    current = policy()
    if not current.class_mode:
        return
    if is_operator():
        st.caption(_(":material/shield_person: You are the operator: you may manage every run."))
        if st.button(_("Stop being the operator"), key="access_operator_leave"):
            st.session_state["access_operator"] = False
            st.rerun()
        return
    with st.expander(_("Operator"), icon=":material/shield_person:", key="access_operator_box"):
        if not current.operator_token:
            st.caption(_("No operator token was set when the server started, so nobody can manage others' runs."))
            return
        st.text_input(_("Operator token"), type="password", key="access_operator_token", max_chars=200,
                      on_change=_check_token)
        if st.session_state.get("access_operator_refused"):
            st.error(_("That is not the operator token."), icon=":material/key_off:")


def _check_token() -> None:
    token = st.session_state.get("access_operator_token") or ""
    accepted = policy().is_operator(token)
    st.session_state["access_operator"] = accepted
    st.session_state["access_operator_refused"] = bool(token) and not accepted
    st.session_state["access_operator_token"] = ""  # never keep the token in the page
