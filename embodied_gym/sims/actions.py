"""The action vocabulary of the simulator contract and the one action resolver."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ACTIONS: tuple[str, ...] = (
    "MoveForward",
    "MoveBackward",
    "TurnLeft",
    "TurnRight",
    "LookUp",
    "LookDown",
    "PickObject",
    "DropObject",
    "OpenDoor",
    "Finish",
)
"""EmbRACE-3K's action vocabulary, in the order used by ``Discrete`` action spaces."""

ACTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(ACTIONS)}

EMBRACE_ACTIONS: tuple[str, ...] = (
    "MoveForward",
    "MoveBackward",
    "JumpForward",
    "TurnLeft",
    "TurnRight",
    "LookUp",
    "LookDown",
    "LookBack",
    "LookHand",
    "OpenDoor",
    "PickObject",
    "DropObject",
    "MidwayTarget",
    "Finish",
)
"""Every action name recorded in EmbRACE-3K's released episodes: :data:`ACTIONS` plus
``JumpForward``, ``LookBack``, ``LookHand`` and ``MidwayTarget`` (the demonstrator's marker that
an intermediate goal of a multi-stage task is reached). Recorded episodes keep these names;
backends execute :data:`ACTIONS` only."""


def resolve_action(action: object, supported: Sequence[str] = ACTIONS) -> tuple[str | None, str]:
    """The one action resolver: ``(name, "")`` for an action of :data:`ACTIONS` given as its
    name, its index (a Python or numpy integer, or a 0-d integer array) and in ``supported``;
    else ``(None, why)`` with a message naming the value. Never raises."""
    if isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer):
        action = int(action)
    if isinstance(action, (int, np.integer)) and not isinstance(action, bool):
        if not 0 <= int(action) < len(ACTIONS):
            return None, f"action index {int(action)} is out of range 0..{len(ACTIONS) - 1}"
        name = ACTIONS[int(action)]
    elif isinstance(action, str) and action in ACTION_INDEX:
        name = action
    else:
        shown = action if isinstance(action, str) else repr(action)
        return None, f"unknown action {shown[:80]!r}; expected one of {', '.join(ACTIONS)}"
    if name not in supported:
        return None, f"{name} is not supported by this backend (it supports {', '.join(supported)})"
    return name, ""


def check_action(action: str | int) -> str:
    """Return the canonical action name for ``action`` (a name or an index into :data:`ACTIONS`).

    Raises ``ValueError`` naming the value when it is not part of the vocabulary
    (:func:`resolve_action`)."""
    name, why = resolve_action(action)
    if name is None:
        raise ValueError(why)
    return name
