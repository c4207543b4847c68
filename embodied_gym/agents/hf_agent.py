"""``HFAgent``: a local transformers VLM (Qwen2.5-VL family) serving many episodes at once.

``--agent hf:PATH_OR_HUB_ID`` (``hf:BASE+ADAPTER_DIR`` for a LoRA adapter from training).
The model is loaded with ``AutoModelForImageTextToText.from_pretrained(path, device_map=...,
dtype=...)`` and ``AutoProcessor``; a peft LoRA adapter, when given, is applied with
``PeftModel.from_pretrained``. Prompts come from the same builders as the API agents; the
processor's chat template turns them into model inputs (images resized to
``AgentSettings.image_max_side``).

Batching: every :meth:`HFAgent.act` puts its request on a queue; one batcher task takes the
first waiting request, gathers whatever else arrives within ``batch_wait_ms`` (up to
``max_batch_size``), and runs one left-padded ``generate`` for the batch on a dedicated thread
(so the event loop and the environment thread keep going). Concurrent episodes therefore share
forward passes. Greedy decoding when ``temperature == 0``; otherwise sampling seeded with
``AgentSettings.seed``. Replies are cached like the API agent's (key: model, adapter, rendered
prompt, image bytes, generation parameters). A generation error is an infrastructure failure
(``infra_failure=True``) for each request of that batch, never an exception; an empty generation
is the model's own reply.

Options (``hf`` field of the agent settings file, :class:`HFOptions`): ``device_map``
(default ``"auto"``), ``dtype`` (``"auto"``, ``"bfloat16"``, ``"float16"``, ``"float32"``),
``max_batch_size`` (8), ``batch_wait_ms`` (10), ``adapter`` (a LoRA directory),
``merge_adapter`` (merge LoRA weights for faster inference), ``attn_implementation``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..envs.prompts import PromptBuilder
from ..training.dataset import chat_messages
from .base import Agent, AgentReply, StepContext
from .cache import ResponseCache, request_key
from .settings import AgentSettings, HFOptions

__all__ = ["HFAgent", "HFOptions"]


class HFAgent(Agent):
    """A local transformers model; one instance serves every concurrent episode."""

    def __init__(
        self,
        model: str,
        *,
        family: str,
        settings: AgentSettings | None = None,
        adapter: str | None = None,
        cache: ResponseCache | None = None,
        blind: bool = False,
    ) -> None:
        self.settings = settings or AgentSettings()
        self.options: HFOptions = self.settings.hf
        self.adapter = adapter or self.options.adapter
        self.model_id = model
        self.name = f"hf:{model}" + (f"+{self.adapter}" if self.adapter else "")
        self.builder = PromptBuilder(self.settings.prompt_config(family), include_images=not blind)
        self.cache = cache
        self.stats: dict[str, Any] = {"batch_sizes": [], "generate_s": 0.0}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="egym-hf")
        self._queue: asyncio.Queue | None = None
        self._batcher: asyncio.Task | None = None
        self._load()

    # -- model -----------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as exc:
            raise ValueError(f"hf agent needs torch and transformers (pip install 'embodied-gym[train]'): {exc}") from None
        dtype = self.options.dtype
        torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype, None)
        if torch_dtype is None:
            raise ValueError(f"agent settings field 'hf.dtype': unknown dtype {dtype!r}")
        kwargs: dict[str, Any] = {"dtype": torch_dtype}
        if self.options.device_map:
            kwargs["device_map"] = self.options.device_map
        if self.options.attn_implementation:
            kwargs["attn_implementation"] = self.options.attn_implementation
        try:
            self.processor = AutoProcessor.from_pretrained(self.model_id)
            model = AutoModelForImageTextToText.from_pretrained(self.model_id, **kwargs)
        except OSError as exc:
            raise ValueError(f"hf agent: cannot load model {self.model_id!r}: {exc}") from None
        if self.adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, self.adapter)
            if self.options.merge_adapter:
                model = model.merge_and_unload()
        model.eval()
        self.model = model
        tok = getattr(self.processor, "tokenizer", self.processor)
        tok.padding_side = "left"
        self._torch = torch

    def _generate(self, batch: list[tuple[list[dict], list[Any]]]) -> list[tuple[str, int, int]]:
        """Runs on the HF thread: one padded generate for the batch -> (text, prompt_tokens, completion_tokens)."""
        torch = self._torch
        s = self.settings
        texts = [self.processor.apply_chat_template(conv, add_generation_prompt=True, tokenize=False) for conv, _ in batch]
        images = [im for _, ims in batch for im in ims]
        inputs = self.processor(text=texts, images=images or None, padding=True, return_tensors="pt")
        device = getattr(self.model, "device", None)
        if device is not None:
            inputs = inputs.to(device)
        gen: dict[str, Any] = {"max_new_tokens": s.max_tokens}
        if s.temperature and s.temperature > 0:
            gen.update(do_sample=True, temperature=s.temperature, top_p=s.top_p or 1.0)
            if s.seed is not None:
                torch.manual_seed(s.seed)
        else:
            gen.update(do_sample=False)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **gen)
        prompt_len = inputs["input_ids"].shape[1]
        new = out[:, prompt_len:]
        tok = getattr(self.processor, "tokenizer", self.processor)
        decoded = self.processor.batch_decode(new, skip_special_tokens=True)
        pad_id = tok.pad_token_id
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
        results = []
        for i, text in enumerate(decoded):
            row = new[i].tolist()
            n = next((j + 1 for j, t in enumerate(row) if t in eos_ids), len(row))
            n -= sum(1 for t in row[:n] if t == pad_id and t not in eos_ids)
            results.append((text.strip(), int(inputs["attention_mask"][i].sum()), int(n)))
        return results

    # -- batching --------------------------------------------------------------------------
    async def _batch_loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.options.batch_wait_ms / 1000.0
            while len(batch) < self.options.max_batch_size:
                timeout = deadline - loop.time()
                try:
                    batch.append(self._queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(self._queue.get(), timeout))
                except (asyncio.QueueEmpty, asyncio.TimeoutError):
                    break
            self.stats["batch_sizes"].append(len(batch))
            t0 = time.perf_counter()
            try:
                outs = await loop.run_in_executor(self._executor, self._generate, [(c, ims) for c, ims, _ in batch])
            except Exception as exc:  # noqa: BLE001 -- a failed batch fails its steps, not the run
                outs = [exc] * len(batch)
            self.stats["generate_s"] += time.perf_counter() - t0
            for (_, _, fut), out in zip(batch, outs, strict=True):
                if not fut.done():
                    fut.set_result(out)

    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        start = time.perf_counter()
        conv, images, logged, digest = self._conversation(self.builder.build(obs, ctx))
        s = self.settings
        key = request_key("hf|" + self.name, {"conv": logged, "images": digest, "temperature": s.temperature,
                                              "seed": s.seed, "max_tokens": s.max_tokens, "top_p": s.top_p})
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return AgentReply(hit["text"], key, logged, hit["prompt_tokens"], hit["completion_tokens"],
                                  latency_s=time.perf_counter() - start, cached=True,
                                  error=None if hit["text"] else "empty reply")
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._batcher = asyncio.ensure_future(self._batch_loop())
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((conv, images, fut))
        out = await fut
        if isinstance(out, Exception):
            return AgentReply("", key, logged, latency_s=time.perf_counter() - start, attempts=1,
                              error=f"generation failed: {out!r}", infra_failure=True)
        text, p_tok, c_tok = out
        if self.cache is not None:
            self.cache.put(key, text=text, model=self.name, prompt_tokens=p_tok, completion_tokens=c_tok)
        return AgentReply(text, key, logged, p_tok, c_tok, latency_s=time.perf_counter() - start, attempts=1,
                          error=None if text else "empty reply")

    def _conversation(self, messages: list[dict[str, Any]]) -> tuple[list[dict], list[Any], list[dict], str]:
        """Neutral messages -> (HF chat conversation, PIL images in order, log copy, image digest).
        The conversation is :func:`~embodied_gym.training.dataset.chat_messages`' (the one
        implementation training samples are built with, so training and evaluation prompts match)."""
        conv, images = chat_messages(messages, self.settings.image_max_side)
        h = hashlib.sha1()
        for pil in images:
            h.update(pil.tobytes())
        sizes = iter(images)
        logged = [{"role": m["role"], "content": [
            {"type": "image", "image": "<image {}x{}>".format(*next(sizes).size)} if part["type"] == "image" else part
            for part in m["content"]]} for m in conv]
        return conv, images, logged, h.hexdigest()

    async def aclose(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
            await asyncio.gather(self._batcher, return_exceptions=True)
            self._batcher = None
        self._executor.shutdown(wait=True)
