"""scikit-learn's TfidfVectorizer replaced the hand-written char n-gram TF-IDF: same merges on real statements.

tests/fixtures/ngram-merges-hand-tfidf.json holds the merges the hand-written version made (complete
linkage at the n-gram threshold over every statement of each shared conversation), computed before the
change and kept as the comparison.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from assembly.constitution.dedupe import merge_duplicates
from assembly.constitution.similarity import NGRAM, ngram_vectors, similarity_matrix
from tests.conftest import ROOT, need_shared

BEFORE = json.loads((ROOT / "tests" / "fixtures" / "ngram-merges-hand-tfidf.json").read_text())


@pytest.mark.shared
@pytest.mark.parametrize("conversation", sorted(BEFORE))
def test_merges_on_real_statements_are_the_hand_written_ones(conversation):
    with open(need_shared() / conversation / "comments.csv", newline="", encoding="utf-8") as f:
        items = [(int(r["comment-id"]), r["comment-body"], 0.0) for r in csv.DictReader(f)]
    merges = merge_duplicates(items, NGRAM)
    got = sorted(sorted([m.primary] + [t for t, _ in m.merged]) for m in merges if m.merged)
    assert got == BEFORE[conversation]


def test_vectors_are_unit_rows_and_texts_without_letters_are_zero():
    v = ngram_vectors(["Uber 應該 合法", "uber應該合法!", "...", "完全不同的話題"])
    norms = np.linalg.norm(v, axis=1)
    assert np.allclose(norms[[0, 1, 3]], 1) and norms[2] == 0
    sim = similarity_matrix(["Uber 應該 合法", "uber應該合法!", "完全不同的話題"], NGRAM)
    assert sim[0, 1] > 0.6 > sim[0, 2]
    assert ngram_vectors(["!!", "??"]).tolist() == [[0.0], [0.0]]
