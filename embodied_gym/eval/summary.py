"""Summaries of a run: the family's metrics over episode results plus the run's accounting.

:func:`write_summary` writes ``summary.json`` and ``summary.md``: the family's summary
(:attr:`embodied_gym.agents.families.Family.summarize`, or :func:`generic_summary`) of every
finished episode, and under ``"run"`` what was run and what it cost: episodes with and without
a result (``errors``), totals over the whole log (:func:`log_totals`, all runs that wrote to it)
and this process's own counters (``this_run``). Later accounting (failure modes, infrastructure
failures) adds fields to :func:`log_totals` / :func:`run_record`; readers ignore unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..agents.families import FAMILIES
from .runlog import jsonable, read_infra_failures, read_log


def summarize(family: str, results: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The family's summary of episode results and the summarizer's name."""
    spec = FAMILIES.get(family)
    fn = spec.summarize if spec is not None else None
    if fn is None:
        return generic_summary(results), "generic"
    return fn(results), f"{fn.__module__}.{fn.__name__}"


def generic_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of every numeric/boolean field, overall and per ``category`` / ``split`` (for
    families without a dedicated summarizer)."""

    def agg(rows: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(rows)}
        keys = sorted({k for r in rows for k, v in r.items() if isinstance(v, (bool, int, float))})
        for k in keys:
            vals = [float(r[k]) for r in rows if isinstance(r.get(k), (bool, int, float))]
            out[k if k not in ("success", "episode_success") else k + "_rate"] = sum(vals) / len(vals) if vals else 0.0
        return out

    summary: dict[str, Any] = {"overall": agg(results)}
    for key in ("category", "split"):
        groups: dict[str, list] = {}
        for r in results:
            if key in r:
                groups.setdefault(str(r[key]), []).append(r)
        if groups:
            summary[f"by_{key}"] = {g: agg(rows) for g, rows in sorted(groups.items())}
    return summary


def split_finals(ids: list[str], finals: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """``(results, errors)``: the result of every episode of ``ids`` that has one, and an error
    entry (``{"episode_id", "kind", "error"}``) for every other one: ``kind`` is
    ``"infrastructure"`` (no reply of the model came back; ``--resume`` asks again),
    ``"environment"`` (the env raised or broke the contract) or ``"not run"``."""
    results, errors = [], []
    for ep in ids:
        rec = finals.get(ep)
        if rec is None:
            errors.append({"episode_id": ep, "kind": "not run", "error": "not run"})
        elif rec.get("result") is not None:
            results.append(rec["result"])
        else:
            kind = "infrastructure" if rec.get("incomplete") else "environment"
            errors.append({"episode_id": ep, "kind": kind, "error": rec.get("error", "unknown")})
    return results, errors


def log_totals(log_path: Path) -> dict[str, Any]:
    """Totals over the whole log (all runs that wrote to it). ``infra_failures``: calls that
    brought back no reply of the model (each logged as an ``infra_failure`` line; in logs of an
    older egym, steps with an error, HTTP attempts and no reply); they are not steps."""
    steps, _ = read_log(log_path)
    recs = [r for rs in steps.values() for r in rs]
    infra = read_infra_failures(log_path)
    legacy = [r for r in recs if r.get("error") and int(r.get("attempts") or 0) > 0 and not r.get("raw_reply")]
    return {
        "steps": len(recs),
        "requests": sum(int(r.get("attempts") or 0) for r in recs + infra),
        "cache_hits": sum(1 for r in recs if r.get("cached")),
        "infra_failures": len(infra) + len(legacy),
        "invalid_actions": sum(1 for r in recs if r.get("invalid_action")),
        "prompt_tokens": sum(int(r.get("prompt_tokens") or 0) for r in recs if not r.get("cached")),
        "completion_tokens": sum(int(r.get("completion_tokens") or 0) for r in recs if not r.get("cached")),
        "cost_usd": round(sum(float(r.get("cost") or 0.0) for r in recs), 6),
    }


def write_summary(out: Path, summary: dict[str, Any], title: str,
                  redact: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Write ``summary.json`` and ``summary.md`` into ``out`` (through ``redact``); returns the
    JSON-safe summary as written."""
    from ..report import write_report

    text = json.dumps(jsonable(summary), indent=2)
    if redact is not None:
        text = redact(text)
    summary = json.loads(text)
    (out / "summary.json").write_text(text)
    write_report(summary, out / "summary.md", title=title)
    return summary
