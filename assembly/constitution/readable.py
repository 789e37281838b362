"""The public constitution page in the reader's language.

Documents keep the English, machine-made `detail` of each statement not taken (exports and
training data rely on it, and published versions never change). The page shows the same
facts as a sentence in the UI language, rebuilt from that detail's fixed forms (the ones
`candidates.assess` writes); a facilitator's own reason is shown as they wrote it.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext

_MODERATION = re.compile(r"moderation: (accepted|rejected|pending)")
_TOO_FEW = re.compile(r"(\d+) votes \(needs (\d+)\)(?:; too few votes in group (.+))?")
_DIVISIVE = re.compile(r"supported by group (.+), rejected by group (.+)")
_LOW = re.compile(r"GIC [\d.]+ \(needs [\d.]+\)(?:; below ([\d.]+) in group (.+))?")


def _moderation_word(state: str) -> str:
    return {"accepted": _("accepted"), "rejected": _("rejected"), "pending": _("waiting for review")}[state]


def explain(reason: str, detail: str) -> str:
    """`detail` as a sentence in the UI language; unknown forms (a facilitator's words) unchanged."""
    if reason == "excluded_by_facilitator":
        return detail
    if detail == "meta statement":
        return _("a statement about the process, not a position")
    if m := _MODERATION.fullmatch(detail):
        return _("moderation: %(state)s", state=_moderation_word(m.group(1)))
    if m := _TOO_FEW.fullmatch(detail):
        text = ngettext("%(num)d vote (needs %(needed)d)", "%(num)d votes (needs %(needed)d)", int(m.group(1)),
                        needed=int(m.group(2)))
        if m.group(3):
            text += _("; too few votes in group %(groups)s", groups=m.group(3))
        return text
    if m := _DIVISIVE.fullmatch(detail):
        return _("supported by group %(yes)s, rejected by group %(no)s", yes=m.group(1), no=m.group(2))
    if m := _LOW.fullmatch(detail):
        if m.group(2):
            return _("too little agreement: under %(p)d%% in group %(groups)s",
                     p=round(float(m.group(1)) * 100), groups=m.group(2))
        return _("too little agreement across the groups")
    return detail
