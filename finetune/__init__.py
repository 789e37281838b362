"""Training data, LoRA adapters and evals built from a community constitution; no Flask, no database.

Public API (heavy libraries are imported inside the functions that need them):
- base_models: resolve(name_or_path, cache_dir) -> BaseModel, load(base) -> (model, tokenizer)
- data: build_dataset(DatasetInput) -> TrainingDataset (.sft, .preference, .heldout, .report, .sha256)
- config / train: TrainConfig, train(base, dataset, cfg, out_dir, ...) -> TrainResult
- card: render_card, update_card_model_index; generate: generate, logits
- errors: FinetuneError and its subclasses, each with a message for the user
"""
