"""``egym compare``: several runs side by side, with the in-domain minus OOD gap and bootstrap
confidence intervals over episodes.

:func:`compare_runs` returns one JSON-safe object::

    {"by": "split", "level": 0.95, "n_boot": 2000,
     "rows": [{"run": PATH, "label", "agent", "env_id", "family", "metric",
               "n_episodes", "n_errors",
               "overall": {METRIC: v, "ci95": [lo, hi], "n"},
               "by_split": {SPLIT: {METRIC: v, "ci95": [lo, hi], "n"}},
               "by_<by>": {...}                       # when --by is not split
               "gap": {"in_domain", "ood", "gap", "ci95", "n_in_domain", "n_ood"} | null,
               "vs_first": {"diff", "ci95"} | null}],  # overall minus the first row's
     "gaps": [{"agent", "family", "runs": [...], ...gap fields}]}

``METRIC`` is ``success_rate`` for closed-loop runs and ``step_accuracy`` for step-scored (BEAR)
runs; ``n`` counts episodes. ``row["gap"]`` is the run's own gap (when the run holds both
in-domain and OOD episodes); ``gaps`` pools every run of the same agent and family, so a model
evaluated with one run per split gets its gap too. All figures come from the per-episode results
in ``steps.jsonl`` (not from ``summary.json``), so intervals and figures agree.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .runs import Run, load_run
from .stats import LEVEL, N_BOOT, contributions, difference, domain_gap, grouped, metric_name

GROUPINGS = ("split", "category", "skill", "domain")
FORMATS = ("md", "csv", "json")


def _row(run: Run, by: str, seed: int) -> dict[str, Any]:
    results = list(run.results().values())
    metric = metric_name(results)
    row: dict[str, Any] = {
        "run": str(run.path), "label": run.label, "agent": run.agent, "env_id": run.env_id, "family": run.family,
        "metric": metric, "n_episodes": len(results), "n_errors": len(run.errors()),
    }
    overall = grouped(results, "overall", seed).get("all")
    row["overall"] = overall.to_dict(metric) if overall else {metric: None, "ci95": [None, None], "n": 0}
    for key in dict.fromkeys(["split", by]):
        row[f"by_{key}"] = {g: e.to_dict(metric) for g, e in grouped(results, key, seed).items()}
    row["gap"] = domain_gap(results, seed)
    return row


def compare_runs(paths: list[str | Path], by: str = "split", seed: int = 0) -> dict[str, Any]:
    """Compare the run directories ``paths`` grouped ``by`` (``split``, ``category``, ``skill``,
    ``domain``); see the module docstring for the shape. Raises ``ValueError`` naming a path
    that is not a run directory, or an unknown ``by``."""
    if by not in GROUPINGS:
        raise ValueError(f"--by: expected one of {', '.join(GROUPINGS)}, got {by!r}")
    if not paths:
        raise ValueError("compare: give at least one run directory")
    runs = [load_run(p) for p in paths]
    rows = [_row(r, by, seed) for r in runs]
    first = list(runs[0].results().values())

    def pairs(results: list[dict[str, Any]]) -> list[tuple[float, float]]:
        return [contributions(r, "overall")["all"] for r in results]

    for run, row in zip(runs, rows, strict=True):
        if row is rows[0] or row["metric"] != rows[0]["metric"]:
            row["vs_first"] = None
            continue
        d = difference(pairs(list(run.results().values())), pairs(first), seed)
        row["vs_first"] = None if d.value is None else {
            "diff": round(d.value, 4), "ci95": [round(d.low, 4), round(d.high, 4)]}
    gaps = []
    pooled: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        pooled.setdefault((run.agent, run.family), []).append(run)
    for (agent, family), members in pooled.items():
        gap = domain_gap([res for m in members for res in m.results().values()], seed)
        if gap is not None:
            gaps.append({"agent": agent, "family": family, "runs": [str(m.path) for m in members], **gap})
    return {"by": by, "level": LEVEL, "n_boot": N_BOOT, "rows": rows, "gaps": gaps}


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}"


def _cell(entry: dict[str, Any] | None, metric: str) -> str:
    if not entry or entry.get(metric) is None:
        return "-"
    lo, hi = entry["ci95"]
    return f"{_fmt(entry[metric])} [{_fmt(lo)}, {_fmt(hi)}] (n={entry['n']})"


def _gap_cell(gap: dict[str, Any] | None) -> str:
    if not gap:
        return "-"
    return f"{gap['gap']:+.3f} [{gap['ci95'][0]:+.3f}, {gap['ci95'][1]:+.3f}]"


def format_markdown(result: dict[str, Any]) -> str:
    """One Markdown table (a row per run, a column per group, the overall figure, the run's own
    in-domain minus OOD gap, the difference to the first run) and a table of pooled gaps."""
    by, rows = result["by"], result["rows"]
    groups = sorted({g for row in rows for g in row.get(f"by_{by}", {})}, key=lambda g: ("ood" in g.lower(), g))
    head = ["run", "agent", "metric", *groups, "overall", "ID - OOD", "vs first"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        m = row["metric"]
        vs = row.get("vs_first")
        vs_cell = "-" if not vs else f"{vs['diff']:+.3f} [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]"
        cells = [row["label"], row["agent"], m, *(_cell(row[f"by_{by}"].get(g), m) for g in groups),
                 _cell(row["overall"], m), _gap_cell(row.get("gap")), vs_cell]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    text = [f"Runs by {by}: rate [{int(result['level'] * 100)}% bootstrap CI over episodes, "
            f"{result['n_boot']} resamples] (n = episodes)", "", *lines]
    if result.get("gaps"):
        text += ["", "In-domain minus OOD, pooled over the runs of each agent:", "",
                 "| agent | in-domain | OOD | gap [95% CI] | runs |", "|---|---|---|---|---|"]
        for g in result["gaps"]:
            text.append(f"| {g['agent']} | {_fmt(g['in_domain'])} (n={g['n_in_domain']}) | {_fmt(g['ood'])} "
                        f"(n={g['n_ood']}) | {_gap_cell(g)} | {len(g['runs'])} |")
    return "\n".join(text) + "\n"


def format_csv(result: dict[str, Any]) -> str:
    """Long format: one line per run and group (``overall`` and the ``--by`` groups), plus a
    ``gap`` line per run that has one."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "label", "agent", "family", "metric", "group", "value", "ci_low", "ci_high", "n"])
    by = result["by"]
    for row in result["rows"]:
        m = row["metric"]
        entries = [("overall", row["overall"]), *row[f"by_{by}"].items()]
        for group, e in entries:
            w.writerow([row["run"], row["label"], row["agent"], row["family"], m, group, e[m], *e["ci95"], e["n"]])
        if row.get("gap"):
            g = row["gap"]
            w.writerow([row["run"], row["label"], row["agent"], row["family"], m, "in_domain-ood", g["gap"], *g["ci95"],
                        min(g["n_in_domain"], g["n_ood"])])
    return buf.getvalue()


def format_compare(result: dict[str, Any], fmt: str = "md") -> str:
    """The comparison as ``md``, ``csv`` or ``json`` (one JSON object)."""
    if fmt == "json":
        return json.dumps(result, indent=2)
    if fmt == "csv":
        return format_csv(result)
    if fmt == "md":
        return format_markdown(result)
    raise ValueError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
