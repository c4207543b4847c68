"""Held-out step accuracy of a policy on step samples, and the baselines it must beat.

:func:`step_accuracy` greedily decodes a reply for each held-out step sample (the demonstrated
history in the prompt, as in the dataset), reads the action with the evaluation's own parser
(:func:`~embodied_gym.envs.text_actions.parse_action`) and compares it with the demonstrated
action. :func:`baselines` gives the two chance levels: ``random_accuracy`` (the expected accuracy
of a uniformly random action over :data:`~embodied_gym.sims.base.ACTIONS`, i.e. ``1/10``) and
``majority_accuracy`` (always answering the most frequent action of the *training* samples).
:func:`history_baseline` is a stronger blind reference: the most frequent next action of the
training samples after the same last ``k`` actions (which the prompt lists), backing off to
shorter histories; what a model gains over it must come from the frames or the instruction.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from ..envs.text_actions import parse_action
from ..sims.base import ACTIONS


def spread(n_rows: int, k: int | None) -> list[int]:
    """At most ``k`` row indices spread evenly over ``range(n_rows)`` (deterministic)."""
    if k is None or k >= n_rows:
        return list(range(n_rows))
    return sorted({round(i * (n_rows - 1) / max(1, k - 1)) for i in range(k)})


def generate_replies(model, processor, prompts: list[list[dict]], images: list[list[Any]], *, max_new_tokens: int,
                     batch_size: int = 16) -> list[str]:
    """Greedy replies for chat prompts with image placeholders (filled from ``images`` in order)."""
    import torch

    tok = processor.tokenizer
    tok.padding_side = "left"
    model.eval()
    device = next(model.parameters()).device
    out: list[str] = []
    for start in range(0, len(prompts), batch_size):
        texts = [processor.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
                 for p in prompts[start:start + batch_size]]
        ims = [im for row in images[start:start + batch_size] for im in row]
        inputs = processor(text=texts, images=ims or None, padding=True, return_tensors="pt").to(device)
        with torch.inference_mode():
            gen = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        out += [t.strip() for t in processor.batch_decode(gen[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)]
    return out


def step_accuracy(model, processor, dataset, *, max_new_tokens: int = 128, batch_size: int = 16,
                  max_steps: int | None = None) -> dict[str, Any]:
    """``{"step_accuracy", "parsed_rate", "n", "predictions"}`` on (a spread of) ``dataset``."""
    idx = spread(len(dataset), max_steps)
    rows = dataset.select(idx) if len(idx) < len(dataset) else dataset
    replies = generate_replies(model, processor, list(rows["prompt"]), [list(r) for r in rows["images"]],
                               max_new_tokens=max_new_tokens, batch_size=batch_size)
    parsed = [parse_action(r) for r in replies]
    truth = list(rows["action"])
    n = len(truth)
    correct = sum(p == t for p, t in zip(parsed, truth, strict=True))
    return {
        "step_accuracy": correct / n if n else 0.0,
        "parsed_rate": sum(p is not None for p in parsed) / n if n else 0.0,
        "n": n,
        "predictions": Counter(p or "<unparsed>" for p in parsed).most_common(),
        "example_reply": replies[0][:300] if replies else "",
        "indices": idx,
    }


def baselines(train_actions: list[str], held_out_actions: list[str]) -> dict[str, Any]:
    """``random_accuracy`` and ``majority_accuracy`` (with the majority action) on the held-out steps."""
    majority = Counter(train_actions).most_common(1)[0][0] if train_actions else ACTIONS[0]
    n = len(held_out_actions)
    return {
        "random_accuracy": 1.0 / len(ACTIONS),
        "majority_action": majority,
        "majority_accuracy": sum(a == majority for a in held_out_actions) / n if n else 0.0,
    }


def previous_actions(row: dict[str, Any]) -> list[str]:
    """The demonstrated actions before ``row``'s step (from its ``episode`` and ``step`` columns)."""
    return list(json.loads(row["episode"])["demonstration"]["actions"][:row["step"]])


def history_baseline(train_rows, held_rows, k: int = 3) -> dict[str, Any]:
    """``history_accuracy``: accuracy on ``held_rows`` of the blind predictor "the training
    samples' most frequent action after the same last ``k`` previous actions" (backing off to
    ``k-1``, ... 0 when a history was never seen in training; an episode's first steps, with
    fewer than ``k`` previous actions, are histories of their own); ``history_k``: ``k``."""
    tables = [defaultdict(Counter) for _ in range(k + 1)]
    for row in train_rows:
        prev = previous_actions(row)
        for j in range(k + 1):
            tables[j][tuple(prev[len(prev) - j:]) if j else ()][row["action"]] += 1
    correct = n = 0
    for row in held_rows:
        prev = previous_actions(row)
        for j in range(k, -1, -1):
            counts = tables[j].get(tuple(prev[len(prev) - j:]) if j else ())
            if counts:
                correct += counts.most_common(1)[0][0] == row["action"]
                break
        n += 1
    return {"history_accuracy": correct / n if n else 0.0, "history_k": k}
