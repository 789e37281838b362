"""A tiny random Gemma 3 causal LM with a small real tokenizer, built offline: FOR TESTS ONLY.

Tests of the training mechanics (SFT, DPO, resume, reload with identical logits) run on this in
seconds. The architecture is the default base model's (Gemma3ForCausalLM, sliding-window and full
attention layers); only the sizes are small. The tokenizer is a byte-level BPE trained here on a
fixed multilingual text, so any UTF-8 text (Han script, Tâi-lô, English) encodes.
"""

from __future__ import annotations

from pathlib import Path

_CORPUS = [
    "Do you agree with this statement? Yes. No. Unsure. Every opinion group agrees. Opinions differ.",
    "The community holds this position. Group A mostly agrees; group B mostly disagrees.",
    "Ride-sharing drivers should be licensed and insured. Passengers deserve safety and fair prices.",
    "你同意這個說法嗎？同意。不同意。不確定。每個意見群體都多數同意。意見分歧，社群沒有共同立場。",
    "政府應該規範共乘平台，司機要有職業駕照與保險，乘客的安全最重要。計程車業者與平台業者。",
    "你敢同意這句話？同意。無同意。毋知。逐个意見群體攏同意。阮、恁、佇、咧、袂、毋。",
    "Lí kám tóng-ì tsit kù uē? Tâi-lô tone marks: á à â ā a̍ a̋. 台語 Tâi-gí.",
]
SPECIAL = {"pad": "<pad>", "eos": "<eos>", "bos": "<bos>", "unk": "<unk>"}
# A minimal chat template, so the critique stage's mechanics can be tested without a real chat model.
TINY_CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                      "{% if add_generation_prompt %}assistant:{% endif %}")


def build_tiny_tokenizer(vocab_size: int = 512):
    """Train a byte-level BPE tokenizer on the fixed corpus (deterministic) and wrap it for transformers."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=SPECIAL["unk"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL.values()),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=SPECIAL["pad"], eos_token=SPECIAL["eos"],
                                   bos_token=SPECIAL["bos"], unk_token=SPECIAL["unk"])


def build_tiny_test_model(folder: Path, seed: int = 0, chat: bool = False) -> Path:
    """Write a tiny random Gemma3ForCausalLM (about 100k parameters) and its tokenizer to `folder`.

    chat=True gives the tokenizer TINY_CHAT_TEMPLATE (a stand-in for an instruction-tuned model);
    the default has none, like the default base model.
    """
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    folder = Path(folder)
    tokenizer = build_tiny_tokenizer()
    if chat:
        tokenizer.chat_template = TINY_CHAT_TEMPLATE
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=32, max_position_embeddings=1024,
        sliding_window=64, layer_types=["sliding_attention", "full_attention"],
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id, tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
