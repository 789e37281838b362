"""The adapter's model card (README.md): Hugging Face metadata in YAML, then what engineers must know.

The metadata follows the Hub's model-card spec (library_name: peft, base_model, base_model_relation:
adapter, language, license, tags, datasets). The evals stage adds `model-index` and a results table
with `update_card_model_index`; until then the card says that no eval has run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from finetune.base_models import BaseModel

EVALS_START, EVALS_END = "<!-- evals:start -->", "<!-- evals:end -->"
_NO_EVALS = "No eval report yet. The platform's evals write their results here and into `model-index`."


def hub_language(bcp47: str) -> str:
    """The primary subtag of a BCP 47 tag (zh-Hant-TW -> zh), which the Hub's `language` field expects."""
    return (bcp47 or "und").split("-")[0].lower()


def render_card(record: dict[str, Any], base: BaseModel, dataset, community: dict[str, Any]) -> str:
    """README.md text for an adapter folder from its TrainResult dict, base model and dataset."""
    import yaml

    prov, cfg, rep = record["provenance"], record["config"], dataset.report
    slug = prov.get("assembly") or community.get("slug", "assembly")
    version = prov.get("constitution_version")
    title = community.get("title") or slug
    url = community.get("constitution_url")
    meta = {
        "library_name": "peft", "base_model": base.hub_id or base.name, "base_model_relation": "adapter",
        "language": [hub_language(dataset.language)], "license": base.license,
        "tags": ["lora", "peft", "trl", *cfg["method"].split("+"), "alignment-assembly", "community-constitution"],
        "datasets": [f"{slug}/constitution-v{version}"], "pipeline_tag": "text-generation",
    }
    curve = record["loss_curve"]
    loss = f"{curve[0]['loss']:.4f} → {curve[-1]['loss']:.4f}" if curve else "n/a"
    counts = rep["counts"]
    link = f"[version {version}]({url})" if url else f"version {version}"
    gemma = base.license == "gemma"
    lines = [
        "---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        f"# {title}: community LoRA adapter", "",
        f"A LoRA adapter for **{base.name}**, trained by the alignment-assembly platform from the published "
        f"constitution of the assembly **{title}** (`{slug}`) and the votes behind it. Its purpose is to carry "
        "the community's consensus positions, and to describe its disagreements as disagreements, in the "
        f"assembly's language ({dataset.language}).", "",
        "## Community and constitution", "",
        f"- Constitution {link}, content hash `{prov.get('constitution_hash')}`",
        f"- Clustering run `{prov.get('clustering_run_id')}` (hash `{prov.get('clustering_hash')}`), "
        f"{len(dataset.groups)} opinion groups",
        f"- Vote snapshot: {prov.get('vote_snapshot_count')} votes, sha256 `{prov.get('vote_snapshot_sha256')}`",
        *[f"- {k}: `{v}`" for k, v in prov.items() if k not in _SHOWN], "",
        "## Data", "",
        f"Dataset sha256 `{record['dataset_sha256']}` (`sha256sum sft.jsonl preference.jsonl heldout.jsonl | "
        "sha256sum` over the platform's JSONL export).", "",
        "| kind | records |", "|---|---|",
        *[f"| SFT: {k} | {n} |" for k, n in sorted(counts["sft"].items())],
        *[f"| preference: {k} | {n} |" for k, n in sorted(counts["preference"].items())],
        f"| held out for evals (never trained on) | {counts['heldout']} statements |", "",
        "SFT records answer each statement as the community holds it; divisive statements are answered by "
        "describing how each opinion group differs. Preference pairs prefer the answer that every opinion group "
        "prefers by its votes. Scrubbed from participants' text: "
        + ", ".join(f"{n} {k}" for k, n in rep["scrubbed"].items()) + ". No participant ids are in the data.", "",
        *_language_note(dataset, prov),
        "## Base model and licence", "",
        f"- Base model: `{base.name}` ({base.source}), weights sha256 `{base.weights_sha256}`",
        f"- Licence: `{base.license}`. {base.license_note}",
        *(["- The Gemma Terms of Use apply to this adapter and to any use of it with Gemma."] if gemma else []), "",
        "## Training", "",
        f"- Method: {cfg['method']} with LoRA (r={cfg['lora_r']}, alpha={cfg['lora_alpha']}, dropout="
        f"{cfg['lora_dropout']}, modules {', '.join(cfg['target_modules'])}) through trl",
        f"- Steps per stage: {cfg['max_steps']}, batch {cfg['batch_size']} × accumulation {cfg['grad_accumulation']}, "
        f"learning rate {cfg['learning_rate']}, max length {cfg['max_length']}, packing {cfg['packing']}, "
        f"seed {cfg['seed']}",
        f"- Loss {loss}; {record['tokens_seen']} tokens in {record['wall_time_s']:.0f} s "
        f"({record['tokens_per_s']} tokens/s) on {record['device']}",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in record["library_versions"].items()), "",
        "## Use", "",
        "```python", "from peft import PeftModel", "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
        "base = AutoModelForCausalLM.from_pretrained(BASE_DIR)  # the base model above, converted to safetensors",
        "model = PeftModel.from_pretrained(base, ADAPTER_DIR)",
        "tokenizer = AutoTokenizer.from_pretrained(ADAPTER_DIR)",
        "```", "",
        "The platform converts the base model once with `finetune.base_models.resolve(NAME, CACHE_DIR)`; "
        "loading the same folder gives the same logits as the platform.", "",
        "## Intended use and limits", "",
        "- Intended use: research and deployment experiments on how a model represents this community's "
        "consensus and its disagreements, with the community's own evals.",
        "- It reflects the people who took part and the statements they voted on, at the time of the vote "
        "snapshot; it does not speak for anyone else, and groups' shares are estimates from their votes.",
        "- A small base model: answers can be wrong, invented or off-topic; check the eval report before use.",
        "- Not for decisions about people, and not a substitute for asking the community.", "",
        "## Evaluation", "", EVALS_START, _NO_EVALS, EVALS_END, "",
    ]
    return "\n".join(lines)


