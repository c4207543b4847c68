"""Fixed non-visual walking policies: the closed-loop audit's blind baselines.

A *walker* never sees a frame. Its only inputs are the instruction text (at ``reset``) and, after
each of its actions, the public feedback an agent gets (``action_success`` and the feedback
text). It answers the next action, or ``None`` when it would only repeat an action that cannot
change the world any more (walking into the wall it is blocked by): from then on its state is
frozen, so the audit stops stepping and carries its last result forward. No walker calls
``Finish`` itself except :class:`SignalStop`; the audit scores "walk ``N`` actions, then
``Finish``" for every ``N`` of one rollout (see :mod:`.closed_loop`).

Families (each instance has a ``name``):

* :class:`Spin` -- turn ``k`` times (left; ``k`` = 0..11 covers every heading), then walk
  straight ahead; optionally ``OpenDoor`` once when blocked and walk on (``spin3+open``);
* :class:`LWalk` -- walk straight until blocked, turn ``k`` times, walk straight until blocked;
* :class:`Keyed` -- reads "left"/"right" in the instruction and turns that way ``k`` times
  before walking (viewpoint words are the one spatial hint a blind agent has);
* :class:`WallFollow` -- keeps a hand on the wall (probes toward it every few steps, turns
  away when blocked), optionally trying ``OpenDoor`` when blocked or after every step, and
  ``PickObject`` / ``DropObject`` when blocked (``interact``);
* :class:`RandomWalk` -- seeded random moves and turns, optionally mixed with interactions;
* :class:`SignalStop` -- a random walk that calls ``Finish`` as soon as anything public other
  than its own action's result changes, or the feedback mentions a word of the instruction:
  it stops on any signal an agent could see.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

#: feedback keys that legitimately change with every action (the action's own result)
OWN_RESULT_KEYS = frozenset({"action", "invalid_action", "feedback", "action_success", "step", "raw_action"})

_WORD = re.compile(r"[a-z]+")
_STOP = frozenset("the a an to and of on in it go walk find then that is you your with".split())


class Walker:
    """Base class: ``reset(instruction, seed)`` then ``act(ok, feedback, public) -> action|None``."""

    name = "walker"
    #: whether the walker calls Finish itself (scored once, not per prefix)
    self_finishing = False
    #: whether it uses OpenDoor / PickObject / DropObject (run only on interaction categories)
    interacts = False

    def reset(self, instruction: str, seed: int) -> None:
        self.instruction = instruction
        self.last: str | None = None

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        raise NotImplementedError

    def _do(self, action: str | None) -> str | None:
        self.last = action
        return action


@dataclass
class Spin(Walker):
    k: int = 0
    open_on_block: bool = False

    def __post_init__(self) -> None:
        self.name = f"spin{self.k}" + ("+open" if self.open_on_block else "")
        self.interacts = self.open_on_block

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.turns, self.opened = 0, False

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.turns < self.k:
            self.turns += 1
            return self._do("TurnLeft")
        if self.last == "MoveForward" and not ok:
            if self.open_on_block and not self.opened:
                self.opened = True
                return self._do("OpenDoor")
            return None
        if self.last == "OpenDoor" and not ok:
            return None
        return self._do("MoveForward")


@dataclass
class LWalk(Walker):
    k: int = 3

    def __post_init__(self) -> None:
        self.name = f"L{self.k}"

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.leg, self.turns = 0, 0

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.last == "MoveForward" and not ok:
            if self.leg == 1:
                return None
            self.leg = 1
        if self.leg == 1 and self.turns < self.k:
            self.turns += 1
            return self._do("TurnLeft")
        return self._do("MoveForward")


@dataclass
class Keyed(Walker):
    k: int = 1

    def __post_init__(self) -> None:
        self.name = f"keyed{self.k}"

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        words = set(_WORD.findall(instruction.lower()))
        self.turn = "TurnLeft" if "left" in words and "right" not in words else (
            "TurnRight" if "right" in words and "left" not in words else None)
        self.turns = 0

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.turn and self.turns < self.k:
            self.turns += 1
            return self._do(self.turn)
        if self.last == "MoveForward" and not ok:
            return None
        return self._do("MoveForward")


@dataclass
class WallFollow(Walker):
    hand: str = "left"
    open_doors: str = "none"  # "none" | "block" | "every"
    interact: bool = False
    probe: int = 3
    #: no OpenDoor / PickObject / DropObject before this many actions (skips the doors near the start)
    act_after: int = 0

    def __post_init__(self) -> None:
        extra = "" if self.open_doors == "none" else f"+open-{self.open_doors}"
        extra += f"-after{self.act_after}" if self.act_after else ""
        self.name = f"wall-{self.hand}{extra}" + ("+interact" if self.interact else "")
        self.toward, self.away = ("TurnLeft", "TurnRight") if self.hand == "left" else ("TurnRight", "TurnLeft")
        self.interacts = self.open_doors != "none" or self.interact

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.since, self.holding, self.steps = 0, False, 0
        self.queue: list[str] = []

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.last == "PickObject" and ok:
            self.holding = True
        if self.last == "DropObject" and ok:
            self.holding = False
        self.steps += 1
        if self.steps <= self.act_after:
            self.queue = [a for a in self.queue if a not in ("OpenDoor", "PickObject", "DropObject")]
        if self.queue:
            return self._do(self.queue.pop(0))
        if self.last == "MoveForward" and ok:
            self.since += 1
            if self.open_doors == "every":
                self.queue.append("OpenDoor")
            if self.since % self.probe == 0:
                self.queue.append(self.toward)
            if self.queue:
                return self._do(self.queue.pop(0))
        elif self.last == "MoveForward":  # blocked
            if self.open_doors == "block":
                self.queue.append("OpenDoor")
            if self.interact:
                self.queue.append("DropObject" if self.holding else "PickObject")
            self.queue.append(self.away)
            return self._do(self.queue.pop(0))
        return self._do("MoveForward")


@dataclass
class RandomWalk(Walker):
    seed: int = 0
    interact: bool = False

    def __post_init__(self) -> None:
        self.name = f"random{self.seed}" + ("+interact" if self.interact else "")
        self.interacts = self.interact

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.rng = random.Random(f"{self.seed}/{seed}")

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        moves = ["MoveForward"] * 6 + ["TurnLeft"] * 2 + ["TurnRight"] * 2
        if self.interact:
            moves += ["OpenDoor", "PickObject", "DropObject"]
        return self._do(self.rng.choice(moves))


@dataclass
class SignalStop(RandomWalk):
    """A random walk that finishes on the first public signal (see the module docstring)."""

    baseline: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.name = f"signal-stop{self.seed}" + ("+interact" if self.interact else "")
        self.self_finishing, self.interacts = True, self.interact

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.baseline = {}
        self.words = set(_WORD.findall(instruction.lower())) - _STOP

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        watched = {k: v for k, v in public.items() if k not in OWN_RESULT_KEYS}
        if not self.baseline:
            self.baseline = watched
        elif watched != self.baseline:
            return self._do("Finish")
        if self.words & set(_WORD.findall(feedback.lower())):
            return self._do("Finish")
        return super().act(ok, feedback, public)


def default_walkers() -> dict[str, list[Walker]]:
    """The audit's walkers by cost: ``"short"`` ones freeze once blocked (run on every episode),
    ``"long"`` ones walk for the whole step budget (may be run on a sample)."""
    short: list[Walker] = [Spin(k) for k in range(12)] + [Spin(k, open_on_block=True) for k in range(12)]
    short += [LWalk(k) for k in range(1, 12)] + [Keyed(1), Keyed(2)]
    long: list[Walker] = [
        WallFollow("left"), WallFollow("right"),
        WallFollow("left", open_doors="block"), WallFollow("right", open_doors="block"),
        WallFollow("left", open_doors="every"), WallFollow("right", open_doors="every"), WallFollow("right", interact=True),
        WallFollow("left", open_doors="block", act_after=15), WallFollow("right", open_doors="block", act_after=15),
        WallFollow("left", open_doors="every", act_after=25), WallFollow("right", open_doors="every", act_after=25),
        RandomWalk(0), RandomWalk(1), RandomWalk(2, interact=True), RandomWalk(3, interact=True),
        SignalStop(0), SignalStop(1, interact=True),
    ]
    return {"short": short, "long": long}
