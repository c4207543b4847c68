"""BearLongHorizon-v0 on the shipped bear-lh-v2 suite (and the deprecated bear-lh-v1 still loading): the contract, oracle and random agents,
check_env, stop_on_error, ground truth read from the live render, and the suite's balance."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import embodied_gym  # noqa: F401  (registers the ids)
from embodied_gym.agents.baselines import random_bear_answer
from embodied_gym.envs.bear import BearLongHorizonEnv
from embodied_gym.episodes.bear.grounding import mask_box
from embodied_gym.episodes.spec import load_episodes
from embodied_gym.rewards.bear import MC_SKILLS, NONE_OF_THE_ABOVE, SKILLS, summarize_bear

W, H = 64, 48


@pytest.fixture(scope="module")
def suite():
    return {split: load_episodes(f"bear-lh-v2:{split}") for split in ("test", "ood")}


@pytest.fixture(scope="module")
def small_env(suite):
    env = gym.make("BearLongHorizon-v0", episodes=suite["test"][:6] + suite["ood"][:2], width=W, height=H,
                   history_frames=4)
    yield env
    env.close()


def run(env, episode_id, answer):
    obs, info = env.reset(options={"episode_id": episode_id})
    infos = []
    while True:
        obs, reward, terminated, truncated, info = env.step(answer(env, obs))
        infos.append((reward, info))
        if terminated or truncated:
            return infos


def test_suite_size_steps_and_splits(suite):
    """>= 100 episodes in total averaging >= 8 skill steps, test and ood splits with >= 40
    questions of every skill each, ood houses of held-out sizes; every query stored with its
    skill, step, question and answer; spatial and grounding questions in step order, the
    planning questions after them."""
    eps = suite["test"] + suite["ood"]
    assert len(eps) >= 100
    counts = [len(e.extra["bear"]["queries"]) for e in eps]
    assert sum(counts) / len(counts) >= 8 and min(counts) >= 8
    assert {e.tags["domain"] for e in suite["test"]} == {"in_domain"}
    assert {e.tags["domain"] for e in suite["ood"]} == {"ood"}
    assert {e.tags["rooms"] for e in suite["test"]}.isdisjoint({e.tags["rooms"] for e in suite["ood"]})
    for split, episodes in suite.items():
        per_skill = Counter(q["skill"] for e in episodes for q in e.extra["bear"]["queries"])
        assert set(per_skill) == set(SKILLS) and min(per_skill.values()) >= 40, (split, per_skill)
    planning = ("next_action_prediction", "task_process_reasoning")
    for e in eps:
        qs = e.extra["bear"]["queries"]
        kinds = [q["skill"] in planning for q in qs]
        assert kinds == sorted(kinds)  # planning last
        steps = [q["step"] for q in qs if q["skill"] not in planning]
        assert steps == sorted(steps) and max(q["step"] for q in qs) <= len(e.demonstration.actions)
        for q in e.extra["bear"]["queries"]:
            assert q["skill"] and q["question"] and q["answer"] is not None
    goals = Counter(e.tags["goal"] for e in eps)
    assert goals["bring"] > 0 and goals["door_bring"] > 0


def test_correct_letter_is_balanced_within_every_skill(suite):
    """No letter is the answer of more than 30% of a skill's questions over the suite; D is
    sometimes 'None of the above', both as the answer and as a wrong option."""
    by_skill = defaultdict(Counter)
    nota = Counter()
    for e in suite["test"] + suite["ood"]:
        for q in e.extra["bear"]["queries"]:
            if q["skill"] in MC_SKILLS:
                by_skill[q["skill"]][q["answer"]] += 1
                assert sorted(q["options"]) == ["A", "B", "C", "D"] and len(set(q["options"].values())) == 4
                if q["options"]["D"] == NONE_OF_THE_ABOVE:
                    nota["answer" if q["answer"] == "D" else "wrong"] += 1
    assert set(by_skill) == set(MC_SKILLS)
    for skill, c in by_skill.items():
        total = sum(c.values())
        assert total >= 80, skill
        assert max(c.values()) / total <= 0.30, (skill, c)
    assert nota["answer"] > 0 and nota["wrong"] > 0


def test_shipped_suite_spreads_directions_routes_and_points(suite):
    """The suite-level controls hold on the shipped files, per split: direction sectors within
    two of each other inside each role (a goal the instruction names / another thing seen on the
    way); letters of the re-balanced skills within two of each other; simple route rules (fewest
    / most characters, clauses, turns; odd one out, most central) right in at most a third of the
    route questions; no pixel inside the stored target masks of more than 13% of a pointing
    skill's questions (the best fixed point chosen on the split itself)."""
    from embodied_gym.episodes.bear.balance import direction_role
    from embodied_gym.episodes.bear.grounding import decode_mask
    from embodied_gym.episodes.bear.options import DIRECTIONS
    from embodied_gym.episodes.bear.reasoning import _length_credits

    for split, episodes in suite.items():
        roles = defaultdict(Counter)
        letters = defaultdict(Counter)
        credits, routes = np.zeros(8), 0
        cover: dict[str, list] = {}
        for e in episodes:
            for q in e.extra["bear"]["queries"]:
                if q["skill"] == "relative_direction":
                    roles[direction_role(e, q)][q["truth"]] += 1
                if q["skill"] in ("relative_direction", "object_localization"):
                    letters[q["skill"]][q["answer"]] += 1
                if q["skill"] == "path_planning" and q["truth"] in q["options"].values():
                    credits += _length_credits(q["truth"], list(q["options"].values()))
                    routes += 1
                if q["skill"].startswith("pointing"):
                    mask = decode_mask(q["mask"]).astype(int)
                    c = cover.setdefault(q["skill"], [0, np.zeros_like(mask)])
                    c[0] += 1
                    c[1] += mask
        for role, counts in roles.items():
            sizes = [counts[d] for d in DIRECTIONS]
            assert max(sizes) - min(sizes) <= 2, (split, role, counts)
        for skill, counts in letters.items():
            assert max(counts.values()) - min(counts.values()) <= 2, (split, skill, counts)
        assert routes >= 40 and (credits / routes).max() <= 1 / 3, (split, credits / routes)
        for skill, (n, counts) in cover.items():
            assert n >= 40 and counts.max() / n <= 0.13, (split, skill, counts.max() / n)


