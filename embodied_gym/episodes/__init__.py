"""Episodes: the versioned spec, task generators, the oracle, BEAR query builder, datasets."""

from .spec import (
    CATEGORIES,
    SPEC_VERSION,
    SUBGOAL_TYPES,
    Demonstration,
    Episode,
    SpecError,
    Subgoal,
    assets_dir,
    load_episodes,
    resolve_ref,
    save_episodes,
)

__all__ = [
    "CATEGORIES",
    "SPEC_VERSION",
    "SUBGOAL_TYPES",
    "Demonstration",
    "Episode",
    "SpecError",
    "Subgoal",
    "assets_dir",
    "load_episodes",
    "resolve_ref",
    "save_episodes",
]
