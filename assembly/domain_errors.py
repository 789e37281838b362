"""The domain error every rule raises: `AssemblyError`. Plumbing, so any layer may import it.

(Not `errors.py`: that is the error pages, which render these and HTTP errors for people.)

Rules (the features' `rules.py`, results, constitution) raise it and never touch HTTP;
only the pages and the JSON API turn it into a response. `status` names the kind of
refusal in HTTP's vocabulary (404 no such thing, 409 conflict with the current state,
403 not allowed, 503 try again), which is what both answer with.
"""

from __future__ import annotations

from flask_babel import LazyString


class AssemblyError(ValueError):
    """A request that cannot be honoured; `status` is the kind of refusal, as the HTTP status to answer with.

    `message` is the terse English the JSON API returns (clients match on it, so it stays
    stable). `explain`, given where the error is raised, is what a participant reads on the
    HTML pages: usually a `lazy_gettext`, so it is translated into the request's language
    only when shown (and falls back to English outside a request).
    """

    def __init__(self, message: str, status: int = 400, *, explain: str | LazyString | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.explain = explain

    @property
    def explanation(self) -> str:
        """The participant-facing sentence in the current language; the message when there is none."""
        return self.message if self.explain is None else str(self.explain)
