"""Blind baselines for BEAR multiple choice: fitted text-and-structure models, nearest
neighbours on option strings, option-structure heuristics and query-position priors.

Every figure is accuracy on the target split against chance 0.25; anything learned is fitted on
the ``fit`` episodes. A suite passes when no baseline exceeds :data:`MC_LIMIT` on any skill.
Ties are scored as a uniform guess among the tied options (expected accuracy), so a baseline
that cannot decide is not credited with a lucky tie-break.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from ..episodes.spec import Episode
from ..rewards.bear import NONE_OF_THE_ABOVE
from .choice_features import Item, context_overlap, design, earlier_overlap, mc_items, tokens
from .linear import ConditionalLogit
from .registry import AuditContext, Figure, register

#: the highest accuracy a blind baseline may reach on a four-option skill
MC_LIMIT = 0.40
CHANCE = 0.25


def _credit(scores: Sequence[float], answer: int) -> float:
    """Expected accuracy of picking uniformly among the top-scoring options."""
    top = max(scores)
    tied = [i for i, s in enumerate(scores) if math.isclose(s, top, rel_tol=1e-9, abs_tol=1e-9)]
    return 1.0 / len(tied) if answer in tied else 0.0


def _by_skill(items: Sequence[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        out[it.skill].append(it)
    return dict(sorted(out.items()))


def _figures(credits: dict[str, list[float]], note: Callable[[str], str] | None = None) -> dict[str, Figure]:
    return {s: Figure(float(np.mean(c)) if c else 0.0, len(c), MC_LIMIT, CHANCE, note(s) if note else "")
            for s, c in credits.items()}


def _fitted(target: Sequence[Episode], fit: Sequence[Episode], per_skill: bool, **flags: bool) -> dict[str, Figure]:
    """Conditional logit over :func:`~.choice_features.option_features` (with ``flags``), one model
    per skill or one pooled, fitted on ``fit`` and scored on ``target``."""
    tgt, trn = _by_skill(mc_items(target)), _by_skill(mc_items(fit))
    credits: dict[str, list[float]] = {}
    pooled = None
    if not per_skill:
        X, y = design([it for items in trn.values() for it in items], **flags)
        pooled = ConditionalLogit().fit(X, y) if len(y) else None
    for skill, items in tgt.items():
        model = pooled
        if per_skill:
            X, y = design(trn.get(skill, []), **flags)
            model = ConditionalLogit().fit(X, y) if len(y) else None
        Xt, yt = design(items, **flags)
        if model is None:
            credits[skill] = [CHANCE] * len(items)
            continue
        s = model.scores(Xt)
        credits[skill] = [_credit(list(s[i]), int(yt[i])) for i in range(len(items))]
    return _figures(credits)


@register("bear", "text_structure_per_skill",
          "conditional logit over option words, question-word overlap, option structure (lengths, shared words, "
          "prefixes, arrow geometry) and query position, one model per skill fitted on the other split")
def text_structure_per_skill(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=True)


@register("bear", "text_structure_pooled",
          "the same features, one model over all skills fitted on the other split")
def text_structure_pooled(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=False)


@register("bear", "structure_only",
          "conditional logit over option structure and arrow geometry alone (no words), per skill, fitted on the "
          "other split")
def structure_only(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=True, text=False, position=False)


@register("bear", "question_option_cross",
          "conditional logit over (question word, option word) pairs plus the option's own words (e.g. the room "
          "the question names predicting the true surface), per skill, fitted on the other split")
def question_option_cross(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=True, text=False, structure=False, position=False, cross=True)


@register("bear", "position_prior",
          "query-position prior: the question's place in its episode (alone and crossed with option words and "
          "lengths), per skill, fitted on the other split")
def position_prior(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=True, text=False, structure=False, position=True)


@register("bear", "history_length_prior",
          "how many distinct frames the question's history holds (a short video tells an early step), crossed "
          "with option words, per skill, fitted on the other split")
def history_length_prior(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    return _fitted(target, fit, per_skill=True, text=False, structure=False, position=False, frames=True)


@register("bear", "arrow_copy_detection",
          "trajectory arrows: an arrow whose end (nearly) repeats the end of an arrow of another question in "
          "either split is taken for a copied distractor; the most isolated arrow, else none, is answered (and the "
          "reverse rule); the better rule is reported")
def arrow_copy_detection(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    items = [it for it in mc_items(target) if it.arrows]
    if not items:
        return {}
    pool = [(it.episode, it.position, tuple(a[1])) for it in items + [i for i in mc_items(fit) if i.arrows]
            for a in it.arrows]
    ends = np.array([p[2] for p in pool], float)
    keys = [(p[0], p[1]) for p in pool]
    isolated, crowded = [], []
    for it in items:
        d = []
        for a in it.arrows[:3]:
            dist = np.hypot(ends[:, 0] - a[1][0], ends[:, 1] - a[1][1])
            mask = np.array([k != (it.episode, it.position) for k in keys])
            d.append(float(dist[mask].min()) if mask.any() else 1.0)
        isolated.append(_credit([*d, 0.02], it.answer))  # "none" wins when every arrow has a near twin
        crowded.append(_credit([-x for x in d] + [-1.0], it.answer))
    best = max(float(np.mean(isolated)), float(np.mean(crowded)))
    return {"trajectory_reasoning": Figure(best, len(items), MC_LIMIT, CHANCE)}


@register("bear", "option_nearest_neighbour",
          "nearest neighbour on option strings: each option scored by how often it was correct in the same "
          "option set in the other split, else the same string, else the most similar string by word overlap")
def option_nearest_neighbour(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    trn = _by_skill(mc_items(fit))
    credits: dict[str, list[float]] = {}
    for skill, items in _by_skill(mc_items(target)).items():
        seen: dict[str, list[int]] = defaultdict(list)
        sets: dict[tuple[frozenset[str], str], list[int]] = defaultdict(list)
        for it in trn.get(skill, []):
            key = frozenset(o.lower() for o in it.options)
            for i, o in enumerate(it.options):
                seen[o.lower()].append(int(i == it.answer))
                sets[(key, o.lower())].append(int(i == it.answer))
        keys = list(seen)
        key_sets = [set(tokens(k)) for k in keys]
        rate = {k: (sum(v) + CHANCE) / (len(v) + 1) for k, v in seen.items()}
        credits[skill] = [_credit([_nn_score(o, frozenset(x.lower() for x in it.options), sets, rate, keys, key_sets)
                                   for o in it.options], it.answer)
                          for it in items]
    return _figures(credits)


def _nn_score(o: str, key: frozenset[str], sets: dict[tuple[frozenset[str], str], list[int]],
              rate: dict[str, float], keys: list[str], key_sets: list[set[str]]) -> float:
    """One option's nearest-neighbour score (see :func:`option_nearest_neighbour`)."""
    low = o.lower()
    if (key, low) in sets:  # the same option set was seen: how often this option was right in it
        v = sets[(key, low)]
        return 1.0 + (sum(v) + CHANCE) / (len(v) + 1)
    if low in rate:
        return rate[low]
    if not keys:
        return CHANCE
    s = set(tokens(low))
    sims = [len(s & ks) / max(len(s | ks), 1) for ks in key_sets]
    return rate[keys[int(np.argmax(sims))]]


