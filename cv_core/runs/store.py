"""The names of the former single "run store" module, kept for code written against it.

The run store is now split by job: :mod:`cv_core.runs.files` (the files of one run folder),
:mod:`cv_core.runs.liveness` (is a worker alive; marking dead ones), :mod:`cv_core.runs.folders`
(creating, listing, loading and deleting run folders) and :mod:`cv_core.runs.experiments`
(grid summaries). New code imports from those, or from :mod:`cv_core.runs`.
"""

from cv_core.runs.experiments import summarise_experiment
from cv_core.runs.files import *  # noqa: F403
from cv_core.runs.files import STATUS_LOCK_FILE, __all__ as _files_all
from cv_core.runs.folders import RunInfo, RunStateError, best_epoch_row, create_run, delete_run, list_runs, load_run
from cv_core.runs.liveness import *  # noqa: F403
from cv_core.runs.liveness import __all__ as _liveness_all

__all__ = [*_files_all, *_liveness_all, "STATUS_LOCK_FILE", "RunInfo", "RunStateError", "best_epoch_row",
           "create_run", "delete_run", "list_runs", "load_run", "summarise_experiment"]
