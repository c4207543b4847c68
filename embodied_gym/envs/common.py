"""What every environment of the package does the same way: choosing the episode on ``reset``,
cleaning text for ``Text`` spaces, and building its simulator with checked arguments."""

from __future__ import annotations

import inspect
import os
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from ..sims import check_simulator_kwargs, make_simulator
from ..sims.base import Simulator

#: characters every ``Text`` space of the package accepts
TEXT_CHARSET = frozenset(string.printable)


def clean_text(text: Any, limit: int, charset: Iterable[str] = TEXT_CHARSET) -> str:
    """``str(text)`` cut to ``limit`` characters with every character outside ``charset``
    replaced by ``"?"``: always a member of a ``Text(limit, charset=charset)`` space."""
    allowed = charset if isinstance(charset, (set, frozenset)) else frozenset(charset)
    return "".join(c if c in allowed else "?" for c in str(text)[:limit])


class _HasId(Protocol):
    id: str


E = TypeVar("E", bound=_HasId)


class EpisodeCycle(Generic[E]):
    """Which episode ``reset`` plays, the same rule in every environment:

    * ``options={"episode_id": ID}`` plays that episode (``ValueError`` naming it when unknown);
    * else ``seed`` plays episode ``seed % len(episodes)``;
    * else the episode after the previous one (cyclic, starting with the first).

    Unseeded resets continue after the episode last played, whichever way it was chosen. Works on
    any records with an ``id`` (episodes, BEAR items)."""

    def __init__(self, episodes: Sequence[E], env_id: str):
        self.episodes = list(episodes)
        self.env_id = env_id
        self._next = 0

    def select(self, seed: int | None, options: Mapping[str, Any] | None) -> E:
        """The episode ``reset(seed=seed, options=options)`` plays (see the class docstring)."""
        wanted = (options or {}).get("episode_id")
        if wanted is not None:
            for i, ep in enumerate(self.episodes):
                if ep.id == str(wanted):
                    self._next = i + 1
                    return ep
            raise ValueError(
                f"{self.env_id}: reset: options['episode_id'] {wanted!r} is not among this env's "
                f"{len(self.episodes)} episodes"
            )
        index = seed % len(self.episodes) if seed is not None else self._next % len(self.episodes)
        self._next = index + 1
        return self.episodes[index]


def load_frame(path: os.PathLike[str] | str, width: int, height: int) -> np.ndarray:
    """An image file as ``height x width x 3`` uint8 RGB (resized bilinearly when its size
    differs): how recorded frames enter an observation. ``OSError`` / ``ValueError`` when the
    file cannot be read."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (width, height):
            im = im.resize((width, height), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8).copy()


def check_judge(judge: Any, env_id: str) -> Any:
    """``judge`` when it is ``None`` or a callable ``(reply, options) -> letter | None``; else a
    ``ValueError`` naming ``judge``. A model name or LLM-judge keyword arguments are turned into a
    judge above the environments (:func:`embodied_gym.agents.judge.make_judge`, which ``egym
    eval`` applies to ``--env-kwargs``): the judge is a network client."""
    if judge is None or callable(judge):
        return judge
    raise ValueError(
        f"{env_id}: judge: expected a callable (reply, options) -> letter or None, got {judge!r}; build one from a "
        "model name or LLMJudge arguments with embodied_gym.agents.judge.make_judge"
    )


def env_arguments(init: Callable[..., Any]) -> tuple[str, ...]:
    """The named keyword arguments of an environment's ``__init__`` (its own, not the backend's)."""
    params = inspect.signature(init).parameters.values()
    return tuple(p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def check_sim_kwargs(env_id: str, backend: str, sim_kwargs: Mapping[str, Any], own: Sequence[str]) -> None:
    """Raise ``TypeError`` at construction when ``sim_kwargs`` holds an argument that neither the
    environment (``own``) nor the ``backend`` declares, naming it and the accepted ones."""
    check_simulator_kwargs(backend, sim_kwargs, where=f"{env_id}: ", extra=tuple(own))


def build_simulator(backend: str, width: int, height: int, sim_kwargs: Mapping[str, Any]) -> Simulator:
    """The environment's simulator: backend ``backend`` at ``width`` x ``height`` with the
    (already checked) backend arguments."""
    return make_simulator(backend, width=width, height=height, **sim_kwargs)


#: the ``info`` key under which every environment of the package puts the evaluator's view:
#: ground truth and task progress that no agent may read (the runner logs it, reports draw it,
#: ``egym audit`` reads it); everything else in ``info`` is public
PRIVILEGED = "privileged"


def evaluator_view(info: Mapping[str, Any]) -> dict[str, Any]:
    """``info`` with the entries of ``info["privileged"]`` lifted to the top level (and the
    ``privileged`` key itself dropped): what an evaluator, never an agent, reads of a step --
    e.g. the runner's step log (the family's ``log_fields``) and the reports."""
    out = {k: v for k, v in info.items() if k != PRIVILEGED}
    out.update(info.get(PRIVILEGED) or {})
    return out