# ---------------------------------------------------------------------------------------------
# unfitted heuristics: the best one on the target split is reported (the strictest reading)


def _jac(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def _mean_jac(it: Item) -> list[float]:
    sets = [set(tokens(o)) for o in it.options]
    return [float(np.mean([_jac(sets[i], sets[j]) for j in range(4) if j != i])) for i in range(4)]


def _rotation_copy(it: Item) -> list[float]:
    """Arrows: the arrow the others are rotated (and possibly shortened) copies of -- counted by
    length ratios of a clipped rotation and turn angles on a 5-degree grid -- else "none"."""
    if not it.arrows:
        return [0.0] * 4
    from .choice_features import _arrow_geometry

    geo = [_arrow_geometry(a) for a in it.arrows[:3]]
    out = []
    for i, (ang, length, _, _) in enumerate(geo):
        n = 0.0
        for j, (ang2, len2, _, _) in enumerate(geo):
            if j == i or length <= 0:
                continue
            ratio = len2 / length
            n += float(any(abs(ratio - r) < 0.02 for r in (1.0, 0.8, 0.6, 0.45, 0.3)))
            gap = abs(math.degrees((ang2 - ang + math.pi) % (2 * math.pi) - math.pi))
            n += float(abs(gap - 5 * round(gap / 5)) < 0.6)
        out.append(n)
    return [*out, 0.5] if max(out) < 2 else [*out, 0.0]


def _compound_of_singles(it: Item) -> list[float]:
    """Directions: the option made of words that other options hold alone (or share)."""
    words = [set(o.lower().replace("-", " ").split()) for o in it.options]
    return [float(sum(1 for j in range(4) if j != i and words[j] & words[i])) for i in range(4)]


HEURISTICS: dict[str, Callable[[Item], list[float]]] = {
    "longest": lambda it: [float(len(o)) for o in it.options],
    "shortest": lambda it: [-float(len(o)) for o in it.options],
    "most_words_shared": _mean_jac,
    "odd_one_out": lambda it: [-v for v in _mean_jac(it)],
    "none_of_the_above": lambda it: [float(o == NONE_OF_THE_ABOVE) for o in it.options],
    "never_none": lambda it: [float(o != NONE_OF_THE_ABOVE) for o in it.options],
    "rotation_copy": _rotation_copy,
    "shares_words_with_most": _compound_of_singles,
    "question_overlap": lambda it: [float(len(set(tokens(o)) & set(tokens(it.question + " " + it.instruction))))
                                    for o in it.options],
    "earlier_options_overlap": earlier_overlap,
    "fewest_earlier_options_overlap": lambda it: [-v for v in earlier_overlap(it)],
    "context_overlap": context_overlap,
    "least_context_overlap": lambda it: [-v for v in context_overlap(it)],
}


@register("bear", "structure_heuristics",
          "option-structure rules without fitting (longest, shortest, odd one out, most shared words, "
          "none-of-the-above, rotation-copy detection for arrows, overlap with the question, most / fewest words "
          "shared with the episode's earlier questions' options or with everything read before); the best rule "
          "on the target split is reported")
def structure_heuristics(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    for skill, items in _by_skill(mc_items(target)).items():
        best_name, best = "", -1.0
        for name, rule in HEURISTICS.items():
            acc = float(np.mean([_credit(rule(it), it.answer) for it in items]))
            if acc > best:
                best_name, best = name, acc
        out[skill] = Figure(best, len(items), MC_LIMIT, CHANCE, f"best rule: {best_name}")
    return out


@register("bear", "letter_prior",
          "the answer letter most often correct for the skill in the other split")
def letter_prior(target, fit, ctx: AuditContext) -> dict[str, Figure]:
    trn = _by_skill(mc_items(fit))
    credits = {}
    for skill, items in _by_skill(mc_items(target)).items():
        counts = Counter(it.answer for it in trn.get(skill, []))
        prior = [float(counts.get(i, 0)) for i in range(4)]
        credits[skill] = [_credit(prior, it.answer) for it in items]
    return _figures(credits)
