"""Multiple-choice assembly for BEAR queries: balanced answer letters, "none of the above",
egocentric directions and history-frame sampling.

Pure functions over plain data (no simulator), so each rule is testable on its own.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...rewards.bear import LETTERS, NONE_OF_THE_ABOVE
from ...sims.geometry import heading, wrap180


@dataclass
class LetterDeck:
    """Deals the correct answer letter per skill from shuffled decks of ``A``-``D``.

    Every four questions of a skill use each letter exactly once, so over a suite no letter
    holds more than a quarter of a skill's answers plus at most one question."""

    rng: random.Random
    decks: dict[str, list[str]] = field(default_factory=dict)
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    #: suite-level samples (e.g. the end points of correct trajectory arrows so far), from which
    #: distractors are drawn so that they follow the distribution of correct answers
    pools: dict[str, list] = field(default_factory=dict)

    def state(self) -> tuple:
        """A copy of the whole state (restore it with :meth:`restore` when an episode is dropped)."""
        import copy

        return copy.deepcopy((self.decks, self.usage, self.pools))

    def restore(self, state: tuple) -> None:
        self.decks, self.usage, self.pools = state

    def deal(self, skill: str) -> str:
        deck = self.decks.setdefault(skill, [])
        if not deck:
            deck.extend(LETTERS)
            self.rng.shuffle(deck)
        return deck.pop()

    def used(self, skill: str, value: str) -> int:
        """How often ``value`` was recorded for ``skill`` (see :meth:`use`)."""
        return self.usage.get(skill, {}).get(value, 0)

    def use(self, skill: str, value: str) -> None:
        """Record one use of an answer ``value`` (to spread answers, e.g. directions, evenly)."""
        counts = self.usage.setdefault(skill, {})
        counts[value] = counts.get(value, 0) + 1

    def undeal(self, skill: str, letter: str) -> None:
        """Return a dealt letter whose question was then dropped, so balance is kept."""
        self.decks.setdefault(skill, []).append(letter)


class NotEnoughOptions(ValueError):
    """Fewer than three distinct distractors could be made for a question."""


def distinct(correct: str, distractors: Sequence[str]) -> list[str]:
    """Distractors without blanks, repeats (case-insensitive), the correct text or "None of the above"."""
    seen = {correct.strip().lower(), NONE_OF_THE_ABOVE.lower()}
    out = []
    for d in distractors:
        key = d.strip().lower()
        if d.strip() and key not in seen:
            seen.add(key)
            out.append(d.strip())
    return out


def arrange_options(
    correct: str,
    distractors: Sequence[str],
    letter: str,
    rng: random.Random,
    *,
    nota_rate: float = 0.25,
) -> tuple[dict[str, str], str]:
    """Four options ``A``-``D`` with the correct one at ``letter``; returns ``(options, answer)``.

    With probability ``nota_rate`` option D is "None of the above" (as in BEAR). Then, when
    ``letter`` is ``D``, the correct text is left out and "None of the above" *is* the answer; else
    D is a wrong "None of the above". Distractors are de-duplicated (case-insensitively) and the
    first ones are used; :class:`NotEnoughOptions` when fewer than three distinct ones remain."""
    pool = distinct(correct, distractors)
    use_nota = rng.random() < nota_rate
    need = 3
    if len(pool) < need:
        raise NotEnoughOptions(f"need 3 distractors for {correct!r}, have {pool!r}")
    texts: list[str | None] = [None] * 4
    idx = LETTERS.index(letter)
    if use_nota:
        texts[3] = NONE_OF_THE_ABOVE
        if idx == 3:
            fill = pool[:3]
        else:
            texts[idx] = correct
            fill = pool[:2]
    else:
        texts[idx] = correct
        fill = pool[:3]
    it = iter(fill)
    for i in range(4):
        if texts[i] is None:
            texts[i] = next(it)
    return {LETTERS[i]: str(t) for i, t in enumerate(texts)}, letter


# ---------------------------------------------------------------------------------------------
# egocentric directions

DIRECTIONS: tuple[str, ...] = (
    "front",
    "front-left",
    "left",
    "behind-left",
    "behind",
    "behind-right",
    "right",
    "front-right",
)
"""Eight 45-degree sectors, counter-clockwise from straight ahead."""


def relative_angle(agent_xz: Sequence[float], yaw: float, target_xz: Sequence[float]) -> float:
    """Angle in degrees of ``target`` seen from the agent, in ``(-180, 180]``: ``0`` straight
    ahead, positive to the agent's left (counter-clockwise seen from above, the yaw convention of
    ``sims/base.py``: forward is ``(cos yaw, -sin yaw)`` on ``(x, z)``)."""
    return wrap180(heading(agent_xz, target_xz) - yaw)


def direction_word(angle: float) -> str:
    """The sector of :data:`DIRECTIONS` holding ``angle`` (degrees, positive to the left)."""
    return DIRECTIONS[int(((angle + 22.5) % 360.0) // 45.0) % 8]


def sector_margin(angle: float) -> float:
    """Degrees from ``angle`` to the nearest sector boundary (questions skip ambiguous angles)."""
    off = (angle + 22.5) % 45.0
    return min(off, 45.0 - off)


def mirror_direction(word: str) -> str:
    return word.replace("left", "\0").replace("right", "left").replace("\0", "right")


def direction_distractors(word: str) -> list[str]:
    """Plausible wrong directions, most confusable first: mirrored (left/right swapped),
    opposite (front/behind swapped), both, then the two neighbouring sectors."""
    i = DIRECTIONS.index(word)
    opposite = DIRECTIONS[(i + 4) % 8]
    cands = [mirror_direction(word), opposite, mirror_direction(opposite), DIRECTIONS[(i + 1) % 8], DIRECTIONS[(i - 1) % 8]]
    out: list[str] = []
    for c in cands:
        if c != word and c not in out:
            out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# history


def sample_history(step: int, n: int = 16) -> list[int]:
    """``n`` frame indices out of ``0..step``, spread uniformly, first and last included,
    non-decreasing (``round(k * step / (n - 1))``). A history shorter than ``n`` steps repeats
    frames instead of showing fewer, so the number of frames never tells how far the episode has
    gone (``[]`` for a negative step or ``n <= 0``)."""
    if step < 0 or n <= 0:
        return []
    if n == 1:
        return [step]
    return [int(round(k * step / (n - 1))) for k in range(n)]
