"""``egym bench parse``: what reading a reply costs, for ordinary and adversarial replies.

Every reply a run reads goes through one of these parsers: the closed-loop action parser
(:func:`~embodied_gym.envs.text_actions.parse_action`, on the environment thread through
``TextAction``), BEAR's answer extraction (:func:`~embodied_gym.rewards.bear.extract_choice`,
:func:`~embodied_gym.rewards.bear.parse_point` / ``parse_box``) and BEAR's released scorer's
(:mod:`embodied_gym.rewards.bear_protocol`). The harness hands an environment at most the last
:data:`~embodied_gym.envs.contract.REPLY_CAP` characters of a reply, and this benchmark feeds
the parsers exactly that.

:func:`bench_parse` times each parser (best of ``repeats`` calls, so a momentary load spike on a
shared machine does not count) on:

* ``ordinary``: a typical reply (``<think>`` of two sentences, then the answer);
* ``ordinary_long``: a reply of ``REPLY_CAP`` characters of reasoning prose that states its
  answer in words at the end, without tags (the longest reply a parser ever reads, through
  every rule of the closed-loop parser); ``ordinary_long_tagged``: the same with the answer in
  ``<answer>`` tags;
* adversarial replies: 16,000 unclosed ``<answer>`` tags (the case issue 10 measured at 72 s per
  64 KB), unclosed tags with words, 16,000 unclosed JSON objects, ``action:`` repeated, long runs
  of spaces inside brackets (a backtracking trap for coordinate patterns), unclosed
  ``\\boxed{``, 1 MB of random printable characters.

and reports, per parser, the worst adversarial time over the ``ordinary_long`` time and over
the ``ordinary`` time, and the worst time per call. Target, per parser: the worst adversarial
reply costs at most ``max_ratio`` (default 3) times ``ordinary_long`` or, for parsers whose
calls take microseconds (where ratios are noise), at most ``floor_s`` (default 1 ms); and no
call takes more than ``budget_s`` (default 50 ms).
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable
from typing import Any

from ..envs.contract import REPLY_CAP

OPTIONS = {"A": "front-left", "B": "right", "C": "behind you", "D": "None of the above"}


def replies(seed: int = 0) -> dict[str, str]:
    """The benchmark's replies by name (see the module docstring)."""
    rng = random.Random(seed)
    ordinary = "<think>The red chair is on my left and the door is ahead.</think><answer>TurnLeft</answer>"
    sentence = "I look around the room, compare the objects with the instruction and think about the next step. "
    prose = (sentence * (REPLY_CAP // len(sentence) + 1))[: REPLY_CAP - 40]
    return {
        "ordinary": ordinary,
        "ordinary_long": prose + " So I will turn left: option B.",
        "ordinary_long_tagged": prose + " <answer>TurnLeft</answer> (B)",
        "unclosed_answer_x16000": "<answer>" * 16000,
        "unclosed_answer_words": "<answer> turn left " * 16000,
        "unclosed_json": '{"action": ' * 16000,
        "action_lines": "action: action: " * 16000,
        "spaces_in_brackets": ("( 0.5" + " " * 200) * 500,
        "unclosed_boxed": "\\boxed{A " * 16000,
        "random_1mb": "".join(rng.choices(string.printable, k=1 << 20)),
    }


def parsers() -> dict[str, Callable[[str], Any]]:
    """Every reply parser a run uses, by name."""
    from ..envs.text_actions import parse_action
    from ..rewards.bear import extract_choice, parse_box, parse_point
    from ..rewards.bear_protocol import bear_parse_box, bear_parse_point

    return {
        "closed_loop.parse_action": parse_action,
        "bear.extract_choice": lambda text: extract_choice(text, OPTIONS),
        "bear.parse_point": parse_point,
        "bear.parse_box": parse_box,
        "bear_protocol.parse_point": bear_parse_point,
        "bear_protocol.parse_box": bear_parse_box,
    }


def _best(fn: Callable[[str], Any], text: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


def bench_parse(repeats: int = 5, max_ratio: float = 3.0, budget_s: float = 0.05, floor_s: float = 0.001,
                seed: int = 0) -> dict[str, Any]:
    """Run the benchmark (see the module docstring); returns its figures as a dict."""
    if repeats < 1:
        raise ValueError("bench parse: repeats must be >= 1")
    texts = {k: v[-REPLY_CAP:] for k, v in replies(seed).items()}  # what the harness hands the env
    out: dict[str, Any] = {"reply_cap": REPLY_CAP, "repeats": repeats, "max_ratio": max_ratio, "budget_s": budget_s,
                           "floor_s": floor_s, "parsers": {}}
    for name, fn in parsers().items():
        times = {k: _best(fn, t, repeats) for k, t in texts.items()}
        adversarial = {k: v for k, v in times.items() if not k.startswith("ordinary")}
        worst = max(adversarial, key=adversarial.__getitem__)
        out["parsers"][name] = {
            "seconds": {k: round(v, 7) for k, v in times.items()},
            "worst_adversarial": worst,
            "ratio_to_ordinary_long": round(adversarial[worst] / max(times["ordinary_long"], 1e-9), 3),
            "ratio_to_ordinary": round(adversarial[worst] / max(times["ordinary"], 1e-9), 1),
            "unclosed_answer_ratio_to_ordinary_long": round(
                times["unclosed_answer_x16000"] / max(times["ordinary_long"], 1e-9), 3),
            "worst_s": round(max(times.values()), 6),
            "meets": adversarial[worst] <= max(max_ratio * times["ordinary_long"], floor_s),
        }
    rows = out["parsers"].values()
    out["max_ratio_to_ordinary_long"] = max(r["ratio_to_ordinary_long"] for r in rows)
    out["max_s_per_call"] = max(r["worst_s"] for r in rows)
    out["meets"] = all(r["meets"] for r in rows) and out["max_s_per_call"] <= budget_s
    return out


def format_parse_report(result: dict[str, Any]) -> str:
    """Human-readable lines for :func:`bench_parse`'s result."""
    r = result
    lines = [f"parse benchmark: replies cut to their last {r['reply_cap']} characters, best of {r['repeats']} calls"]
    for name, p in r["parsers"].items():
        s = p["seconds"]
        lines.append(f"  {name:28s} ordinary {s['ordinary'] * 1e6:8.1f} us, ordinary_long {s['ordinary_long'] * 1e6:8.1f} us,"
                     f" 16000 unclosed <answer> {s['unclosed_answer_x16000'] * 1e6:8.1f} us;"
                     f" worst adversarial {p['worst_adversarial']} {p['ratio_to_ordinary_long']:.2f}x ordinary_long"
                     f"{'' if p['meets'] else ' MISSES'}")
    ok = "meets" if r["meets"] else "MISSES"
    lines.append(f"  worst ratio to ordinary_long {r['max_ratio_to_ordinary_long']:.2f} (target <= {r['max_ratio']} or"
                 f" <= {r['floor_s'] * 1000:g} ms), worst call {r['max_s_per_call'] * 1000:.2f} ms"
                 f" (budget {r['budget_s'] * 1000:.0f} ms): {ok}")
    lines.append(json.dumps(r))
    return "\n".join(lines)
