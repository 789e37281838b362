"""Train the language identifier and write its weights: `.venv/bin/python scripts/build_langid.py`.

Reads the training side of every source (finetune/evals/langid_sources.py), computes the
detector's own features (finetune/evals/langid.py), fits a multinomial logistic regression with
scikit-learn, and writes finetune/evals/data/langid/weights.json.gz. Deterministic: the same
sources give the same file. Takes well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finetune.evals.langid import LABELS, WEIGHTS_PATH, LangIdError, check_text, features
from finetune.evals.langid_sources import LICENCES, training_set

C = 10.0  # inverse regularisation (weak: the features are already normalised)
MIN_COUNT = 2  # features seen fewer times than this in training are dropped
PRUNE = 0.02  # weights rows whose largest |weight| is below this are not shipped


def judgeable(text: str) -> bool:
    try:
        check_text(text)
    except LangIdError:
        return False
    return True


def fit(sentences, c: float = C):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [features(check_text(s.text)) for s in sentences]  # judgeable() has filtered them
    seen = Counter(k for row in rows for k in row)
    rows = [{k: v for k, v in row.items() if seen[k] >= MIN_COUNT} for row in rows]
    vec = DictVectorizer()
    x = vec.fit_transform(rows)
    y = [LABELS.index(s.label) for s in sentences]
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, tol=1e-4)
    model.fit(x, y)
    return vec, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--per-class", type=int, default=6000, help="corpus sentences per label (default 6000)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sentences = [s for s in training_set(per_class=args.per_class) if judgeable(s.text)]
    vec, model = fit(sentences)
    weights = {}
    for j, name in enumerate(vec.feature_names_):
        row = [round(float(w), 3) for w in model.coef_[:, j]]
        if max(abs(w) for w in row) >= PRUNE:
            weights[name] = row
    digest = hashlib.sha256("\n".join(f"{s.label}\t{s.text}" for s in sentences).encode()).hexdigest()
    by_source = sorted(Counter(s.source for s in sentences).items())
    meta = {
        "trained_on": {f"{src} ({LICENCES[src]})": n for src, n in by_source},
        "per_label": dict(Counter(s.label for s in sentences)),
        "training_sha256": digest,
        "C": C, "min_count": MIN_COUNT, "prune": PRUNE,
        "libraries": {p: metadata.version(p) for p in ("scikit-learn", "taibun", "thokit", "opencc")},
    }
    data = {"labels": list(LABELS), "intercept": [round(float(b), 4) for b in model.intercept_],
            "weights": dict(sorted(weights.items())), "meta": meta}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    tmp = args.out.with_suffix(".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(payload)
    tmp.replace(args.out)
    print(f"trained on {len(sentences)} sentences {meta['per_label']} in {time.perf_counter() - started:.1f} s; "
          f"{len(weights)} feature rows -> {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
