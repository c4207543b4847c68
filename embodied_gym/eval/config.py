""":class:`EvalConfig`: one evaluation run; ``egym eval``'s flags are generated from its fields.

Every field carries its help text in ``metadata["help"]`` (and, where the flag is not
``--field-name``, ``metadata["flag"]``); :func:`embodied_gym.eval.cliargs.add_dataclass_arguments`
turns them into ``argparse`` options, so a new field is a new flag with no other edit. Invalid
values raise :class:`ConfigError` naming the *field*; the CLI maps the field to its flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..agents.settings import ConfigError

__all__ = ["ConfigError", "EvalConfig", "PERCEPTION"]

#: ``--perception`` settings: the model's own vision, plus privileged perception, or no images
PERCEPTION = ("images", "oracle", "none")


def _f(default: Any = None, *, help: str, flag: str | None = None, factory: Any = None, cli: bool = True,
       **extra: Any) -> Any:
    meta: dict[str, Any] = {"help": help, "cli": cli, **extra}
    if flag:
        meta["flag"] = flag
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class EvalConfig:
    """One evaluation run (``egym eval``); each field's ``metadata["help"]`` documents it.

    ``agent`` may also be an :class:`~embodied_gym.agents.base.Agent` object (closed with
    ``aclose`` when the run ends) and ``episodes`` a list of episodes, when called from Python."""

    env_id: str = field(metadata={"help": "Gymnasium id, e.g. EmbodiedTask-v0 or BearLongHorizon-v0 (or module:Id)",
                                  "flag": "--env", "required": True, "cli": True})
    episodes: Any = field(metadata={"help": "a JSONL/JSON path, a folder of *.jsonl files or SUITE:SPLIT "
                                            "(e.g. house-v1:test)", "required": True, "cli": True})
    agent: Any = field(metadata={"help": "oracle | random | blind:MODEL | openai:MODEL | hf:PATH",
                                 "required": True, "cli": True})
    out: Path = field(metadata={"help": "run directory (run.json, steps.jsonl, summary.json, summary.md, cache)",
                                "required": True, "cli": True})
    concurrency: int = _f(1, help="episodes in flight at once")
    resume: bool = _f(False, help="continue the run in --out: finished episodes are kept, interrupted ones rebuilt "
                                  "(without it a non-empty --out is an error)")
    base_url: str | None = _f(None, help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL)")
    api_key: str | None = _f(None, help="API key (default: $OPENAI_API_KEY); never written to the run directory")
    limit: int | None = _f(None, help="evaluate only the first N episodes")
    seed: int = _f(0, help="passed to every env.reset and to random agents")
    config: str | None = _f(None, help="agent settings file (YAML or JSON), e.g. configs/agents/example.yaml")
    prompt: str | None = _f(None, help="prompt profile for model agents: a name under configs/prompts/ (e.g. bear-paper, "
                                       "BEAR's own prompts) or a file; default: the settings file's prompt_file, else "
                                       "the environment's metadata['prompt_profile'], else the family's")
    input_setting: str | None = _f(None, help="how frames reach model agents: sequential (separate images) or merged "
                                              "(tiled into one image), BEAR's two input settings; default: the prompt's")
    progress: bool = _f(True, flag="--no-progress", help="no progress bar on stderr")
    cache: str | None = _f(None, help="SQLite response cache (default: OUT/cache.sqlite); share it across runs")
    env_kwargs: dict[str, Any] = _f(factory=dict, help="extra keyword arguments for gym.make, as a JSON object")
    perception: str = _f("images", help="what the agent perceives: images (default), oracle (images plus the "
                                         "environment's privileged ground-truth perception report in every prompt: "
                                         "visible objects with boxes, distance, direction; rooms and last sightings in "
                                         "closed loop) or none (no images: the blind agent)", flag="--perception")
    env_workers: int = _f(0, help="run the environments in N worker processes (each with its own OpenGL context; "
                                  "the event loop and API calls stay in this process; a crashed worker is restarted); "
                                  "0: every environment on one thread of this process")
    ray: str | None = _f(None, help="run each environment on a Ray actor: 'local' (default when the flag has no "
                                    "value: join this process's Ray instance or start one) or a Ray address "
                                    "(auto, ray://HEAD:10001); see docs/SCALING.md", nargs="?", const="local")
    ray_actor_options: dict[str, Any] = _f(factory=dict, help="with --ray: options for every environment actor, as "
                                           "a JSON object (e.g. {\"num_gpus\": 0.25} or {\"resources\": {\"thor\": 1}} "
                                           "to place AI2-THOR envs on GPU nodes)")
    env_retries: int = _f(2, help="times an episode is retried (from its logged steps) after its worker process or "
                                  "Ray actor died (every episode in flight in a dead worker is lost with it); then it "
                                  "ends incomplete (an infrastructure failure: not scored; --resume retries it)")
    env_call_timeout: float = _f(120.0, help="with --env-workers or --ray: seconds a worker process (or Ray actor) "
                                              "with calls to answer may go without replying before it is killed as "
                                              "hung and restarted; its episodes are retried like those of a crashed "
                                              "one (an infrastructure failure, never the model's); inf: no "
                                              "deadline (SIGINT / SIGTERM still stop the run: see eval/stopping.py)")
    env_host: Any = _f(None, cli=False, help="(Python only) an embodied_gym.eval.envhost.EnvHost to make the "
                                             "environments, kept running after the run (e.g. warm worker processes "
                                             "shared by several runs of a benchmark); None: made from env_workers / ray")
    agent_set: list[str] = _f(factory=list, flag="--set",
                              help="override one agent settings field (see configs/agents/example.yaml): FIELD=VALUE, "
                                   "VALUE read as JSON else a string; dotted for nested fields (hf.dtype=float32, "
                                   "prompt.history_frames=0)")
    allow_changed: list[str] = _f(factory=list, help="with --resume: accept a change of this provenance field of "
                                  "run.json (e.g. endpoint, agent_settings; 'all' for any); the change is recorded")
    max_steps_cap: int = _f(1000, help="an episode still running after this many steps ends as an error "
                                       "(guards against environments that never truncate)")

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1:
            raise ConfigError("concurrency", f"must be an integer >= 1, got {self.concurrency!r}")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1):
            raise ConfigError("limit", f"must be an integer >= 1, got {self.limit!r}")
        if not isinstance(self.max_steps_cap, int) or self.max_steps_cap < 1:
            raise ConfigError("max_steps_cap", f"must be an integer >= 1, got {self.max_steps_cap!r}")
        for name in ("env_workers", "env_retries"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(name, f"must be an integer >= 0, got {value!r}")
        if isinstance(self.env_call_timeout, bool) or not isinstance(self.env_call_timeout, (int, float)) \
                or not self.env_call_timeout > 0:
            raise ConfigError("env_call_timeout", f"must be a number of seconds > 0, got {self.env_call_timeout!r}")
        if self.ray is not None and (not isinstance(self.ray, str) or not self.ray):
            raise ConfigError("ray", f"must be 'local' or a Ray address, got {self.ray!r}")
        if not isinstance(self.ray_actor_options, dict):
            raise ConfigError("ray_actor_options", f"must be a mapping, got {self.ray_actor_options!r}")
        if self.ray and self.env_workers:
            raise ConfigError("env_workers", "cannot be combined with ray (Ray actors already run the environments)")
        if self.perception not in PERCEPTION:
            raise ConfigError("perception", f"must be one of {', '.join(PERCEPTION)}, got {self.perception!r}")
        if self.input_setting not in (None, "sequential", "merged"):
            raise ConfigError("input_setting", f"must be sequential or merged, got {self.input_setting!r}")
        if not isinstance(self.env_kwargs, dict):
            raise ConfigError("env_kwargs", f"must be a mapping of keyword arguments, got {self.env_kwargs!r}")

    def episodes_label(self) -> Any:
        """``episodes`` as recorded in run.json / summary.json (a list is recorded as ``"<list>"``)."""
        return self.episodes if isinstance(self.episodes, (str, int, type(None))) else "<list>"

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """Field name -> help text."""
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}
