"""Independent blind attacks on embodied-gym's BEAR long-horizon and closed-loop suites.

Written for issue 9 by a reviewer who did NOT reuse ``embodied_gym.audit``: it reads the suites
through the public Gymnasium envs (and the JSONL episode specs for fields an agent sees drawn in
the image, the trajectory arrows) and asks whether a model that never looks at a pixel can score.
Every learned attack is fitted on one split and scored on the other (``test`` <-> ``ood``); the
best attack chosen *on the scored split itself* is also printed as an optimistic upper bound
(``insplit``), because the contract says "no fixed point / box / policy above X".

Run (from the repository root, any suite that has ``test`` and ``ood`` splits)::

    PYTHONPATH=$PWD python benchmarks/redteam_blind.py bear  --suite bear-lh-v2 --json out.json
    PYTHONPATH=$PWD python benchmarks/redteam_blind.py house --suite house-v2 --per-category 25

``bear`` (``BearLongHorizon-v0``, default 320x240, ``history_frames=1``): one pass per split
steps every episode answering with ``env.unwrapped.oracle_action()`` and records, per question,
the observation's text (question, the four option lines, instruction, ``query_index``, the
``n_queries`` of ``reset``'s info), the spec's ``arrows``, the answer letter, and for pointing the
env's ground-truth mask (``info["privileged"]["ground_truth_mask"]``) and for boxes the env's
ground-truth box (``info["privileged"]["ground_truth"]``, the box of the target's live mask, which
is what the env scores IoU against): the evaluator reads ``privileged``, the attacks never do.
Multiple choice is scored as the env scores a bare letter (equality with the answer).

Multiple-choice attacks (per skill; chance = 1/4):
  * ``letter``    the most frequent answer letter of the skill on the other split.
  * ``rule``      the best of fixed option rules on the other split: longest / shortest option,
                  "None of the above", most / least words shared with the other options
                  (compound-of-neighbours and odd-one-out), contained in / containing most other
                  options, has a same-words partner (swapped steps), most words shared with the
                  question, the instruction or earlier questions' options (``rule*``: the best
                  rule chosen on the scored split).
  * ``lr``        a conditional-logit (softmax over the 4 options) model, numpy, L2, hashed
                  features: option bag of words and character 3-grams, letter, length and its
                  rank, shared-word / containment / prefix / same-bag-of-words / same-step-set
                  counts against the other options, overlap with question and instruction,
                  "None of the above", question-word x option-word crosses, the query position
                  (``query_index``, ``n_queries``, fraction, questions left, earlier questions of
                  the same skill) crossed with the option's first two words and letter, whether
                  the option occurred in earlier questions of the episode, and for arrow questions
                  the arrow geometry in 320x240 pixels (angle, length rank, binned pairwise
                  rotations to the other arrows, symmetry; target-independent).
  * ``lr_struct`` the same model without any option / question words (structure and position only).
  * ``lr+truth``  ``lr`` plus what the env's *public* ``info`` (everything but ``privileged``)
                  reveals after each answer: overlap of each option with the true answers of the
                  episode's earlier questions, where a public info value holds the answer letter
                  (bear-lh-v2 before the fix had ``info["ground_truth"]``; reported separately: it
                  shows whether per-step feedback leaks; equal to ``lr`` when nothing leaks).
Pointing / boxes (per skill; scored with the env's rules: point inside the live mask; box IoU
>= 0.5 against the live box): ``fixed`` the best point on a 0.02 grid (box: every box on a 0.05
grid) of the other split; ``template`` the best fixed answer per question template (question
words frequent in the skill kept, the rest wildcarded) of the other split, the skill's fixed
answer where a template is unseen; ``insplit`` the best fixed point / box on the scored split.

``house`` (``EmbodiedTask-v0`` at 64x48 -- images are never read; code in
``redteam_closed_loop.py``): per split the first ``--per-category`` episodes (file order) of each
category are rolled out with non-visual policies whose only inputs are the step counter and the
text ``feedback`` of the observation (never ``info["privileged"]``); the per-category choice of
policy is the instruction-level knowledge a blind agent has:
  * prefix policies, scored with ``Finish`` after exactly ``t`` steps for every ``t``: fixed
    sequences (``rightK_forward``: K 30-degree right turns then forward, K = 0..11, i.e. every
    heading; zig-zags; spin-and-walk; back-then-forward; forward with OpenDoor / look-down-and-
    PickObject / DropObject every third step; three seeded random sequences), ``t`` <= 40; and
    feedback-driven bump walkers (forward until the feedback says a move was refused, then three
    turns right or left; plain, or trying OpenDoor, or PickObject/DropObject every other step),
    ``t`` up to the step budget. One rollout per policy scores every ``t``: the *evaluator* reads
    ``info["privileged"]["finish_would_succeed"]`` after each step, which is what ``Finish``
    there returns (``--verify`` replays real ``Finish`` rollouts on a few episodes and counts
    mismatches; 0 on house-v1). The policy never sees it.
  * feedback tricks (real rollouts, the policy decides when to Finish): bump / random walkers that
    try ``OpenDoor`` every other step and ``Finish`` as soon as the feedback says it succeeded, or
    ``PickObject`` until it succeeds, then ``DropObject`` until that succeeds, then ``Finish``.
  Per category: ``fitted`` (the best policy and ``t`` chosen on the other split, scored on this
  one), ``insplit`` (the best on this split: an optimistic bound, the maximum over ~1000 policy x
  ``t`` combinations on a small sample) and ``fwd*`` (the best "forward ``t`` steps, Finish").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import re
import sys
import time
import zlib
from collections import Counter, defaultdict
from typing import Any

import gymnasium as gym
import numpy as np

import embodied_gym  # noqa: F401  (registers the envs)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redteam_closed_loop import run_house, suite_ref  # noqa: E402  (the closed-loop attacks, this folder)

LETTERS = "ABCD"
SPLITS = ("test", "ood")
WORD = re.compile(r"[a-z]+|\d+")
#: the env's default render size: arrow angles are measured in its pixels (rotations are drawn there)
ASPECT = 320 / 240
NOTA = "none of the above"

# ---------------------------------------------------------------------------------------------
# BEAR: collection


def collect_bear(suite: str, split: str) -> list[dict[str, Any]]:
    """Every question of ``suite:split`` with what a blind agent sees and the env's ground truth."""
    env = gym.make("BearLongHorizon-v0", episodes=suite_ref(suite, split), history_frames=1)
    u = env.unwrapped
    out: list[dict[str, Any]] = []
    for i in range(len(u.episodes)):
        obs, info = env.reset(seed=i)
        nq, done = info["n_queries"], False
        while not done:
            q = u.queries[obs["query_index"]]
            rec = {"episode": info["episode_id"], "qi": int(obs["query_index"]), "nq": nq, "skill": str(obs["skill"]),
                   "question": str(obs["question"]) + " " + str(obs.get("description", "")),
                   "instruction": str(obs["instruction"]), "hl": int(obs["history_length"]),
                   "options": [re.sub(r"^[A-D]\.\s*", "", o) for o in obs["options"]],
                   "arrows": q.get("arrows"), "answer": q.get("answer") if isinstance(q.get("answer"), str) else None}
            obs, _, done, _, step_info = env.step(u.oracle_action())
            evaluator = {**step_info, **(step_info.get("privileged") or {})}  # the evaluator's view
            gt = evaluator["ground_truth"]
            if "ground_truth_mask" in evaluator:
                rec["mask"] = np.asarray(evaluator["ground_truth_mask"], bool)
            elif rec["answer"] is None:
                rec["box"] = [float(v) for v in gt]
            if rec["answer"] is not None:
                # what an agent learns after answering: a public info value equal to the answer letter
                # (``parsed_answer`` echoes the agent's own reply, here the oracle's, so it is not counted)
                public = {k: v for k, v in step_info.items() if k not in ("privileged", "episode_result", "parsed_answer")}
                rec["leaky_keys"] = sorted(k for k, v in public.items() if isinstance(v, str) and v == rec["answer"])
                opts = step_info.get("options") or {}
                rec["truth_text"] = str(opts.get(rec["answer"], "")) if rec["leaky_keys"] else ""
            out.append(rec)
    env.close()
    return out