def test_default_make_works_with_defaults():
    """The contract: gym.make('BearLongHorizon-v0') with defaults (house backend, bear-lh-v2 test);
    env.reset(seed=i) selects episode i."""
    env = gym.make("BearLongHorizon-v0")
    try:
        obs, info = env.reset(seed=0)
        assert env.unwrapped.metadata["family"] == "bear"
        assert obs["image"].shape == (240, 320, 3) and obs["history"].shape == (16, 240, 320, 3)
        assert obs["question"] and obs["skill"] and obs["history_length"] == 16
        assert obs in env.observation_space
        assert env.unwrapped.episodes[0].id.startswith("bear-lh-v2-test-")
        for i in (0, 3, 7):
            _, info = env.reset(seed=i)
            assert info["episode_id"] == env.unwrapped.episodes[i].id
    finally:
        env.close()


def test_deprecated_v1_still_loads_with_a_warning():
    """bear-lh-v1 stays loadable for reproducibility, with a DeprecationWarning naming v2."""
    with pytest.warns(DeprecationWarning, match="bear-lh-v2"):
        env = BearLongHorizonEnv(episodes="bear-lh-v1:ood", width=W, height=H, history_frames=2)
    try:
        obs, _ = env.reset(seed=0)
        assert obs["question"]
    finally:
        env.close()


def test_check_env_passes(small_env):
    check_env(small_env.unwrapped, skip_render_check=True)


def test_oracle_answers_score_every_step_and_episode(small_env):
    results = []
    for ep in small_env.unwrapped.episodes:
        infos = run(small_env, ep.id, lambda env, obs: env.unwrapped.oracle_action())
        assert all(info["correct"] for _, info in infos), [i for _, i in infos if not i["correct"]]
        assert all(r == pytest.approx(1.0) for r, _ in infos)
        final = infos[-1][1]
        assert final["episode_success"] and final["episode_result"]["episode_id"] == ep.id
        assert len(final["episode_result"]["steps"]) == len(ep.extra["bear"]["queries"])
        results.append(final["episode_result"])
    summary = summarize_bear(results)
    assert summary["overall"]["episode_success_rate"] == 1.0 and summary["overall"]["step_accuracy"] == 1.0


def test_stop_on_error_ends_at_the_first_wrong_answer(suite):
    env = gym.make("BearLongHorizon-v0", episodes=suite["test"][:1], width=W, height=H, history_frames=2,
                   stop_on_error=True)
    try:
        env.reset(seed=0)
        env.step(env.unwrapped.oracle_action())
        obs, reward, terminated, truncated, info = env.step("this is not an answer")
        assert terminated and not info["correct"] and reward == 0.0
        assert info["episode_success"] is False and len(info["episode_result"]["steps"]) == 2
    finally:
        env.close()


def test_any_reply_is_scored_without_raising(small_env):
    small_env.reset(seed=1)
    for reply in ["", None, 42, "\u00e9\u4e2d\U0001f600", "[1e999, 0, 1, 1]", "(nan, 0.5)", "A" * 10000]:
        obs, reward, terminated, truncated, info = small_env.step(reply)
        assert 0.0 <= reward <= 1.0 and isinstance(info["correct"], bool)
        if terminated:
            small_env.reset(seed=1)


