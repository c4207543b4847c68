"""The run directory (``--out``) and ``--resume``.

:func:`open_run_dir` creates ``out``, refuses to start a new run where one is already logged
(unless resuming), refuses to resume a run that was started with a different identity (env,
agent, episodes, seed), writes ``run.json`` and returns what the log holds so far.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .config import EvalConfig
from .runlog import read_log

LOG_NAME = "steps.jsonl"


def run_identity(cfg: EvalConfig) -> dict[str, Any]:
    """What ``--resume`` requires to be unchanged (recorded in ``run.json``)."""
    agent = cfg.agent if isinstance(cfg.agent, str) else getattr(cfg.agent, "name", "custom")
    return {"env_id": cfg.env_id, "agent": agent, "episodes": cfg.episodes_label(), "seed": cfg.seed,
            "perception": cfg.perception}


def open_run_dir(cfg: EvalConfig) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Prepare ``cfg.out`` (see the module docstring); returns ``(logged steps per episode, final
    record per episode)``, both empty for a new run."""
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / LOG_NAME
    ident = run_identity(cfg)
    run_json = out / "run.json"
    has_log = log_path.exists() and log_path.stat().st_size > 0
    if not cfg.resume:
        if has_log:
            raise ValueError(f"{out} already holds a run ({LOG_NAME}); pass --resume to continue it or choose another --out")
    elif run_json.exists():
        old = json.loads(run_json.read_text())
        for key, value in ident.items():
            if old.get(key) != value:
                raise ValueError(f"--resume: {run_json}: field '{key}' was {old.get(key)!r}, now {value!r}; use another --out")
    run_json.write_text(json.dumps({**ident, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
    return read_log(log_path) if cfg.resume else ({}, {})


def log_path(out: Path) -> Path:
    """The step log of the run in ``out``."""
    return Path(out) / LOG_NAME
