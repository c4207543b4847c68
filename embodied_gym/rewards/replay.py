"""Offline next-action prediction on recorded episodes: the episode result and the run summary
(pure functions; used by ``EmbraceReplay-v0``).

Per step the prediction (the parsed reply, ``None`` when unparsable) is compared with the
demonstrated action. Per episode (``info["episode_result"]``): ``episode_id``, ``category``,
``split``, ``steps``, ``correct`` (matching steps), ``invalid`` (unparsable replies),
``step_accuracy`` (``correct / steps``), ``exact_match`` (every step matched) and ``pairs``
(``[expected, predicted]`` per step, ``predicted`` ``None`` when invalid).

:func:`summarize_replay` aggregates them: step accuracy is micro-averaged over steps (every step
weighs the same, as in EmbRACE-3K's step-wise evaluation); ``episode_exact_match`` is the share
of episodes with every step right; ``confusion`` counts ``expected -> predicted`` (``"invalid"``
for unparsable replies); ``by_action`` gives each demonstrated action's recall (its accuracy),
precision and count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

INVALID = "invalid"


def replay_result(episode_id: str, category: str, split: str, pairs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """The result record of one replayed episode from its ``(expected, predicted)`` pairs."""
    correct = sum(1 for expected, predicted in pairs if predicted == expected)
    steps = len(pairs)
    return {
        "episode_id": episode_id,
        "category": category,
        "split": split,
        "steps": steps,
        "correct": correct,
        "invalid": sum(1 for _, predicted in pairs if predicted is None),
        "step_accuracy": correct / steps if steps else 0.0,
        "exact_match": steps > 0 and correct == steps,
        "pairs": [[expected, predicted] for expected, predicted in pairs],
    }


def _group(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    steps = sum(int(r.get("steps", 0) or 0) for r in results)
    correct = sum(int(r.get("correct", 0) or 0) for r in results)
    invalid = sum(int(r.get("invalid", 0) or 0) for r in results)
    return {
        "n": len(results),
        "steps": steps,
        "step_accuracy": correct / steps if steps else 0.0,
        "episode_exact_match": sum(1 for r in results if r.get("exact_match")) / len(results) if results else 0.0,
        "invalid_rate": invalid / steps if steps else 0.0,
    }


def summarize_replay(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"overall", "by_category", "by_split", "by_action", "confusion"}`` over episode results
    (malformed entries are skipped). ``overall``/``by_*``: ``n`` (episodes), ``steps``,
    ``step_accuracy``, ``episode_exact_match``, ``invalid_rate``; ``by_action``: ``n`` (steps
    demonstrating it), ``accuracy`` (recall), ``precision`` (of predictions naming it)."""
    clean = [r for r in results if isinstance(r, Mapping) and isinstance(r.get("pairs"), list)]
    summary: dict[str, Any] = {"overall": _group(clean)}
    for key in ("category", "split"):
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for r in clean:
            groups.setdefault(str(r.get(key, "unknown")), []).append(r)
        summary[f"by_{key}"] = {g: _group(rows) for g, rows in sorted(groups.items())}
    confusion: dict[str, dict[str, int]] = {}
    predicted_counts: dict[str, int] = {}
    for r in clean:
        for pair in r["pairs"]:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                continue
            expected, predicted = str(pair[0]), INVALID if pair[1] is None else str(pair[1])
            row = confusion.setdefault(expected, {})
            row[predicted] = row.get(predicted, 0) + 1
            predicted_counts[predicted] = predicted_counts.get(predicted, 0) + 1
    by_action = {}
    for action, row in sorted(confusion.items()):
        n, hits = sum(row.values()), row.get(action, 0)
        named = predicted_counts.get(action, 0)
        by_action[action] = {"n": n, "accuracy": hits / n, "precision": hits / named if named else 0.0}
    summary["by_action"] = by_action
    summary["confusion"] = {k: dict(sorted(v.items())) for k, v in sorted(confusion.items())}
    return summary
