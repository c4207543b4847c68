"""Episode files and suites: :func:`load_episodes` (``.jsonl`` / ``.json`` files, folders of
them, ``"SUITE:SPLIT"`` refs to ``assets/<suite>/<split>.jsonl``), :func:`save_episodes`
(canonical JSONL), :func:`resolve_ref` and :func:`assets_dir`. The file formats: :mod:`.spec`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .episode import SPEC_VERSION, Episode, SpecError
from .parse import parse_episode


def assets_dir() -> Path:
    """Where official suites live: ``$EMBODIED_GYM_ASSETS`` or the repository's ``assets/``."""
    env = os.environ.get("EMBODIED_GYM_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "assets"


def resolve_ref(ref: str | os.PathLike[str]) -> Path:
    """Turn ``"SUITE:SPLIT"`` into ``assets/SUITE/SPLIT.jsonl``; paths are returned unchanged."""
    text = os.fspath(ref)
    path = Path(text)
    if path.exists() or text.endswith((".json", ".jsonl")) or ":" not in text:
        return path
    suite, _, split = text.partition(":")
    return assets_dir() / suite / f"{split}.jsonl"


def load_episodes(ref: str | os.PathLike[str] | Sequence[Episode]) -> list[Episode]:
    """Load and validate episodes from a ``.jsonl``/``.json`` path, a folder (every ``*.jsonl`` in
    it, sorted by name: what ``egym generate --out DIR`` and ``egym import ... --out DIR`` write) or
    a ``"SUITE:SPLIT"`` ref.

    A list of :class:`Episode` is returned as is. Duplicate ids are an error."""
    if not isinstance(ref, (str, os.PathLike)):
        episodes = list(ref)
        if not all(isinstance(e, Episode) for e in episodes):
            raise SpecError("load_episodes: expected a path, 'SUITE:SPLIT' or a list of Episode")
        return episodes
    path = resolve_ref(ref)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"episode folder {path} holds no *.jsonl episode file")
        loaded = [ep for f in files for ep in load_episodes(f)]
        ids: set[str] = set()
        for ep in loaded:
            if ep.id in ids:
                raise SpecError(f"{path}: episode {ep.id!r}: field 'id': duplicate id across the folder's files")
            ids.add(ep.id)
        return loaded
    if not path.exists():
        hint = ""
        if path.is_relative_to(assets_dir()):  # a SUITE:SPLIT ref: say which ones exist
            shipped = sorted(f"{f.parent.name}:{f.stem}" for f in assets_dir().glob("*/*.jsonl"))
            hint = f"; shipped: {', '.join(shipped) or 'none'}"
        raise FileNotFoundError(f"episode file {path} not found (from {os.fspath(ref)!r}){hint}")
    name = path.name
    episodes: list[Episode] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not a UTF-8 text file of episodes (byte {exc.start}: {exc.reason})") from None
    if path.suffix == ".jsonl":
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SpecError(f"{name}: line {lineno}: invalid JSON: {exc.msg}") from None
            episodes.append(parse_episode(data, f"{name}: episode #{len(episodes)} (line {lineno})"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if isinstance(data, dict) and "episodes" in data:
            if data.get("version", SPEC_VERSION) != SPEC_VERSION:
                raise SpecError(f"{name}: field 'version': unsupported spec version {data.get('version')!r}")
            data = data["episodes"]
        items = data if isinstance(data, list) else [data]
        episodes = [parse_episode(d, f"{name}: episode #{i}") for i, d in enumerate(items)]
    seen: set[str] = set()
    for ep in episodes:
        ep.source_dir = path.parent
        if ep.id in seen:
            raise SpecError(f"{name}: episode {ep.id!r}: field 'id': duplicate id")
        seen.add(ep.id)
    return episodes


def save_episodes(path: str | os.PathLike[str], episodes: Iterable[Episode]) -> Path:
    """Write episodes as canonical JSONL (one sorted-key line each, trailing newline)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [ep.to_json() for ep in episodes]
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out
