"""The run log of ``egym eval`` (``steps.jsonl``): JSON-safe records, observation hashes, and
reading the log back (for ``--resume`` and the totals of the summary)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..envs.context import observation_image


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: numpy scalars to Python, small arrays to lists, big arrays to a shape note."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array {value.shape} {value.dtype}>"
    if depth > 12:
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v, depth + 1) for v in value]
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict(), depth + 1)
    return str(value)


def obs_hash(obs: Any) -> str:
    """A short hash of what the agent saw (image bytes plus text fields) to check replays."""
    h = hashlib.sha1()
    image = observation_image(obs)
    if image is not None:  # every 4th pixel of every 4th row: cheap, and enough to notice a change
        h.update(np.ascontiguousarray(image[::4, ::4]).tobytes())
    if isinstance(obs, dict):
        for key in sorted(obs):
            if isinstance(obs[key], (str, int, float)):
                h.update(f"{key}={obs[key]}".encode())
    return h.hexdigest()[:16]


def read_log(path: Path) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Parse ``steps.jsonl``: (step records per episode in step order, final record per episode).

    A torn last line (the process was killed mid-write) is cut off the file."""
    steps: dict[str, dict[int, dict]] = {}
    finals: dict[str, dict] = {}
    if not path.exists():
        return {}, {}
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    if good_end < len(data):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    for lineno, line in enumerate(data[:good_end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{path}: line {lineno} is not JSON; the log is corrupt") from None
        if rec.get("type") == "step":
            steps.setdefault(rec["episode_id"], {})[int(rec["step"])] = rec
        elif rec.get("type") == "episode":
            finals[rec["episode_id"]] = rec
    ordered = {ep: [recs[i] for i in sorted(recs)] for ep, recs in steps.items()}
    for ep, recs in ordered.items():
        if [r["step"] for r in recs] != list(range(len(recs))):
            raise ValueError(f"{path}: episode {ep!r}: logged steps are not 0..n-1; the log is corrupt")
    return ordered, finals


def read_infra_failures(path: Path) -> list[dict]:
    """The ``infra_failure`` records of ``steps.jsonl`` (calls that brought back no reply)."""
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if '"infra_failure"' in line:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if rec.get("type") == "infra_failure":
                    out.append(rec)
    return out
