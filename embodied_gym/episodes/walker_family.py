"""A broad, parameterised family of fixed non-visual walkers (the closed-loop red team's).

:mod:`.walkers` holds the audit's own walkers; this module widens them into the policies an
outside reviewer would plausibly try, so the suite's blind floor is checked against walkers
the generator was not tuned on. Every walker here follows the :class:`~.walkers.Walker`
contract (it reads only its own action's result, never a frame, and never calls ``Finish``:
the audit scores "walk ``N`` actions, then ``Finish``" for every ``N``).

Families (:func:`family` builds the instances):

* :class:`~.walkers.WallFollow` with probe periods 2-6 (turn toward the wall every ``k`` steps),
  either hand, OpenDoor when blocked or after every step, Pick/Drop when blocked;
* :class:`BumpTurn` -- forward until blocked, then turn ``j`` steps (the shorter way round) and
  go on: ``j`` = 1..11 covers every fixed turn angle of both hands (``j=1``/``11`` is "turn
  toward open space" as far as a blind agent can find it);
* :class:`Spiral` -- legs growing by ``growth`` steps, ``turns`` turn steps at each corner
  (square and hexagonal spirals), either hand; a blocked step ends the leg early;
* :class:`ZigZag` -- ``leg`` steps, ``turns`` turn steps one way, ``leg`` steps, the same turns
  the other way;
* :class:`~.walkers.RandomWalk` with more seeds;
* wrappers: :class:`Prefixed` (turn ``k`` steps first: every start heading) and
  :class:`Interleave` (OpenDoor, or PickObject/DropObject, after every action of the walker it
  wraps: door and pick/drop spamming).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .walkers import Keyed, LWalk, RandomWalk, SignalStop, Spin, Walker, WallFollow

F, L, R = "MoveForward", "TurnLeft", "TurnRight"
N_HEADINGS = 12  # the house backend's turn step is 30 degrees


def _turns(j: int, hand: str = "left") -> list[str]:
    """``j`` turn steps toward ``hand`` as the shorter sequence of actions (left ``j`` = right ``12 - j``)."""
    j %= N_HEADINGS
    if hand == "right":
        j = (N_HEADINGS - j) % N_HEADINGS
    return [L] * j if j <= N_HEADINGS // 2 else [R] * (N_HEADINGS - j)


@dataclass
class BumpTurn(Walker):
    """Forward until a move is refused, then turn ``j`` steps left (the shorter way) and go on."""

    j: int = 3

    def __post_init__(self) -> None:
        self.name = f"bump{self.j}"

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.queue: list[str] = []

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if not self.queue and self.last == F and not ok:
            self.queue = _turns(self.j)
        return self._do(self.queue.pop(0) if self.queue else F)


class _Legs(Walker):
    """Walks straight legs of :meth:`_length` steps and makes the turns :meth:`_corner` returns
    between them; a refused step ends its leg."""

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.done, self.queue = 0, []

    def _length(self) -> int:
        raise NotImplementedError

    def _corner(self) -> list[str]:
        raise NotImplementedError

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.queue:
            return self._do(self.queue.pop(0))
        if self.last == F:
            self.done = self.done + 1 if ok else self._length()
        if self.done >= self._length():
            self.done, self.queue = 0, self._corner()
            return self._do(self.queue.pop(0))
        return self._do(F)


@dataclass
class Spiral(_Legs):
    """Legs of ``start``, ``start + growth``, ... steps with ``turns`` turn steps toward ``hand``
    at each corner; a refused step ends its leg. Legs stop growing at ``cap`` steps."""

    hand: str = "left"
    turns: int = 3
    start: int = 1
    growth: int = 1
    cap: int = 24

    def __post_init__(self) -> None:
        self.name = f"spiral-{self.hand}{self.turns}g{self.growth}"

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.leg = self.start

    def _length(self) -> int:
        return self.leg

    def _corner(self) -> list[str]:
        self.leg = min(self.cap, self.leg + self.growth)
        return _turns(self.turns, self.hand)


@dataclass
class ZigZag(_Legs):
    """``leg`` steps, ``turns`` turn steps toward ``hand``, ``leg`` steps, ``turns`` back, ...;
    a refused step ends its leg."""

    leg: int = 3
    turns: int = 2
    hand: str = "left"

    def __post_init__(self) -> None:
        self.name = f"zigzag-{self.hand}{self.leg}x{self.turns}"

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.side = 0

    def _length(self) -> int:
        return self.leg

    def _corner(self) -> list[str]:
        hand = self.hand if self.side == 0 else ("right" if self.hand == "left" else "left")
        self.side ^= 1
        return _turns(self.turns, hand)


@dataclass
class Prefixed(Walker):
    """Turn ``k`` steps (the shorter way) first, then hand over to ``base``."""

    base: Walker = field(default_factory=lambda: BumpTurn(3))
    k: int = 0

    def __post_init__(self) -> None:
        self.name = f"turn{self.k}+{self.base.name}"
        self.interacts = self.base.interacts

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.base.reset(instruction, seed)
        self.queue = _turns(self.k)
        self.first = True

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.queue:
            return self._do(self.queue.pop(0))
        if self.first:  # the base starts fresh: nothing of its own has happened yet
            self.first = False
            return self._do(self.base.act(True, "", public))
        return self._do(self.base.act(ok, feedback, public))


@dataclass
class Interleave(Walker):
    """After every action of ``base``, do ``extra``: ``"open"`` (OpenDoor) or ``"pickdrop"``
    (PickObject when empty-handed, DropObject when holding). ``base`` sees only the results of
    its own actions."""

    base: Walker = field(default_factory=lambda: BumpTurn(3))
    extra: str = "open"

    def __post_init__(self) -> None:
        self.name = f"{self.base.name}+{self.extra}-every"
        self.interacts = True

    def reset(self, instruction: str, seed: int) -> None:
        super().reset(instruction, seed)
        self.base.reset(instruction, seed)
        self.base_result = (True, "")
        self.holding, self.pending = False, False

    def act(self, ok: bool, feedback: str, public: dict) -> str | None:
        if self.last == "PickObject" and ok:
            self.holding = True
        elif self.last == "DropObject" and ok:
            self.holding = False
        if self.pending:  # the base just acted: remember its result, then interact
            self.base_result, self.pending = (ok, feedback), False
            if self.extra == "open":
                return self._do("OpenDoor")
            return self._do("DropObject" if self.holding else "PickObject")
        action = self.base.act(*self.base_result, public)
        self.pending = action is not None
        return self._do(action)


def family() -> list[Walker]:
    """The red team's walkers (about 75; interaction walkers only matter on categories with
    open / pick / place subgoals, see :attr:`Walker.interacts`)."""
    out: list[Walker] = []
    for hand in ("left", "right"):
        for probe in (2, 3, 4, 5, 6):
            out.append(WallFollow(hand, probe=probe))
            if probe != 5:
                out.append(WallFollow(hand, open_doors="block", probe=probe))
        for probe in (2, 4, 6):
            out.append(WallFollow(hand, open_doors="every", probe=probe))
        for probe in (3, 4):
            out.append(WallFollow(hand, open_doors="block", interact=True, probe=probe))
        out.append(Interleave(WallFollow(hand, probe=3), "pickdrop"))
        for turns, growth in ((3, 1), (3, 2), (2, 1)):
            out.append(Spiral(hand, turns=turns, growth=growth))
        for leg in (3, 4, 5, 6):
            for turns in (1, 2, 3):
                out.append(ZigZag(leg, turns, hand))
    for j in range(1, N_HEADINGS):
        out.append(BumpTurn(j))
    for k in (3, 6, 9):
        for j in (3, 9):
            out.append(Prefixed(BumpTurn(j), k))
    for j in (1, 3, 6, 9, 11):
        out.append(Interleave(BumpTurn(j), "open"))
    for j in (3, 9):
        out.append(Interleave(BumpTurn(j), "pickdrop"))
    for hand in ("left", "right"):
        out.append(Interleave(Spiral(hand, turns=3, growth=1), "open"))
    out += [RandomWalk(s) for s in range(4, 8)]
    out += [RandomWalk(s, interact=True) for s in range(4, 8)]
    names = [w.name for w in out]
    assert len(names) == len(set(names)), "walker names must be unique"
    return out


def clearance_walkers() -> list[Walker]:
    """The walkers house-v2's generators keep targets away from (:func:`~.walkers.trace`: movement
    only, no rendering): left- and right-hand wall following with probe periods 2-6 and "forward
    until blocked, then turn ``j``" for every ``j``. The rest of :func:`family` (spirals,
    zig-zags, turned starts, random walks, door / pick-drop spamming) is *not* used by the
    generators, so the red team's figures for those walkers are a held-out check."""
    return [WallFollow(hand, probe=p) for hand in ("left", "right") for p in (2, 3, 4, 5, 6)] + [
        BumpTurn(j) for j in range(1, N_HEADINGS)]


