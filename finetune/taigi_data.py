"""Language records that teach an adapter Taigi, for Taigi assemblies or on request.

They join the assembly's own SFT records through `DatasetInput.extra_sft` (finetune/data.py):

- `taigi-reading`: Taigi words from taibun's dictionary (the Ministry of Education's Taiwanese
  Minnan dictionary) with their Tâi-lô readings, and the assembly's own Taigi statements with
  taibun's reading of them;
- `taigi-answer`: Mandarin questions that ask for a Taigi answer, answered in Taigi, and the
  assembly's Taigi statements given back when asked, in Taigi, what people there think;
- `mandarin-taigi`: Mandarin sentences with their Taigi rendering. taibun has readings but no
  Mandarin glosses, so these pairs are the ones written for this project below, not the
  dictionary's.

The prompts use the same frames as the language suite (finetune/evals/language_suite.py), so the
adapter learns what it is asked. Statements held out for the evals never enter (same rule as
`finetune.data.is_heldout`), and the suite's own questions are not among the pairs below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from finetune.data import is_heldout

TAIGI_LANGUAGES = ("nan", "nan-hant", "nan-latn")
DICTIONARY_LICENCE = "CC BY-ND 3.0 TW"
DICTIONARY = "教育部臺灣閩南語常用詞辭典 (Ministry of Education, Taiwan), via taibun"

# (Mandarin, Taigi): written for this project; none of them is a language-suite question.
PAIRS = (
    ("你要去哪裡？", "你欲去佗位？"), ("我不知道。", "我毋知影。"), ("你吃飽了嗎？", "你食飽未？"),
    ("今天天氣很好。", "今仔日天氣真好。"), ("我們一起去吧。", "咱做伙來去。"), ("他不會說國語。", "伊袂曉講華語。"),
    ("這個很便宜。", "這个足俗。"), ("不要這樣講。", "毋通按呢講。"), ("我很喜歡這裡。", "我真佮意遮。"),
    ("你們家在哪裡？", "恁兜佇佗位？"), ("我明天才會來。", "我明仔載才會來。"),
    ("這件事情很麻煩。", "這件代誌真麻煩。"),
    ("小孩子在外面玩。", "囡仔佇外口耍。"), ("謝謝你的幫忙。", "多謝你的鬥相共。"), ("現在幾點了？", "這馬幾點矣？"),
    ("他還在睡覺。", "伊閣咧睏。"), ("我們是同學。", "阮是仝學。"), ("這裡人很多。", "遮人真濟。"),
    ("你有空嗎？", "你敢有閒？"), ("我忘記他的名字了。", "我袂記得伊的名矣。"), ("市場很熱鬧。", "菜市仔真鬧熱。"),
    ("大家的意見都要聽。", "逐家的意見攏愛聽。"), ("我覺得這樣比較好。", "我感覺按呢較好。"),
    ("晚上太吵了，睡不著。", "暗時傷吵，睏袂去。"), ("老人家都說台語。", "序大人攏講台語。"),
)
WORDS = 200  # dictionary words per dataset


def wants_taigi(language: str, requested: bool = False) -> bool:
    """Taigi records go in for a Taigi assembly (nan, nan-Hant*, nan-Latn*) or when the facilitator asks."""
    tag = language.lower()
    return requested or any(tag == t or tag.startswith(t + "-") for t in TAIGI_LANGUAGES)


LANGUAGE_KINDS = ("taigi-reading", "mandarin-taigi", "taigi-answer")  # the record kinds language_records makes


def records_reason(language: str, taigi: bool | None) -> str:
    """Why a dataset has Taigi records or not, for the run's provenance and the model card.

    taigi: the facilitator's choice (True: asked for them, False: declined them, None: not said,
    so the assembly's language decides).
    """
    if taigi is False:
        return "declined by the facilitator"
    if taigi and not wants_taigi(language):
        return "requested by the facilitator"
    return "the assembly's language is Taigi" if wants_taigi(language) else "not a Taigi assembly"


def reading(han: str) -> str:
    """taibun's Tâi-lô reading (tone marks) of Han-script Taigi."""
    from taibun import Converter

    return Converter(system="Tailo", format="mark").get(han)


