"""The run directory (``--out``): its lock, ``run.json`` and the ``--resume`` checks.

:func:`open_run_dir` (called with the :class:`~embodied_gym.eval.lock.RunLock` held) refuses to
start a new run where one is already logged, refuses to resume a run whose provenance
(:mod:`.provenance`) differs -- naming every differing field -- unless each is allowed with
``--allow-changed``, writes ``run.json`` and returns what the log holds so far.

``run.json``: ``{"env_id", "agent", "episodes", "seed", "env_kwargs", "perception"`` (copies of those shaping
fields for readers such as :mod:`embodied_gym.reports`), ``"provenance": {shaping fields},
"recorded": {...}, "started": ISO time, "resumes": [{"started", "changed": {field: [old,
new]}, "recorded"}]}``. A ``run.json`` written before
provenance existed (``env_id``/``agent``/``episodes``/``seed`` only) is checked on those fields.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .config import ConfigError, EvalConfig
from .provenance import differences, short
from .runlog import read_log

LOG_NAME = "steps.jsonl"
RUN_JSON = "run.json"
LEGACY_KEYS = ("env_id", "agent", "episodes", "seed")
#: shaping fields also written at the top level of run.json
TOP_LEVEL = (*LEGACY_KEYS, "env_kwargs", "perception")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _check_resume(cfg: EvalConfig, old: dict[str, Any], shaping: dict[str, Any], where: Path) -> dict[str, list]:
    """The allowed changes ``{field: [old, new]}``; ``ValueError`` naming every other difference."""
    if "provenance" in old:
        diffs = differences(old["provenance"], shaping)
    else:  # a run.json of an older egym
        diffs = [(k, old.get(k), shaping.get(k)) for k in LEGACY_KEYS if old.get(k) != shaping.get(k)]
    allowed = set(cfg.allow_changed)
    unknown = sorted(allowed - set(shaping) - {"all"})
    if unknown:
        raise ConfigError("allow_changed", f"unknown provenance field(s) {', '.join(unknown)}; "
                                           f"fields: {', '.join(sorted(shaping))} or 'all'")
    refused = [d for d in diffs if d[0] not in allowed and "all" not in allowed]
    if refused:
        lines = "; ".join(f"'{k}' was {short(a)}, now {short(b)}" for k, a, b in refused)
        raise ConfigError("resume", f"{where}: this run was started with different settings: {lines}. Resuming "
                                    f"would mix results of both; use another {{out}}, or accept the change with "
                                    f"{{allow_changed}} {', '.join(k for k, _, _ in refused)} (recorded in {RUN_JSON})",
                          refs=("out", "allow_changed"))
    return {k: [a, b] for k, a, b in diffs}


def open_run_dir(cfg: EvalConfig, provenance: dict[str, Any]) -> tuple[dict[str, list[dict]], dict[str, dict], dict]:
    """Prepare ``cfg.out`` (see the module docstring); returns ``(logged steps per episode, final
    record per episode, the run.json record)``, the first two empty for a new run."""
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    log = log_path(out)
    run_json = out / RUN_JSON
    shaping, recorded = provenance["shaping"], provenance["recorded"]
    has_log = log.exists() and log.stat().st_size > 0
    top = {k: shaping.get(k) for k in TOP_LEVEL}
    record: dict[str, Any] = {**top, "provenance": shaping, "recorded": recorded, "started": _now(), "resumes": []}
    if not cfg.resume:
        if has_log:
            raise ConfigError("out", f"{out} already holds a run ({LOG_NAME}); continue it with {{resume}} or choose "
                                     f"another {{out}}", refs=("resume", "out"))
    elif run_json.exists():
        try:
            old = json.loads(run_json.read_text(encoding="utf-8"))
        except ValueError:
            raise ConfigError("resume", f"{run_json} is not JSON; the run directory is damaged") from None
        changed = _check_resume(cfg, old, shaping, run_json)
        if "provenance" in old:
            record = {**old, "resumes": [*old.get("resumes", []), {"started": _now(), "changed": changed,
                                                                   "recorded": recorded}]}
            if changed:  # the run goes on with the accepted settings; the originals stay in "resumes"
                record.update(top, provenance=shaping)
    run_json.write_text(json.dumps(record, indent=2))
    steps, finals = read_log(log) if cfg.resume else ({}, {})
    return steps, finals, record


def log_path(out: Path) -> Path:
    """The step log of the run in ``out``."""
    return Path(out) / LOG_NAME