def test_box_and_point_ground_truth_come_from_the_live_segmentation(small_env):
    """At the environment's resolution, the box answer is the target's pixel extent and the
    oracle point lands on the target's mask."""
    env = small_env.unwrapped
    seen = set()
    for ep in env.episodes:
        env.reset(options={"episode_id": ep.id})
        for q in ep.extra["bear"]["queries"]:
            if q["skill"].startswith(("bbox", "pointing")):
                seg = env._replay.observe(q["step"]).segmentation
                mask = seg == q["target"]
                truth = env._ground_truth(q)
                if q["skill"].startswith("bbox"):
                    assert truth["box"] == mask_box(mask)
                else:
                    x, y = truth["answer"]
                    assert mask[int(y * H), int(x * W)]
                seen.add(q["skill"].split("_")[0])
    assert seen == {"bbox", "pointing"}


def test_trajectory_questions_show_three_coloured_arrows(small_env):
    env = small_env.unwrapped
    for ep in env.episodes:
        obs, _ = env.reset(options={"episode_id": ep.id})
        while obs["skill"] != "trajectory_reasoning":
            obs, _, terminated, _, _ = env.step(env.oracle_action())
            if terminated:
                break
        else:
            img = obs["image"]
            plain = env._frame(int(env.queries[env._q]["step"]))
            for rgb in [(235, 30, 30), (20, 210, 60), (40, 90, 255)]:
                assert (img == rgb).all(-1).sum() > (plain == rgb).all(-1).sum()
            assert obs["options"][3] == f"D. {NONE_OF_THE_ABOVE}"
            return
    pytest.fail("no trajectory question in the small set")


@pytest.mark.slow
def test_oracle_and_random_agents_over_the_whole_suite(suite):
    """Oracle: 100% of steps and episodes on both splits. Random (the agents' random baseline):
    near chance on every four-option skill (about 25%)."""
    env = gym.make("BearLongHorizon-v0", episodes=suite["test"] + suite["ood"], width=W, height=H, history_frames=2)
    rng = random.Random(0)
    oracle, rand = [], []
    try:
        for ep in env.unwrapped.episodes:
            infos = run(env, ep.id, lambda e, obs: e.unwrapped.oracle_action())
            oracle.append(infos[-1][1]["episode_result"])
            for _ in range(3):
                infos = run(env, ep.id, lambda e, obs: random_bear_answer(obs, rng))
                rand.append(infos[-1][1]["episode_result"])
    finally:
        env.close()
    o = summarize_bear(oracle)
    assert o["overall"]["episode_success_rate"] == 1.0 and o["overall"]["step_accuracy"] == 1.0
    r = summarize_bear(rand)
    for skill in MC_SKILLS:
        acc = r["by_skill"][skill]["accuracy"]
        assert 0.15 <= acc <= 0.35, (skill, acc)
    assert r["overall"]["episode_success_rate"] < 0.05
    assert np.isfinite(r["overall"]["mean_step_score"])


def _tokens(text):
    return set(text.lower().replace(",", " ").replace(";", " ").split())


def test_text_only_heuristics_stay_near_chance(suite):
    """Answers cannot be read off the option texts: picking the longest, the shortest, the most
    'central' option (most words shared with the others) or the one closest to the instruction
    stays near chance on every multiple-choice skill."""
    hits = defaultdict(Counter)
    for e in suite["test"] + suite["ood"]:
        instr = _tokens(e.instruction)
        for q in e.extra["bear"]["queries"]:
            o = q["options"]
            if not o:
                continue
            n = {k: len(v) for k, v in o.items()}
            central = {k: sum(len(_tokens(v) & _tokens(w)) / len(_tokens(v) | _tokens(w)) for j, w in o.items() if j != k)
                       for k, v in o.items()}
            overlap = {k: len(_tokens(v) & instr) / len(_tokens(v)) for k, v in o.items()}
            c = hits[q["skill"]]
            c["n"] += 1
            c["longest"] += max(n, key=n.get) == q["answer"]
            c["shortest"] += min(n, key=n.get) == q["answer"]
            c["central"] += max(central, key=central.get) == q["answer"]
            c["instruction"] += max(overlap, key=overlap.get) == q["answer"]
    for skill, c in hits.items():
        for rule in ("longest", "shortest", "central", "instruction"):
            assert c[rule] / c["n"] <= 0.42, (skill, rule, c[rule] / c["n"])


def test_judge_fallback_reads_replies_the_rules_cannot(suite):
    """With judge=..., a multiple-choice reply the rules cannot read is passed to the judge."""
    asked = []

    def judge(reply, options):
        asked.append(reply)
        return None

    env = gym.make("BearLongHorizon-v0", episodes=suite["test"][:1], width=W, height=H, history_frames=2, judge=judge)
    try:
        obs, _ = env.reset(seed=0)
        while not obs["options"][0]:
            obs, *_ = env.step(env.unwrapped.oracle_action())
        env.step("I would rather walk over there")
        assert asked == ["I would rather walk over there"]
    finally:
        env.close()


