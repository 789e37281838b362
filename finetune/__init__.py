"""Training data, LoRA adapters and evals built from a community constitution; no Flask."""
