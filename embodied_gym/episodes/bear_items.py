"""BEAR skill items: one question of BEAR's released benchmark, as ``egym import bear`` writes it
(``bear_items.jsonl``, one JSON object per line) and ``BearSkill-v0`` reads it.

Fields of a :class:`BearItem` (``version`` 1): ``id``; ``skill`` (an id of
:data:`~embodied_gym.rewards.bear_skills.BEAR_SKILLS`); ``question`` (BEAR's ``question``: the
target description for pointing and boxes, the question text otherwise); ``options`` (letter ->
text, empty for pointing and boxes); ``answer`` (the correct letter, ``None`` for pointing and
boxes, which are scored against the mask); ``image``, ``mask``, ``video`` (paths relative to the
items file's folder, or ``None``); ``source`` (``"<annotation file>#<idx>"``); ``split``.
Loading validates every field and raises ``ValueError`` naming the file, line and field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..rewards.bear_skills import bear_skill

ITEMS_VERSION = 1
ITEMS_FILE = "bear_items.jsonl"


@dataclass
class BearItem:
    """One BEAR question (see the module docstring)."""

    id: str
    skill: str
    question: str
    options: dict[str, str] = field(default_factory=dict)
    answer: str | None = None
    image: str | None = None
    mask: str | None = None
    video: str | None = None
    source: str = ""
    split: str = "test"
    version: int = ITEMS_VERSION
    #: the folder of the items file (set on load; not written): media paths resolve against it
    source_dir: Path | None = field(default=None, compare=False, repr=False)

    def path(self, name: str) -> Path | None:
        """The resolved path of media field ``name`` (``image``, ``mask``, ``video``), or ``None``."""
        rel = getattr(self, name)
        if rel is None:
            return None
        p = Path(rel)
        return p if p.is_absolute() or self.source_dir is None else self.source_dir / p

    def to_dict(self) -> dict[str, Any]:
        d = {"version": self.version, "id": self.id, "skill": self.skill, "question": self.question,
             "options": dict(self.options), "answer": self.answer, "source": self.source, "split": self.split}
        for name in ("image", "mask", "video"):
            if getattr(self, name) is not None:
                d[name] = getattr(self, name)
        return d

    @classmethod
    def from_dict(cls, data: Any, where: str = "item") -> BearItem:
        """Validate and build an item; errors raise ``ValueError`` prefixed by ``where``."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")

        def fail(fld: str, problem: str) -> ValueError:
            return ValueError(f"{where}: field '{fld}': {problem}")

        if data.get("version", ITEMS_VERSION) != ITEMS_VERSION:
            raise fail("version", f"unsupported version {data.get('version')!r}; this embodied-gym reads {ITEMS_VERSION}")
        item_id = data.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise fail("id", f"expected a non-empty string, got {item_id!r}")
        where = f"{where} {item_id!r}"
        skill = bear_skill(str(data.get("skill")))
        if skill is None:
            raise fail("skill", f"unknown BEAR skill {data.get('skill')!r}")
        question = data.get("question")
        if not isinstance(question, str) or not question.strip():
            raise fail("question", f"expected a non-empty string, got {question!r}")
        options = data.get("options") or {}
        if not isinstance(options, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
            raise fail("options", f"expected an object of letter -> text, got {options!r}")
        answer = data.get("answer")
        if skill.kind == "choice":
            if len(options) < 2:
                raise fail("options", f"a {skill.id} question needs at least two options, got {options!r}")
            if answer not in options:
                raise fail("answer", f"expected one of {', '.join(options)}, got {answer!r}")
        media = {}
        for name in ("image", "mask", "video"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or not value):
                raise fail(name, f"expected a relative path, got {value!r}")
            media[name] = value
        needed = {"image": "image" in skill.media, "video": "video" in skill.media, "mask": skill.kind != "choice"}
        for name, required in needed.items():
            if required and media[name] is None:
                raise fail(name, f"a {skill.id} question needs its {name}")
        return cls(item_id, skill.id, question.strip(), dict(options), answer if skill.kind == "choice" else None,
                   media["image"], media["mask"], media["video"], str(data.get("source", "")),
                   str(data.get("split", "test")))


def load_bear_items(ref: str | os.PathLike[str] | Sequence[BearItem]) -> list[BearItem]:
    """Items from a ``bear_items.jsonl`` file, a folder holding one, or a list of items.
    Duplicate ids are an error."""
    if not isinstance(ref, (str, os.PathLike)):
        items = list(ref)
        if not all(isinstance(i, BearItem) for i in items):
            raise ValueError("load_bear_items: expected a path or a list of BearItem")
        return items
    path = Path(ref)
    if path.is_dir():
        path = path / ITEMS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"BEAR items file {path} not found (write one with `egym import bear SRC --out DIR`)")
    items: list[BearItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}: line {lineno}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON: {exc.msg}") from None
        item = BearItem.from_dict(data, where)
        if item.id in seen:
            raise ValueError(f"{where}: field 'id': duplicate id {item.id!r}")
        seen.add(item.id)
        item.source_dir = path.parent
        items.append(item)
    return items


def save_bear_items(path: str | os.PathLike[str], items: Iterable[BearItem]) -> Path:
    """Write items as JSONL (sorted keys, one per line)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(i.to_dict(), sort_keys=True, ensure_ascii=False) + "\n" for i in items),
                   encoding="utf-8")
    return out