def _language_note(dataset, prov: dict[str, Any]) -> list[str]:
    """The Taigi records' section (why they are in, what they are, how the CC BY-ND dictionary was used);
    none without them."""
    from finetune.taigi_data import card_note

    records = [r for r in dataset.sft if isinstance(r.get("source"), dict) and r["source"].get("language_stage")]
    note = card_note(records, str(prov.get("taigi_records_why") or ""))
    return [note.rstrip(), ""] if note else []


_SHOWN = {"assembly", "constitution_version", "constitution_hash", "clustering_run_id", "clustering_hash",
          "vote_snapshot_count", "vote_snapshot_sha256"}


def write_card(folder: Path, record: dict[str, Any], base: BaseModel, dataset, community: dict[str, Any]) -> Path:
    """Write README.md into an adapter folder (inside the atomic write of the folder)."""
    path = Path(folder) / "README.md"
    path.write_text(render_card(record, base, dataset, community), encoding="utf-8")
    return path


def update_card_model_index(adapter_dir: str | os.PathLike, model_index: list[dict[str, Any]], table_md: str) -> Path:
    """Put the evals' `model-index` into the card's metadata and `table_md` into its Evaluation section."""
    import yaml

    path = Path(adapter_dir) / "README.md"
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n") or EVALS_START not in text or EVALS_END not in text:
        raise ValueError(f"{path} is not a card written by finetune.card (no metadata or evals markers)")
    _, head, body = text.split("---\n", 2)
    meta = yaml.safe_load(head) or {}
    meta["model-index"] = model_index
    before, rest = body.split(EVALS_START, 1)
    after = rest.split(EVALS_END, 1)[1]
    new = ("---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + before + EVALS_START
           + "\n" + table_md.strip() + "\n" + EVALS_END + after)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return path
