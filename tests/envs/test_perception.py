"""Privileged perception reports (``--perception oracle``): built from the simulator's ground truth
of the frame the agent sees, on the real house backend, marked as privileged, and carried into
the prompt only when the step context holds one."""

import gymnasium as gym
import numpy as np

import embodied_gym  # noqa: F401
from embodied_gym.envs.context import StepContext
from embodied_gym.envs.perception import HEADER, PerceptionMemory, direction, visible_objects
from embodied_gym.envs.prompts import PromptBuilder, PromptConfig
from embodied_gym.sims.base import ObjectInfo, Pose


def test_closed_loop_report_lists_the_objects_with_pixels_and_their_last_sighting():
    env = gym.make("EmbodiedTask-v0", episodes="house-v1:test", width=160, height=120).unwrapped
    env.reset(seed=0)
    report = env.perception_report()
    visible = [o for o in env.sim.observe().objects.values() if o.visible]
    assert report.startswith(HEADER)
    assert visible and all(o.name in report for o in visible)
    assert "Rooms of the house:" in report and "Last seen" in report
    for _ in range(6):  # turn around: what was seen stays in the memory with the step it was seen
        env.step("TurnLeft")
    now = {o.name for o in env.sim.observe().objects.values() if o.visible}
    gone = [o.name for o in visible if o.name not in now]
    assert gone, "the test episode's start view should disappear after a half turn"
    later = env.perception_report()
    assert all(f"- {name}: step " in later and f"- {name}: this step" not in later for name in gone)
    env.close()


def test_bear_report_describes_the_question_frame():
    env = gym.make("BearLongHorizon-v0", episodes="bear-lh-v2:test", width=160, height=120).unwrapped
    env.reset(seed=0)
    assert env.perception_report().startswith(HEADER)
    env.close()


def test_visible_objects_boxes_are_normalised_and_directions_signed():
    pose = Pose(0.0, 0.0, 0.0, 0.0)  # facing +x; +z is to the right
    objs = {1: ObjectInfo(1, "ball", "the red ball", position=(2.0, 0.0, -1.0), visible=True, bbox=(0, 12, 80, 60),
                          pixel_count=50, distance=2.2),
            2: ObjectInfo(2, "box", "the box", position=(2.0, 0.0, 0.0), visible=False)}
    rows = visible_objects(objs, pose, 160, 120)
    assert rows == [{"id": 1, "name": "the red ball", "category": "ball", "box": [0.0, 0.1, 0.5, 0.5], "distance": 2.2,
                     "direction": direction(pose, (2.0, 0.0, -1.0))}]
    assert direction(pose, (2.0, 0.0, -1.0)).endswith("left") and direction(pose, (2.0, 0.0, 1.0)).endswith("right")
    assert direction(pose, (3.0, 0.0, 0.0)) == "ahead" and direction(pose, (-3.0, 0.0, 0.0)) == "behind"
    memory = PerceptionMemory()
    memory.update(3, objs)
    assert list(memory.last_seen) == ["the red ball"]


def test_prompt_carries_the_report_only_when_the_context_has_one():
    builder = PromptBuilder(PromptConfig.load("closed_loop"))
    obs = {"image": np.full((8, 8, 3), 9, np.uint8), "instruction": "Go.", "step": 0, "feedback": ""}
    plain = builder.build(obs, StepContext("e", "closed_loop"))[-1]["content"][-1]["text"]
    ctx = StepContext("e", "closed_loop", perception=f"{HEADER}\nVisible objects: none.")
    text = builder.build(obs, ctx)[-1]["content"][-1]["text"]
    assert HEADER not in plain and text.startswith(plain) and text.endswith("Visible objects: none.")