# ---------------------------------------------------------------------------------------------
# BEAR: multiple choice


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def _h(key: str, dim: int) -> int:
    return zlib.crc32(key.encode()) % dim


def _arrow_geo(arrows: Any) -> list[tuple[float, float]]:
    geo = []
    for a in arrows or []:
        (x0, y0), (x1, y1) = a[0], a[-1]
        dx, dy = (x1 - x0) * ASPECT, y1 - y0
        geo.append((math.degrees(math.atan2(-dy, dx)) % 360.0, math.hypot(dx, dy)))
    return geo


def _rot(a: float, b: float) -> int:
    """The rotation from angle ``a`` to ``b`` in 5-degree bins (-36..36)."""
    return int(round(((b - a + 180) % 360 - 180) / 5))


def option_feats(rec: dict[str, Any], k: int, earlier: list[dict[str, Any]], truth: bool,
                 text: bool = True) -> dict[str, float]:
    """Features of option ``k`` of question ``rec`` (no pixels); ``text=False`` keeps only the
    structure (no option / question words)."""
    opts = rec["options"]
    o = opts[k].lower()
    toks = [WORD.findall(x.lower()) for x in opts]
    units = [set(re.split(r"\s*[;,]\s*|\s+then\s+", x.lower())) for x in opts]
    ow, qw, iw = words(o), words(rec["question"]), words(rec["instruction"])
    others = [words(x) for j, x in enumerate(opts) if j != k]
    lens = [len(x) for x in opts]
    f: dict[str, float] = {f"L={LETTERS[k]}": 1.0, "nota": float(NOTA in o), "len": len(o) / 50.0,
                           f"lenrank={sorted(lens).index(lens[k])}": 1.0, f"nw={min(len(ow), 8)}": 1.0,
                           "shared_others": sum(len(ow & s) for s in others) / 3.0,
                           "subset_of_union": float(bool(ow) and ow <= set().union(*others)),
                           "shared_q": len(ow & qw) / 3.0, "shared_instr": len(ow & iw) / 3.0}
    f[f"contained_in={sum(1 for j, x in enumerate(opts) if j != k and o and o in x.lower())}"] = 1.0
    f[f"contains={sum(1 for j, x in enumerate(opts) if j != k and x and x.lower() in o)}"] = 1.0
    f[f"same_bag={sum(1 for j in range(4) if j != k and sorted(toks[j]) == sorted(toks[k]))}"] = 1.0
    f[f"same_nwords={sum(1 for j in range(4) if j != k and len(toks[j]) == len(toks[k]))}"] = 1.0
    f[f"same_units={sum(1 for j in range(4) if j != k and units[j] == units[k])}"] = 1.0
    f[f"prefix_of={sum(1 for j, x in enumerate(opts) if j != k and x.lower().startswith(o))}"] = 1.0
    f[f"has_prefix={sum(1 for j, x in enumerate(opts) if j != k and x and o.startswith(x.lower()))}"] = 1.0
    f[f"minshared={min(len(ow & s) for s in others)}"] = 1.0
    f[f"maxshared={max(len(ow & s) for s in others)}"] = 1.0
    pos = "last" if rec["qi"] == rec["nq"] - 1 else f"q{min(rec['qi'], 12)}"
    frac = f"frac{int(4 * rec['qi'] / max(rec['nq'], 1))}"
    f[f"{pos}|L={LETTERS[k]}"] = 1.0
    for w in (ow if text else ()):
        f[f"w={w}"] = 1.0
        f[f"{frac}|w={w}"] = 1.0
        f[f"{pos}|w={w}"] = 1.0
        for v in qw:
            f[f"q={v}|w={w}"] = 0.5
    for i in range(len(o) - 2 if text else 0):
        f[f"c={o[i:i + 3]}"] = 0.2
    verb = " ".join(WORD.findall(o)[:2])
    nsame = sum(1 for e in earlier if e["skill"] == rec["skill"])
    f[f"verb={verb}|qi={rec['qi']}|nq={rec['nq']}"] = 1.0
    f[f"verb={verb}|frac8={int(8 * rec['qi'] / max(rec['nq'], 1))}"] = 1.0
    f[f"verb={verb}|nsame={min(nsame, 6)}"] = 1.0
    f[f"verb={verb}|hl={rec.get('hl', 0)}"] = 1.0
    f[f"nunits={len(units[k])}|hl={rec.get('hl', 0)}"] = 1.0
    f[f"verb={verb}|left={min(rec['nq'] - rec['qi'], 6)}"] = 1.0
    f[f"nunits={len(units[k])}|nsame={min(nsame, 6)}"] = 1.0
    seen = [x.lower() for e in earlier for x in e["options"]]
    f["seen_before"] = float(o in seen)
    f["earlier_shared"] = max((len(ow & words(x)) for x in seen), default=0) / 3.0
    if truth:
        truths = [e["truth_text"].lower() for e in earlier if e.get("truth_text")]
        f["t_equal"] = float(o in truths)
        f["t_last_equal"] = float(bool(truths) and o == truths[-1])
        f["t_shared"] = max((len(ow & words(t)) for t in truths), default=0) / 3.0
        for t in truths[-2:]:
            for w in words(t) - ow:
                f[f"tmiss={w}"] = 0.3
        same = [e for e in earlier if e["skill"] == rec["skill"] and e.get("truth_text")]
        if same:
            f["t_sameskill_prefix"] = float(o.startswith(same[-1]["truth_text"].lower()))
            f[f"t_prevletter={same[-1]['answer']}|L={LETTERS[k]}"] = 1.0
    geo = _arrow_geo(rec.get("arrows"))
    if geo and k < len(geo):
        ang, ln = geo[k]
        f[f"a_ang={int(ang // 30)}"] = 1.0
        f[f"a_lenrank={sorted(g[1] for g in geo).index(ln)}"] = 1.0
        diffs = sorted(_rot(ang, a2) for j, (a2, _) in enumerate(geo) if j != k)
        for d in diffs:
            f[f"a_rot={d}"] = 1.0
            f[f"a_absrot={abs(d)}"] = 1.0
        f[f"a_pair={diffs}"] = 1.0
        f[f"a_sym={diffs[0] == -diffs[-1]}"] = 1.0
    elif geo:
        f["a_isnota_slot"] = 1.0
        sym = sum(1 for i, (a, _) in enumerate(geo)
                  if len({abs(_rot(a, b)) for j, (b, _) in enumerate(geo) if j != i}) == 1)
        f[f"a_nota_nsym={sym}"] = 1.0
        for i, (a, _) in enumerate(geo):
            f[f"a_nota_pair={sorted(_rot(a, b) for j, (b, _) in enumerate(geo) if j != i)}"] = 1.0
    return f


