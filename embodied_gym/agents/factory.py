"""``make_agent``: the agent named by an agent spec (``egym eval --agent``).

Specs: ``oracle`` | ``random`` | ``openai:MODEL`` | ``blind:MODEL`` | ``tools:openai:MODEL`` | ``hf:PATH_OR_HUB_ID``
(``hf:BASE+ADAPTER_DIR`` loads a LoRA adapter on top of BASE; or set ``hf.adapter`` in the
config file).
"""

from __future__ import annotations

from typing import Any

from .base import Agent
from .cache import ResponseCache
from .settings import AgentSettings, ConfigError

KINDS = ("oracle", "random", "openai", "blind", "hf", "tools")
#: kinds that call an OpenAI-compatible endpoint / that run a model (prompted, with settings)
API_KINDS = ("openai", "blind", "tools")
MODEL_KINDS = (*API_KINDS, "hf")


def parse_agent_spec(spec: str) -> tuple[str, str | None]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; ``"oracle"`` -> ``("oracle", None)``.

    Raises :class:`ConfigError` (a ``ValueError``) for field ``agent`` naming the spec when it is
    malformed (never anything else)."""
    if not isinstance(spec, str):
        raise ConfigError("agent", f"expected a string, got {spec!r}")
    kind, sep, arg = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ConfigError("agent", f"{spec!r}: unknown agent kind {kind!r}; expected oracle, random, openai:MODEL, "
                                   f"blind:MODEL, tools:openai:MODEL or hf:PATH")
    if kind in ("oracle", "random"):
        if sep and arg.strip():
            raise ConfigError("agent", f"{spec!r}: {kind} takes no argument")
        return kind, None
    if not arg.strip():
        raise ConfigError("agent", f"{spec!r}: {kind} needs a model, e.g. {kind}:NAME")
    if kind == "tools" and not (arg.strip().startswith("openai:") and arg.strip()[7:].strip()):
        raise ConfigError("agent", f"{spec!r}: tools needs an OpenAI-compatible model, e.g. tools:openai:NAME")
    return kind, arg.strip()


DEFAULT_BASE_URL = "https://api.openai.com/v1"


def resolve_endpoint(spec: str, base_url: str | None = None) -> str | None:
    """The endpoint an ``--agent`` spec talks to: for ``openai:``/``blind:``/``tools:`` agents ``base_url``,
    else ``$OPENAI_BASE_URL``, else OpenAI's (without a trailing slash); ``None`` for agents that
    call no server."""
    import os

    kind, _ = parse_agent_spec(spec)
    if kind not in API_KINDS:
        return None
    return (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def make_agent(
    spec: str,
    *,
    family: str,
    settings: AgentSettings | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    cache: ResponseCache | None = None,
    **kwargs: Any,
) -> Agent:
    """Build the agent for ``spec`` serving environments of ``family`` (a name registered in
    :mod:`embodied_gym.agents.families`)."""
    kind, arg = parse_agent_spec(spec)
    settings = settings or AgentSettings()
    if kind == "oracle":
        from .baselines import OracleAgent

        return OracleAgent()
    if kind == "random":
        from .baselines import RandomAgent
        from .families import get_family

        return RandomAgent(get_family(family).random_answer)
    if kind in API_KINDS:
        import os

        from .openai_agent import OpenAIAgent

        base_url = resolve_endpoint(spec, base_url)
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if "api.openai.com" in base_url:
                raise ConfigError("api_key", "no API key: set OPENAI_API_KEY or {api_key}", refs=("api_key",))
            api_key = "EMPTY"  # local OpenAI-compatible servers (vLLM, SGLang) accept any key
        if kind == "tools":
            from .tools_agent import ToolAgent

            return ToolAgent(arg.split(":", 1)[1].strip(), family=family, settings=settings, base_url=base_url,
                             api_key=api_key, cache=cache, **kwargs)
        return OpenAIAgent(arg, family=family, settings=settings, base_url=base_url, api_key=api_key,
                           cache=cache, blind=kind == "blind", **kwargs)
    from .hf_agent import HFAgent

    base, _, adapter = arg.partition("+")
    return HFAgent(base, family=family, settings=settings, adapter=adapter or None, cache=cache, **kwargs)
