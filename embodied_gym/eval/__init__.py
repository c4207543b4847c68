"""The evaluation package behind ``egym eval``: run agents on environments, logged and resumable.

* :mod:`.config`: :class:`~.config.EvalConfig`, the typed config the CLI flags are built from
  (:mod:`.cliargs`).
* :mod:`.envside`: the one environment thread and the calls that run on it.
* :mod:`.rundir`: the run directory (``--out``), ``run.json`` and ``--resume`` checks.
* :mod:`.runlog`: ``steps.jsonl`` records and reading them back.
* :mod:`.scheduler`: :func:`~.scheduler.run_eval`, concurrent episodes and the step log.
* :mod:`.stopping`: SIGINT / SIGTERM, and closing a stopped run's environments within a bound.
* :mod:`.summary`: the family's summary plus the run's accounting (``summary.json``/``.md``).
* :mod:`.bench`: ``egym bench harness``.

The environment side of the contract is :mod:`embodied_gym.envs.contract`; the per-family parts
(prompts, summarizers, baselines) are registered in :mod:`embodied_gym.agents.families`.
"""

from __future__ import annotations

from .config import ConfigError, EvalConfig
from .scheduler import run_eval

__all__ = ["ConfigError", "EvalConfig", "run_eval"]
