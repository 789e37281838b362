"""Tell Taigi (Han or romanised) from Mandarin, Cantonese and everything else.

Off-the-shelf detectors either have no Min Nan label (fastText lid.176, lingua) or miss a quarter
of Han-script Taigi (GlotLID v3, nan_Hani recall 0.766). This one is a multinomial logistic
regression over features the field's libraries give:

- opencc folds Simplified into Taiwan Traditional, so both scripts meet the same weights;
- taibun (the Ministry of Education's Taiwanese dictionary) says which Han characters and words
  have a Taigi reading: 們, 嗎, 吃 have none, and that absence is evidence in itself;
- thokit folds Pe̍h-ōe-jī and Tâi-lô, tone marks and tone numbers, into one ASCII Tâi-lô form;
- character n-grams, so marker words (毋 袂 佇 / 咗 嘅 喺 / 們 嗎 不要) get weights learned
  from data, not guessed.

The weights are trained by `scripts/build_langid.py` (a few seconds) and shipped as a small
gzipped JSON, so detection needs no corpus at run time. See docs/language.md.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

LABELS = ("nan-Hant", "nan-Latn", "cmn", "yue", "other")
WEIGHTS_PATH = Path(__file__).parent / "data" / "langid" / "weights.json.gz"
MAX_CHARS = 4000  # longer texts are judged on their first MAX_CHARS characters
TAIGI_LABELS = frozenset({"nan-Hant", "nan-Latn"})

_COMBINING_NAMES = {  # marks that tell Tâi-lô/POJ tone marks from Vietnamese and the rest
    "\u0300": "grave", "\u0301": "acute", "\u0302": "circumflex", "\u0304": "macron",
    "\u030d": "vline", "\u030b": "dacute", "\u0306": "breve", "\u0303": "tilde",
    "\u0309": "hook", "\u0323": "dotbelow", "\u031b": "horn", "\u0358": "dotright",
    "\u0308": "diaeresis", "\u0327": "cedilla", "\u030c": "caron",
}
_LATIN = "A-Za-z\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff\u207f"  # letters, combining marks, ⁿ
_LATIN_WORD = re.compile(f"[{_LATIN}]+[0-9]?(?:-{{1,2}}[{_LATIN}]+[0-9]?)*")
_SYLLABLE = re.compile(
    r"^(ph|p|m|b|th|t|n|l|kh|k|ng|g|h|tsh|ts|s|j)?"
    r"(a|e|i|o|u|m|ng)"
    r"[aeiou]*(nn)?(m|n|ng|p|t|k|h)?[0-9]?$"
)


class LangIdError(ValueError):
    """The text cannot be judged (empty, not text, no letters); the message says why."""


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3134F
            or 0xF900 <= cp <= 0xFAFF)


def _script(ch: str) -> str:
    if _is_han(ch):
        return "han"
    cp = ord(ch)
    if 0x3040 <= cp <= 0x30FF:
        return "kana"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF:
        return "hangul"
    if ch.isalpha():
        base = unicodedata.name(ch, "")
        return "latin" if base.startswith("LATIN") else "otheralpha"
    if unicodedata.category(ch).startswith("M"):
        return "mark"
    return ""


@lru_cache(maxsize=1)
def _tools():
    """The libraries, loaded once: opencc (s2tw), taibun's dictionary and tokeniser, thokit."""
    import opencc
    from taibun.taibun import Tokeniser, word_dict
    from thokit import ThoKit

    return opencc.OpenCC("s2tw"), Tokeniser(), word_dict, ThoKit()


def check_text(text: object) -> str:
    """The text to judge, or LangIdError saying why it cannot be judged."""
    if not isinstance(text, str):
        raise LangIdError(f"expected text, got {type(text).__name__}")
    if "\x00" in text:
        raise LangIdError("binary data (NUL byte), not text")
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise LangIdError("empty text")
    if not any(_script(ch) for ch in text[:MAX_CHARS]):
        raise LangIdError("no letters or characters to judge (only digits, punctuation or symbols)")
    return text[:MAX_CHARS]


def to_tailo_ascii(word: str) -> str:
    """One romanised word as lower-case ASCII Tâi-lô with tone numbers, whatever it came as.

    POJ letters (ch, o͘, oa, ek) become Tâi-lô (ts, oo, ua, ik) and tone marks become numbers.
    Words that are not Taigi go through the same folding; the model learns what that yields.
    """
    _, _, _, thokit = _tools()
    word = unicodedata.normalize("NFC", word)
    try:
        if "\u0358" in unicodedata.normalize("NFD", word) or "ch" in word.lower() or "ⁿ" in word:
            word = thokit.pojUnicode2TailoUnicode(word)
        return thokit.tailoUnicode2Ascii(word).lower()
    except Exception:  # thokit raises on shapes it does not know; fall back to plain folding
        nfd = unicodedata.normalize("NFD", word)
        return "".join(ch for ch in nfd if not unicodedata.category(ch).startswith("M")).lower()


