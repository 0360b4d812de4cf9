"""Serving the lab to a class: who may manage which runs, which folders a browser may read.

By default the lab is a personal tool: Streamlit listens on 127.0.0.1 only
(``.streamlit/config.toml``), and whoever uses it may do anything. Serving a class is an
explicit choice, made by the person who starts the server::

    CONVNET_LAB_SERVE=class \\
    CONVNET_LAB_OPERATOR_TOKEN="$(python -c 'import secrets; print(secrets.token_urlsafe(16))')" \\
    CONVNET_LAB_DATA_ROOTS=/srv/datasets:/home/shared/pictures \\
    streamlit run app.py --server.address 0.0.0.0

In class mode:

- every run records the browser that started it; a browser may cancel, resume, continue
  or delete its own runs only. The operator (whoever types the operator token in the
  sidebar) may manage every run.
- a typed dataset folder must lie inside one of the data roots (after resolving ``..``
  and symbolic links); with no data roots, only the built-in data can be used.
- each browser may have at most ``CONVNET_LAB_MAX_RUNS_PER_BROWSER`` (default 3) runs
  queued or running at once; the operator is not limited.
- only the operator may download datasets.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from cv_core.i18n import N_, TranslatedError

__all__ = [
    "DATA_ROOTS_ENV", "MAX_RUNS_ENV", "MODE_ENV", "OPERATOR_TOKEN_ENV", "AccessError", "ServingPolicy",
]

MODE_ENV = "CONVNET_LAB_SERVE"
OPERATOR_TOKEN_ENV = "CONVNET_LAB_OPERATOR_TOKEN"
DATA_ROOTS_ENV = "CONVNET_LAB_DATA_ROOTS"
MAX_RUNS_ENV = "CONVNET_LAB_MAX_RUNS_PER_BROWSER"
MODES = ("local", "class")


class AccessError(TranslatedError, ValueError):
    """Something this browser may not do while the lab serves a class; the message says why."""


@dataclass(frozen=True)
class ServingPolicy:
    """The rules of one server, read from its environment when it starts.

    Attributes:
        class_mode: the lab serves a class (``CONVNET_LAB_SERVE=class``).
        operator_token: the token that makes a browser the operator (class mode only).
        data_roots: the folders (resolved) that typed dataset paths must lie in.
        max_active_runs: runs one browser may have queued or running at once.
    """

    class_mode: bool = False
    operator_token: str | None = None
    data_roots: tuple[Path, ...] = ()
    max_active_runs: int = 3

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServingPolicy:
        """The policy that the environment variables above describe.

        Raises:
            ValueError: an unknown mode or a bad run limit (the server should not start).
        """
        env = os.environ if environ is None else environ
        mode = (env.get(MODE_ENV) or "local").strip().lower()
        if mode not in MODES:
            raise ValueError(f"Expected ${MODE_ENV} to be one of {MODES}. Received: {mode!r}")
        token = (env.get(OPERATOR_TOKEN_ENV) or "").strip() or None
        roots = tuple(Path(os.path.realpath(os.path.expanduser(p.strip())))
                      for p in (env.get(DATA_ROOTS_ENV) or "").split(os.pathsep) if p.strip())
        text = (env.get(MAX_RUNS_ENV) or "3").strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"Expected ${MAX_RUNS_ENV} to be a whole number >= 1. Received: {text!r}")
        return cls(class_mode=mode == "class", operator_token=token, data_roots=roots, max_active_runs=int(text))

    def is_operator(self, token: str | None) -> bool:
        """Whether ``token`` is the operator token (never, when none is set)."""
        if not self.operator_token or not token:
            return False
        return hmac.compare_digest(self.operator_token.encode(), str(token).strip().encode())

    def may_manage(self, run_owner: str | None, me: str | None, operator: bool = False) -> bool:
        """Whether browser ``me`` may cancel, resume, continue or delete a run of ``run_owner``."""
        if not self.class_mode or operator:
            return True
        return run_owner is not None and run_owner == me

    def check_folder(self, folder: str | os.PathLike, operator: bool = False) -> None:
        """Refuse a dataset folder outside the data roots (class mode, not the operator).

        ``..`` segments and symbolic links are resolved first, so neither leads out.

        Raises:
            AccessError: naming the data roots, or saying there are none.
        """
        if not self.class_mode or operator:
            return
        if not self.data_roots:
            raise AccessError(
                N_("This lab serves a class and its operator has not named any data folders "
                   "(${DATA_ROOTS_ENV}), so only the built-in shapes can be used."), DATA_ROOTS_ENV=DATA_ROOTS_ENV
            )
        try:
            resolved = Path(os.path.realpath(os.path.expanduser(str(folder))))
        except (OSError, ValueError):
            resolved = None
        if resolved is not None:
            for root in self.data_roots:
                if resolved == root or root in resolved.parents:
                    return
        allowed = ", ".join(str(root) for root in self.data_roots)
        raise AccessError(N_("This lab serves a class: dataset folders must be inside {allowed}."), allowed=allowed)

    def check_queue(self, active_runs: int, adding: int = 1, operator: bool = False) -> None:
        """Refuse queueing ``adding`` runs when this browser already has ``active_runs`` waiting or running.

        Raises:
            AccessError: naming the limit.
        """
        if not self.class_mode or operator:
            return
        if active_runs + adding > self.max_active_runs:
            if adding == 1:
                message = N_("This lab serves a class: each browser may have at most {max_active_runs} runs queued "
                             "or running at once, and you have {active_runs}. Wait for one to finish (or cancel one) "
                             "to start this run.")
            else:
                message = N_("This lab serves a class: each browser may have at most {max_active_runs} runs queued "
                             "or running at once, and you have {active_runs}. Wait for one to finish (or cancel one) "
                             "to start these {adding} runs.")
            raise AccessError(message, max_active_runs=self.max_active_runs, active_runs=active_runs, adding=adding)
