"""The language identifier: its figures on the held-out evaluation set, the split discipline, and the API."""

from __future__ import annotations

import pytest

from finetune.evals.langid import LABELS, MAX_CHARS, LangIdError, detect, detect_or_none
from finetune.evals.langid_sources import evaluation_set, split_of, training_set


@pytest.fixture(scope="module")
def items():
    return evaluation_set()


@pytest.fixture(scope="module")
def figures(items):
    from benchmarks.langid import scores

    pred = [detect(s.text)[0] for s in items]
    return items, scores([s.label for s in items], pred)


def test_evaluation_set_is_balanced_sourced_and_licensed(figures):
    items, per = figures
    assert len(items) >= 300 and all(per[label]["n"] == 80 for label in LABELS)
    assert all(s.source and s.licence for s in items)
    assert {t for s in items for t in s.tags} >= {"short", "mixed", "mandarin-characters", "simplified", "poj"}


def test_no_evaluated_sentence_is_trained_on(items):
    trained = {s.text for s in training_set()}
    assert not [s.text for s in items if s.text in trained]


@pytest.mark.parametrize("label", [lb for lb in LABELS if lb != "cmn"])
def test_accuracy_target_per_label(figures, label):
    _, per = figures
    assert per[label]["accuracy"] >= 0.95, per[label]


def test_nan_hant_f1_beats_glotlid_and_meets_the_target(figures):
    _, per = figures
    assert per["nan-Hant"]["f1"] >= 0.95 > 0.867  # GlotLID v3's published nan_Hani F1


def test_mandarin_is_at_least_90_percent(figures):
    _, per = figures
    assert per["cmn"]["accuracy"] >= 0.90, per["cmn"]


@pytest.mark.xfail(strict=True, reason="cmn accuracy is 0.912 on the held-out set, short of the 0.95 target: "
                                       "see docs/language.md (what is left)")
def test_mandarin_meets_the_95_percent_target(figures):
    _, per = figures
    assert per["cmn"]["accuracy"] >= 0.95


def test_split_is_a_fixed_hash():
    assert split_of("x", "a") == split_of("x", "a")
    shares = [split_of("src", str(i)) for i in range(2000)]
    assert 0.07 < shares.count("eval") / len(shares) < 0.13


@pytest.mark.parametrize(("text", "label"), [
    ("阮阿母逐工透早攏去菜市仔買菜。", "nan-Hant"),
    ("Guá tsin ài tsia̍h ô-á-tsian.", "nan-Latn"),
    ("Goa2 chin1 ai3 chiah8 o5-a2-chian1.", "nan-Latn"),  # POJ with tone numbers
    ("我們明天早上在車站見面，好不好？", "cmn"),
    ("我们明天早上在车站见面，好不好？", "cmn"),  # Simplified meets the same weights
    ("我哋聽朝喺車站等，好唔好？", "yue"),
    ("We will meet at the station tomorrow morning.", "other"),
    ("Chúng ta gặp nhau ở nhà ga sáng mai.", "other"),  # Vietnamese tone marks are not Tâi-lô
])
def test_detect_labels_and_confidence(text, label):
    got, confidence = detect(text)
    assert got == label and 0.5 < confidence <= 1.0


@pytest.mark.parametrize(("bad", "why"), [("", "empty"), ("   \n\t", "empty"), ("a\x00b", "binary"),
                                          ("。，！？ 123 ...", "no letters"), (b"bytes", "expected text")])
def test_text_that_cannot_be_judged_says_why(bad, why):
    with pytest.raises(LangIdError, match=why):
        detect(bad)
    assert detect_or_none(bad) is None if isinstance(bad, str) else True


def test_very_long_text_is_judged_on_its_start():
    text = "伊毋知影這件代誌，" * (MAX_CHARS // 3) + "我們明天去吃飯吧。" * 5000
    assert detect(text)[0] == "nan-Hant"
