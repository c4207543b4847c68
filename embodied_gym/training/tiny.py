"""Build a tiny, randomly initialised Qwen2.5-VL checkpoint offline (tests and CPU training runs).

The real Qwen2.5-VL architecture (``Qwen2_5_VLForConditionalGeneration``: M-RoPE text decoder,
windowed-attention vision tower, 2x2 patch merger) at tiny sizes, a byte-level BPE tokenizer
trained here on the closed-loop prompt text, the action names and first-person rationale words
plus Qwen's special tokens, Qwen2-VL's image processor with a small pixel budget and Qwen's chat
template. Nothing is downloaded. ``build_tiny_qwen(path)`` writes a directory that
``AutoProcessor`` and ``AutoModelForImageTextToText.from_pretrained`` load, exactly as they load
``Qwen/Qwen2.5-VL-7B-Instruct`` (``egym model tiny --out DIR`` calls it).

Sizes: ``hidden`` / ``layers`` of the text decoder (defaults 64 / 2: fast tests), the vision
tower is one block of width 32; ``max_pixels`` caps every image (56*56 = 4 visual tokens,
112*112 = 16); ``vocab_size`` of the trained BPE.
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|image_pad|>", "<|video_pad|>"]

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

#: the reply format's tags, each one whole token of the tiny vocabulary: a 2-layer model cannot
#: tell ``<think>`` from ``<answer>`` by the shared ``>`` piece, which made it close a reply right
#: after ``<think>`` (measured: greedy ``"<think><|im_end|>"`` after SFT with 3-piece tags)
TAGS = ["<think>", "</think>", "<answer>", "</answer>"]

#: text the BPE is trained on besides the prompt config and rationale vocabulary
CORPUS = [
    "You are an embodied agent in a 3D house. Answer in the format <think>your reasoning</think>"
    "<answer>ActionName</answer> with exactly one action name from the list.",
    "MoveForward MoveBackward TurnLeft TurnRight LookUp LookDown PickObject DropObject OpenDoor Finish",
    "Task: go to the red chair in the kitchen. Step: 0 Your previous actions: none yet. Feedback on your last action",
    "Please directly output the correct option. A. B. C. D. the answer is (x, y) normalized to the range [0, 1]",
]


def _corpus() -> list[str]:
    """Training text for the tokenizer: :data:`CORPUS`, the closed-loop prompt config and the
    rationale phrasing of :mod:`embodied_gym.episodes.rationale` (module text), so prompts and
    completions tokenize into few tokens."""
    from ..envs.prompts import PromptConfig
    from ..episodes import rationale

    texts = list(CORPUS)
    try:
        cfg = PromptConfig.load("closed_loop")
        texts += [cfg.system, cfg.template, cfg.blind_note]
    except (OSError, ValueError):  # a custom $EMBODIED_GYM_CONFIGS without it: the fixed corpus is enough
        pass
    source = Path(rationale.__file__).read_text(encoding="utf-8")
    texts += [line.strip() for line in source.splitlines() if '"' in line]
    return texts


def build_tiny_qwen(path: str | Path, seed: int = 0, *, hidden: int = 64, layers: int = 2,
                    max_pixels: int = 56 * 56, vocab_size: int = 600) -> Path:
    """Write a randomly initialised tiny Qwen2.5-VL (weights, config, processor) to ``path``;
    deterministic for a given ``seed`` and sizes. Returns ``path``."""
    if hidden % 16 or hidden < 16 or layers < 1 or max_pixels < 28 * 28 or vocab_size < 300:
        raise ValueError(f"tiny model: need hidden a multiple of 16 (got {hidden}), layers >= 1 (got {layers}), "
                         f"max_pixels >= 784 (got {max_pixels}), vocab_size >= 300 (got {vocab_size})")
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_corpus() * 4, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens(TAGS)  # ordinary (decoded) tokens: one token per tag of the answer format
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS[1:], padding_side="left")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIALS}
    image_processor = Qwen2VLImageProcessor(min_pixels=28 * 28, max_pixels=max_pixels, patch_size=14,
                                            merge_size=2, temporal_patch_size=2)
    video_processor = Qwen2VLVideoProcessor(min_pixels=28 * 28, max_pixels=max_pixels, patch_size=14, merge_size=2,
                                            temporal_patch_size=2)
    processor = Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                    video_processor=video_processor, chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(out)
    config = Qwen2_5_VLConfig(
        text_config={"vocab_size": len(tokenizer), "hidden_size": hidden, "intermediate_size": 2 * hidden,
                     "num_hidden_layers": layers, "num_attention_heads": 4, "num_key_value_heads": 2,
                     "max_position_embeddings": 2048,
                     "rope_parameters": {"rope_type": "default", "mrope_section": _mrope(hidden // 4),
                                         "rope_theta": 10000.0},
                     "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
                     "pad_token_id": ids["<|endoftext|>"]},
        vision_config={"depth": 1, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "out_hidden_size": hidden, "patch_size": 14, "spatial_merge_size": 2,
                       "temporal_patch_size": 2, "window_size": 56, "fullatt_block_indexes": [0]},
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)
    return out


def _mrope(head_dim: int) -> list[int]:
    """M-RoPE sections (temporal, height, width) of half the head dimension, as Qwen splits them."""
    half = head_dim // 2
    t = half // 4
    h = (half - t) // 2
    return [t, h, half - t - h]


if __name__ == "__main__":
    import sys

    print(build_tiny_qwen(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-qwen"))
