"""The review log and the diff from the previous version, in words of the page's language.

The stored log keeps codes ("exclude p14") because the exports are read by programs; people read
sentences that quote the statements ("Left out “Ban cars”: out of scope").
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

QUOTE_LIMIT = 60


def _texts(doc: dict[str, Any]) -> dict[int, str]:
    """{tid: text} of every statement the document mentions."""
    out = {e["tid"]: e["text"] for e in doc["excluded"]}
    out.update({s["tid"]: s["text"] for p in doc["principles"] for s in p["statements"]})
    return out


def _quote(texts: dict[int, str], ref: str | int | None) -> str:
    """“the statement's words” for a tid or a principle id (p<tid>), shortened."""
    tid = ref if isinstance(ref, int) else (int(ref[1:]) if isinstance(ref, str) and ref[1:].isdigit() else None)
    text = texts.get(tid) if tid is not None else None
    if text is None:
        return _("a statement no longer in this draft")
    text = " ".join(text.split())
    return "“" + (text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT - 1] + "…") + "”"


def describe(entry: dict[str, Any], texts: dict[int, str]) -> str:
    """One review log entry as a sentence."""
    q = lambda ref: _quote(texts, ref)  # noqa: E731
    action = entry["action"]
    if action == "edit":
        return _("Reworded the training form of %(p)s.", p=q(entry["principle"]))
    if action == "merge":
        return _("Merged %(other)s into %(p)s.", other=q(entry["merged"]), p=q(entry["principle"]))
    if action == "split":
        return _("Split %(s)s out of %(p)s as a principle of its own.", s=q(entry["tid"]), p=q(entry["principle"]))
    if action == "exclude":
        return _("Left out %(p)s because: %(reason)s", p=q(entry["principle"]), reason=entry["reason"])
    if action == "move":
        return _("Moved %(p)s from position %(a)s to %(b)s.", p=q(entry["principle"]), a=entry["from"], b=entry["to"])
    if action == "restore":
        return _("Brought back %(p)s.", p=q(entry["tid"]))
    if action == "carry":
        return carried(entry)
    return action


def carried(entry: dict[str, Any]) -> str:
    """What the new draft kept from the previous published version."""
    parts = [ngettext("%(num)d exclusion", "%(num)d exclusions", len(entry["excluded"])),
             ngettext("%(num)d merge", "%(num)d merges", len(entry["merged"])),
             ngettext("%(num)d split", "%(num)d splits", len(entry["split"])),
             ngettext("%(num)d wording edit", "%(num)d wording edits", len(entry["reworded"]))]
    if entry["order"]:
        parts.append(_("the order of the principles"))
    return _("Kept the decisions of version %(n)s: %(what)s.", n=entry["from"], what=_(", ").join(parts))


def review_sentences(doc: dict[str, Any]) -> list[str]:
    """The draft's review log as sentences, oldest first."""
    texts = _texts(doc)
    return [describe(r, texts) for r in doc["review"]]


def diff_sentences(diff: dict[str, Any], doc: dict[str, Any], old: dict[str, Any] | None) -> list[str]:
    """versions.diff as sentences: what a reader of the previous version would find changed."""
    texts = {**(_texts(old) if old else {}), **_texts(doc)}
    q = lambda ref: _quote(texts, ref)  # noqa: E731
    def listed(key: str) -> str:
        return _(", ").join(q(i) for i in diff[key])

    out = []
    if diff["added"]:
        out.append(_("New: %(list)s.", list=listed("added")))
    if diff["removed"]:
        out.append(_("No longer in: %(list)s.", list=listed("removed")))
    if diff["reworded"]:
        out.append(_("Reworded: %(list)s.", list=listed("reworded")))
    if diff["sources_changed"]:
        out.append(_("Different statements behind: %(list)s.", list=listed("sources_changed")))
    out.append(_("Votes counted: %(before)s then, %(after)s now.",
                 before=diff["votes_before"], after=diff["votes_after"]))
    return out
