"""One episode's page of the report: what it was, how it ended, the top-down map with the agent's
path against the expert's, the video, and every step (frame, reasoning, action, feedback,
score; for BEAR the question, options, reply and ground truth drawn on the frame).

:func:`episode_html` takes the logged records and, when frames were replayed, an
:class:`~embodied_gym.reports.replay.EpisodeReplay` whose images were already written next to
the page (``image_for(step_index)`` gives each frame's relative link).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .html import esc, fmt, page, table
from .replay import EpisodeReplay
from .runs import Run, split_reply

LETTERS = string.ascii_uppercase  # option letters (BEAR has 4, some skill items more)


@dataclass
class EpisodeLinks:
    """Relative links of an episode page: ``index`` (the report's index), ``listing`` (the run's
    episode list page holding it), ``prev`` / ``next`` (neighbouring episode pages or ``None``),
    ``map`` / ``video`` (images or ``None``), ``image_for`` (step index -> frame link or ``None``),
    ``mp4`` (the episode's MP4, shown in a ``<video>`` element, or ``None``)."""

    index: str
    listing: str
    prev: str | None
    next: str | None
    map: str | None
    video: str | None
    image_for: Callable[[int], str | None]
    mp4: str | None = None


def _options(options: list[Any], truth: Any, chosen: Any) -> str:
    items = []
    for i, text in enumerate(options):
        if not text:
            continue
        letter = LETTERS[i] if i < len(LETTERS) else str(i)
        cls = " ".join(c for c, on in (("truth", letter == truth), ("chosen", letter == chosen)) if on)
        mark = " (ground truth)" if letter == truth else ""
        mark += " (model)" if letter == chosen else ""
        items.append(f'<li class="{cls}">{esc(text)}{esc(mark)}</li>')
    return f'<ul class="options">{"".join(items)}</ul>' if items else ""


def _step_body(rec: dict[str, Any], info: dict[str, Any], text: dict[str, Any], family: str) -> str:
    raw = str(rec.get("raw_reply") if rec.get("raw_reply") is not None else rec.get("action") or "")
    reasoning, answer = split_reply(raw)
    parts = []
    if family == "bear" or "question" in text:
        skill = info.get("bear_skill") or info.get("skill") or text.get("skill") or ""
        parts.append(f"<div><b>{esc(skill)}</b></div>")
        if text.get("question"):
            parts.append(f"<div>Q: {esc(text['question'])}</div>")
        parts.append(_options(list(text.get("options") or []), info.get("ground_truth"), info.get("parsed_answer")))
        correct = info.get("correct", (rec.get("score") or 0) > 0)
        verdict = f'<span class="{"ok" if correct else "bad"}">{"correct" if correct else "wrong"}</span>'
        parts.append(f"<div>reply: <pre>{esc(raw)}</pre>parsed: {esc(info.get('parsed_answer', rec.get('parsed_action')))}"
                     f" &middot; ground truth: {esc(info.get('ground_truth', '(not replayed)'))} &middot; {verdict}"
                     f" &middot; score {fmt(rec.get('score'))}</div>")
    else:
        if reasoning:
            parts.append(f"<div>reasoning:<pre>{esc(reasoning)}</pre></div>")
        action = info.get("action", rec.get("parsed_action"))
        invalid = info.get("invalid_action", rec.get("invalid_action"))
        shown = esc(action) if action else '<span class="bad">invalid</span>'
        parts.append(f"<div>action: <b>{shown}</b>" + ("" if reasoning else f" &middot; reply: <code>{esc(raw)[:300]}</code>")
                     + ("" if not invalid else ' <span class="bad">(invalid action)</span>') + "</div>")
        feedback = info.get("feedback", rec.get("feedback"))
        if feedback:
            ok = info.get("action_success", "failed" not in str(feedback) and "invalid" not in str(feedback))
            parts.append(f'<div>feedback: <span class="{"ok" if ok else "bad"}">{esc(feedback)}</span></div>')
        extra = ""
        if "expected" in info:  # next-action replay: the demonstrator's action at this step
            ok = bool(info.get("correct"))
            extra += (f' &middot; expected <b>{esc(info["expected"])}</b> '
                      f'<span class="{"ok" if ok else "bad"}">{"correct" if ok else "wrong"}</span>')
        if "subgoals_met" in info:
            extra = f" &middot; subgoals {esc(info['subgoals_met'])}/{esc(info.get('subgoals_total'))}"
        parts.append(f"<div>reward {fmt(rec.get('reward'))} &middot; score {fmt(rec.get('score'))}{extra}</div>")
    facts = [f"latency {fmt(rec.get('latency_s'))} s"] if rec.get("latency_s") else []
    if rec.get("prompt_tokens") or rec.get("completion_tokens"):
        facts.append(f"tokens {esc(rec.get('prompt_tokens'))}+{esc(rec.get('completion_tokens'))}")
    if rec.get("cached"):
        facts.append("cached")
    if rec.get("error"):
        facts.append(f'<span class="bad">error: {esc(rec["error"])}</span>')
    if facts:
        parts.append(f'<div class="ci">{" &middot; ".join(facts)}</div>')
    return "".join(parts)


def episode_html(run: Run, episode_id: str, links: EpisodeLinks, replay: EpisodeReplay | None,
                 replay_error: str | None = None) -> str:
    """The page of one episode of ``run`` (see the module docstring)."""
    final = run.finals.get(episode_id) or {}
    result = final.get("result") if isinstance(final.get("result"), dict) else None
    nav = [f'<a href="{esc(links.index)}">index</a>', f'<a href="{esc(links.listing)}">{esc(run.label)} episodes</a>']
    if links.prev:
        nav.append(f'<a href="{esc(links.prev)}">&larr; previous</a>')
    if links.next:
        nav.append(f'<a href="{esc(links.next)}">next &rarr;</a>')
    body = [f"<nav>{' | '.join(nav)}</nav>", f"<h1>{esc(episode_id)}</h1>"]
    meta = [("run", esc(run.path)), ("agent", esc(run.agent)), ("env", esc(run.env_id))]
    if replay is not None:
        meta += [(k, esc(v)) for k, v in replay.episode.items()]
    body.append(table(["field", "value"], [[esc(k), v] for k, v in meta], numeric_from=9))
    if result is not None:
        scalars = [(k, v) for k, v in result.items() if isinstance(v, (int, float, str, bool)) or v is None]
        body.append('<h2>Result</h2><div class="wide">'
                    + table([k for k, _ in scalars], [[fmt(v) for _, v in scalars]], numeric_from=0) + "</div>")
    elif final:
        body.append(f'<p class="warn">The episode ended with an error (not scored): {esc(final.get("error"))}</p>')
    else:
        body.append('<p class="warn">The episode has no final record (the run was interrupted).</p>')
    if replay_error:
        body.append(f'<p class="warn">Frames could not be replayed: {esc(replay_error)}</p>')
    if replay is not None and replay.mismatches:
        body.append(f'<p class="warn">{replay.mismatches} replayed observation(s) differ from the logged hash: '
                    f"the frames below may not be exactly what the model saw.</p>")
    if links.map or links.video:
        body.append("<h2>Map and video</h2>")
        if links.map:
            body.append('<div class="legend">top-down map: <span style="background:#1e5ae6"></span>agent'
                        '<span style="background:#dc28c8"></span>expert (demonstration)'
                        '<span style="background:#ff8c00"></span>agent at the end</div>')
            body.append(f'<img src="{esc(links.map)}" alt="top-down map" style="max-width:480px">')
        if links.mp4:
            body.append(f' <video src="{esc(links.mp4)}" controls loop muted playsinline preload="metadata">'
                        f'</video>')
        if links.video:
            if links.mp4:
                body.append(f'<p><a href="{esc(links.video)}">animated GIF</a> of the same frames</p>')
            else:
                body.append(f' <img src="{esc(links.video)}" alt="episode video" loading="lazy">')
    records = run.steps.get(episode_id, [])
    views = {s.index: s for s in replay.steps} if replay is not None else {}
    body.append(f"<h2>Steps ({len(records)})</h2>")
    for rec in records:
        i = int(rec["step"])
        view = views.get(i)
        img = links.image_for(i)
        pic = f'<img src="{esc(img)}" alt="frame of step {i}" loading="lazy">' if img else ""
        info, text = (view.info, view.text) if view is not None else ({}, {})
        warn = ' <span class="bad">(replayed frame differs from the logged one)</span>' if view and view.matches is False else ""
        body.append(f'<div class="step" id="step-{i}">{pic}<div class="body"><h3>Step {i + 1}{warn}</h3>'
                    f"{_step_body(rec, info, text, run.family)}</div></div>")
    return page(f"{episode_id} - {run.label}", "\n".join(body))