def design(recs: list[dict[str, Any]], truth: bool, text: bool = True, dim: int = 1 << 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded sparse design: index and value arrays ``[n, 4, F]`` and answer indices ``[n]``."""
    by_ep: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_ep[r["episode"]].append(r)
    rows, ys = [], []
    for r in recs:
        if r["answer"] is None:
            continue
        earlier = [e for e in by_ep[r["episode"]] if e["qi"] < r["qi"]]
        rows.append([option_feats(r, k, earlier, truth, text) for k in range(4)])
        ys.append(LETTERS.index(r["answer"]))
    width = max((len(f) for row in rows for f in row), default=1)
    idx = np.zeros((len(rows), 4, width), np.int64)
    val = np.zeros((len(rows), 4, width), np.float32)
    for n, row in enumerate(rows):
        for k, f in enumerate(row):
            for m, (key, v) in enumerate(f.items()):
                idx[n, k, m], val[n, k, m] = _h(key, dim), v
    return idx, val, np.asarray(ys, np.int64)


def fit_logit(idx: np.ndarray, val: np.ndarray, y: np.ndarray, dim: int = 1 << 15, l2: float = 1e-3,
              steps: int = 400, lr: float = 0.1) -> np.ndarray:
    """Conditional logit (softmax over the options) by Adam on the mean log-loss plus L2."""
    w = np.zeros(dim, np.float64)
    m, v = np.zeros(dim), np.zeros(dim)
    onehot = np.eye(4)[y]
    flat = idx.ravel()
    for t in range(1, steps + 1):
        s = (w[idx] * val).sum(-1)
        p = np.exp(s - s.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = np.bincount(flat, weights=(val * (p - onehot)[..., None]).ravel(), minlength=dim)
        g = g / len(y) + l2 * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def predict_logit(w: np.ndarray, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
    return (w[idx] * val).sum(-1).argmax(1)


def _rule_scores(r: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, list[float]]:
    opts = [o.lower() for o in r["options"]]
    ws = [words(o) for o in opts]
    qw, iw = words(r["question"]), words(r["instruction"])
    seen = set().union(*(words(x) for e in earlier for x in e["options"])) if earlier else set()
    shared = [sum(len(ws[k] & ws[j]) for j in range(4) if j != k) for k in range(4)]
    return {"longest": [len(o) for o in opts], "shortest": [-len(o) for o in opts],
            "nota": [float(NOTA in o) for o in opts], "most_shared": shared, "odd_one_out": [-s for s in shared],
            "question_overlap": [len(w & qw) for w in ws], "instruction_overlap": [len(w & iw) for w in ws],
            "earlier_overlap": [len(w & seen) for w in ws],
            "contained_in_most": [sum(1 for j in range(4) if j != k and opts[k] in opts[j]) for k in range(4)],
            "contains_most": [sum(1 for j in range(4) if j != k and opts[j] in opts[k]) for k in range(4)],
            "has_anagram": [sum(1 for j in range(4) if j != k and sorted(WORD.findall(opts[j])) == sorted(WORD.findall(opts[k])))
                            for k in range(4)]}


def rule_predictions(recs: list[dict[str, Any]]) -> dict[str, list[int]]:
    by_ep: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        by_ep[r["episode"]].append(r)
    preds: dict[str, list[int]] = defaultdict(list)
    for r in recs:
        if r["answer"] is None:
            continue
        earlier = [e for e in by_ep[r["episode"]] if e["qi"] < r["qi"]]
        for name, sc in _rule_scores(r, earlier).items():
            preds[name].append(int(np.argmax(sc)))  # ties: the first option
    return preds


def choice_attacks(train: list[dict[str, Any]], test: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per skill: accuracy on ``test`` of each attack fitted on ``train``."""
    mc_tr = [r for r in train if r["answer"] is not None]
    mc_te = [r for r in test if r["answer"] is not None]
    sk_tr = np.asarray([r["skill"] for r in mc_tr])
    sk_te = np.asarray([r["skill"] for r in mc_te])
    y_tr = np.asarray([LETTERS.index(r["answer"]) for r in mc_tr])
    y_te = np.asarray([LETTERS.index(r["answer"]) for r in mc_te])
    rp_tr = {k: np.asarray(v) for k, v in rule_predictions(train).items()}
    rp_te = {k: np.asarray(v) for k, v in rule_predictions(test).items()}
    variants = {"lr": (False, True), "lr_struct": (False, False), "lr+truth": (True, True)}
    designs = {n: (design(train, *v), design(test, *v)) for n, v in variants.items()}
    out: dict[str, dict[str, Any]] = {}
    for skill in sorted(set(sk_te)):
        a, b = sk_tr == skill, sk_te == skill
        y = y_te[b]
        row: dict[str, Any] = {"n": int(b.sum()), "chance": 0.25}
        counts = Counter(y_tr[a].tolist())
        letter = counts.most_common(1)[0][0] if counts else 0
        row["letter"] = float(np.mean(y == letter))
        best = max(rp_tr, key=lambda k: float(np.mean(rp_tr[k][a] == y_tr[a]))) if a.any() else "longest"
        row["rule"], row["rule_name"] = float(np.mean(rp_te[best][b] == y)), best
        ins = max(rp_te, key=lambda k: float(np.mean(rp_te[k][b] == y)))
        row["rule_insplit"], row["rule_insplit_name"] = float(np.mean(rp_te[ins][b] == y)), ins
        for name in variants:
            (i1, v1, y1), (i2, v2, y2) = designs[name]
            if not a.any():
                row[name] = None
                continue
            w = fit_logit(i1[a], v1[a], y1[a])
            row[name] = float(np.mean(predict_logit(w, i2[b], v2[b]) == y2[b]))
        row["leaky_info_keys"] = sorted({k for r, keep in zip(mc_te, b, strict=True) if keep for k in r.get("leaky_keys", [])})
        row["best_fitted_blind"] = max(row["letter"], row["rule"], row["lr"] or 0.0, row["lr_struct"] or 0.0)
        out[skill] = row
    return out


# ---------------------------------------------------------------------------------------------
# BEAR: pointing and boxes

POINT_GRID = np.round(np.arange(0.01, 1.0, 0.02), 4)
BOX_STEPS = np.round(np.arange(0.0, 1.0001, 0.05), 4)


def point_hits(recs: list[dict[str, Any]]) -> np.ndarray:
    """``[n, G*G]`` bool: whether grid point ``(x, y)`` lands inside each question's live mask
    (the env's rule: ``mask[int(y * H), int(x * W)]``)."""
    xs, ys = np.meshgrid(POINT_GRID, POINT_GRID, indexing="xy")
    out = []
    for r in recs:
        m = r["mask"]
        h, w = m.shape
        out.append(m[(ys * h).astype(int).clip(0, h - 1), (xs * w).astype(int).clip(0, w - 1)].ravel())
    return np.asarray(out, bool)


def _candidate_boxes() -> np.ndarray:
    s = BOX_STEPS
    x1, x2 = np.meshgrid(s, s, indexing="ij")
    ok = x2 > x1
    spans = np.stack([x1[ok], x2[ok]], 1)
    a, b = np.meshgrid(np.arange(len(spans)), np.arange(len(spans)), indexing="ij")
    return np.concatenate([spans[a.ravel()][:, :1], spans[b.ravel()][:, :1], spans[a.ravel()][:, 1:], spans[b.ravel()][:, 1:]], 1)


BOXES = _candidate_boxes()  # [K, 4] as (x1, y1, x2, y2)


def box_hits(recs: list[dict[str, Any]]) -> np.ndarray:
    """``[n, K]`` bool: IoU >= 0.5 of each candidate box with each question's live box."""
    gt = np.asarray([r["box"] for r in recs], float)
    c = BOXES[:, None, :]
    iw = np.clip(np.minimum(c[..., 2], gt[:, 2]) - np.maximum(c[..., 0], gt[:, 0]), 0, None)
    ih = np.clip(np.minimum(c[..., 3], gt[:, 3]) - np.maximum(c[..., 1], gt[:, 1]), 0, None)
    inter = iw * ih
    union = (c[..., 2] - c[..., 0]) * (c[..., 3] - c[..., 1]) + (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1]) - inter
    return (inter / np.maximum(union, 1e-9) >= 0.5).T


