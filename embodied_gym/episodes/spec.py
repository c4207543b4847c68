"""The episode spec: one language-guided task in one scene, versioned JSON / JSONL.

An :class:`Episode` holds everything needed to replay a task in any backend that has its scene:
the backend and scene, the start pose, the instruction, the goal as ordered :class:`Subgoal` s,
the step budget, an optional expert :class:`Demonstration` (actions, poses, object states and a
first-person rationale per step) and split tags. It holds poses and states, never pixels: frames
are rendered live by the backend.

Files are either ``.jsonl`` (one episode object per line) or ``.json`` (one episode object, a
list of them, or ``{"version": 1, "episodes": [...]}``). Every episode object carries
``"version"``; loading validates each field and raises ``ValueError`` naming the file, the
episode and the field on any error, e.g.::

    ValueError: episodes.jsonl: episode 'house-v1-test-0003' (line 4): field 'subgoals[0].radius': must be > 0, got -1

Suites live under ``assets/<suite>/<split>.jsonl`` and are addressed as ``"SUITE:SPLIT"``.

This module is the spec's one import point; the code lives in three modules, one job each:
:mod:`.episode` (the dataclasses and vocabularies), :mod:`.parse` (validation with the errors
above) and :mod:`.files` (loading and saving files, folders and suites).
"""

from .episode import (
    CATEGORIES,
    DOMAINS,
    SPEC_VERSION,
    SUBGOAL_TYPES,
    Demonstration,
    Episode,
    SpecError,
    Subgoal,
)
from .files import assets_dir, load_episodes, resolve_ref, save_episodes
from .parse import parse_episode

__all__ = [
    "CATEGORIES",
    "DOMAINS",
    "SPEC_VERSION",
    "SUBGOAL_TYPES",
    "Demonstration",
    "Episode",
    "SpecError",
    "Subgoal",
    "assets_dir",
    "load_episodes",
    "parse_episode",
    "resolve_ref",
    "save_episodes",
]
