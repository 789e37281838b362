"""UI language: the assembly's language is the default, ?lang= switches, every string is translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# pybabel's defaults plus lazy_gettext, so extract with: pybabel extract -F babel.cfg -k lazy_gettext ...
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdr]|%%")


def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hant_TW")


def extracted_msgids(method_map: list[tuple[str, str]]) -> set[str]:
    """The msgids (singular form for plurals) the source marks for translation, read as pybabel does."""
    found = extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)
    return {msgid if isinstance(msgid, str) else msgid[0] for _file, _line, msgid, _comments, _context in found}


def participant_msgids() -> set[str]:
    """Every string the participant pages mark for translation."""
    return extracted_msgids([
        ("assembly/participant.py", "python"),
        ("templates/base.html", "jinja2"),
        ("templates/participant/**.html", "jinja2"),
    ])


def app_msgids() -> set[str]:
    """Every string the whole app marks for translation, with babel.cfg's mapping."""
    return extracted_msgids([("assembly/**.py", "python"), ("templates/**.html", "jinja2")])


def translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def test_every_participant_string_has_a_traditional_chinese_translation():
    cat = catalog()
    ids = participant_msgids()
    assert len(ids) > 40, ids  # the extraction really found the pages' strings
    missing = sorted(i for i in ids if i not in cat or not translated(cat[i]))
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing}"


def test_every_string_of_the_app_has_a_traditional_chinese_translation():
    cat = catalog()
    ids = app_msgids()
    # Facilitator, results, constitution and auth pages, besides the participant ones.
    assert len(ids) > 250 and {"Opinion map", "Moderation", "Community constitution", "Log in"} <= ids
    missing = sorted(i for i in ids if i not in cat or not translated(cat[i]))
    assert not missing, f"untranslated (run pybabel extract -k lazy_gettext, update, then translate): {missing}"
    assert not [m.id for m in cat if m.id and m.fuzzy], "fuzzy entries left in messages.po"


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    for m in catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert sorted(PLACEHOLDER.findall(s)) == wanted, (m.id, s)


def _key(value):
    """Plural ids and strings come as lists from .mo and tuples from .po: compare them as tuples."""
    return value if isinstance(value, str) else tuple(value)


def test_compiled_catalog_matches_the_po_file():
    assert MO.exists(), "run: pybabel compile -d translations (make setup does it)"
    with MO.open("rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): _key(m.string) for m in catalog() if m.id and translated(m)}
    assert compiled == source, "messages.mo is stale: run pybabel compile -d translations"


def test_assembly_language_sets_the_default(client, db, assembly):
    assembly.language = "zh-Hant-TW"
    db.add(assembly)
    db.commit()
    html = client.get("/a/town").text
    assert '<html lang="zh-Hant-TW">' in html
    assert "同意" in html and "不同意" in html and "略過" in html
    assert "0 / 3 則" in html and "剩餘字數：280" in html
    assert ">Agree<" not in html


def test_lang_parameter_switches_and_is_remembered(client, db, assembly):
    assembly.language = "zh-Hant-TW"
    db.add(assembly)
    db.commit()
    html = client.get("/a/town?lang=en").text
    assert '<html lang="en">' in html and "Agree" in html and "同意" not in html
    assert "Agree" in client.get("/a/town").text  # remembered in the session
    html = client.get("/a/town?lang=zh_Hant_TW").text
    assert "同意" in html


def test_assembly_language_beats_the_browser_which_decides_elsewhere(client, assembly):
    zh_browser = {"Accept-Language": "zh-TW,zh;q=0.9"}
    # On an assembly page the assembly's language wins, so the UI matches its statements.
    assert '<html lang="en">' in client.get("/a/town", headers=zh_browser).text
    html = client.get("/", headers=zh_browser).text
    assert '<html lang="zh-Hant-TW">' in html and "說出您的想法" in html


def test_refusals_are_translated(client, db, assembly):
    assembly.language = "zh-Hant-TW"
    db.add(assembly)
    db.commit()
    r = client.post("/a/town/statements", data={"text": "Build more bike lanes!"}, headers={"HX-Request": "true"})
    assert r.status_code == 409
    assert "這則意見已經有人提出過了（#0）" in r.text
    r = client.post("/a/town/vote", data={"tid": "7", "value": "1"})
    assert r.status_code == 404 and "本次大會沒有這則意見。" in r.text


def test_facilitator_dashboard_and_results_page_render_in_chinese(client, auth, db, assembly):
    from assembly.models import Facilitator

    assembly.owner_id = db.exec(select(Facilitator)).one().id
    db.add(assembly)
    db.commit()
    auth.login()
    html = client.get("/facilitate/town/?lang=zh_Hant_TW").text
    assert '<html lang="zh-Hant-TW">' in html
    assert "即時統計" in html and "參與者" in html and "關閉大會" in html and "審核" in html
    assert "Live counts" not in html and "Close the assembly" not in html
    html = client.get("/a/town/results").text  # the language stays chosen for the session
    assert "尚無意見群組：等足夠多人投票後就會出現。" in html
    assert "No opinion groups yet" not in html
    assert "No opinion groups yet" in client.get("/a/town/results?lang=en").text
