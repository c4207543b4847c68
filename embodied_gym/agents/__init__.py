"""Agents and the evaluation harness (``egym eval``, ``egym bench harness``).

* :mod:`.base`: the :class:`~.base.Agent` interface, :class:`~.base.AgentReply`, :class:`~.base.StepContext`.
* :mod:`.prompts`: prompt builders per environment family (``configs/prompts/*.json``).
* :mod:`.settings`: :class:`~.settings.AgentSettings` (``--config``) and the price table.
* :mod:`.openai_agent`: any OpenAI-compatible endpoint; :mod:`.hf_agent`: local transformers models.
* :mod:`.baselines`: random, oracle, blind text-only; :mod:`.factory`: ``make_agent("openai:MODEL")``.
* :mod:`.cache`: the SQLite response cache; :mod:`.runner` / :mod:`.runlog`: concurrent, logged,
  resumable rollouts and their summaries.
* :mod:`.fake_server`: a local OpenAI-compatible server with scripted faults; :mod:`.bench`: the
  harness benchmark.
"""
