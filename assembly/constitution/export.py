"""Exports of a constitution version: JSON for machines (docs/constitution.schema.json), Markdown for people."""

from __future__ import annotations

import json
from typing import Any

from assembly.constitution.versions import exported
from assembly.models_constitution import ConstitutionVersion

REASON_TEXT = {
    "moderated_out": "moderated out",
    "too_few_votes": "too few votes",
    "divisive": "divisive between groups",
    "low_agreement": "low agreement",
    "excluded_by_facilitator": "excluded by the facilitators",
}


def to_json(version: ConstitutionVersion) -> str:
    """Pretty JSON of the exported document (with `content_hash`)."""
    return json.dumps(exported(version), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.0f}%"


def _md(text: str) -> str:
    """Citizens' text as inert Markdown: no headings, links, HTML or emphasis from user input."""
    out = " ".join(str(text).split())
    for ch in "\\`*_[]<>#|!~":
        out = out.replace(ch, "\\" + ch)
    return out


def _footnote(s: dict[str, Any]) -> str:
    groups = "; ".join(f"group {g['label']} {_pct(g['agree_share'])} of {g['seen']}" for g in s["groups"])
    v = s["votes"]
    return (f"Statement #{s['tid']}: “{_md(s['text'])}” — {v['agree']} agree, {v['disagree']} disagree, "
            f"{v['pass']} pass ({_pct(v['agree_share'])} agree); {groups}; GIC {s['gic']:.3f}.")


def to_markdown(version: ConstitutionVersion) -> str:
    """The constitution for people: principles by theme, each footnoted to its statements and votes."""
    doc = exported(version)
    a, proc, ver = doc["assembly"], doc["process"], doc["version"]
    cons, clus = proc["consensus"], proc["clustering"]
    title = f"# Community constitution: {_md(a['title'])}"
    status = f"Version {ver['number']}" if ver["number"] else "Draft (not published)"
    lines = [title, "", f"{status}. Content hash `{doc['content_hash']}`.", ""]
    if a["question"]:
        lines += [f"Question: {_md(a['question'])}", ""]
    lines += [
        f"Built from {proc['vote_snapshot']['count']} votes (latest per person and statement; snapshot "
        f"`{proc['vote_snapshot']['sha256'][:16]}…`) by {proc['voters']} voters on "
        f"{proc['statements']['total']} statements. Opinion groups: "
        + ", ".join(f"{g['label']} ({g['size']} people)" for g in clus["groups"])
        + f", from {_md(clus['method'])}. A principle needs group-informed consensus of at least "
        f"{cons['gic_threshold']:.3f} ({cons['tau']} to the power of {cons['k']} groups), at least "
        f"{100 * cons['floor']:.0f}% support in every group and at least {cons['min_votes']} votes.",
        "",
    ]
    notes: list[str] = []
    themes = {t["id"]: t["label"] for t in doc["themes"]}
    seen_themes: list[str] = []
    for p in doc["principles"]:
        if p["theme"] not in seen_themes:
            seen_themes.append(p["theme"])
            lines += [f"## {_md(themes.get(p['theme'], p['theme']))}", ""]
        refs = []
        for s in p["statements"]:
            notes.append(_footnote(s))
            refs.append(f"[^{len(notes)}]")
        lines.append(f"{p['position']}. **{_md(p['training_form'])}**")
        lines.append(f"   In the participants' words: “{_md(p['text'])}”{''.join(refs)}")
        if p["merged"]:
            merged = ", ".join(f"#{m['tid']}" + (f" (similarity {m['similarity']:.2f})" if m["similarity"] is not None
                                                 else " (by the facilitators)") for m in p["merged"])
            lines.append(f"   Merged near-duplicates: {merged}.")
        lines.append("")
    lines += ["## Statements not taken", ""]
    for e in doc["excluded"]:
        reason = REASON_TEXT.get(e["reason"], e["reason"])
        lines.append(f"- #{e['tid']} “{_md(e['text'])}” — {reason}: {_md(e['detail'])}")
    d = doc.get("diff_from_previous")
    if d and d["previous"]:
        lines += ["", f"## Changes since version {d['previous']}", "",
                  f"Added: {', '.join(d['added']) or 'none'}. Removed: {', '.join(d['removed']) or 'none'}. "
                  f"Reworded: {', '.join(d['reworded']) or 'none'}. Votes: {d['votes_before']} → {d['votes_after']}."]
    lines += [""] + [f"[^{i}]: {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"
