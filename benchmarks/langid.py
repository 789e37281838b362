"""Measure the language identifier on its held-out evaluation set: `.venv/bin/python benchmarks/langid.py`.

Prints accuracy (recall), precision and F1 per label, the confusion matrix, accuracy per hard-case
tag, GlotLID v3's published figures beside ours, and cantonesedetect against this detector on the
Cantonese and Mandarin items. `--markdown` prints the tables as they appear in docs/language.md;
`--errors` lists every miss.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finetune.evals.langid import LABELS, Detector
from finetune.evals.langid_sources import evaluation_set

GLOTLID_V3 = {"nan-Latn": {"f1": 0.998}, "nan-Hant": {"f1": 0.867, "recall": 0.766}}  # published, nan_Latn / nan_Hani


def scores(gold: list[str], pred: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        n_gold, n_pred = gold.count(label), pred.count(label)
        recall = tp / n_gold if n_gold else 0.0
        precision = tp / n_pred if n_pred else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"n": n_gold, "accuracy": recall, "precision": precision, "f1": f1}
    return out


def cantonesedetect_vs_ours(items, pred) -> dict[str, dict[str, int]]:
    """On yue and cmn items: how often each detector gives the right one of the two."""
    from cantonesedetect import CantoneseDetector

    theirs = CantoneseDetector()
    mapping = {"cantonese": "yue", "swc": "cmn", "mixed": "mixed", "neutral": "neutral"}
    out: dict[str, dict[str, int]] = {}
    for s, ours in zip(items, pred, strict=True):
        if s.label not in ("yue", "cmn"):
            continue
        row = out.setdefault(s.label, {"n": 0, "ours": 0, "cantonesedetect": 0, "cantonesedetect_undecided": 0})
        row["n"] += 1
        row["ours"] += ours == s.label
        judged = mapping.get(theirs.judge(s.text), "?")
        row["cantonesedetect"] += judged == s.label
        row["cantonesedetect_undecided"] += judged in ("mixed", "neutral")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the docs/language.md tables")
    parser.add_argument("--errors", action="store_true", help="list every misclassified item")
    args = parser.parse_args(argv)
    detector = Detector.load()
    items = evaluation_set()
    started = time.perf_counter()
    results = [detector.detect(s.text) for s in items]
    seconds = time.perf_counter() - started
    gold, pred = [s.label for s in items], [label for label, _ in results]
    per = scores(gold, pred)
    confusion = Counter(zip(gold, pred, strict=True))
    by_tag: dict[str, list[bool]] = defaultdict(list)
    for s, p in zip(items, pred, strict=True):
        for tag in s.tags or ("plain",):
            by_tag[f"{s.label}/{tag}"].append(p == s.label)
    by_source = Counter((s.source, s.label) for s in items)
    canto = cantonesedetect_vs_ours(items, pred)

    print(f"{len(items)} held-out sentences, {len(items) / seconds:.0f} sentences/s")
    print("\n| label | n | accuracy | precision | F1 | GlotLID v3 F1 (published) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label in LABELS:
        r, g = per[label], GLOTLID_V3.get(label, {})
        glot = f"{g['f1']:.3f}" + (f" (recall {g['recall']:.3f})" if "recall" in g else "") if g else "no label"
        print(f"| {label} | {r['n']} | {r['accuracy']:.3f} | {r['precision']:.3f} | {r['f1']:.3f} | {glot} |")
    overall = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    print(f"\noverall accuracy {overall:.3f}")
    print("\nconfusion matrix (rows: true label, columns: detected)\n")
    print("| true \\ detected | " + " | ".join(LABELS) + " |")
    print("|---|" + "---:|" * len(LABELS))
    for g in LABELS:
        print(f"| {g} | " + " | ".join(str(confusion[g, p]) for p in LABELS) + " |")
    print("\naccuracy by hard-case tag\n\n| label/tag | n | accuracy |\n|---|---:|---:|")
    for tag, hits in sorted(by_tag.items()):
        print(f"| {tag} | {len(hits)} | {sum(hits) / len(hits):.3f} |")
    print("\nCantonese against Mandarin: this detector and cantonesedetect 1.1\n")
    print("| true label | n | this detector | cantonesedetect | cantonesedetect mixed/neutral |")
    print("|---|---:|---:|---:|---:|")
    for label, row in sorted(canto.items()):
        print(f"| {label} | {row['n']} | {row['ours'] / row['n']:.3f} | {row['cantonesedetect'] / row['n']:.3f} "
              f"| {row['cantonesedetect_undecided']} |")
    if args.markdown:
        print("\nsources of the evaluation set\n\n| source | label | sentences |\n|---|---|---:|")
        for (source, label), n in sorted(by_source.items()):
            print(f"| {source} | {label} | {n} |")
    if args.errors:
        print("\nmisses:")
        for s, (label, conf) in zip(items, results, strict=True):
            if label != s.label:
                print(f"  {s.label} -> {label} ({conf:.2f}) [{s.source} {','.join(s.tags)}] {s.text[:80]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
