"""The wording of every training record, per language: one place, shared with the evals.

Base models (Gemma 3 270M is a base, not an instruct model) learn best from plain text that reads
the same way every time, so records are plain prompt/completion strings, not chat turns. The evals
ask the held-out statements with `stance_prompt` and score the `STANCE` words, so what the adapter
learns and what it is asked match.

Languages: `zh-Hant` (Mandarin, Traditional script: zh, zh-TW, zh-Hant-TW...), `nan-Hant` (Taigi in
Han script: nan, nan-Hant-TW; nan-Latn falls back to it) and `en` (everything else; the report
notes the fallback).
"""

from __future__ import annotations

from typing import Any

STANCE: dict[str, dict[str, str]] = {
    "en": {"agree": "Agree", "disagree": "Disagree", "pass": "Unsure", "differ": "Opinions differ"},
    "zh-Hant": {"agree": "同意", "disagree": "不同意", "pass": "不確定", "differ": "意見分歧"},
    "nan-Hant": {"agree": "同意", "disagree": "無同意", "pass": "毋知", "differ": "意見無仝"},
}

_T: dict[str, dict[str, str]] = {
    "en": {
        "topic": "Topic: {q}\n",
        "stance": "{topic}Statement: {text}\nDo you agree with this statement? Answer for this community.\nAnswer:",
        "all_agree": " {w}. Every opinion group in this community agrees: {figs}.",
        "all_disagree": " {w}. Every opinion group in this community disagrees: {figs}.",
        "differ": " {w}. {groups} The community has no shared position on this.",
        "g_agree": "group {g} mostly agrees ({a}% agree, {d}% disagree, {p}% unsure)",
        "g_disagree": "group {g} mostly disagrees ({a}% agree, {d}% disagree, {p}% unsure)",
        "g_lean_agree": "group {g} leans towards agreeing ({a}% agree, {d}% disagree, {p}% unsure)",
        "g_lean_disagree": "group {g} leans against ({a}% agree, {d}% disagree, {p}% unsure)",
        "g_split": "group {g} is split ({a}% agree, {d}% disagree, {p}% unsure)",
        "fig_agree": "group {g} {a}% of {n}",
        "fig_disagree": "group {g} {d}% of {n}",
        "join": "; ", "end": ".", "list": ", ",
        "principle": "{topic}What principle does this community hold on {theme}?\nAnswer:",
        "principle_answer": " {text} Every opinion group supports this ({figs}).",
        "bridge": "{topic}Which position can every opinion group in this community support?\nAnswer:",
        "bridge_answer": " {text}",
    },
    "zh-Hant": {
        "topic": "議題：{q}\n",
        "stance": "{topic}陳述：{text}\n請代表這個社群回答：你同意這個陳述嗎？\n回答：",
        "all_agree": "{w}。這個社群的每個意見群體都多數同意：{figs}。",
        "all_disagree": "{w}。這個社群的每個意見群體都多數不同意：{figs}。",
        "differ": "{w}。{groups}社群對此沒有共同立場。",
        "g_agree": "群體 {g} 多數同意（同意 {a}%、不同意 {d}%、不確定 {p}%）",
        "g_disagree": "群體 {g} 多數不同意（同意 {a}%、不同意 {d}%、不確定 {p}%）",
        "g_lean_agree": "群體 {g} 偏向同意（同意 {a}%、不同意 {d}%、不確定 {p}%）",
        "g_lean_disagree": "群體 {g} 偏向不同意（同意 {a}%、不同意 {d}%、不確定 {p}%）",
        "g_split": "群體 {g} 看法不一（同意 {a}%、不同意 {d}%、不確定 {p}%）",
        "fig_agree": "群體 {g} {n} 人中 {a}% 同意",
        "fig_disagree": "群體 {g} {n} 人中 {d}% 不同意",
        "join": "；", "end": "。", "list": "、",
        "principle": "{topic}這個社群在「{theme}」上有什麼共同原則？\n回答：",
        "principle_answer": "{text}（每個意見群體都支持：{figs}）",
        "bridge": "{topic}哪一種立場是這個社群每個意見群體都能支持的？\n回答：",
        "bridge_answer": "{text}",
    },
    "nan-Hant": {
        "topic": "議題：{q}\n",
        "stance": "{topic}講法：{text}\n請代表這个社群回答：你敢同意這个講法？\n回答：",
        "all_agree": "{w}。這个社群逐个意見群體攏是較濟人同意：{figs}。",
        "all_disagree": "{w}。這个社群逐个意見群體攏是較濟人無同意：{figs}。",
        "differ": "{w}。{groups}社群對這件代誌無共同的立場。",
        "g_agree": "群體 {g} 較濟人同意（同意 {a}%、無同意 {d}%、毋知 {p}%）",
        "g_disagree": "群體 {g} 較濟人無同意（同意 {a}%、無同意 {d}%、毋知 {p}%）",
        "g_lean_agree": "群體 {g} 較偏向同意（同意 {a}%、無同意 {d}%、毋知 {p}%）",
        "g_lean_disagree": "群體 {g} 較偏向無同意（同意 {a}%、無同意 {d}%、毋知 {p}%）",
        "g_split": "群體 {g} 意見無一致（同意 {a}%、無同意 {d}%、毋知 {p}%）",
        "fig_agree": "群體 {g} {n} 人內底 {a}% 同意",
        "fig_disagree": "群體 {g} {n} 人內底 {d}% 無同意",
        "join": "；", "end": "。", "list": "、",
        "principle": "{topic}這个社群佇「{theme}」有啥物共同的原則？\n回答：",
        "principle_answer": "{text}（逐个意見群體攏支持：{figs}）",
        "bridge": "{topic}佗一種立場是這个社群逐个意見群體攏會當支持的？\n回答：",
        "bridge_answer": "{text}",
    },
}


