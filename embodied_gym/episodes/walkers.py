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

import numpy as np

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
        period = "" if self.probe == 3 else f"/p{self.probe}"  # probe period 3 is the default
        self.name = f"wall-{self.hand}{period}{extra}" + ("+interact" if self.interact else "")
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


def trace(walker: Walker, sim, start, actions: int, instruction: str = "") -> list[tuple[float, float]]:
    """Where a walker that never interacts goes from ``start`` (a :class:`~embodied_gym.sims.base.Pose`)
    in its first ``actions`` actions, without rendering (:func:`traces` of one walker): the
    position after each action, the start first (``actions + 1`` points)."""
    return [tuple(p) for p in traces([walker], sim, start, actions, instruction)[0].tolist()]


def traces(walkers: list[Walker], sim, start, actions: int, instruction: str = "",
           refused: np.ndarray | None = None) -> np.ndarray:
    """Where each walker (none may interact: doors change what is navigable; ``ValueError``) goes
    from ``start`` in its first ``actions`` actions, simulated without rendering:
    ``MoveForward`` / ``MoveBackward`` succeed when ``sim.navigable`` accepts the next point (the
    backend's own collision test, with the doors as they are; one batched call per step for all
    walkers), turns change the heading by ``sim.turn_step``. Returns ``W x (actions + 1) x 2``:
    the position after each action, the start first (a frozen walker stays put). Generators use it
    to keep targets away from where blind walkers go. With ``refused`` (a ``W`` integer array) the
    index of each walker's first refused move (the action whose move ``sim.navigable`` rejected;
    its position is the one the walker was stopped at) is written there, ``actions + 1`` for a
    walker no move of which was refused."""
    bad = [w.name for w in walkers if w.interacts]
    if bad:
        raise ValueError(f"walkers {bad} interact; traces() simulates movement only")
    n = len(walkers)
    for w in walkers:
        w.reset(instruction, 0)
    xz = np.tile(np.array([float(start.x), float(start.z)]), (n, 1))
    yaw = np.full(n, float(start.yaw))
    ok, feedback = [True] * n, [""] * n
    frozen = [False] * n
    out = np.empty((n, actions + 1, 2))
    out[:, 0] = xz
    first = np.full(n, actions + 1, dtype=int)
    step, turn = float(sim.move_step), float(sim.turn_step)
    for t in range(1, actions + 1):
        moving, signs = [], []
        for i, w in enumerate(walkers):
            action = None if frozen[i] else w.act(ok[i], feedback[i], {})
            if action is None:
                frozen[i] = True
            elif action in ("MoveForward", "MoveBackward"):
                moving.append(i)
                signs.append(1.0 if action == "MoveForward" else -1.0)
            elif action in ("TurnLeft", "TurnRight"):
                yaw[i] = (yaw[i] + (turn if action == "TurnLeft" else -turn)) % 360.0
                ok[i], feedback[i] = True, f"{action} succeeded"
            else:
                ok[i], feedback[i] = False, f"{action} failed"
        if moving:
            idx = np.asarray(moving)
            r = np.radians(yaw[idx])
            sg = np.asarray(signs)
            nxt = np.column_stack([xz[idx, 0] + sg * step * np.cos(r), xz[idx, 1] - sg * step * np.sin(r)])
            free = np.asarray(sim.navigable(nxt), dtype=bool)
            for k, i in enumerate(moving):
                name = "MoveForward" if signs[k] > 0 else "MoveBackward"
                ok[i] = bool(free[k])
                feedback[i] = f"{name} succeeded" if ok[i] else f"{name} failed: blocked"
                if ok[i]:
                    xz[i] = nxt[k]
                elif first[i] > actions:
                    first[i] = t
        out[:, t] = xz
    if refused is not None:
        refused[:] = first
    return out
