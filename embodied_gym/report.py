"""Markdown reports of evaluation summaries (``summary.md`` next to ``summary.json``).

:func:`format_report` turns a summary dict (``{"overall": {...}, "by_category": {...},
"by_skill": {...}, "by_split": {...}, "run": {...}}``, as written by ``egym eval``) into Markdown:
one table for ``overall``, one table per ``by_*`` group (a row per group, a column per metric),
the family's diagnosis tables (closed-loop failure modes, BEAR first failures, the replay
family's expert-vs-predicted action confusion matrix) and a short list of run facts (agent,
episodes, steps, requests, cache hits, tokens, cost).
Unknown keys are shown too, so new metrics appear without changes here. Pure formatting: it
never raises on odd values (they are printed with ``str``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

RUN_FACTS = ("env_id", "agent", "episodes", "n_episodes", "n_results", "n_errors", "steps", "requests", "cache_hits",
             "infra_failures", "n_incomplete", "invalid_actions", "prompt_tokens", "completion_tokens", "cost_usd", "cost_known",
             "summarizer")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "nan"
    if isinstance(value, (dict, list)):
        return "…"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def table(rows: dict[str, dict[str, Any]], first: str) -> str:
    """A Markdown table: one row per key of ``rows``, one column per scalar metric (``n`` first)."""
    columns: list[str] = []
    for metrics in rows.values():
        if isinstance(metrics, dict):
            for k, v in metrics.items():
                if _is_scalar(v) and k not in columns:
                    columns.append(k)
    columns.sort(key=lambda c: c != "n")  # stable: "n" first, the rest in first-seen order
    lines = ["| " + " | ".join([first, *columns]) + " |", "|" + "---|" * (len(columns) + 1)]
    for name, metrics in rows.items():
        metrics = metrics if isinstance(metrics, dict) else {"value": metrics}
        lines.append("| " + " | ".join([_cell(name), *(_cell(metrics.get(c, "")) for c in columns)]) + " |")
    return "\n".join(lines)


def format_report(summary: dict[str, Any], title: str = "Evaluation") -> str:
    """The Markdown text for ``summary``."""
    parts = [f"# {title}", ""]
    overall = summary.get("overall")
    if isinstance(overall, dict):
        parts += ["## Overall", "", table({"all": overall}, ""), ""]
    for key, value in summary.items():
        if key.startswith("by_") and isinstance(value, dict) and value:
            label = key[3:].replace("_", " ")
            parts += [f"## By {label}", "", table(value, label), ""]
    parts += _diagnosis(summary)
    run = summary.get("run")
    if isinstance(run, dict):
        parts += ["## Run", ""]
        parts += [f"- {k}: {_cell(run[k])}" for k in RUN_FACTS if k in run]
        errors = run.get("errors") or []
        if errors:
            parts += ["", "### Episodes that did not finish", ""]
            parts += [f"- {_cell(e.get('episode_id'))}: {_cell(e.get('error'))}" for e in errors if isinstance(e, dict)]
        parts.append("")
    return "\n".join(parts)


def _diagnosis(summary: dict[str, Any]) -> list[str]:
    """Tables of the failure diagnosis, when the summary has one: closed-loop ``failure_modes``
    (a row per primary mode, a column per category) and BEAR ``first_failure`` /
    ``conditional_accuracy``."""
    parts: list[str] = []
    modes = summary.get("failure_modes")
    if isinstance(modes, dict) and isinstance(modes.get("overall"), dict):
        cats = modes.get("by_category") if isinstance(modes.get("by_category"), dict) else {}
        flags = modes.get("flags") if isinstance(modes.get("flags"), dict) else {}
        rows = {m: {"n": n, **{c: (v or {}).get(m, 0) for c, v in cats.items()}, "as flag": flags.get(m, 0)}
                for m, n in modes["overall"].items()}
        parts += [f"## Failure modes ({_cell(modes.get('n_failed', 0))} failed episodes)", "", table(rows, "mode"), ""]
    first = summary.get("first_failure")
    if isinstance(first, dict) and isinstance(first.get("counts"), dict):
        share = first.get("share") or {}
        rows = {k: {"n": v, "share": share.get(k, 0.0)} for k, v in first["counts"].items()}
        parts += [f"## First failing skill ({_cell(first.get('n_failed', 0))} failed episodes)", "",
                  table(rows, "skill"), ""]
    cond = summary.get("conditional_accuracy")
    if isinstance(cond, dict) and cond:
        parts += ["## Accuracy given every earlier step right", "", table(cond, "skill"), ""]
    confusion = summary.get("confusion")
    if isinstance(confusion, dict) and confusion and all(isinstance(r, dict) for r in confusion.values()):
        parts += ["## Action confusion (a row per expert action, a column per predicted action)", "",
                  confusion_table(confusion), ""]
    return parts


def confusion_table(confusion: dict[str, dict[str, Any]], invalid: str = "invalid") -> str:
    """A Markdown table of ``{expert: {predicted: count}}``: a row per expert (demonstrated)
    action, ``n`` (its steps), then a column per action in either role (sorted, ``invalid``, the
    unparsable replies, last); cells are step counts, ``0`` where the pair never occurred."""
    actions = sorted({str(a) for a in confusion} | {str(p) for row in confusion.values() for p in row},
                     key=lambda a: (a == invalid, a))
    rows = {}
    for expert, row in confusion.items():
        counts = {str(p): c for p, c in row.items()}
        total = sum(c for c in counts.values() if isinstance(c, int))
        rows[expert] = {"n": total, **{a: counts.get(a, 0) for a in actions}}
    return table(rows, "expert / predicted")


def write_report(summary: dict[str, Any], path: str | os.PathLike[str], title: str = "Evaluation") -> Path:
    """Write :func:`format_report` to ``path``; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(format_report(summary, title), encoding="utf-8")
    return p