def template_language(bcp47: str) -> str:
    """The template set for a BCP 47 tag: zh-Hant, nan-Hant or en (the fallback)."""
    tag = (bcp47 or "").strip().lower().replace("_", "-")
    primary = tag.split("-")[0]
    if primary in {"nan", "tw"} or tag.startswith("zh-min-nan"):
        return "nan-Hant"
    if primary in {"zh", "cmn"}:
        return "zh-Hant"
    return "en"


def stance_prompt(text: str, question: str, lang: str) -> str:
    """'Do you agree with this statement?' for one statement, in the template language `lang`."""
    t = _T[lang]
    return t["stance"].format(topic=_topic(question, t), text=text)


def consensus_completion(figures: list[dict[str, Any]], lang: str, agree: bool) -> str:
    """Answer for a statement every group agrees (or every group disagrees) with, with each group's share."""
    t = _T[lang]
    key = "fig_agree" if agree else "fig_disagree"
    figs = t["list"].join(t[key].format(g=f["label"], n=f["seen"], **_pct(f)) for f in figures)
    return t["all_agree" if agree else "all_disagree"].format(w=STANCE[lang]["agree" if agree else "disagree"],
                                                               figs=figs)


def differ_completion(figures: list[dict[str, Any]], lang: str) -> str:
    """Answer for a divisive or mixed statement: how each group sees it, never the majority's view alone."""
    t = _T[lang]
    parts = [t["g_" + group_position(f)].format(g=f["label"], **_pct(f)) for f in figures]
    return t["differ"].format(w=STANCE[lang]["differ"], groups=t["join"].join(parts) + t["end"])


def principle_prompt(theme: str, question: str, lang: str) -> str:
    """Ask for the community's principle on a theme."""
    t = _T[lang]
    return t["principle"].format(topic=_topic(question, t), theme=theme)


def principle_completion(text: str, figures: list[dict[str, Any]], lang: str) -> str:
    """The principle in the citizens' words, with each group's agreement."""
    t = _T[lang]
    figs = t["list"].join(t["fig_agree"].format(g=f["label"], n=f["seen"], **_pct(f)) for f in figures)
    return t["principle_answer"].format(text=_sentence(text, lang), figs=figs)


def bridge_prompt(question: str, lang: str) -> str:
    """Ask for a position every group can support (the prompt of a bridging preference pair)."""
    t = _T[lang]
    return t["bridge"].format(topic=_topic(question, t))


def bridge_answer(text: str, lang: str) -> str:
    """A statement offered as the answer to `bridge_prompt`."""
    return _T[lang]["bridge_answer"].format(text=text)


def group_position(f: dict[str, Any]) -> str:
    """agree / disagree (more than half the group's votes), else lean_agree / lean_disagree (more of one
    than the other, passes aside), else split."""
    if f["agree"] * 2 > f["seen"]:
        return "agree"
    if f["disagree"] * 2 > f["seen"]:
        return "disagree"
    if f["agree"] != f["disagree"]:
        return "lean_agree" if f["agree"] > f["disagree"] else "lean_disagree"
    return "split"


def _sentence(text: str, lang: str) -> str:
    """End an English sentence with a full stop when the citizen's text has none (Han text needs none here)."""
    return text + "." if lang == "en" and text and text[-1] not in ".!?" else text


def _topic(question: str, t: dict[str, str]) -> str:
    return t["topic"].format(q=question) if question else ""


def _pct(f: dict[str, Any]) -> dict[str, int]:
    n = max(f["seen"], 1)
    return {"a": round(100 * f["agree"] / n), "d": round(100 * f["disagree"] / n), "p": round(100 * f["pass"] / n)}
