"""Change signals: sent after a commit that changes what clustering sees. Plumbing, like domain_errors.py.

The domain functions that commit (voting.rules, facilitation.rules) send them; results.runs
listens and reclusters in the background, so no rule needs to know about clustering.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
# Sent with the assembly's id after a vote or statement is committed.
votes_changed = _signals.signal("votes-changed")
# Sent with the assembly's id after a statement's moderation or meta flag changes: rejected and
# meta statements are zeroed in the clustering, so its groups may change.
moderation_changed = _signals.signal("moderation-changed")
