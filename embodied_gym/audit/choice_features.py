"""What a blind model can read from one multiple-choice BEAR question: option text, option
structure, the question's position in its episode, what the episode's earlier questions said
(their text and options), and (trajectory questions) arrow geometry.

:func:`mc_items` flattens episodes into :class:`Item` records; :func:`option_features` turns one
item into an ``options x features`` matrix (hashed bag of words plus dense structural features)
for :class:`~.linear.ConditionalLogit`; :data:`DENSE` names the dense features. Nothing here
looks at pixels.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..episodes.bear.options import sample_history
from ..episodes.spec import Episode
from ..rewards.bear import LETTERS, NONE_OF_THE_ABOVE, answer_kind

HASH_DIM = 2048
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)?")
#: question words that say nothing about what is asked
_COMMON = {"relative", "direction", "facing", "which", "where", "what", "your", "from", "with", "that", "this",
           "current", "view", "video", "image", "when", "first", "route", "starting", "leads", "there", "these",
           "arrow", "arrows", "gripper", "three", "should", "move", "reach", "based", "task", "done", "next"}


@dataclass
class Item:
    """One multiple-choice question as a blind model sees it."""

    episode: str
    skill: str
    question: str
    instruction: str
    options: list[str]
    answer: int
    position: int
    n_queries: int
    arrows: list | None
    #: distinct frames in the question's 16-frame history (what counting repeated frames reveals)
    frames: int = 16
    #: the options of the episode's earlier questions (what an agent has read before this one)
    earlier_options: tuple[str, ...] = ()
    #: the text of the episode's earlier questions
    earlier_text: str = ""


def mc_items(episodes: Sequence[Episode]) -> list[Item]:
    out = []
    for ep in episodes:
        queries = (ep.extra.get("bear") or {}).get("queries") or []
        for i, q in enumerate(queries):
            if answer_kind(q["skill"]) != "choice":
                continue
            opts = [str(q["options"][k]) for k in LETTERS]
            before = queries[:i]
            out.append(Item(ep.id, q["skill"], str(q.get("question", "")), ep.instruction, opts,
                            LETTERS.index(q["answer"]), i, len(queries), q.get("arrows"),
                            len(set(sample_history(int(q.get("step", 0)), 16))),
                            tuple(str(v) for e in before for v in (e.get("options") or {}).values()),
                            " ".join(str(e.get("question", "")) for e in before)))
    return out


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _h(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "little") % HASH_DIM


def earlier_overlap(item: Item) -> list[float]:
    """Per option: how many of its words occur in the options of the episode's earlier
    questions (the red team's rule that found bear-lh-v2's first localization leak)."""
    seen = set(tokens(" ".join(item.earlier_options)))
    return [float(len(set(tokens(o)) & seen)) for o in item.options]


def context_overlap(item: Item) -> list[float]:
    """Per option: how many of its words occur in anything read before it -- the instruction,
    the question and every earlier question's text and options."""
    seen = set(tokens(" ".join([item.instruction, item.question, item.earlier_text, *item.earlier_options])))
    return [float(len(set(tokens(o)) & seen)) for o in item.options]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _arrow_geometry(arrow: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    (sx, sy), (ex, ey) = arrow
    dx, dy = (ex - sx) * 4 / 3, sy - ey
    return math.atan2(dy, dx), math.hypot(dx, dy), float(ex), float(ey)


def arrow_rows(arrows: Sequence[Any] | None) -> list[list[float]]:
    """Per option A-D: ``[is_arrow, cos, sin, length, end_x, end_y, same_length_count,
    min_gap_to_others, median_angle, start_x, start_y]`` (zeros for the "none" option)."""
    rows = [[0.0] * 11 for _ in range(4)]
    if not arrows:
        return rows
    geo = [_arrow_geometry(a) for a in arrows[:3]]
    for i, (ang, length, ex, ey) in enumerate(geo):
        others = [g for j, g in enumerate(geo) if j != i]
        same = sum(1 for g in others if abs(g[1] - length) < 0.02 * max(length, 1e-6))
        gaps = [abs((ang - g[0] + math.pi) % (2 * math.pi) - math.pi) for g in others]
        angles = sorted(g[0] for g in geo)
        rows[i] = [1.0, math.cos(ang), math.sin(ang), length, ex, ey, float(same), min(gaps) if gaps else 0.0,
                   float(len(angles) == 3 and abs(ang - angles[1]) < 1e-9), float(arrows[i][0][0]), float(arrows[i][0][1])]
    return rows


DENSE = (
    "bias_A", "bias_B", "bias_C", "bias_D", "is_none", "len_z", "words_z", "len_rank", "longest", "shortest",
    "mean_jaccard", "odd_one_out", "most_shared", "shared_all", "prefix_of_others", "has_prefix", "same_words",
    "question_overlap", "instruction_overlap", "instruction_order", "earlier_overlap", "earlier_text_overlap",
    "earlier_seen", "context_overlap",
    *(f"pos{b}" for b in range(5)), "pos_frac", "pos_x_len", "pos_x_rank",
    "arrow", "arrow_cos", "arrow_sin", "arrow_len", "arrow_ex", "arrow_ey", "arrow_same_len", "arrow_min_gap",
    "arrow_median", "arrow_sx", "arrow_sy",
)


def option_features(item: Item, *, text: bool = True, structure: bool = True, position: bool = True,
                    frames: bool = False, cross: bool = False) -> np.ndarray:
    """``4 x (HASH_DIM + len(DENSE))`` features of ``item``'s options; the flags switch groups off:
    ``text`` (hashed option words, bigrams and whole strings, option words that also occur in
    the question, option words crossed with the other options' words and with whether the
    question names something the instruction names), ``structure`` (lengths, shared words, prefixes, overlap with the instruction,
    overlap with the episode's earlier questions and their options, arrow geometry), ``position`` (the question's place in its episode, alone and crossed with
    each option word and with the option's length), ``frames`` (how many distinct frames the
    history holds, crossed with each option word), ``cross`` (the option's own words and every
    (question word, option word) pair, each counted once: "the room the question names predicts
    the true surface"). Letter biases are always on."""
    toks = [tokens(o) for o in item.options]
    sets = [set(t) for t in toks]
    q = set(tokens(item.question))
    ins = tokens(item.instruction)
    lens = np.array([len(o) for o in item.options], float)
    words = np.array([len(t) for t in toks], float)
    content = {w for w in q if len(w) > 3} - _COMMON
    goal = bool(content & set(ins))
    frac = item.position / max(item.n_queries - 1, 1)
    bucket = min(4, int(frac * 5))
    hashed = np.zeros((4, HASH_DIM))
    dense = np.zeros((4, len(DENSE)))
    arrows = arrow_rows(item.arrows)
    if structure:
        early, context = earlier_overlap(item), context_overlap(item)
        early_text = set(tokens(item.earlier_text))
        early_opts = {o.lower() for o in item.earlier_options}
    for i, opt in enumerate(item.options):
        if text:
            for tk in toks[i]:
                hashed[i, _h("w:" + tk)] += 1
                if tk in q:
                    hashed[i, _h("q:" + tk)] += 1
                # is the question about something the instruction names (a goal)? crossed with the word
                hashed[i, _h(f"iq{int(goal)}:" + tk)] += 1
            for a, b in zip(toks[i], toks[i][1:], strict=False):
                hashed[i, _h(f"b:{a}_{b}")] += 1
            hashed[i, _h("opt:" + opt.lower())] += 1
            # the option's words crossed with the other options' words: lets a linear model learn
            # "the answer given the whole option set" (e.g. the compound of two one-word options)
            rest = set().union(*(sets[j] for j in range(4) if j != i))
            for a in sets[i]:
                for b in rest:
                    hashed[i, _h(f"x:{a}|{b}")] += 1.0 / max(len(rest), 1)
        if cross:
            for tk in sets[i]:
                hashed[i, _h("cw:" + tk)] += 1
                for qw in q:
                    hashed[i, _h(f"qx:{qw}|{tk}")] += 1.0
        if position:
            for tk in toks[i]:
                hashed[i, _h(f"p{bucket}:" + tk)] += 1
        if frames:
            for tk in toks[i]:
                hashed[i, _h(f"f{min(item.frames, 16)}:" + tk)] += 1
        if structure and item.arrows and i < len(item.arrows[:3]):
            # angle gaps (5-degree bins) and length ratios to the other arrows: learns "the arrow the
            # others are turned copies of" when distractors are rotations by fixed angles
            a0, l0, _, _ = _arrow_geometry(item.arrows[i])
            for j, other in enumerate(item.arrows[:3]):
                if j != i:
                    a1, l1, _, _ = _arrow_geometry(other)
                    gap = math.degrees((a1 - a0 + math.pi) % (2 * math.pi) - math.pi)
                    hashed[i, _h(f"ag:{5 * round(abs(gap) / 5)}")] += 1
                    hashed[i, _h(f"lr:{round(l1 / max(l0, 1e-6), 1)}")] += 1
        row = dict.fromkeys(DENSE, 0.0)
        row[f"bias_{LETTERS[i]}"] = 1.0
        row["is_none"] = float(opt == NONE_OF_THE_ABOVE)
        if structure:
            others = [j for j in range(4) if j != i]
            jac = [_jaccard(sets[i], sets[j]) for j in others]
            all_jac = [np.mean([_jaccard(sets[a], sets[b]) for b in range(4) if b != a]) for a in range(4)]
            row["len_z"] = float((lens[i] - lens.mean()) / (lens.std() + 1e-6))
            row["words_z"] = float((words[i] - words.mean()) / (words.std() + 1e-6))
            row["len_rank"] = float((lens < lens[i]).sum()) / 3.0
            row["longest"] = float(lens[i] == lens.max())
            row["shortest"] = float(lens[i] == lens.min())
            row["mean_jaccard"] = float(np.mean(jac))
            row["odd_one_out"] = float(all_jac[i] == min(all_jac))
            row["most_shared"] = float(all_jac[i] == max(all_jac))
            row["shared_all"] = float(sum(1 for tk in sets[i] if all(tk in sets[j] for j in others))) / max(len(sets[i]), 1)
            low = opt.lower()
            row["prefix_of_others"] = float(sum(1 for j in others if item.options[j].lower().startswith(low)))
            row["has_prefix"] = float(sum(1 for j in others if low.startswith(item.options[j].lower())))
            row["same_words"] = float(any(sorted(toks[i]) == sorted(toks[j]) for j in others))
            row["question_overlap"] = len(sets[i] & q) / max(len(sets[i]), 1)
            row["instruction_overlap"] = len(sets[i] & set(ins)) / max(len(sets[i]), 1)
            first = [ins.index(tk) for tk in toks[i] if tk in ins]
            row["instruction_order"] = (min(first) / max(len(ins), 1)) if first else 1.0
            row["earlier_overlap"] = early[i] / max(len(sets[i]), 1)
            row["earlier_text_overlap"] = len(sets[i] & early_text) / max(len(sets[i]), 1)
            row["earlier_seen"] = float(low in early_opts)
            row["context_overlap"] = context[i] / max(len(sets[i]), 1)
        if position:
            row[f"pos{bucket}"] = 1.0
            row["pos_frac"] = frac
            row["pos_x_len"] = frac * float((lens[i] - lens.mean()) / (lens.std() + 1e-6))
            row["pos_x_rank"] = frac * float((lens < lens[i]).sum()) / 3.0
        if structure:
            for name, value in zip(DENSE[-11:], arrows[i], strict=True):
                row[name] = value
        dense[i] = [row[k] for k in DENSE]
    return np.concatenate([hashed, dense], axis=1)


def design(items: Sequence[Item], **flags: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` for :class:`~.linear.ConditionalLogit` over ``items``."""
    if not items:
        return np.zeros((0, 4, HASH_DIM + len(DENSE))), np.zeros(0, int)
    return np.stack([option_features(it, **flags) for it in items]), np.array([it.answer for it in items])
