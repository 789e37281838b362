"""Group principles into themes and label each by its most distinctive terms. Deterministic.

Han text has no spaces, and character bigrams made labels of word scraps ("通部", half of
交通部). It is segmented with jieba (a maintained Chinese segmenter with part-of-speech tags),
and only nouns and noun-like verbs ("管制", "運輸") are kept as topic terms. jieba's dictionary
is Simplified Chinese, so Traditional text is segmented through its OpenCC Simplified form
(character for character) and the words are cut from the original text.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from functools import cache

from scipy.cluster.hierarchy import fcluster, linkage

from assembly.constitution.similarity import vectors

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Words that say nothing about a topic; Han bigrams that common are dropped by document frequency.
STOPWORDS = frozenset(
    """
about above after again against all also and any are because been before being below between both but can
cannot could did does doing down during each few for from further had has have having her here hers him his
how into its itself just more most must need needs not now off once only other our ours out over own same she
should some such than that the their theirs them then there these they this those through too under until very
was were what when where which while who whom why will with would you your yours should people think believe
""".split()  # noqa: SIM905 - a word list reads better as text
)
# Han fillers ("I think", "should", "can") that are common without being in half the statements.
HAN_STOP = frozenset(["我覺", "覺得", "我認", "認為", "應該", "我們", "可以", "因為", "所以", "如果", "但是", "不是",
                      "就是", "沒有", "一個", "這個", "他們", "的是", "我想", "希望", "問題", "事情", "東西"])
# jieba part-of-speech tags kept as topics: nouns (n, nr, ns, nt, nz, ...) and verbal nouns (vn).
_TOPIC_TAGS = ("n", "vn")


@cache
def _segmenter():
    """jieba's tagger and an OpenCC Traditional->Simplified converter, loaded once (about a second)."""
    import jieba
    import jieba.posseg
    import opencc

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg, opencc.OpenCC("t2s")


def han_words(run: str) -> list[str]:
    """Topic words of a Han run: nouns of two or more characters outside the filler list."""
    posseg, to_simplified = _segmenter()
    simplified = to_simplified.convert(run)
    source = simplified if len(simplified) == len(run) else run  # cut words out of the original by offset
    words, at = [], 0
    for pair in posseg.lcut(source, HMM=True):
        word = run[at : at + len(pair.word)]
        at += len(pair.word)
        if len(word) >= 2 and pair.flag.startswith(_TOPIC_TAGS) and word not in HAN_STOP:
            words.append(word)
    return words


def terms(text: str) -> list[str]:
    """Topic terms: lower-case words outside the stop list, and segmented Han nouns."""
    text = unicodedata.normalize("NFKC", text).casefold()
    out = [w for w in _WORD.findall(_HAN_RUN.sub(" ", text)) if w not in STOPWORDS]
    for run in _HAN_RUN.findall(text):
        out.extend(han_words(run))
    return out


def n_themes(n_principles: int) -> int:
    """About one theme per two to three principles' square root: 1 for 1-2, 2 for 3-8, 3 for 9-18, 4 for 19-32."""
    return max(1, min(8, math.ceil(math.sqrt(n_principles / 2))))


def assign_themes(texts: list[str], method: str) -> list[int]:
    """Theme index (0-based, in order of first appearance) per text, by Ward-linkage clustering."""
    n = len(texts)
    if n == 0:
        return []
    k = n_themes(n)
    if k == 1:
        return [0] * n
    # Ward on unit vectors (Euclidean distance is monotone in cosine) gives balanced themes, where
    # average linkage left one theme with most principles and singletons for the outliers.
    raw = fcluster(linkage(vectors(texts, method), method="ward"), t=k, criterion="maxclust")
    order: dict[int, int] = {}
    return [order.setdefault(int(label), len(order)) for label in raw]


def label_themes(theme_texts: list[list[str]], corpus: list[str], n_terms: int = 3) -> list[str]:
    """Label each theme by the terms frequent in it and rare in the whole assembly (tf x idf)."""
    df = Counter(t for text in corpus for t in set(terms(text)))
    n = max(1, len(corpus))

    labels = []
    for texts in theme_texts:
        tf = Counter(t for text in texts for t in set(terms(text)))
        if len(texts) > 1 and max(tf.values(), default=0) > 1:
            # A label should describe the theme, not one statement in it.
            tf = Counter({t: c for t, c in tf.items() if c > 1})
        # Terms in over half the assembly's statements ("我覺得", "brexit") do not tell themes apart.
        scored = sorted(
            ((count * math.log((1 + n) / (1 + df[t])), t) for t, count in tf.items() if df[t] <= n / 2),
            key=lambda x: (-x[0], x[1]),
        )
        labels.append(" · ".join(t for _, t in scored[:n_terms]) or "general")
    return labels
