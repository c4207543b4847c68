"""``tools:openai:MODEL``: a multi-round agent on the OpenAI tools API (function calling).

Before it answers, the model may call tools, in at most :attr:`ToolAgent.max_rounds` rounds (the
last request is sent with ``tool_choice="none"`` so it must answer):

* ``detect(phrase)``: boxes of the objects whose name matches ``phrase``. **Privileged**: an oracle
  detector reading the simulator's segmentation of the frame, not a learned model; every result
  says so.
* ``depth_at(x, y)``: metres from the camera at a normalised pixel: the backend's depth map when
  it renders one, else the distance to the object under the pixel (also privileged).
* ``extend_arrows()``: the current image with every drawn trajectory arrow lengthened to the
  frame's border (image operations only: :func:`embodied_gym.episodes.bear.arrow_tools.extend_arrows`);
  the image comes back in a user message.
* ``update_notebook(entries)`` / ``read_notebook()``: a scene-graph notebook (object -> facts) the
  agent keeps across the steps of an episode (a resumed episode's notebook starts empty).

Every request goes through :class:`~embodied_gym.agents.openai_agent.OpenAIAgent`'s retries, cache
and accounting (tool calls are part of the cached reply text), tokens and cost are summed over
the rounds, and the whole exchange, tool results included, is logged as the step's prompt. The
runner fills ``ctx.scene`` (``needs_scene``) with the environment's ``perception_state()``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import numpy as np

from ..envs.context import observation_image
from ..episodes.bear.arrow_tools import extend_arrows
from .base import AgentReply, StepContext
from .cache import request_key
from .openai_agent import OpenAIAgent, cache_namespace, split_tool_calls, to_openai_messages

PRIVILEGED = "PRIVILEGED oracle tool (ground truth read from the simulator, not a learned model)"
MAX_ARGUMENTS = 2000
NOTEBOOK_MAX = 64
_STOP = {"the", "a", "an", "of", "to", "on", "in", "at"}


def _fn(name: str, description: str, properties: dict[str, Any] | None = None, required: list[str] | None = None):
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties or {}, "required": required or []}}}


TOOL_SPECS: list[dict[str, Any]] = [
    _fn("detect", f"{PRIVILEGED}: boxes [x1, y1, x2, y2] (normalised 0-1) of the objects in the current frame "
        "whose name matches the phrase, with their distance in metres.",
        {"phrase": {"type": "string", "description": "what to look for, e.g. 'red ball'"}}, ["phrase"]),
    _fn("depth_at", f"{PRIVILEGED}: metres from the camera at a point of the current frame.",
        {"x": {"type": "number", "description": "0 (left) to 1 (right)"},
         "y": {"type": "number", "description": "0 (top) to 1 (bottom)"}}, ["x", "y"]),
    _fn("extend_arrows", "Returns the current image with every drawn trajectory arrow lengthened to the frame's "
        "border (image operations only), and where each arrow then ends."),
    _fn("update_notebook", "Write facts into your scene-graph notebook for this episode (kept across steps).",
        {"entries": {"type": "object", "description": "object or place -> what you know about it",
                     "additionalProperties": {"type": "string"}}}, ["entries"]),
    _fn("read_notebook", "Read your scene-graph notebook for this episode."),
]


class ToolAgent(OpenAIAgent):
    """An :class:`OpenAIAgent` that offers :data:`TOOL_SPECS` and runs the calls (module docstring)."""

    needs_scene = True

    def __init__(self, model: str, *, max_rounds: int = 4, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 0:
            raise ValueError(f"ToolAgent field 'max_rounds': expected an integer >= 0, got {max_rounds!r}")
        self.name = f"tools:openai:{model}"
        self.max_rounds = max_rounds
        self.notebooks: dict[str, dict[str, str]] = {}
        self.tool_calls = 0

    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        start = time.perf_counter()
        wire, logged = to_openai_messages(self.builder.build(obs, ctx), self.encoder)
        total = AgentReply("", cached=True)
        for round_ in range(self.max_rounds + 1):
            last = round_ == self.max_rounds
            body = {**self.request_body(wire), "tools": TOOL_SPECS, "tool_choice": "none" if last else "auto"}
            key = request_key("tools|" + cache_namespace(self.client.base_url, self.settings.extra_body), body)
            reply = await self._answer(key, body)
            total.request_hash = key
            total.prompt_tokens += reply.prompt_tokens
            total.completion_tokens += reply.completion_tokens
            total.cost += reply.cost
            total.attempts += reply.attempts
            total.cached = total.cached and reply.cached
            content, calls = split_tool_calls(reply.text)
            if reply.error or not calls or last:
                total.text, total.error = content, reply.error
                total.infra_failure = reply.infra_failure  # no reply of the model: not its answer
                if calls and last:
                    total.error = f"still calling tools after {self.max_rounds} round(s)"
                break
            turn = {"role": "assistant", "content": content or None, "tool_calls": [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in calls]}
            wire, logged = [*wire, turn], [*logged, turn]
            images = []
            for call in calls:
                result, image = self.run_tool(call["name"], call["arguments"], obs, ctx)
                self.tool_calls += 1
                message = {"role": "tool", "tool_call_id": call["id"], "content": result}
                wire, logged = [*wire, message], [*logged, message]
                if image is not None:
                    images.append(image)
            if images:
                w, g = to_openai_messages([{"role": "user", "content": [
                    {"type": "text", "text": "The image returned by extend_arrows:"},
                    *({"type": "image", "image": im} for im in images)]}], self.encoder)
                wire, logged = [*wire, *w], [*logged, *g]
        total.prompt = logged
        total.latency_s = time.perf_counter() - start
        return total

    # -- tools -----------------------------------------------------------------------------
    def run_tool(self, name: str, arguments: str, obs: dict[str, Any], ctx: StepContext) -> tuple[str, np.ndarray | None]:
        """``(result text, image or None)`` of one call. Never raises: bad arguments or an unknown
        tool give an ``"error: ..."`` result the model can read."""
        if len(arguments) > MAX_ARGUMENTS:
            return f"error: arguments longer than {MAX_ARGUMENTS} characters", None
        try:
            args = json.loads(arguments or "{}")
        except ValueError:
            return f"error: arguments are not JSON: {arguments[:80]!r}", None
        if not isinstance(args, dict):
            return "error: arguments must be a JSON object", None
        scene = ctx.scene or {}
        try:
            if name == "detect":
                return self._detect(str(args.get("phrase", "")), scene), None
            if name == "depth_at":
                return self._depth_at(float(args["x"]), float(args["y"]), scene), None
            if name == "extend_arrows":
                image = observation_image(obs)
                if image is None:
                    return "error: no image in this step", None
                out, arrows = extend_arrows(image)
                if not arrows:
                    return "no arrows found in the current image", None
                return json.dumps([{"color": a["color"], "now_ends_at": a["extended_to"]} for a in arrows]), out
            if name == "update_notebook":
                return self._note(ctx.episode_id, args.get("entries")), None
            if name == "read_notebook":
                return json.dumps(self.notebooks.get(ctx.episode_id, {})), None
        except (KeyError, TypeError, ValueError) as exc:
            return f"error: bad arguments for {name}: {exc}", None
        return f"error: unknown tool {name!r}; tools: {', '.join(t['function']['name'] for t in TOOL_SPECS)}", None

    @staticmethod
    def _detect(phrase: str, scene: dict[str, Any]) -> str:
        words = [w for w in re.findall(r"[a-z0-9]+", phrase.lower()) if w not in _STOP]
        if not words:
            return "error: empty phrase"
        hits = [{"name": o["name"], "box": o["box"], "distance": o["distance"]} for o in scene.get("objects", [])
                if all(w in f"{o['name']} {o.get('category', '')}".lower() for w in words)]
        return f"{PRIVILEGED}: " + (json.dumps(hits) if hits else f"no object matching {phrase!r} in view")

    @staticmethod
    def _depth_at(x: float, y: float, scene: dict[str, Any]) -> str:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return "error: x and y must lie in [0, 1]"
        seg = scene.get("segmentation")
        if seg is None:
            return "error: no frame to measure"
        h, w = np.asarray(seg).shape[:2]
        row, col = min(round(y * (h - 1)), h - 1), min(round(x * (w - 1)), w - 1)
        depth = scene.get("depth")
        if depth is not None:
            return f"{PRIVILEGED}: depth {float(np.asarray(depth)[row, col]):.2f} m (depth map)"
        oid = int(np.asarray(seg)[row, col])
        dist = (scene.get("distances") or {}).get(oid)
        if not oid or dist is None:
            return f"{PRIVILEGED}: no object at ({x:.3f}, {y:.3f}) and the backend renders no depth map"
        name = next((o["name"] for o in scene.get("objects", []) if o.get("id") == oid), f"object {oid}")
        return f"{PRIVILEGED}: {name} at ({x:.3f}, {y:.3f}), {dist:.2f} m away (distance to its centre; no depth map)"

    def _note(self, episode: str, entries: Any) -> str:
        if not isinstance(entries, dict):
            return "error: entries must be an object of name -> text"
        book = self.notebooks.setdefault(episode, {})
        for k, v in list(entries.items())[:NOTEBOOK_MAX]:
            if k in book or len(book) < NOTEBOOK_MAX:
                book[str(k)[:100]] = str(v)[:300]
        return f"notebook now holds {len(book)} entr{'y' if len(book) == 1 else 'ies'}"
