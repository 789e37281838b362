"""Training data from a published constitution and the votes it came from (plain records in, JSONL out).

`build_dataset(DatasetInput) -> TrainingDataset`:
- SFT records (trl's prompt/completion shape) for every usable statement that is not held out:
  `consensus` (every group agrees; the constitution's principles), `agreed` (most of every group
  agrees, below the constitution's stricter bar), `rejected` (every group disagrees), `divisive`
  and `mixed` (answered by describing each group, never the majority alone), and `principle`
  (the principle in the citizens' words, per theme).
- Preference pairs (prompt/chosen/rejected) where the votes show EVERY group prefers `chosen`:
  `bridging` (a consensus statement over a statement some group backs but every group backs less)
  and `stance` (the community's answer over its opposite, where every group's majority agrees or
  every group's majority disagrees).
- A held-out share of statements, chosen from their ids (see `is_heldout`), with each statement's
  overall and per-group agree/disagree/pass shares, for the evals. Held-out statements, and the
  principles that draw on them, never enter training.
Every record names its source (principle id, statement ids, per-group figures). Only whitelisted
fields are copied, so participant ids and xids cannot leak; e-mails, URLs and phone numbers are
scrubbed and counted. Extra records (e.g. the language stage's Taigi records) come in through
`extra_sft` / `extra_preference`. The optional critique-and-revision stage (finetune/critique.py)
adds `critique` records later, in the worker, for chat models only: the default base model (270M,
not instruction-tuned) cannot follow a critique request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune import prompts
from finetune.errors import EmptyDatasetError, InvalidDatasetInputError
from finetune.files import atomic_dir, canonical_json, sha256_files
from finetune.scrub import Scrubber

FILES = ("sft.jsonl", "preference.jsonl", "heldout.jsonl")
BRIDGE_MARGIN = 0.10  # every group's agree share must be at least this much higher for `chosen`
PAIRS_PER_STATEMENT = 2


@dataclass
class DatasetInput:
    """Everything a dataset is built from, as plain data (the glue fills it from the database).

    constitution: the constitution export dict (docs/constitution.schema.json), published.
    statements: optional per-statement figures from the clustering run, each in the export's
        evidence shape {tid, text, votes: {agree, disagree, pass, seen}, groups: [{group, label,
        agree, disagree, pass, seen}]}; they replace or add to the export's own evidence by tid.
        Moderated-out statements must not be passed (the export's `moderated_out` are skipped).
    groups: optional [{id, label, size, representative: [tid, ...]}]; default: the export's groups.
    language: BCP 47 tag; default: the export's assembly.language.
    heldout_share: share of statements held out for the evals, 0 <= share < 1.
    extra_sft / extra_preference: extra records {prompt, completion | chosen, rejected, kind,
        source}, scrubbed like the rest and counted under their kind.
    allow_draft: build from a draft constitution (previews only; training wants a published one).
    extra_report: what the extra records' builder says about them (e.g. `human_rating`: the
        rating rounds their preference pairs came from, with counts), added to the report under
        its own keys so the facilitator reviews it with the rest.
    """

    constitution: dict[str, Any]
    statements: list[dict[str, Any]] | None = None
    groups: list[dict[str, Any]] | None = None
    language: str | None = None
    heldout_share: float = 0.2
    extra_sft: list[dict[str, Any]] = field(default_factory=list)
    extra_preference: list[dict[str, Any]] = field(default_factory=list)
    allow_draft: bool = False
    extra_report: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingDataset:
    """The records, the held-out statements, the report and the provenance of one dataset."""

    sft: list[dict[str, Any]]
    preference: list[dict[str, Any]]
    heldout: list[dict[str, Any]]
    report: dict[str, Any]
    provenance: dict[str, Any]
    language: str  # the assembly's BCP 47 tag
    groups: list[dict[str, Any]]

    def jsonl(self, name: str) -> bytes:
        """Canonical JSONL of one of FILES: one canonical JSON object per line, UTF-8."""
        rows = {"sft.jsonl": self.sft, "preference.jsonl": self.preference, "heldout.jsonl": self.heldout}[name]
        return "".join(canonical_json(r) + "\n" for r in rows).encode("utf-8")

    @property
    def sha256(self) -> str:
        """sha256 of `sha256sum sft.jsonl preference.jsonl heldout.jsonl` (see files.sha256_files)."""
        lines = "".join(f"{hashlib.sha256(self.jsonl(n)).hexdigest()}  {n}\n" for n in sorted(FILES))
        return hashlib.sha256(lines.encode()).hexdigest()

    def write_jsonl(self, folder: Path) -> Path:
        """Write FILES plus manifest.json (report, provenance, hashes) atomically into `folder`."""
        folder = Path(folder)
        with atomic_dir(folder) as tmp:
            for name in FILES:
                (tmp / name).write_bytes(self.jsonl(name))
            assert sha256_files([tmp / n for n in FILES]) == self.sha256
            manifest = {"sha256": self.sha256, "language": self.language, "provenance": self.provenance,
                        "report": self.report, "groups": self.groups}
            (tmp / "manifest.json").write_text(canonical_json(manifest) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def read_jsonl(cls, folder: Path) -> TrainingDataset:
        """Load a folder written by write_jsonl, refusing it when a file no longer matches its hash."""
        import json

        folder = Path(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            rows = {n: [json.loads(line) for line in (folder / n).read_text(encoding="utf-8").splitlines()]
                    for n in FILES}
        except (OSError, ValueError) as exc:
            raise InvalidDatasetInputError(f"{folder} is not a dataset folder written by write_jsonl: {exc}") from exc
        ds = cls(sft=rows["sft.jsonl"], preference=rows["preference.jsonl"], heldout=rows["heldout.jsonl"],
                 report=manifest["report"], provenance=manifest["provenance"], language=manifest["language"],
                 groups=manifest["groups"])
        if ds.sha256 != manifest["sha256"]:
            raise InvalidDatasetInputError(f"{folder}: the JSONL files do not match the manifest's sha256")
        return ds


def is_heldout(slug: str, tid: int | str, share: float) -> bool:
    """Deterministic hold-out: sha256("SLUG:TID") read as a number in [0, 1) is below `share`.

    Depends only on the assembly and the statement id, so a statement stays held out in every
    constitution version and every run, and the evals always see the same split.
    """
    digest = hashlib.sha256(f"{slug}:{tid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def build_dataset(inp: DatasetInput) -> TrainingDataset:
    """Build SFT records, preference pairs and the held-out split from a constitution and its votes."""
    doc = _validated(inp)
    scrub = Scrubber()
    language = inp.language or doc["assembly"]["language"]
    lang = prompts.template_language(language)
    slug = doc["assembly"]["slug"]
    question = scrub.text(doc["assembly"].get("question") or "")
    groups = _groups(inp, doc)
    labels = {g["id"]: g["label"] for g in groups}
    stmts, principle_of = _statements(inp, doc, labels, scrub)
    mins = doc["process"]["consensus"]
    # A principle is held out with any of its statements, so a near-duplicate never trains on a held-out one.
    held_principles = {principle_of[t] for t in stmts if t in principle_of and is_heldout(slug, t, inp.heldout_share)}
    report: dict[str, Any] = {"statements": {}, "skipped": {}, "notes": []}
    if lang == "en" and not language.lower().startswith("en"):
        report["notes"].append(f"no templates for {language!r}; records are in English")
    usable: dict[int, dict[str, Any]] = {}
    heldout: list[dict[str, Any]] = []
    for tid, s in sorted(stmts.items()):
        kind = _kind(s, tid in principle_of, mins)
        report["statements"][kind] = report["statements"].get(kind, 0) + 1
        if kind == "too_few_votes":
            continue
        s["kind"] = kind
        if is_heldout(slug, tid, inp.heldout_share) or principle_of.get(tid) in held_principles:
            heldout.append(_heldout_row(s, principle_of.get(tid), groups))
        else:
            usable[tid] = s
    sft = [_stance_record(s, question, lang, principle_of.get(t)) for t, s in usable.items()]
    sft += _principle_records(doc, held_principles, labels, question, lang, scrub)
    preference = _stance_pairs(usable, question, lang, principle_of) + _bridging_pairs(usable, question, lang)
    sft += [_extra(r, ("prompt", "completion"), scrub) for r in inp.extra_sft]
    preference += [_extra(r, ("prompt", "chosen", "rejected"), scrub) for r in inp.extra_preference]
    if not sft:
        raise EmptyDatasetError(
            f"nothing to train on: of {len(stmts)} statements none has enough votes outside the held-out "
            f"share ({len(heldout)} held out). Collect more votes or lower the held-out share.")
    report.update(count_records(sft, preference, heldout), scrubbed=scrub.report(), language=language,
                  template_language=lang, heldout_share=inp.heldout_share,
                  heldout_tids=[h["tid"] for h in heldout], samples=_samples(sft, preference))
    clash = sorted(set(inp.extra_report) & set(report))
    if clash:
        raise InvalidDatasetInputError(f"extra_report may not replace the report's own keys: {clash}")
    report.update(inp.extra_report)
    return TrainingDataset(sft=sft, preference=preference, heldout=heldout, report=report,
                           provenance=_provenance(doc), language=language, groups=groups)


def _validated(inp: DatasetInput) -> dict[str, Any]:
    doc = inp.constitution
    if not isinstance(doc, dict) or not {"assembly", "version", "process", "principles", "excluded"} <= set(doc):
        raise InvalidDatasetInputError("not a constitution export: expected the JSON of docs/constitution.schema.json")
    if doc["version"].get("status") != "published" and not inp.allow_draft:
        raise InvalidDatasetInputError("the constitution is not published yet: publish a version before training")
    if not 0 <= inp.heldout_share < 1:
        raise InvalidDatasetInputError(f"heldout_share must be in [0, 1), got {inp.heldout_share!r}")
    return doc


def _groups(inp: DatasetInput, doc: dict[str, Any]) -> list[dict[str, Any]]:
    src = inp.groups if inp.groups is not None else doc["process"]["clustering"]["groups"]
    out = []
    for g in src:
        if "id" not in g:
            raise InvalidDatasetInputError(f"group without an id: {g!r}")
        out.append({"id": int(g["id"]), "label": str(g.get("label", g["id"])), "size": int(g.get("size", 0)),
                    "representative": [int(t) for t in g.get("representative", [])]})
    if not out:
        raise InvalidDatasetInputError("the clustering run has no opinion groups")
    return sorted(out, key=lambda g: g["id"])


def _statements(inp, doc, labels, scrub) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    """tid -> whitelisted, scrubbed figures; and tid -> principle id for principles' statements."""
    raw: dict[int, dict[str, Any]] = {}
    principle_of: dict[int, str] = {}
    for p in doc["principles"]:
        for ev in p["statements"]:
            raw[int(ev["tid"])] = ev
            principle_of[int(ev["tid"])] = p["id"]
    for ex in doc["excluded"]:
        if ex["reason"] != "moderated_out":
            raw[int(ex["tid"])] = ex["evidence"]
    for ev in inp.statements or []:
        raw[int(ev["tid"])] = ev
    return {tid: _clean(ev, labels, scrub) for tid, ev in raw.items()}, principle_of