def drift_walkers() -> list[Walker]:
    """The walkers ``basic`` targets are kept away from *from their first refused move on*: the
    4-step zig-zags (:class:`ZigZag` ``(4, turns, hand)``, 1-3 turn steps, either hand). They drift
    15-30 degrees off the start heading, toward where a basic target in view lies; a wall or a
    piece of furniture that stops one partway leaves it just short of a goal beyond the obstacle.
    Before their first refused move their walk is unblocked, and the suites' endpoint control
    (:mod:`..endpoints`) bounds every such walk (clearing the unblocked part too would remove the
    targets ahead). The other zig-zags of :func:`family` (3, 5 and 6 steps) stay held out."""
    return [ZigZag(4, turns, hand) for hand in ("left", "right") for turns in (1, 2, 3)]


def default_walkers() -> dict[str, list[Walker]]:
    """The audit's walkers by cost: ``"short"`` ones freeze once blocked (run on every episode),
    ``"long"`` ones walk for the whole step budget (may be run on a sample). Besides the
    originals, the long ones hold the red team's walkers that found most in house-v2's first
    release (wall following with probe periods 2-6, forward until blocked then a fixed turn, and
    that with OpenDoor after every action)."""
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
    long += [WallFollow(hand, probe=p) for hand in ("left", "right") for p in (2, 4, 5, 6)]
    long += [BumpTurn(j) for j in range(1, N_HEADINGS)] + [Interleave(BumpTurn(j), "open") for j in (3, 9)]
    return {"short": short, "long": long}
