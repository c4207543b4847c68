"""The evaluation package's seams: the env contract, the family registry, and the typed config
that generates ``egym eval``'s flags (errors name fields; the CLI names flags)."""

from __future__ import annotations

import dataclasses
import random

import gymnasium as gym
import pytest
import toy_env

from embodied_gym.agents.families import FAMILIES, Family, get_family, register_family
from embodied_gym.cli import build_parser, main
from embodied_gym.envs.contract import EvalEnv, check_eval_env, episode_id
from embodied_gym.eval import ConfigError, EvalConfig, run_eval
from embodied_gym.eval.cliargs import flag_of


class NewFamilyEnv(toy_env.ToyEnv):
    metadata = {"family": "toy_family", "render_modes": []}


if "EgymToyFamily-v0" not in gym.registry:
    gym.register(id="EgymToyFamily-v0", entry_point=NewFamilyEnv)


def test_registering_a_family_takes_one_call_and_drives_baselines_and_summary(tmp_path):
    """A new family registered with one call: the random agent answers with its random_answer and
    the summary comes from its summarizer (no string switch elsewhere to edit)."""
    seen = []

    def answer(obs, rng: random.Random) -> str:
        seen.append(obs["instruction"])
        return "Finish"

    def summarize(results):
        return {"overall": {"n": len(results), "finished": sum(r["steps"] == 1 for r in results)}}

    closed = get_family("closed_loop")
    register_family(Family("toy_family", prompt=closed.prompt, random_answer=answer, summarize=summarize), replace=True)
    try:
        summary = run_eval(EvalConfig(env_id="EgymToyFamily-v0", episodes=None, agent="random",
                                      out=tmp_path / "run", progress=False))
    finally:
        FAMILIES.pop("toy_family", None)
    assert summary["overall"] == {"n": 6, "finished": 6}
    assert summary["run"]["family"] == "toy_family" and summary["run"]["summarizer"].endswith("summarize")
    assert len(seen) == 6


def test_unknown_family_is_refused_naming_the_registered_ones():
    with pytest.raises(ValueError, match="unknown environment family 'nope'.*bear.*closed_loop"):
        get_family("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_family(get_family("bear"))


def test_env_contract_names_what_is_missing():
    """check_eval_env accepts the real envs' shape and names the missing parts of anything else."""
    env = gym.make("EgymToy-v0")
    assert isinstance(check_eval_env(env), EvalEnv) and episode_id(env.unwrapped.episodes[0]) == "toy-000"

    class NoOracle(gym.Env):
        metadata: dict = {}
        episodes = [{"id": "a"}]

    with pytest.raises(ValueError, match="missing oracle_action"):
        check_eval_env(NoOracle(), "X-v0")
    assert episode_id({"id": 7}) == "7"


def test_every_config_field_is_a_flag_with_help():
    """egym eval's flags are generated from EvalConfig: each field's flag exists and shows its help."""
    parser = build_parser()
    eval_parser = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "eval")[1]
    text = eval_parser.format_help()
    for f in dataclasses.fields(EvalConfig):
        assert f.metadata.get("help"), f"field {f.name} has no help"
        if f.metadata.get("cli") is False:  # Python-only fields (objects such as env_host) have no flag
            assert flag_of(EvalConfig, f.name) not in text
            continue
        assert flag_of(EvalConfig, f.name) in text
    args = parser.parse_args(["eval", "--env", "E", "--episodes", "x", "--agent", "oracle", "--out", "o",
                              "--concurrency", "3", "--no-progress", "--env-kwargs", '{"max_steps": 4}'])
    assert (args.concurrency, args.progress, args.env_kwargs, args.seed) == (3, False, {"max_steps": 4}, 0)


def test_library_errors_name_fields_and_the_cli_names_flags(tmp_path, capsys):
    with pytest.raises(ConfigError, match="field 'concurrency'") as info:
        EvalConfig(env_id="E", episodes=None, agent="oracle", out=tmp_path, concurrency=0)
    assert info.value.field == "concurrency"
    code = main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "oracle", "--out",
                 str(tmp_path / "o"), "--limit", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "--limit: must be an integer >= 1" in err and "field" not in err


def test_agent_and_resume_errors_are_reported_with_the_flags(tmp_path, capsys):
    """ConfigErrors from the agent factory and the run directory name fields in the library and
    flags on the command line (the {ref} placeholders too)."""
    out = str(tmp_path / "o")
    assert main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "nope", "--out", out,
                 "--no-progress"]) == 2
    assert "--agent: 'nope': unknown agent kind" in capsys.readouterr().err
    assert main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "oracle", "--out", out,
                 "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "oracle", "--out", out,
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--out:" in err and "continue it with --resume" in err
    assert main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "random", "--out", out,
                 "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("egym eval: error: --resume:") and "--allow-changed agent" in err
    with pytest.raises(ConfigError, match="allow_changed agent") as info:
        run_eval(EvalConfig(env_id="EgymToy-v0", episodes="toy:2", agent="random", out=out, resume=True,
                            progress=False))
    assert info.value.field == "resume" and "--" not in str(info.value)


def test_every_agent_setting_is_reachable_from_the_command_line(tmp_path):
    """--set FIELD=VALUE (repeatable, dotted for nested fields) overrides the settings file; the
    run records the result in its provenance; a bad value names the field."""
    from embodied_gym.agents.settings import AgentSettings, HFOptions

    s = AgentSettings.load(None, ["temperature=0.25", "hf.dtype=float32", "prompt.history_frames=0", "seed=null"])
    assert s.temperature == 0.25 and s.hf == HFOptions(dtype="float32") and s.prompt == {"history_frames": 0}
    assert s.seed is None
    with pytest.raises(ConfigError, match="field 'hf.max_batch_size'"):
        AgentSettings.load(None, ["hf.max_batch_size=0"])
    with pytest.raises(ConfigError, match="agent_set"):
        AgentSettings.load(None, ["temperature"])
    args = build_parser().parse_args(["eval", "--env", "E", "--episodes", "x", "--agent", "oracle", "--out", "o",
                                      "--set", "temperature=0.5", "--set", "hf.dtype=float32"])
    assert args.agent_set == ["temperature=0.5", "hf.dtype=float32"]


def test_config_error_messages_may_quote_values_with_braces():
    err = ConfigError("resume", "was {'a': 1}, now {} -- use {allow_changed}", refs=("allow_changed",))
    assert err.detail == "was {'a': 1}, now {} -- use allow_changed"
    assert err.render(lambda f: "--" + f.replace("_", "-")) == "was {'a': 1}, now {} -- use --allow-changed"
