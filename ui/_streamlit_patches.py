"""Every private Streamlit API that the lab relies on, behind one door.

Two of Streamlit's defaults hurt the lab and no public option turns them off:

* at the end of every script run, ``streamlit.runtime.scriptrunner.script_runner``
  calls its module function ``_clean_problem_modules``, which clears the Keras session when
  Keras is imported: every click then waits for TensorFlow's kernels to be rebuilt for the
  models that ``st.cache_resource`` keeps, and for a full garbage collection
  (:func:`keep_keras_state_between_reruns` replaces it with one that only closes matplotlib
  figures, as Streamlit's does);
* an app with a ``pages/`` folder starts in the legacy multipage mode
  (``PagesManager.uses_pages_directory``) until some session has called ``st.navigation``: a
  deep link opened first on a freshly started server runs that page alone, with no page config,
  no shared sidebar and a navigation that lists every file (:func:`leave_legacy_pages_mode`
  switches the mode off; the page then reruns, which runs ``app.py``).

Nothing is changed on import: :func:`install` does it, and ``ui.install_streamlit_patches()``
calls it from ``app.py`` and from every page script (a deep link runs the page without
``app.py``). :func:`check` compares the installed Streamlit with the versions these were checked
against (:data:`CHECKED_VERSIONS`) and looks for each private name where Streamlit's script
runner uses it; a moved name leaves that patch out with one :class:`StreamlitPrivateApiWarning`
in the server log saying what no longer works. The app itself always keeps running.
"""

from __future__ import annotations

import inspect
import logging
import threading
import types
import warnings

__all__ = [
    "CHECKED_VERSIONS",
    "StreamlitPrivateApiWarning",
    "check",
    "install",
    "keep_keras_state_between_reruns",
    "leave_legacy_pages_mode",
    "version_problem",
]

#: The Streamlit versions whose private names below were read and tested (a ``packaging`` specifier).
CHECKED_VERSIONS = ">=1.67,<1.68"

_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_WARNED: set[str] = set()

_KERAS_CONSEQUENCE = ("Streamlit clears the Keras session after every rerun again: the lab still works, but each "
                      "click on a page with a model waits for TensorFlow's kernels to be rebuilt and for a full "
                      "garbage collection.")
_PAGES_CONSEQUENCE = ("a deep link opened first on a freshly started server shows its page without the lab's "
                      "navigation and sidebar until the home page is opened once.")


class StreamlitPrivateApiWarning(UserWarning):
    """A private Streamlit name that the lab patches moved, or Streamlit is outside the checked versions."""


def version_problem(version: str | None = None) -> str | None:
    """A sentence if ``version`` (default: the installed Streamlit) is outside :data:`CHECKED_VERSIONS`."""
    from cv_core._keras_private import version_inside

    if version is None:
        import streamlit

        version = streamlit.__version__
    if version_inside(version, CHECKED_VERSIONS):
        return None
    return (f"Streamlit {version} is outside the versions whose private names Convnet Lab patches were checked "
            f"against ({CHECKED_VERSIONS}); each patch is still applied where its name is found.")


def _names_used(function) -> set[str]:
    """Global and attribute names a function's code (nested functions included) refers to."""
    found: set[str] = set()
    stack = [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        found.update(code.co_names)
        stack.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return found


def _run_loop_names() -> set[str]:
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    return _names_used(getattr(ScriptRunner, "_run_script", None))


def _keras_problem() -> str | None:
    try:
        from streamlit.runtime.scriptrunner import script_runner
    except ImportError:
        return f"Streamlit's module `streamlit.runtime.scriptrunner.script_runner` moved: {_KERAS_CONSEQUENCE}"
    cleaner = getattr(script_runner, "_clean_problem_modules", None)
    if cleaner is None or "_clean_problem_modules" not in _run_loop_names():
        return (f"Streamlit's script runner no longer calls `script_runner._clean_problem_modules` at the end of a "
                f"run: {_KERAS_CONSEQUENCE}")
    if getattr(cleaner, "keeps_keras", False):
        return None
    if list(inspect.signature(cleaner).parameters):
        return (f"Streamlit's `script_runner._clean_problem_modules` now takes arguments "
                f"{list(inspect.signature(cleaner).parameters)}: {_KERAS_CONSEQUENCE}")
    return None


def _pages_problem() -> str | None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return f"Streamlit's `streamlit.runtime.pages_manager.PagesManager` moved: {_PAGES_CONSEQUENCE}"
    if "uses_pages_directory" not in vars(PagesManager) or "uses_pages_directory" not in _run_loop_names():
        return (f"Streamlit no longer decides the legacy multipage mode with `PagesManager.uses_pages_directory`: "
                f"{_PAGES_CONSEQUENCE}")
    return None


def check() -> list[str]:
    """Every problem with the installed Streamlit: outside the checked versions, or a patched name moved.

    An empty list means both patches can be installed as they were written.
    """
    return [problem for problem in (version_problem(), _keras_problem(), _pages_problem()) if problem]


def _warn_once(problem: str) -> None:
    with _LOCK:
        if problem in _WARNED:
            return
        _WARNED.add(problem)
    _LOG.warning(problem)
    warnings.warn(problem, StreamlitPrivateApiWarning, stacklevel=3)


def _clean_problem_modules_but_keras() -> None:
    """Streamlit's end-of-run clean-up without clearing the Keras session: close matplotlib figures."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        try:
            sys.modules["matplotlib.pyplot"].close("all")
        except Exception:  # noqa: BLE001 - as Streamlit: never crash the app here
            pass


_clean_problem_modules_but_keras.keeps_keras = True


def keep_keras_state_between_reruns() -> str | None:
    """Stop Streamlit from calling ``keras.backend.clear_session()`` after every rerun.

    Our models and their compiled functions live in ``st.cache_resource`` across reruns: with
    the clean-up, the next rerun paid for rebuilding TensorFlow's kernels, and every click waited
    for a full collection first (measured through py-spy on the Heatmaps page, the clean-up took
    as long as the page itself: ``bench/interpret.py`` has the numbers). Code that builds
    throwaway models releases them itself (``ui.architecture``). Matplotlib figures are still closed.

    Returns:
        None when the patch is in place, else the reason it could not be installed.
    """
    problem = _keras_problem()
    if problem:
        return problem
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = _clean_problem_modules_but_keras
    return None


def leave_legacy_pages_mode() -> bool:
    """Switch Streamlit out of the legacy ``pages/`` mode; True if it was in it (rerun then).

    Only ever switches off: ``st.navigation`` in ``app.py`` does the same on its first run.
    """
    if _pages_problem():
        return False
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


def install() -> list[str]:
    """Install both patches (again is harmless) and return the problems found.

    A problem is logged and warned about once per process, and its patch is left out; this never
    raises, so the app keeps running whatever Streamlit changed.

    Returns:
        The problems (sentences), empty when everything was installed as written.
    """
    problems = []
    for find in (version_problem, keep_keras_state_between_reruns, _pages_problem):
        try:
            problem = find()
        except Exception as exc:  # noqa: BLE001 - a changed Streamlit must not stop the app
            problem = f"Checking Streamlit's private names failed ({exc!r}); the lab's Streamlit patches may be missing."
        if problem:
            problems.append(problem)
            _warn_once(problem)
    return problems