def features(text: str) -> dict[str, float]:
    """The sparse features of one checked text (see `check_text`); training and detection share them."""
    s2tw, tokeniser, word_dict, _ = _tools()
    # Script shares in units that weigh alike: a Han character, a kana or hangul syllable, or a
    # whole Latin word (so one English brand name does not outweigh a Han sentence).
    words = _LATIN_WORD.findall(text)
    scripts = Counter(_script(ch) for ch in text)
    scripts["latin"] = len(words)
    units = sum(n for k, n in scripts.items() if k and k != "mark") or 1
    feats: dict[str, float] = {f"script:{k}": n / units for k, n in scripts.items() if k and k != "mark"}
    feats["bias:short"] = 1.0 if units <= 4 else 0.0

    # Han characters: Traditional (Taiwan) form, character 1- and 2-grams, taibun coverage.
    han_text = s2tw.convert(text) if scripts["han"] else ""
    runs = re.findall(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+", han_text)
    grams: Counter[str] = Counter()
    n_han = no_reading = in_words = 0
    for run in runs:
        padded = f"^{run}$"
        grams.update(f"c1:{ch}" for ch in run)
        grams.update(f"c2:{padded[i:i + 2]}" for i in range(len(padded) - 1))
        for token in tokeniser.tokenise(run):
            n_han += len(token)
            if token not in word_dict:
                no_reading += sum(1 for ch in token if ch not in word_dict)
            elif len(token) > 1:
                in_words += len(token)
    if n_han:
        feats["taibun:no_reading"] = no_reading / n_han
        feats["taibun:any_no_reading"] = 1.0 if no_reading else 0.0
        feats["taibun:in_words"] = in_words / n_han

    # Latin words: fold to ASCII Tâi-lô, then word and character 3-gram features and syllable shape.
    if words:
        marks = Counter(_COMBINING_NAMES.get(ch, "othermark")
                        for w in words for ch in unicodedata.normalize("NFD", w)
                        if unicodedata.category(ch).startswith("M"))
        n_letters = sum(len(w) for w in words)
        for name, n in marks.items():
            feats[f"mark:{name}"] = min(1.0, 4 * n / n_letters)
        syllables = valid = tone_numbers = 0
        for w in words:
            folded = to_tailo_ascii(w)
            grams[f"w:{folded}"] += 1
            padded = f"<{folded}>"
            grams.update(f"l3:{padded[i:i + 3]}" for i in range(len(padded) - 2))
            for syl in filter(None, folded.split("-")):
                syllables += 1
                valid += bool(_SYLLABLE.match(syl))
            tone_numbers += bool(re.search(r"[a-z][1-9]\b", w))
        feats["latin:tailo_syllables"] = valid / max(syllables, 1)
        feats["latin:hyphenated"] = sum("-" in w for w in words) / len(words)
        feats["latin:tone_numbers"] = tone_numbers / len(words)
    norm = math.sqrt(sum(v * v for v in grams.values())) or 1.0
    feats.update({k: v / norm for k, v in grams.items()})
    return feats


class Detector:
    """A trained model: labels, intercepts and a weight row per feature (features missing from it weigh 0)."""

    def __init__(self, labels: list[str], intercept: list[float], weights: dict[str, list[float]],
                 meta: dict | None = None) -> None:
        if tuple(labels) != LABELS:
            raise ValueError(f"weights are for labels {labels}, expected {list(LABELS)}")
        self.labels, self.intercept, self.weights, self.meta = list(labels), intercept, weights, meta or {}

    @classmethod
    def load(cls, path: Path | str = WEIGHTS_PATH) -> Detector:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: rebuild it with `python scripts/build_langid.py`")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        return cls(data["labels"], data["intercept"], data["weights"], data.get("meta"))

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for a text; raises LangIdError for text that cannot be judged."""
        scores = list(self.intercept)
        for name, value in features(check_text(text)).items():
            row = self.weights.get(name)
            if row:
                for i, w in enumerate(row):
                    scores[i] += w * value
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}

    def detect(self, text: str) -> tuple[str, float]:
        probs = self.probabilities(text)
        label = max(probs, key=probs.__getitem__)
        return label, probs[label]


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    return Detector.load()


def detect(text: str) -> tuple[str, float]:
    """(label, confidence) for one text: a label from LABELS and its probability (0..1).

    Raises LangIdError (a ValueError) for empty text, binary data or text with no letters.
    Mixed text gets the label of its main language; text over MAX_CHARS is judged on its start.
    """
    return default_detector().detect(text)


def detect_or_none(text: str) -> tuple[str, float] | None:
    """Like `detect`, but None for text that cannot be judged (for pages listing many texts)."""
    try:
        return detect(text)
    except LangIdError:
        return None
