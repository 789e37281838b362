"""Assembly descriptions as Markdown, rendered then sanitised.

Polis descriptions are Markdown (links to background reading, bold instructions), so they are
rendered with `markdown` and the HTML is cleaned with `nh3` (a maintained allow-list sanitiser):
a small set of tags, links only to http, https and mailto, every link `rel="nofollow noopener"`.
Raw HTML in the source is escaped by the sanitiser, never trusted.
"""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre",
                "h3", "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for a Markdown text written by a facilitator or imported from Polis."""
    if not text:
        return Markup("")
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                      link_rel="nofollow noopener", strip_comments=True)
    return Markup(clean)  # noqa: S704 - nh3 output is sanitised HTML


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
