"""How objects and rooms are named in text (instructions, questions, rationales): one definition
for every layer, from the interface's records only."""

from __future__ import annotations

from .base import ObjectInfo, RoomInfo


def noun(obj: ObjectInfo, *, color: bool = True) -> str:
    """``"red key"`` / ``"key"``: the object's category with underscores as spaces, preceded by
    its colour when ``color`` and the object has one."""
    cat = obj.category.replace("_", " ")
    return f"{obj.color} {cat}" if color and obj.color else cat


def room_phrase(room: RoomInfo) -> str:
    """How text names a room: its kind (``"living room"``) with underscores as spaces."""
    return room.kind.replace("_", " ")