def _source(kind: str, **extra: Any) -> dict[str, Any]:
    licence = {"dictionary": f"{DICTIONARY_LICENCE}: {DICTIONARY}", "statement": "the assembly's own statement",
               "written": "Apache-2.0, written for this project"}
    return {"language_stage": kind, "licence": licence[kind], **extra}


def dictionary_words(n: int = WORDS) -> list[tuple[str, str]]:
    """n (word, reading) pairs of 2-4 Han characters from taibun's dictionary, in a fixed hash order."""
    from taibun.taibun import word_dict

    def han(w: str) -> bool:
        return all("\u3400" <= ch <= "\u9fff" for ch in w)

    words = [w for w in word_dict if 2 <= len(w) <= 4 and han(w)]
    words.sort(key=lambda w: hashlib.sha256(w.encode()).hexdigest())
    return [(w, reading(w)) for w in words[:n]]


def language_records(statements: Iterable[dict[str, Any]], slug: str, language: str, *, requested: bool = False,
                     heldout_share: float = 0.2, words: int = WORDS, topic: str = "") -> list[dict[str, Any]]:
    """The language records for one assembly, or [] when it is not a Taigi assembly and none were asked for.

    statements: {tid, text} of the assembly's accepted statements; those detected as Han-script
    Taigi, and not held out for the evals, become records.
    """
    if not wants_taigi(language, requested):
        return []
    from finetune.evals.langid import detect_or_none

    out: list[dict[str, Any]] = []
    for word, tailo in dictionary_words(words):
        out.append({"prompt": f"請共這个台語詞寫做台羅拼音：{word}\n台羅：", "completion": tailo,
                    "kind": "taigi-reading", "source": _source("dictionary", word=word)})
    for mandarin, taigi in PAIRS:
        out.append({"prompt": f"問：請用台語回答：{mandarin}這句話台語按怎講？\n答：", "completion": taigi,
                    "kind": "mandarin-taigi", "source": _source("written")})
        out.append({"prompt": f"請共這句台語寫做台羅拼音：{taigi}\n台羅：", "completion": reading(taigi),
                    "kind": "taigi-reading", "source": _source("written")})
    about = f"「{topic}」" if topic else "這个議題"
    for s in statements:
        text, tid = str(s.get("text", "")).strip(), s.get("tid")
        if not text or is_heldout(slug, tid, heldout_share):
            continue
        detected = detect_or_none(text)
        if detected is None or detected[0] != "nan-Hant":
            continue
        out.append({"prompt": f"請共這句台語寫做台羅拼音：{text}\n台羅：", "completion": reading(text),
                    "kind": "taigi-reading", "source": _source("statement", tid=tid)})
        out.append({"prompt": f"問：請用台語回答：大家對{about}有啥物看法？\n答：", "completion": text,
                    "kind": "taigi-answer", "source": _source("statement", tid=tid)})
    return out


def card_note(records: list[dict[str, Any]], why: str = "") -> str:
    """Markdown for the model card: what the language records are and how the dictionary was used ('' if none).

    why: the reason they are in (`records_reason`), said first so a reader knows whether the
    facilitator asked for them.
    """
    if not records:
        return ""
    n_dict = sum(r["source"].get("language_stage") == "dictionary" for r in records)
    n_stmt = sum(r["source"].get("language_stage") == "statement" for r in records)
    n_written = sum(r["source"].get("language_stage") == "written" for r in records)
    return (
        "## Taigi language records\n\n"
        + (f"Included because: {why}.\n\n" if why else "")
        + f"The training data includes {len(records)} records that teach Taiwanese Hokkien (Taigi): "
        f"{n_dict} dictionary words with their Tâi-lô readings, {n_written} records from Mandarin–Taigi "
        f"sentence pairs written for this project, and {n_stmt} records from the assembly's own Taigi "
        "statements (held-out statements excluded).\n\n"
        f"Words and readings come unmodified from the {DICTIONARY}, licensed {DICTIONARY_LICENCE} "
        "(attribution, no derivatives). They are used only as training examples: this adapter does "
        "not contain or redistribute the dictionary, and no entry was altered. Whether model weights "
        "trained on a no-derivatives work are a derivative of it is not settled; a facilitator who "
        "needs certainty can train without the language records. Readings of the assembly's statements "
        "are taibun's automatic reading, which can be wrong on words outside the dictionary.\n"
    )
