"""Writes synthetic ``egym eval`` run directories (``run.json``, ``steps.jsonl``, ``summary.json``)
with chosen per-episode results, so comparison figures can be checked against hand counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_run(path: Path, results: list[dict[str, Any]], agent: str = "model", env_id: str = "EmbodiedTask-v0",
              family: str = "closed_loop", errors: int = 0) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "run.json").write_text(json.dumps({"env_id": env_id, "agent": agent, "episodes": "x", "seed": 0}))
    lines = []
    for r in results:
        lines.append({"type": "step", "episode_id": r["episode_id"], "step": 0, "action": "Finish", "raw_reply": "Finish",
                      "parsed_action": "Finish", "score": 0.0, "reward": 0.0, "feedback": "", "obs_hash": None})
        lines.append({"type": "episode", "episode_id": r["episode_id"], "result": r, "steps": 1})
    for i in range(errors):
        lines.append({"type": "episode", "episode_id": f"err-{i}", "result": None, "error": "RuntimeError: boom"})
    (path / "steps.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (path / "summary.json").write_text(json.dumps({"overall": {}, "run": {"agent": agent, "family": family, "env_id": env_id}}))
    return path


def closed_loop(prefix: str, split: str, successes: int, n: int, category: str = "basic",
                domain: str | None = None) -> list[dict[str, Any]]:
    return [{"episode_id": f"{prefix}-{split}-{i:03d}", "split": split, "category": category,
             "domain": domain or ("ood" if split == "ood" else "in_domain"), "success": i < successes}
            for i in range(n)]


def bear(prefix: str, split: str, steps: list[list[tuple[str, bool]]]) -> list[dict[str, Any]]:
    return [{"episode_id": f"{prefix}-{split}-{i:03d}", "split": split,
             "episode_success": all(c for _, c in ep),
             "steps": [{"skill": s, "correct": c, "score": float(c)} for s, c in ep]} for i, ep in enumerate(steps)]
