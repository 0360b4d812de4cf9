"""Training runs: specs, run directories on disk, and worker processes that train them.

>>> from cv_core.runs import preset_spec, submit_run, list_runs, read_metrics
>>> run_dir = submit_run(preset_spec("quick"), runs_root="runs")   # returns at once
>>> [(run.id, run.state) for run in list_runs("runs")]              # no TensorFlow needed

Training happens in a separate worker process per run (``python -m
cv_core.runs.worker RUN_DIR``), one run at a time; the UI only reads run directories.
Importing this package does not import TensorFlow.

Modules, one job each: ``spec`` (what to train, presets, validation), ``cost`` (size,
memory and time of a spec, the resource budget), ``model`` (the model a spec builds),
``files`` (the files of a run folder), ``folders`` (creating, listing, deleting run
folders), ``liveness`` (noticing dead workers), ``jobs`` (worker processes, the queue,
cancel, resume, continue), ``worker`` and ``callbacks`` (the training itself),
``cluster`` (multi-worker ``TF_CONFIG``), ``experiments`` (grid summaries), ``labels`` (run,
variant and dataset names for people, in the reader's language), ``compare`` (comparison tables, ETA), ``artifacts`` (loading a run's model), ``tasks`` (what differs
between classification and segmentation: one table entry per task).
"""

from cv_core.runs.artifacts import RunModelError, best_model_path, load_best_model
from cv_core.runs.calibration import machine_speed
from cv_core.runs.cost import ResourceBudget, architecture_cost, check_resources, estimate_seconds, mult_adds
from cv_core.runs.experiments import experiment_title, summarise_experiment
from cv_core.runs.files import (
    RUNS_ROOT_ENV,
    default_runs_root,
    read_metrics,
    read_progress,
    read_scores,
    read_spec,
    read_status,
    read_summary,
    read_test_metrics,
)
from cv_core.runs.folders import RunInfo, RunStateError, create_run, delete_run, list_runs, load_run
from cv_core.runs.jobs import (
    continue_run,
    prepare_resume,
    request_cancel,
    resume_run,
    start_worker,
    submit_grid,
    submit_run,
)
from cv_core.runs.liveness import ACTIVE_STATES, FINAL_STATES, STATES, reconcile_runs
from cv_core.runs.spec import (
    BATCHNORMS,
    CONV_TYPES,
    LR_SCHEDULES,
    OPTIMIZERS,
    PRESETS,
    SpecError,
    TrainSpec,
    minimum_image_size,
    preset_spec,
    validate_spec,
)
from cv_core.runs.model import build_model, compile_model
from cv_core.runs.tasks import TASKS, Architecture, Task, architecture_of, dataset_names, register_task, task_of

__all__ = [
    "ACTIVE_STATES", "BATCHNORMS", "CONV_TYPES", "FINAL_STATES", "LR_SCHEDULES", "OPTIMIZERS",
    "PRESETS", "RUNS_ROOT_ENV", "STATES", "TASKS", "Architecture", "ResourceBudget", "RunInfo", "RunModelError",
    "RunStateError", "SpecError", "Task", "TrainSpec", "architecture_cost", "architecture_of", "best_model_path",
    "build_model", "check_resources", "compile_model", "continue_run", "create_run", "dataset_names",
    "default_runs_root", "delete_run", "estimate_seconds", "experiment_title", "list_runs", "load_best_model",
    "load_run", "machine_speed", "minimum_image_size", "mult_adds", "prepare_resume", "preset_spec", "read_metrics",
    "read_progress", "read_scores", "read_spec", "read_status", "read_summary", "read_test_metrics",
    "reconcile_runs", "register_task", "request_cancel", "resume_run", "run_training", "start_worker",
    "submit_grid", "submit_run", "summarise_experiment", "task_of", "validate_spec",
]


def __getattr__(name):
    # run_training lives in the worker module, which is also run as ``__main__``
    # (``python -m cv_core.runs.worker``): importing it eagerly here would load it twice.
    if name == "run_training":
        from cv_core.runs.worker import run_training

        return run_training
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
