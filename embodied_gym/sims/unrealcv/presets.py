"""Step sizes of the ``unrealcv`` backend's action vocabulary, by name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepPreset:
    """Step sizes of one action vocabulary: metres per move, degrees per turn and per look."""

    move_step: float
    turn_step: float
    look_step: float


#: ``embrace3k``: EmbRACE-3K's steps (about 2 m per MoveForward, 30 degrees per turn; the look
#: step is ours); ``fine``: the house backend's 0.25 m / 30 / 15 for small indoor levels.
PRESETS: dict[str, StepPreset] = {"embrace3k": StepPreset(2.0, 30.0, 15.0), "fine": StepPreset(0.25, 30.0, 15.0)}
