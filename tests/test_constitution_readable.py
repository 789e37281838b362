"""The public constitution reads as a document for citizens: the principle, translated reasons, jargon in details."""

from __future__ import annotations

import re

import pytest

from assembly.constitution.build import current_draft
from assembly.constitution.readable import explain
from assembly.constitution.versions import publish
from tests.test_constitution_web import _ngrams, drafted, owner, planted  # noqa: F401 - fixtures

ZH = {"Accept-Language": "zh-TW"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def published(db, drafted):  # noqa: F811 - the fixture imported above
    a, _groups = drafted
    publish(db, current_draft(db, a))
    return a


def test_page_shows_the_principle_not_the_training_prompt(client, published):
    html = client.get("/a/planted/constitution", headers=ZH).text
    assert "Choose the response" not in html
    doc = client.get("/a/planted/constitution/v/1.json").get_json()
    assert doc["principles"][0]["training_form"].startswith("Choose the response")  # the export keeps it
    assert f'<blockquote class="principle" lang="en">{doc["principles"][0]["text"]}</blockquote>' in html


def test_reasons_are_translated_and_jargon_is_behind_details(client, published):
    html = client.get("/a/planted/constitution", headers=ZH).text
    main = html.split('<main', 1)[1]
    for english in ("supported by group", "rejected by group", "moderation: ", "votes (needs", "GIC ≥"):
        assert english not in re.sub(r'<details class="technical">.*?</details>', "", main, flags=re.S), english
    technical = re.search(r'<details class="technical">(.*?)</details>', html, re.S).group(1)
    doc = client.get("/a/planted/constitution/v/1.json").get_json()
    assert doc["content_hash"] in technical and "GIC" in technical
    outside = html.replace(technical, "")
    assert doc["content_hash"] not in outside and "sha256" not in outside
    assert not re.search(r"(?<!&)#\d+|\bp\d+\b(?!\")", re.sub(r'(id|href)="[^"]*"', "", outside.split("<main", 1)[1]))
    assert "審核：等待審核" in html or "審核：已拒絕" in html  # the planted pending/rejected statements


def test_explain_covers_every_machine_reason():
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert explain("too_few_votes", "1 votes (needs 97)") == "1 vote (needs 97)"
        assert explain("too_few_votes", "5 votes (needs 9); too few votes in group B") == \
            "5 votes (needs 9); too few votes in group B"
        assert explain("divisive", "supported by group A, rejected by group B, C") == \
            "supported by group A, rejected by group B, C"
        assert explain("low_agreement", "GIC 0.100 (needs 0.490); below 0.70 in group A") == \
            "too little agreement: under 70% in group A"
        assert explain("low_agreement", "GIC 0.100 (needs 0.490)") == "too little agreement across the groups"
        assert explain("moderated_out", "moderation: rejected") == "moderation: rejected"
        assert explain("excluded_by_facilitator", "1 votes (needs 97)") == "1 votes (needs 97)"  # their words


def test_han_theme_labels_are_whole_words():
    from assembly.constitution.themes import label_themes, terms

    transport = ["交通部應該降低計程車的管制", "交通部要加強計程車司機的保險", "我覺得交通部應該管理計程車"]
    other = ["政府應該補貼公共運輸", "學校的午餐應該更健康", "公園需要更多樹木", "圖書館週末也要開放"]
    assert "交通部" in terms(transport[0]) and "通部" not in terms(transport[0]) and "降低" not in terms(transport[0])
    labels = label_themes([transport, other], transport + other)
    words = labels[0].split(" · ")
    assert "交通部" in words and "計程車" in words
    assert all(len(w) >= 2 for w in words) and "通部" not in words and "我覺" not in words