def _clean(ev: dict[str, Any], labels: dict[int, str], scrub: Scrubber) -> dict[str, Any]:
    """Copy only the documented fields (never author, pid or xid) and scrub the text."""
    try:
        figs = {int(g["group"]): _counts_of(g) for g in ev["groups"]}
        out = {"tid": int(ev["tid"]), "text": scrub.text(str(ev["text"])), "votes": _counts_of(ev["votes"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidDatasetInputError(
            f"statement figures not in the export's evidence shape: {exc!r} in {ev!r}") from exc
    out["groups"] = [{"group": g, "label": labels.get(g, str(g)), **figs.get(g, _counts_of({}))} for g in labels]
    return out


def _counts_of(c: dict[str, Any]) -> dict[str, int]:
    a, d, p = (int(c.get(k, 0)) for k in ("agree", "disagree", "pass"))
    if min(a, d, p) < 0:
        raise InvalidDatasetInputError(f"negative vote count in {c!r}")
    return {"agree": a, "disagree": d, "pass": p, "seen": a + d + p}


def _kind(s: dict[str, Any], in_principle: bool, mins: dict[str, Any]) -> str:
    """consensus (a principle's statement), agreed, rejected, divisive, mixed or too_few_votes.

    `agreed`: most of every group agrees, but the constitution's stricter rule (GIC, floor) left it out.
    `divisive` is the constitution's rule: most of some group agrees while another group has more
    disagree than agree votes.
    """
    if in_principle:
        return "consensus"
    thin = s["votes"]["seen"] < mins.get("min_votes", 0) or any(
        f["seen"] < mins.get("min_group_votes", {}).get(str(f["group"]), 1) for f in s["groups"])
    if thin:
        return "too_few_votes"
    positions = {prompts.group_position(f) for f in s["groups"]}
    if positions == {"disagree"}:
        return "rejected"
    if positions == {"agree"}:
        return "agreed"
    if "agree" in positions and positions & {"disagree", "lean_disagree"}:
        return "divisive"
    return "mixed"


def _shares(c: dict[str, int]) -> dict[str, Any]:
    n = c["seen"]
    return {**c, **{f"{k}_share": (c[k] / n if n else None) for k in ("agree", "disagree", "pass")}}


def _heldout_row(s, principle, groups) -> dict[str, Any]:
    sizes = {g["id"]: g["size"] for g in groups}
    return {"tid": s["tid"], "text": s["text"], "kind": s["kind"], "principle": principle,
            "overall": _shares(s["votes"]),
            "groups": [{"group": f["group"], "label": f["label"], "size": sizes.get(f["group"], 0),
                        **_shares({k: f[k] for k in ("agree", "disagree", "pass", "seen")})} for f in s["groups"]]}


def _source(s, principle) -> dict[str, Any]:
    return {"principle": principle, "tids": [s["tid"]],
            "figures": [{"tid": s["tid"], "votes": s["votes"], "groups": s["groups"]}]}


def _stance_record(s, question, lang, principle) -> dict[str, Any]:
    kind = s["kind"]
    if kind in ("consensus", "agreed", "rejected"):
        completion = prompts.consensus_completion(s["groups"], lang, agree=kind != "rejected")
    else:
        completion = prompts.differ_completion(s["groups"], lang)
    return {"prompt": prompts.stance_prompt(s["text"], question, lang), "completion": completion,
            "kind": kind, "source": _source(s, principle)}


def _principle_records(doc, held, labels, question, lang, scrub) -> list[dict[str, Any]]:
    themes = {t["id"]: scrub.text(t["label"]) for t in doc.get("themes", [])}
    out = []
    for p in doc["principles"]:
        if p["id"] in held:
            continue
        ev = [_clean(e, labels, scrub) for e in p["statements"]]
        out.append({"prompt": prompts.principle_prompt(themes.get(p["theme"], p["theme"]), question, lang),
                    "completion": prompts.principle_completion(scrub.text(p["text"]), ev[0]["groups"], lang),
                    "kind": "principle",
                    "source": {"principle": p["id"], "tids": [e["tid"] for e in ev],
                               "figures": [{"tid": e["tid"], "votes": e["votes"], "groups": e["groups"]} for e in ev]}})
    return out


def _stance_pairs(usable, question, lang, principle_of) -> list[dict[str, Any]]:
    """Where every group's majority agrees (or disagrees), that answer is chosen: every group prefers it."""
    out = []
    for s in usable.values():
        if s["kind"] not in ("consensus", "agreed", "rejected"):
            continue
        agree = s["kind"] != "rejected"
        out.append({"prompt": prompts.stance_prompt(s["text"], question, lang),
                    "chosen": prompts.consensus_completion(s["groups"], lang, agree=agree),
                    "rejected": prompts.consensus_completion(s["groups"], lang, agree=not agree),
                    "kind": "stance", "source": _source(s, principle_of.get(s["tid"]))})
    return out


def _bridging_pairs(usable, question, lang) -> list[dict[str, Any]]:
    """Consensus statement over another statement when EVERY group's agree share is higher for it.

    Among the statements every group likes less, the closest calls come first (smallest worst-group
    margin), preferring divisive ones: they teach the bridge over the partisan answer.
    """
    def share(s, i):
        f = s["groups"][i]
        return f["agree"] / f["seen"] if f["seen"] else 0.0

    out = []
    others = [s for s in usable.values() if s["kind"] not in ("consensus", "agreed")]
    for c in (s for s in usable.values() if s["kind"] == "consensus"):
        ranked = []
        for r in others:
            margins = [share(c, i) - share(r, i) for i in range(len(c["groups"]))]
            if min(margins) >= BRIDGE_MARGIN:
                ranked.append((r["kind"] != "divisive", min(margins), r["tid"], r, margins))
        for _, _, _, r, margins in sorted(ranked, key=lambda x: x[:3])[:PAIRS_PER_STATEMENT]:
            out.append({"prompt": prompts.bridge_prompt(question, lang),
                        "chosen": prompts.bridge_answer(c["text"], lang),
                        "rejected": prompts.bridge_answer(r["text"], lang), "kind": "bridging",
                        "source": {"principle": None, "tids": [c["tid"], r["tid"]],
                                   "margins": {f["label"]: round(m, 4)
                                               for f, m in zip(c["groups"], margins, strict=True)},
                                   "figures": [{"tid": x["tid"], "votes": x["votes"], "groups": x["groups"]}
                                               for x in (c, r)]}})
    return out


def _extra(r: dict[str, Any], keys: tuple[str, ...], scrub: Scrubber) -> dict[str, Any]:
    missing = [k for k in keys if not isinstance(r.get(k), str) or not r[k]]
    if missing or not isinstance(r.get("source", {}), dict):
        raise InvalidDatasetInputError(f"extra record needs text fields {list(keys)} and a source dict: {r!r}")
    return {**{k: scrub.text(r[k]) for k in keys}, "kind": str(r.get("kind", "extra")),
            "source": r.get("source", {})}


def count_records(sft, preference, heldout) -> dict[str, Any]:
    """The report's `counts` section: records per kind (the critique stage recounts with its records)."""
    def by_kind(rows):
        out: dict[str, int] = {}
        for r in rows:
            out[r["kind"]] = out.get(r["kind"], 0) + 1
        return out
    return {"counts": {"sft": by_kind(sft), "preference": by_kind(preference), "heldout": len(heldout),
                       "sft_total": len(sft), "preference_total": len(preference)}}


def _samples(sft, preference, per_kind: int = 2) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sft + preference:
        key = ("sft:" if "completion" in r else "preference:") + r["kind"]
        if len(out.setdefault(key, [])) < per_kind:
            out[key].append({k: v for k, v in r.items() if k != "source"})
    return out


def _provenance(doc) -> dict[str, Any]:
    clustering, snap = doc["process"]["clustering"], doc["process"]["vote_snapshot"]
    return {"assembly": doc["assembly"]["slug"], "constitution_version": doc["version"]["number"],
            "constitution_status": doc["version"]["status"], "constitution_hash": doc["content_hash"],
            "clustering_run_id": clustering.get("run_id"), "clustering_hash": clustering.get("hash"),
            "vote_snapshot_sha256": snap["sha256"], "vote_snapshot_count": snap["count"]}
