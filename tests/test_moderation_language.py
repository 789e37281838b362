"""The moderation page shows each statement's detected language (finetune/evals/langid.py), so a
facilitator sees at a glance which statements are Taigi, Mandarin, Cantonese or something else."""

from __future__ import annotations

import re

from sqlmodel import select

from assembly.models import Assembly, Facilitator
from assembly.voting.rules import add_statement, create_participant
from tests.conftest import FACILITATOR_EMAIL, log_in

STATEMENTS = {
    "阮欲佇菜市仔邊仔起一个公園，予囡仔有所在通𨑨迌。": "nan-Hant",
    "Guá beh khì tshī-tiûnn bué tshài.": "nan-Latn",
    "我們應該在市場旁邊蓋一座公園，讓孩子有地方玩。": "cmn",
    "我哋應該喺街市隔籬起個公園，俾啲細路有地方玩。": "yue",
    "We should build a park next to the market for the children.": "other",
}


def badges(html: str) -> dict[str, tuple[str, str]]:
    """{statement text: (badge label, its title)} for each row of the page."""
    out = {}
    for row in re.findall(r'<li class="statement[^"]*" id="statement-\d+">(.*?)</li>', html, re.S):
        text = re.search(r'<span class="tid">#\d+</span> (.*?)</p>', row, re.S).group(1)
        badge = re.search(r'<span class="badge lang" title="([^"]*)">([^<]*)</span>', row)
        out[text] = (badge.group(2), badge.group(1)) if badge else None
    return out


def test_each_statement_shows_its_detected_language(client, db):
    owner = db.exec(select(Facilitator).where(Facilitator.email == FACILITATOR_EMAIL)).one()
    a = Assembly(slug="market", title="Market", question="What should become of the market?", owner_id=owner.id,
                 language="nan-Hant-TW", strict_moderation=True)
    db.add(a)
    db.commit()
    participant = create_participant(db, a)
    for text in [*STATEMENTS, "123 456 !!!"]:
        add_statement(db, a, text, author=participant)
    log_in(client, owner.id)
    page = client.get("/facilitate/market/moderation?state=pending")
    assert page.status_code == 200
    shown = badges(page.get_data(as_text=True))
    assert {text: b[0] for text, b in shown.items() if b} == STATEMENTS
    for label, title in filter(None, shown.values()):
        confidence = float(re.search(r"\(([0-9.]+)\)", title).group(1))
        assert title.startswith("Detected language") and 0.2 < confidence <= 1.0, (label, title)
    assert shown["123 456 !!!"] is None  # nothing to judge: no badge rather than a guess or an error
