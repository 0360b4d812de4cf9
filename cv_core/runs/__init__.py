"""Training runs: specs, run directories on disk, and worker processes that train them.

>>> from cv_core.runs import preset_spec, submit_run, list_runs, read_metrics
>>> run_dir = submit_run(preset_spec("quick"), runs_root="runs")   # returns at once
>>> [(run.id, run.state) for run in list_runs("runs")]              # no TensorFlow needed

Training happens in a separate worker process per run (``python -m
cv_core.runs.worker RUN_DIR``), one run at a time; the UI only reads run directories.
Importing this package does not import TensorFlow.
"""

from cv_core.runs.artifacts import RunModelError, best_model_path, load_best_model
from cv_core.runs.jobs import (
    prepare_resume,
    request_cancel,
    resume_run,
    start_worker,
    submit_grid,
    submit_run,
)
from cv_core.runs.spec import (
    BATCHNORMS,
    CONV_TYPES,
    MODEL_KINDS,
    OPTIMIZERS,
    PRESETS,
    SpecError,
    TrainSpec,
    estimate_seconds,
    minimum_image_size,
    mult_adds,
    preset_spec,
    validate_spec,
)
from cv_core.runs.store import (
    ACTIVE_STATES,
    FINAL_STATES,
    RUNS_ROOT_ENV,
    STATES,
    RunInfo,
    RunStateError,
    create_run,
    default_runs_root,
    delete_run,
    list_runs,
    load_run,
    read_metrics,
    read_progress,
    read_spec,
    read_status,
    read_summary,
    read_test_metrics,
    reconcile_runs,
    summarise_experiment,
)

__all__ = [
    "ACTIVE_STATES", "BATCHNORMS", "CONV_TYPES", "FINAL_STATES", "MODEL_KINDS", "OPTIMIZERS",
    "PRESETS", "RUNS_ROOT_ENV", "STATES", "RunInfo", "RunModelError", "RunStateError", "SpecError", "TrainSpec",
    "best_model_path", "create_run", "default_runs_root", "delete_run", "estimate_seconds", "list_runs", "load_best_model", "load_run",
    "minimum_image_size", "mult_adds", "prepare_resume", "preset_spec", "read_metrics",
    "read_progress", "read_spec", "read_status", "read_summary", "read_test_metrics",
    "reconcile_runs", "request_cancel", "resume_run", "run_training", "start_worker",
    "submit_grid", "submit_run", "summarise_experiment", "validate_spec",
]


def __getattr__(name):
    # run_training lives in the worker module, which is also run as ``__main__``
    # (``python -m cv_core.runs.worker``): importing it eagerly here would load it twice.
    if name == "run_training":
        from cv_core.runs.worker import run_training

        return run_training
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
