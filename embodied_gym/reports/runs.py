"""Reading an ``egym eval`` run directory back for reports and comparisons (read only).

A run directory holds ``run.json`` (what was run), ``steps.jsonl`` (one record per step and one
per finished episode) and ``summary.json``. :func:`load_run` reads all three into a :class:`Run`.
Everything here reads summaries and results *generically*: unknown ``by_*`` groups and unknown
result fields are carried through, so new environment families and summary fields appear in
reports without changes here. The only family-specific knowledge is which result fields say
"success" (:data:`SUCCESS_KEYS`) and that a result with a ``steps`` list of ``{"correct", ...}``
records is scored per step (BEAR).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..eval.runlog import read_log

#: result fields that say whether a closed-loop style episode succeeded (first present wins)
SUCCESS_KEYS = ("success", "episode_success")
#: metric names of a summary group, most telling first: the one a leaderboard shows
PRIMARY_METRICS = ("success_rate", "step_accuracy", "accuracy", "episode_success_rate", "mean_score", "mean_step_score")


@dataclass
class Run:
    """One run directory.

    ``path``: the directory. ``info``: ``run.json`` (``env_id``, ``agent``, ``episodes``, ``seed``;
    ``{}`` when absent). ``summary``: ``summary.json`` (``{}`` when absent). ``steps``: step records
    per episode id, in step order. ``finals``: the last ``episode`` record per episode id.
    ``order``: episode ids in first-logged order."""

    path: Path
    info: dict[str, Any]
    summary: dict[str, Any]
    steps: dict[str, list[dict[str, Any]]]
    finals: dict[str, dict[str, Any]]
    order: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        """``closed_loop``, ``bear`` or another family name (from the summary, else guessed from results)."""
        fam = (self.summary.get("run") or {}).get("family")
        if fam:
            return str(fam)
        return "bear" if any(is_stepwise(r) for r in self.results().values()) else "closed_loop"

    @property
    def env_id(self) -> str:
        return str(self.info.get("env_id") or (self.summary.get("run") or {}).get("env_id") or "")

    @property
    def agent(self) -> str:
        """The agent spec, with ``[perception=oracle]`` appended for privileged-perception runs so
        the settings of a perception ablation stay apart in tables and pooled gaps."""
        name = str((self.summary.get("run") or {}).get("agent") or self.info.get("agent") or "")
        perception = self.info.get("perception") or "images"
        return name if perception == "images" else f"{name} [perception={perception}]"

    @property
    def label(self) -> str:
        """A short name for tables: the directory name."""
        return self.path.name or str(self.path)

    @property
    def seed(self) -> int:
        return int(self.info.get("seed") or 0)

    def results(self) -> dict[str, dict[str, Any]]:
        """Episode id -> its result (episodes that ended with an error are left out)."""
        return {ep: rec["result"] for ep, rec in self.finals.items() if isinstance(rec.get("result"), dict)}

    def errors(self) -> dict[str, str]:
        """Episode id -> error text, for episodes whose last record is an error."""
        return {ep: str(rec.get("error") or "unknown") for ep, rec in self.finals.items()
                if not isinstance(rec.get("result"), dict)}


def load_run(path: str | Path) -> Run:
    """Read a run directory. Raises ``ValueError`` naming the directory when it holds no
    ``steps.jsonl`` and no ``summary.json`` (not a run), or when a file is not valid JSON."""
    p = Path(path)
    if not p.is_dir():
        raise ValueError(f"{p}: not a directory (expected an `egym eval --out` run directory)")
    log_path, summary_path = p / "steps.jsonl", p / "summary.json"
    if not log_path.exists() and not summary_path.exists():
        raise ValueError(f"{p}: no steps.jsonl or summary.json; not an `egym eval` run directory")
    info = _read_json(p / "run.json")
    summary = _read_json(summary_path)
    steps, finals = read_log(log_path) if log_path.exists() else ({}, {})
    order: list[str] = []
    for ep in list(steps) + list(finals):
        if ep not in order:
            order.append(ep)
    return Run(path=p, info=info, summary=summary, steps=steps, finals=finals, order=order)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def is_stepwise(result: dict[str, Any]) -> bool:
    """A result scored per step (BEAR): a ``steps`` list of records with ``correct``."""
    steps = result.get("steps")
    return isinstance(steps, list) and any(isinstance(s, dict) and "correct" in s for s in steps)


def step_counts(result: dict[str, Any]) -> tuple[float, float] | None:
    """(correct steps, steps) of a result scored per step: BEAR's ``steps`` records, or the
    counts ``correct`` / ``steps`` beside a ``step_accuracy`` (next-action replay); else ``None``."""
    if is_stepwise(result):
        steps = [s for s in result["steps"] if isinstance(s, dict)]
        return float(sum(1 for s in steps if s.get("correct"))), float(len(steps))
    correct, steps = result.get("correct"), result.get("steps")
    if "step_accuracy" in result and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (correct, steps)):
        return float(correct), float(steps)
    return None


def episode_success(result: dict[str, Any]) -> bool:
    """Whether an episode counts as a success (first of :data:`SUCCESS_KEYS` present)."""
    for key in SUCCESS_KEYS:
        if key in result:
            return bool(result[key])
    return False


def is_ood(result: dict[str, Any]) -> bool:
    """Out of domain: ``domain`` says so when the result has one, else the split's name does."""
    domain = result.get("domain")
    if domain is not None:
        return "ood" in str(domain).lower() or "out" in str(domain).lower()
    return "ood" in str(result.get("split", "")).lower()


def primary_metric(group: dict[str, Any]) -> str | None:
    """The first of :data:`PRIMARY_METRICS` present in a summary group."""
    return next((k for k in PRIMARY_METRICS if isinstance(group.get(k), (int, float))), None)


def split_reply(text: str) -> tuple[str, str]:
    """(reasoning, answer) of a reply: the ``<think>`` and ``<answer>`` parts when tagged, else
    ``("", text)``."""
    text = text or ""
    think = re.search(r"<think>(.*?)(</think>|$)", text, re.S)
    answer = re.search(r"<answer>(.*?)(</answer>|$)", text, re.S)
    if not think and not answer:
        return "", text.strip()
    return (think.group(1).strip() if think else ""), (answer.group(1).strip() if answer else "")


def slug(text: str) -> str:
    """A file-name-safe version of an id (letters, digits, ``-_.``; others become ``_``)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._") or "x"
    return s[:120]
