"""Agents: what answers an environment's observations (API models, local models, baselines).

* :mod:`.base`: the :class:`~.base.Agent` interface, :class:`~.base.AgentReply`, :class:`~.base.StepContext`.
* :mod:`.prompts`: prompt builders per environment family (``configs/prompts/*.json``).
* :mod:`.settings`: :class:`~.settings.AgentSettings` (``--config``) and the price table.
* :mod:`.openai_agent`: any OpenAI-compatible endpoint; :mod:`.hf_agent`: local transformers models.
* :mod:`.baselines`: random, oracle, blind text-only; :mod:`.factory`: ``make_agent("openai:MODEL")``.
* :mod:`.families`: the registry of environment families (prompt, summarizer, random baseline).
* :mod:`.cache`: the SQLite response cache.
* :mod:`.fake_server`: a local OpenAI-compatible server with scripted faults.

The rollouts themselves (``egym eval``) are the :mod:`embodied_gym.eval` package.
"""