def template(question: str, keep: set[str]) -> str:
    return " ".join(w if w in keep else "*" for w in WORD.findall(question.lower()))


def grounding_attacks(train: list[dict[str, Any]], test: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for skill in sorted({r["skill"] for r in test if r["answer"] is None}):
        tr = [r for r in train if r["skill"] == skill]
        te = [r for r in test if r["skill"] == skill]
        kind = "point" if "mask" in te[0] else "box"
        hits = point_hits if kind == "point" else box_hits
        htr, hte = hits(tr), hits(te)
        row: dict[str, Any] = {"n": len(te), "kind": kind}
        best = int(htr.mean(0).argmax()) if tr else 0
        row["fixed"] = float(hte[:, best].mean())
        row["fixed_answer"] = candidate(kind, best)
        ins = int(hte.mean(0).argmax())
        row["insplit"], row["insplit_answer"] = float(hte[:, ins].mean()), candidate(kind, ins)
        freq = Counter(w for r in tr for w in set(WORD.findall(r["question"].lower())))
        keep = {w for w, c in freq.items() if c >= 0.2 * max(len(tr), 1)}
        groups: dict[str, list[int]] = defaultdict(list)
        for n, r in enumerate(tr):
            groups[template(r["question"], keep)].append(n)
        choice = {t: int(htr[g].mean(0).argmax()) for t, g in groups.items()}
        row["template"] = float(np.mean([hte[n, choice.get(template(r["question"], keep), best)] for n, r in enumerate(te)]))
        row["templates"] = len(groups)
        row["mean_target_area"] = float(np.mean([r["mask"].mean() if kind == "point" else
                                                 (r["box"][2] - r["box"][0]) * (r["box"][3] - r["box"][1]) for r in te]))
        out[skill] = row
    return out


def candidate(kind: str, k: int) -> list[float]:
    if kind == "point":
        g = len(POINT_GRID)
        return [float(POINT_GRID[k % g]), float(POINT_GRID[k // g])]
    return [float(v) for v in BOXES[k]]


def run_bear(suite: str, cache: str | None = None) -> dict[str, Any]:
    data = {}
    for split in SPLITS:
        t = time.time()
        path = f"{cache}/{os.path.basename(suite.rstrip('/'))}-{split}.pkl" if cache else None
        if path and os.path.exists(path):
            with open(path, "rb") as fh:
                data[split] = pickle.load(fh)
        else:
            data[split] = collect_bear(suite, split)
            if path:
                os.makedirs(cache, exist_ok=True)
                with open(path, "wb") as fh:
                    pickle.dump(data[split], fh)
        print(f"collected {suite}:{split}: {len(data[split])} questions in {time.time() - t:.0f}s", file=sys.stderr)
    result: dict[str, Any] = {"suite": suite}
    for split in SPLITS:
        other = data[SPLITS[1 - SPLITS.index(split)]]
        result[split] = {"choice": choice_attacks(other, data[split]), "grounding": grounding_attacks(other, data[split])}
    return result


# ---------------------------------------------------------------------------------------------


def print_tables(res: dict[str, Any]) -> None:
    for split in SPLITS:
        if split not in res:
            continue
        part = res[split]
        print(f"\n== {res['suite']}:{split}")
        if "choice" in part:
            print(f"{'skill':26s} {'n':>4s} {'letter':>6s} {'rule':>6s} {'lr':>6s} {'lr_st':>6s} {'lr+tr':>6s} {'rule*':>6s}  best rule")
            for sk, r in part["choice"].items():
                print(f"{sk:26s} {r['n']:4d} {r['letter']:6.2f} {r['rule']:6.2f} {r['lr'] or 0:6.2f} {r['lr_struct'] or 0:6.2f} "
                      f"{r['lr+truth'] or 0:6.2f} {r['rule_insplit']:6.2f}  {r['rule_name']}")
            leaky = sorted({k for r in part["choice"].values() for k in r.get("leaky_info_keys", [])})
            print(f"public info keys holding the answer letter: {', '.join(leaky) or 'none'}")
            print(f"{'skill':26s} {'n':>4s} {'fixed':>6s} {'templ':>6s} {'insplt':>6s}  fixed answer")
            for sk, r in part["grounding"].items():
                print(f"{sk:26s} {r['n']:4d} {r['fixed']:6.2f} {r['template']:6.2f} {r['insplit']:6.2f}  {r['fixed_answer']}")
        else:
            print(f"{'category':18s} {'n':>3s} {'fitted':>6s} {'insplt':>6s} {'fwd*':>5s}  fitted policy | in-split policy")
            for cat, r in part.items():
                print(f"{cat:18s} {r['n']:3d} {r.get('fitted', 0):6.2f} {r['insplit']:6.2f} {r['forward_then_finish_best']:5.2f}"
                      f"  {r.get('fitted_policy')} | {r['insplit_policy']}")


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("family", choices=("bear", "house"))
    ap.add_argument("--suite", required=True, help="e.g. bear-lh-v2 or house-v2 (needs test and ood splits)")
    ap.add_argument("--per-category", type=int, default=20, help="house: episodes per category and split")
    ap.add_argument("--jobs", type=int, default=1, help="house: 2 rolls the two splits out in two processes")
    ap.add_argument("--verify", action="store_true", help="house: check prefix scoring against real Finish rollouts")
    ap.add_argument("--json", help="write the full result here")
    ap.add_argument("--cache", help="bear: keep the collected questions here (pickle) and reuse them")
    args = ap.parse_args(argv)
    res = run_bear(args.suite, args.cache) if args.family == "bear" else run_house(args.suite, args.per_category, args.verify, args.jobs)
    print_tables(res)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(_jsonable(res), fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
