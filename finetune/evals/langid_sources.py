"""Where the language identifier's training and evaluation sentences come from, and how they split.

Every sentence has a source, a licence and a split. The split is a hash of the source and the
sentence's own key (sha256 mod 10 == 0: evaluation, else training), so it is fixed, needs no
stored list, and no evaluated sentence is ever trained on. The Taigi corpus has no stated
licence, so its sentences are read from the installed package at build and benchmark time and
never shipped; only the learned weights are (see docs/language.md).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data" / "langid"
WRITTEN_PATH = DATA_DIR / "written.tsv"  # split, label, tags, text
ENGLISH_PATH = DATA_DIR / "polis_english.tsv"  # split, conversation, text
VTAIWAN_DIR = Path(__file__).resolve().parents[2] / "assembly" / "demo_data" / "vtaiwan-uberx"

LICENCES = {
    "taiwanese-speech-and-text-corpus": "unstated (Academia Sinica); used to train and measure, not shipped",
    "pycantonese/hkcancor": "CC BY 4.0 (HKCanCor, via PyCantonese)",
    "pycantonese/ctcpc": "CC0 1.0 (CTCPC, via PyCantonese)",
    "pycantonese/common_voice": "MPL 2.0 (Common Voice yue sentences, via PyCantonese)",
    "polis/vtaiwan-uberx": "CC BY 4.0, The Computational Democracy Project",
    "polis/english": "CC BY 4.0, The Computational Democracy Project",
    "written": "Apache-2.0, written for this project",
    "jieba/dict": "MIT (jieba's word list; word sequences, not sentences)",
}


@dataclass(frozen=True)
class Sentence:
    text: str
    label: str
    source: str
    tags: tuple[str, ...] = field(default=())

    @property
    def licence(self) -> str:
        return LICENCES[self.source]


def split_of(source: str, key: str) -> str:
    digest = hashlib.sha256(f"{source}\x00{key}".encode()).hexdigest()
    return "eval" if int(digest[:8], 16) % 10 == 0 else "train"


def _corpus_file() -> Path:
    try:
        dist = metadata.distribution("Taiwanese-Speech-And-Text-Corpus")
    except metadata.PackageNotFoundError as exc:
        raise FileNotFoundError("the taiwanese-speech-and-text-corpus package is not installed") from exc
    return Path(dist.locate_file("程式/全漢全羅/語料/語句文本.txt.gz"))


def taigi_corpus() -> list[list[tuple[str, str]]]:
    """Each corpus line as its (Han, tone-number Tâi-lô) word pairs, in file order.

    Lines are tokens 漢-字｜lo5-ji7; a neutral tone is written -0 (hng7-0leh4), which Tâi-lô writes
    as a double hyphen (hng7--leh4).
    """
    out = []
    with gzip.open(_corpus_file(), "rt", encoding="utf-8") as fh:
        for line in fh:
            pairs = []
            for token in line.split():
                h, _, r = token.partition("｜")
                pairs.append((h.replace("-", ""), r.replace("-0", "--").strip('"')))
            out.append(pairs)
    return out


_FULL_WIDTH = str.maketrans("，。？！：；、「」", ",.?!:;,\"\"")


def tailo_text(words: list[str], style: str, thokit) -> str:
    """Corpus words as running romanised text: 'marks' (Tâi-lô), 'numbers', 'poj' or 'plain' (no tones)."""
    text = " ".join(words)
    text = text.translate(_FULL_WIDTH)
    for punct in (" ,", " .", " ?", " !", " :", " ;"):
        text = text.replace(punct, punct[1])
    text = text.replace(" '", "'")
    if style == "marks":
        text = thokit.tailoAscii2Unicode(text)
    elif style == "poj":
        text = thokit.pojAscii2Unicode(thokit.tailoAscii2PojAscii(text))
    elif style == "plain":
        text = "".join(ch for ch in text if not ch.isdigit())
    return text[:1].upper() + text[1:]


def _hkcancor() -> list[str]:
    import pycantonese

    return ["".join(t.word for t in u.tokens) for u in pycantonese.hkcancor().utterances()]


def _pycantonese_json(name: str) -> list[str]:
    import pycantonese.data

    path = Path(pycantonese.data.__file__).parent / name / "sents.json"
    return [s.strip().strip('"“” ') for s in json.loads(path.read_text(encoding="utf-8"))]


def cantonese(want: str, judged: bool = True) -> list[tuple[str, Sentence]]:
    """(raw text, sentence) for the Cantonese of PyCantonese's corpora on the `want` side of the split.

    judged: drop what cantonesedetect calls standard written Chinese. CTCPC and Common Voice hold
    many formal sentences that are written Mandarin in all but name (新加坡與馬來西亞美食受到多民族
    文化的影響); training or scoring them as Cantonese teaches the detector that plain written
    Chinese is Cantonese. cantonesedetect (CanCLID's rule-based judge) drops those it calls `swc`;
    the comparison in docs/language.md says so. The evaluation set judges lazily (`_judged`).
    """
    judge = _judge() if judged else None
    out = []
    for source, texts in (("pycantonese/hkcancor", _hkcancor()),
                          ("pycantonese/ctcpc", _pycantonese_json("ctcpc")),
                          ("pycantonese/common_voice", _pycantonese_json("common_voice"))):
        for t in texts:
            s = Sentence(t.replace(" ", ""), "yue", source)
            if _han_count(t) >= 4 and split_of(source, s.text) == want and (judge is None or judge(t) != "swc"):
                out.append((t, s))
    return out


def _judge():
    from cantonesedetect import CantoneseDetector

    return CantoneseDetector().judge


def _han_count(text: str) -> int:
    return sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def polis_comments(folder: Path) -> list[str]:
    with (folder / "comments.csv").open(encoding="utf-8", newline="") as fh:
        return [row["comment-body"].strip() for row in csv.DictReader(fh) if row["comment-body"].strip()]


def mandarin() -> list[Sentence]:
    return [Sentence(t, "cmn", "polis/vtaiwan-uberx") for t in polis_comments(VTAIWAN_DIR)]


def english() -> list[tuple[str, Sentence]]:
    """(split, sentence) for the English Polis statements shipped beside the weights (CC BY 4.0)."""
    out = []
    for line in ENGLISH_PATH.read_text(encoding="utf-8").splitlines():
        split, _, text = line.split("\t")
        out.append((split, Sentence(text, "other", "polis/english")))
    return out


def written() -> list[tuple[str, Sentence]]:
    """(split, sentence) for the sentences written for this project; their split is set by hand."""
    out = []
    for line in WRITTEN_PATH.read_text(encoding="utf-8").splitlines():
        split, label, tags, text = line.split("\t")
        out.append((split, Sentence(text, label, "written", tuple(filter(None, tags.split(","))))))
    return out


def taigi_sentences(rng: random.Random, thokit, limit: int, want: str) -> list[Sentence]:
    """Han and romanised Taigi from the corpus split `want`, at most `limit` of each, in a fixed order.

    Romanised text comes in four forms (Tâi-lô with marks, tone numbers, POJ, toneless) so that
    the detector learns all of them; in training, one Han sentence in ten carries one word in
    Tâi-lô, as Taigi writers often mix them.
    """
    han_out, latn_out = [], []
    styles = ("marks", "marks", "numbers", "poj", "plain")
    for pairs in taigi_corpus():
        han = "".join(h for h, _ in pairs)
        if _han_count(han) < 2 or split_of("taiwanese-speech-and-text-corpus", han) != want:
            continue
        roman = [r for _, r in pairs]
        tags: tuple[str, ...] = ()
        words = [i for i, (_, r) in enumerate(pairs) if r[:1].isalpha()]
        if want == "train" and len(words) > 3 and rng.random() < 0.1:
            i = rng.choice(words)
            han = "".join(tailo_text([r], "marks", thokit) if j == i else h for j, (h, r) in enumerate(pairs))
            tags = ("mixed-script",)
        han_out.append(Sentence(han, "nan-Hant", "taiwanese-speech-and-text-corpus", tags))
        style = styles[len(latn_out) % len(styles)]
        latn_out.append(Sentence(tailo_text(roman, style, thokit), "nan-Latn",
                                 "taiwanese-speech-and-text-corpus", (style,)))
    rng.shuffle(han_out)
    rng.shuffle(latn_out)
    return han_out[:limit] + latn_out[:limit]


def _clauses(text: str) -> list[str]:
    """A long statement's clauses, as more (and shorter) Mandarin examples."""
    parts = [p.strip() for p in re.split(r"[。！？；，,.!?;\n]+", text)]
    return [p for p in parts if _han_count(p) >= 4]


def _simplified(texts: list[Sentence], every: int) -> list[Sentence]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    return [Sentence(t2s.convert(s.text), s.label, s.source, (*s.tags, "simplified"))
            for s in texts[::every]]


def mandarin_words(rng: random.Random, n: int, top: int = 40000) -> list[Sentence]:
    """Pseudo-sentences of jieba's commonest Mandarin words, sampled by frequency.

    The only Mandarin sentences on the machine are the vTaiwan statements (one topic) and those
    written for the project; without everyday vocabulary the model takes any word it has seen
    only in Cantonese conversation (熱, 累, 水果) for Cantonese. Word sequences teach it what
    standard written Chinese looks like when no dialect marker is present.
    """
    import jieba

    rows = []
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            word, freq, _ = line.split(" ")
            if _han_count(word) == len(word):
                rows.append((int(freq), word))
    rows.sort(reverse=True)
    words, weights = [w for _, w in rows[:top]], [f ** 0.5 for f, _ in rows[:top]]
    out = []
    for _ in range(n):
        text = "".join(rng.choices(words, weights, k=rng.randint(1, 8)))
        out.append(Sentence(text + rng.choice(("", "", "。", "？", "，")), "cmn", "jieba/dict"))
    return out


def training_set(per_class: int = 6000, seed: int = 0) -> list[Sentence]:
    """Every training sentence: the `train` side of each split, sampled with a fixed seed."""
    from thokit import ThoKit

    rng = random.Random(seed)
    out = taigi_sentences(rng, ThoKit(), per_class, "train")
    yue = [s for _, s in cantonese("train")]
    rng.shuffle(yue)
    out += yue[:per_class]
    cmn = [s for s in mandarin() if split_of(s.source, s.text) == "train"]
    cmn += [Sentence(c, "cmn", s.source, ("clause",)) for s in cmn for c in _clauses(s.text)]
    out += cmn + _simplified(cmn, 2) + mandarin_words(rng, per_class // 2)
    out += [s for split, s in english() if split == "train"]
    mine = [s for split, s in written() if split == "train"]
    return out + mine + _simplified([s for s in mine if s.label == "cmn"], 3)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _judged(ranked: list[tuple[str, Sentence]], n: int, judge) -> list[Sentence]:
    """The first n sentences in rank order that cantonesedetect does not call standard written Chinese."""
    out = []
    for raw, s in ranked:
        if len(out) == n:
            break
        if judge(raw) != "swc":
            out.append(s)
    return out


def evaluation_set(per_class: int = 80) -> list[Sentence]:
    """The held-out evaluation set: the written hard cases, topped up to `per_class` per label
    from each corpus's `eval` side (its first sentences by hash, so the set is fixed)."""
    from thokit import ThoKit

    def first(items: list[Sentence], n: int) -> list[Sentence]:
        return sorted(items, key=lambda s: _hash(s.text))[:max(n, 0)]

    mine = [s for split, s in written() if split == "eval"]
    count = {label: sum(s.label == label for s in mine) for label in ("nan-Hant", "nan-Latn", "cmn", "yue", "other")}
    taigi = taigi_sentences(random.Random(0), ThoKit(), 10**9, "eval")
    out = list(mine)
    for label in ("nan-Hant", "nan-Latn"):
        out += first([s for s in taigi if s.label == label], per_class - count[label])
    cmn = [s for s in mandarin() if split_of(s.source, s.text) == "eval"]
    trained = {c for s in mandarin() if split_of(s.source, s.text) == "train" for c in (s.text, *_clauses(s.text))}
    clauses = [Sentence(c, "cmn", s.source, ("clause",)) for s in cmn for c in _clauses(s.text)
               if c != s.text and c not in trained]  # a clause can recur in a training statement
    cmn += _simplified(cmn, 1) + first(clauses, len(clauses))
    out += cmn[: per_class - count["cmn"]]
    yue = [(raw, s) for raw, s in cantonese("eval", judged=False) if _han_count(s.text) >= 6]
    want, sources, judge = per_class - count["yue"], sorted({s.source for _, s in yue}), _judge()
    for i, source in enumerate(sources):  # an even share from each Cantonese corpus, first by hash
        n = want // len(sources) + (i < want % len(sources))
        ranked = sorted((r for r in yue if r[1].source == source), key=lambda r: _hash(r[1].text))
        out += _judged(ranked, n, judge)
    out += first([s for split, s in english() if split == "eval"], per_class - count["other"])
    return out