@pytest.mark.slow
def test_egym_eval_contract_writes_the_bear_summary(tmp_path):
    """`egym eval --env BearLongHorizon-v0 --episodes bear-lh-v2:test --agent oracle` writes
    summary.json with overall episode_success_rate / step_accuracy / n and by_skill accuracy."""
    import json

    from embodied_gym.cli import main

    out = tmp_path / "run"
    rc = main(["eval", "--env", "BearLongHorizon-v0", "--episodes", "bear-lh-v2:test", "--agent", "oracle",
               "--out", str(out), "--limit", "2", "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["n"] == 2
    assert summary["overall"]["episode_success_rate"] == 1.0 and summary["overall"]["step_accuracy"] == 1.0
    assert summary["by_skill"] and all(v["accuracy"] == 1.0 and v["n"] > 0 for v in summary["by_skill"].values())


def test_judge_can_be_named_by_model_or_keyword_arguments(suite):
    """The env takes a callable judge; a model name or LLMJudge keyword arguments (JSON
    ``--env-kwargs``) become an :class:`LLMJudge` through ``agents.judge.make_judge``, which the
    evaluation harness applies when it makes the env (the judge is a network client, above envs)."""
    from embodied_gym.agents.judge import LLMJudge, make_judge
    from embodied_gym.eval.envside import make_env

    env = make_env("BearLongHorizon-v0", suite["test"][:1], {"width": W, "height": H, "history_frames": 2,
                                                              "judge": {"model": "judge-x", "base_url": "http://127.0.0.1:9"}})
    assert isinstance(env.unwrapped.judge, LLMJudge) and env.unwrapped.judge.model == "judge-x"
    env.close()
    named = make_judge("judge-y")
    assert isinstance(named, LLMJudge) and named.model == "judge-y"
    env = gym.make("BearLongHorizon-v0", episodes=suite["test"][:1], width=W, height=H, history_frames=2, judge=named)
    assert env.unwrapped.judge is named
    env.close()
    with pytest.raises(ValueError, match="judge"):
        gym.make("BearLongHorizon-v0", episodes=suite["test"][:1], judge=3)
    with pytest.raises(ValueError, match="judge.*make_judge"):
        gym.make("BearLongHorizon-v0", episodes=suite["test"][:1], judge="judge-z")
    with pytest.raises(ValueError, match="judge"):
        make_judge(3)


@pytest.mark.parametrize("field, value, message", [
    ("skill", "telepathy", r"queries\[0\]\.skill': unknown skill 'telepathy'"),
    ("step", 9999, r"queries\[0\]\.step': expected a demonstration step"),
    ("options", "zz", r"queries\[0\]\.options'"),
    ("answer", None, r"queries\[0\]\.answer'"),
])
def test_broken_query_fields_are_value_errors_naming_file_episode_and_field(tmp_path, suite, field, value, message):
    """A corrupted query in an episode file is refused when the env is built, with a ValueError
    naming the file, the episode and the query field (not a KeyError mid-run)."""
    import copy

    from embodied_gym.episodes.spec import save_episodes

    ep = copy.deepcopy(suite["test"][0])
    queries = ep.extra["bear"]["queries"]
    # the first query is a multiple-choice one, so that a broken 'options' field matters
    first = next(i for i, q in enumerate(queries) if q["skill"] in MC_SKILLS)
    queries.insert(0, queries.pop(first))
    q = queries[0]
    if value is None:
        del q[field]
    else:
        q[field] = value
    path = save_episodes(tmp_path / "broken.jsonl", [ep])
    with pytest.raises(ValueError, match=message) as err:
        BearLongHorizonEnv(episodes=str(path), width=W, height=H)
    assert "broken.jsonl" in str(err.value) and ep.id in str(err.value)


def test_more_queries_than_the_query_index_space_holds_is_a_value_error(suite):
    """An episode with more than MAX_QUERIES questions is refused (query_index is Discrete(MAX_QUERIES))
    instead of showing a saturated index."""
    import copy

    from embodied_gym.envs.bear import MAX_QUERIES

    ep = copy.deepcopy(suite["test"][0])
    queries = ep.extra["bear"]["queries"]
    ep.extra["bear"]["queries"] = (queries * (MAX_QUERIES // len(queries) + 1))[: MAX_QUERIES + 1]
    with pytest.raises(ValueError, match=f"{MAX_QUERIES + 1} queries; at most {MAX_QUERIES}"):
        BearLongHorizonEnv(episodes=[ep], width=W, height=H)
