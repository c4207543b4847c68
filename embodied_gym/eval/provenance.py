"""Provenance: everything that shapes a run's results, recorded in ``run.json`` and ``summary.json``.

:func:`build_provenance` returns two mappings:

* ``shaping`` -- what decides the numbers, compared on ``--resume`` (:func:`differences`): the
  env id and its keyword arguments, the episodes (reference, SHA-256 of the episode file, SHA-256
  of the env's ordered episode ids, before ``--limit``), the seed, ``max_steps_cap``, the agent spec, ``perception``, the endpoint (base URL,
  for API agents), the agent settings after defaults, the family's prompt config after overrides
  and the SHA-256 of its prompt file, the package version and git commit. Paths of files are not
  compared, their contents are (a settings file moved elsewhere is the same run).
* ``recorded`` -- useful but not shaping: the settings and prompt file paths, the SHA-256 of the
  settings file and of the price table, whether the git tree had local changes, ``limit``,
  ``concurrency``, the cache file.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

from .config import EvalConfig


def file_sha256(path: str | os.PathLike[str] | None) -> str | None:
    """SHA-256 of a file's bytes (of every file under a directory, in sorted order); ``None`` if absent."""
    if path is None:
        return None
    p = Path(path)
    h = hashlib.sha256()
    if p.is_file():
        h.update(p.read_bytes())
    elif p.is_dir():
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(str(f.relative_to(p)).encode() + b"\0" + f.read_bytes())
    else:
        return None
    return h.hexdigest()


@functools.cache
def code_version() -> dict[str, Any]:
    """``{"package_version", "git_commit", "git_dirty"}`` of the installed package (git fields
    ``None`` when it is not in a git work tree or git is missing)."""
    from .. import __version__

    root = Path(__file__).resolve().parents[2]
    commit = dirty = None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        if commit:
            status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout
            dirty = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return {"package_version": __version__, "git_commit": commit, "git_dirty": dirty}


def _episodes_file(ref: Any) -> Path | None:
    if not isinstance(ref, (str, os.PathLike)):
        return None
    from ..episodes.spec import resolve_ref

    try:
        path = resolve_ref(ref)
    except Exception:  # noqa: BLE001 -- a reference this env resolves itself (e.g. "toy:12")
        return None
    return path if path.exists() else None


def build_provenance(cfg: EvalConfig, *, episode_ids: list[str], family: str, settings: Any = None,
                     endpoint: str | None = None, prompt: Any = None, prompt_file: str | None = None,
                     model_agent: bool = False) -> dict[str, Any]:
    """``{"shaping": {...}, "recorded": {...}}`` for a run (see the module docstring), from
    :func:`agent_inputs`: ``settings`` the agent settings after defaults (shaping only for model
    agents, ``model_agent``); ``prompt`` the family's effective prompt config and ``prompt_file``
    the file it came from (``None`` for agents without prompts)."""
    from .runlog import jsonable

    ep_file = _episodes_file(cfg.episodes)
    code = code_version()
    agent = cfg.agent if isinstance(cfg.agent, str) else getattr(cfg.agent, "name", "custom")
    shaping = {
        "env_id": cfg.env_id, "env_kwargs": jsonable(cfg.env_kwargs), "family": family,
        "episodes": cfg.episodes_label(), "episodes_sha256": file_sha256(ep_file),
        "episode_ids_sha256": hashlib.sha256("\n".join(episode_ids).encode()).hexdigest(),
        "seed": cfg.seed, "max_steps_cap": cfg.max_steps_cap, "agent": agent, "perception": cfg.perception,
        "endpoint": endpoint,
        "agent_settings": jsonable(dataclasses.asdict(settings)) if settings is not None and model_agent else None,
        "prompt": jsonable(dataclasses.asdict(prompt)) if prompt is not None else None,
        "prompt_file_sha256": file_sha256(prompt_file),
        "package_version": code["package_version"], "git_commit": code["git_commit"],
    }
    recorded = {
        "episodes_file": str(ep_file) if ep_file else None, "config": cfg.config,
        "config_sha256": file_sha256(cfg.config), "prompt_file": str(prompt_file) if prompt_file else None,
        "prices_sha256": file_sha256(getattr(settings, "prices_file", None)), "git_dirty": code["git_dirty"],
        "limit": cfg.limit, "concurrency": cfg.concurrency, "cache": str(cfg.cache or cfg.out / "cache.sqlite"),
        "env_workers": cfg.env_workers, "ray": cfg.ray,
    }
    return {"shaping": shaping, "recorded": recorded}


def agent_inputs(cfg: EvalConfig, family: str, default_profile: str | None = None) -> dict[str, Any]:
    """What the agent spec of ``cfg`` will be built from: ``{"settings", "endpoint", "prompt",
    "prompt_file"}`` (settings and prompt only for model agents, endpoint only for API agents).
    The prompt profile is ``cfg.prompt``, else the settings file's ``prompt_file``, else
    ``default_profile`` (the environment's ``metadata["prompt_profile"]``), else the family's;
    ``cfg.input_setting`` overrides the profile's input setting."""
    if not isinstance(cfg.agent, str):
        return {"settings": None, "endpoint": None, "prompt": None, "prompt_file": None, "model_agent": False}
    from ..agents.factory import MODEL_KINDS, parse_agent_spec, resolve_endpoint
    from ..agents.settings import AgentSettings
    from ..envs.prompts import configs_dir

    kind, _ = parse_agent_spec(cfg.agent)
    settings = AgentSettings.load(cfg.config, cfg.agent_set)
    settings.prompt_file = cfg.prompt or settings.prompt_file or default_profile
    if cfg.input_setting is not None:
        settings.prompt = {**settings.prompt, "input_setting": cfg.input_setting}
    if kind not in MODEL_KINDS:
        return {"settings": settings, "endpoint": None, "prompt": None, "prompt_file": None, "model_agent": False}
    prompt_file = settings.prompt_file or str(configs_dir() / "prompts" / f"{family}.json")
    return {"settings": settings, "endpoint": resolve_endpoint(cfg.agent, cfg.base_url),
            "prompt": settings.prompt_config(family), "prompt_file": prompt_file, "model_agent": True}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``[(field, old value, new value)]`` for every shaping field that differs (sorted by field)."""
    keys = sorted(set(old) | set(new))
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def short(value: Any, limit: int = 120) -> str:
    """A value for an error message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
