"""The language suite: does the model answer in the language it is asked for, and can it write Tâi-lô?

A known failure motivates it: asked for Taiwanese Hokkien (Taigi), a large model says it is
speaking Taigi while it writes Mandarin or Cantonese. Three kinds of item:

- `assembly`: questions in the assembly's own language (the held-out statements, then shipped
  questions), answered in that language or not, by the detector in `langid.py`;
- `taigi-request`: questions in Mandarin that ask explicitly for a Taigi answer (請用台語回答…),
  the case where models fail; "claims Taigi" counts answers that say they are Taigi (台語, Taigi,
  Tâi-gí…) but are detected as Mandarin or Cantonese;
- `transliteration`: Han-script Taigi to Tâi-lô, scored by chrF++ (sacrebleu) against taibun's
  reading; chrF++ rather than BLEU, which is near zero for any romanised output.

Answers are generated greedily (deterministic) through the scorer's `generate`. Every item also
carries a Taigi and a Mandarin reference answer as its two options, so its log-likelihood
preference is scored like the other suites' items and exports to lm-eval. Promotion: an adapter
must not answer in the requested language less often than its base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from finetune.evals.items import EvalItem, validate, validate_all
from finetune.evals.langid import TAIGI_LABELS, LangIdError, detect
from finetune.evals.metrics import MetricFn, mean_over
from finetune.evals.scoring import Progress, Scorer, option_distributions
from finetune.evals.suites import EvalSource, MetricSpec, SuiteResult

MAX_NEW_TOKENS = 48
MAX_STATEMENTS = 12  # held-out statements asked as assembly-language questions
CLAIMS_TAIGI = re.compile(r"台語|臺語|台语|閩南語|闽南语|河洛話|Taigi|Tâi-gí|Tai-gi|Taiwanese|Hokkien", re.IGNORECASE)

# (id, question in Taigi, the same in Mandarin, a Taigi answer, a Mandarin answer); written for the project.
QUESTIONS = (
    ("market", "你上愛去佗一个菜市仔買菜？", "你最喜歡去哪一個市場買菜？",
     "我上愛去厝邊的菜市仔，物件新鮮閣俗。", "我最喜歡去家附近的市場，東西新鮮又便宜。"),
    ("park", "河邊的公園應該按怎整理較好？", "河邊的公園應該怎麼整理比較好？",
     "我想愛加種一寡樹仔，予人有所在歇睏。", "我覺得應該多種一些樹，讓大家有地方休息。"),
    ("food", "台南上出名的食物是啥物？", "台南最有名的食物是什麼？",
     "台南上出名的是牛肉湯佮碗粿。", "台南最有名的是牛肉湯和碗粿。"),
    ("weather", "今仔日的天氣按怎？", "今天的天氣怎麼樣？",
     "今仔日出日頭，毋過有較熱。", "今天出太陽，不過有點熱。"),
    ("traffic", "透早去上班的時陣，路敢會塞？", "早上去上班的時候，路上會塞車嗎？",
     "透早的路足塞，我攏較早出門。", "早上的路很塞，我都比較早出門。"),
    ("elders", "厝內的序大人敢會講台語？", "家裡的長輩會說台語嗎？",
     "阮阿公阿媽攏講台語，毋捌講華語。", "我的爺爺奶奶都說台語，不會說國語。"),
    ("school", "囡仔佇學校敢有學台語？", "孩子在學校有學台語嗎？",
     "有，一禮拜有一節台語課。", "有，一個禮拜有一節台語課。"),
    ("temple", "廟口的活動敢有趣味？", "廟口的活動有趣嗎？",
     "足趣味，逐年攏有布袋戲通看。", "很有趣，每年都有布袋戲可以看。"),
    ("noise", "暗時傷吵的時陣欲按怎處理？", "晚上太吵的時候要怎麼處理？",
     "會使先佮厝邊好好仔講。", "可以先跟鄰居好好溝通。"),
    ("vote", "你感覺逐家做伙討論敢有路用？", "你覺得大家一起討論有用嗎？",
     "有路用，逐家的意見攏愛聽。", "有用，每個人的意見都要聽。"),
)
# Han-script Taigi to romanise; written for the project. The reference reading is taibun's.
TRANSLITERATE = (
    "阮兜佇菜市仔邊仔。", "河邊有真濟樹仔。", "囡仔佇學校學台語。", "咱做伙來去公園行行咧。", "這間店的肉圓真好食。",
    "阿媽逐工透早去廟口。", "這條路暗時無路燈。", "伊講話足好笑。", "我欲去市場買魚仔。", "厝邊頭尾攏真好禮。",
)


def requested_label(language: str) -> str:
    """The detector's label for an assembly's BCP 47 language: nan*/Taigi, zh/cmn, yue/zh-HK, else other."""
    tag = language.lower()
    if tag.startswith("nan"):
        return "nan-Latn" if "latn" in tag else "nan-Hant"
    if tag.startswith("yue") or tag in ("zh-hk", "zh-hant-hk", "zh-mo"):
        return "yue"
    if tag.startswith(("zh", "cmn")):
        return "cmn"
    return "other"


def in_language(label: str | None, requested: str) -> bool:
    """Taigi in either script answers a Taigi request; anything else must match exactly."""
    if label is None:
        return False
    return label in TAIGI_LABELS if requested in TAIGI_LABELS else label == requested


def _frame(question: str) -> str:
    return f"問：{question}\n答："


def _item(id: str, kind: str, prompt: str, requested: str, good: str, bad: str, language: str,
          reference: str = "") -> EvalItem:
    return validate(EvalItem(id=id, suite="language", prompt=prompt, options=("requested", "other"),
                             continuations=(good, bad), correct=0, kind=kind, language=language,
                             meta={"requested": requested, "reference": reference or good}))


@dataclass(frozen=True)
class LanguageSuite:
    name: str = "language"
    title: str = "Language: answers in the requested language, and Taigi to Tâi-lô"
    headline: str = "requested_language_rate"
    key_title: str = "answer in the requested language (1/0), or chrF++/100 for transliteration"
    metric_specs: tuple[MetricSpec, ...] = (
        MetricSpec("requested_language_rate", "Answers in the requested language", percent=True),
        MetricSpec("taigi_request_rate", "Answers in Taigi when asked for Taigi", percent=True),
        MetricSpec("claims_taigi_not_taigi", "Says it is Taigi, writes Mandarin or Cantonese",
                   higher_is_better=False, percent=True),
        MetricSpec("transliteration_chrf", "Han Taigi to Tâi-lô, chrF++"),
        MetricSpec("prefers_requested", "Prefers the answer in the requested language (log-likelihood)", percent=True),
    )

    @property
    def promotion(self) -> dict:
        return {"requested_language_rate": "not_worse"}

    def items(self, source: EvalSource) -> list[EvalItem]:
        """Assembly-language questions (held-out statements, then the shipped questions), Taigi requests,
        and transliterations; the Taigi parts whatever the assembly's language, since they measure
        the failure the platform exists to fix."""
        requested = requested_label(source.language)
        taigi = requested in TAIGI_LABELS
        out = []
        for s in source.heldout[:MAX_STATEMENTS]:
            ask = f"你對這个意見按怎看：「{s.text}」" if taigi else f"你對這個意見有什麼看法：「{s.text}」"
            if requested == "other":
                ask = f'What do you think of this view: "{s.text}"'
            nan, cmn, en = ("我感覺這个意見有道理，毋過猶閣愛參詳。", "我覺得這個意見有道理，不過還需要討論。",
                            "I think this view makes sense, but it needs more discussion.")
            good, bad = (nan, cmn) if taigi else (en, cmn) if requested == "other" else (cmn, en)
            out.append(_item(f"statement-{s.id}", "assembly", _frame(ask), requested, good, bad, source.language))
        if requested in ("nan-Hant", "nan-Latn", "cmn"):
            for qid, q_nan, q_cmn, a_nan, a_cmn in QUESTIONS:
                q, good, bad = (q_nan, a_nan, a_cmn) if taigi else (q_cmn, a_cmn, a_nan)
                out.append(_item(f"assembly-{qid}", "assembly", _frame(q), requested, good, bad, source.language))
        for qid, _, q_cmn, a_nan, a_cmn in QUESTIONS:
            out.append(_item(f"taigi-{qid}", "taigi-request", _frame(f"請用台語回答：{q_cmn}"), "nan-Hant",
                             a_nan, a_cmn, "nan-Hant"))
        for i, han in enumerate(TRANSLITERATE):
            reading = tailo_reading(han)
            out.append(_item(f"tailo-{i}", "transliteration", f"請共這句台語寫做台羅拼音：{han}\n台羅：",
                             "nan-Latn", reading, han, "nan-Hant", reference=reading))
        return validate_all(out, self.name)

    def evaluate(self, items: list[EvalItem], scorer: Scorer, progress: Progress | None = None) -> SuiteResult:
        validate_all(items, self.name)
        answers = scorer.generate([it.prompt for it in items], max_new_tokens=MAX_NEW_TOKENS)
        if progress:
            progress(len(items))
        dists, _ = option_distributions(items, scorer, progress)
        return self.score(scorer.name, items, answers, [float(p[0]) for p in dists])

    def score(self, model: str, items: list[EvalItem], answers: list[str],
              preferred: list[float] | None = None) -> SuiteResult:
        """Per-item records and metrics from the answers (and, when scored, each item's preference mass)."""
        records, ok, claims, chrf, key = [], [], [], [], []
        for it, answer in zip(items, answers, strict=True):
            label, confidence = _detect(answer)
            rec = {"id": it.id, "kind": it.kind, "answer": answer, "detected": label,
                   "confidence": confidence, "requested": it.meta["requested"]}
            if it.kind == "transliteration":
                rec["chrf"] = chrf_pp(_first_line(answer), it.meta["reference"])
                rec["reference"] = it.meta["reference"]
                chrf.append(rec["chrf"])
                key.append(rec["chrf"] / 100)
                ok.append(np.nan)
                claims.append(np.nan)
            else:
                hit = in_language(label, it.meta["requested"])
                rec["in_requested_language"] = hit
                rec["claims_taigi"] = bool(CLAIMS_TAIGI.search(answer))
                ok.append(float(hit))
                claims.append(float(rec["claims_taigi"] and label in ("cmn", "yue")))
                chrf.append(np.nan)
                key.append(float(hit))
            if preferred is not None:
                rec["preferred_mass"] = preferred[len(records)]
            records.append(rec)
        kinds = np.array([it.kind for it in items])
        ok_a, claims_a, chrf_a = np.array(ok), np.array(claims), np.array(chrf)
        answered = kinds != "transliteration"
        metrics: dict[str, MetricFn] = {
            "requested_language_rate": mean_over(np.nan_to_num(ok_a), answered),
            "taigi_request_rate": mean_over(np.nan_to_num(ok_a), kinds == "taigi-request"),
            "claims_taigi_not_taigi": mean_over(np.nan_to_num(claims_a), kinds == "taigi-request"),
            "transliteration_chrf": mean_over(np.nan_to_num(chrf_a), kinds == "transliteration"),
        }
        if preferred is not None:
            metrics["prefers_requested"] = mean_over(np.array(preferred) > 0.5)
        groups = {k: {"requested_language_rate": mean_over(np.nan_to_num(ok_a), kinds == k)}
                  for k in ("assembly", "taigi-request") if (kinds == k).any()}
        return SuiteResult(self.name, model, items, records, metrics, np.array(key, dtype=np.float64), groups)

    def baselines(self, items: list[EvalItem]) -> dict[str, SuiteResult]:
        """Two fixed answerers: one that always gives the item's Mandarin-or-other reference answer,
        and one that always gives the requested-language reference (the ceiling the detector allows)."""
        return {
            "always the other language": self.score("always the other language", items,
                                                    [it.continuations[1] for it in items]),
            "reference answers": self.score("reference answers", items, [it.continuations[0] for it in items]),
        }


def _detect(text: str) -> tuple[str | None, float]:
    try:
        return detect(text)
    except LangIdError:
        return None, 0.0


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def tailo_reading(han: str) -> str:
    """taibun's Tâi-lô reading (tone marks, hyphenated words, punctuation kept) of Han-script Taigi."""
    from taibun import Converter

    return Converter(system="Tailo", format="mark").get(han)


def chrf_pp(hypothesis: str, reference: str) -> float:
    """Sentence chrF++ (character 6-grams plus word 2-grams), 0-100."""
    from sacrebleu.metrics import CHRF

    return float(CHRF(word_order=2).sentence_score(hypothesis, [reference]).score)


SUITE = LanguageSuite()
