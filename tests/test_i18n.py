"""UI language: the assembly's language is the default, ?lang= switches, every string is translated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None}


def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hant_TW")


def participant_msgids() -> set[str]:
    """Every string the participant pages mark for translation, read from the source as pybabel does."""
    method_map = [
        ("assembly/participant.py", "python"),
        ("templates/base.html", "jinja2"),
        ("templates/participant/**.html", "jinja2"),
    ]
    found = extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)
    return {msgid for _file, _line, msgid, _comments, _context in found if isinstance(msgid, str)}


def test_every_participant_string_has_a_traditional_chinese_translation():
    cat = catalog()
    ids = participant_msgids()
    assert len(ids) > 40, ids  # the extraction really found the pages' strings
    missing = sorted(i for i in ids if i not in cat or not cat[i].string or cat[i].fuzzy)
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing}"


def test_compiled_catalog_matches_the_po_file():
    assert MO.exists(), "run: pybabel compile -d translations (make setup does it)"
    with MO.open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    source = {m.id: m.string for m in catalog() if m.id and m.string and not m.fuzzy}
    assert compiled == source, "messages.mo is stale: run pybabel compile -d translations"


def test_placeholders_survive_translation():
    for m in catalog():
        if m.id and m.string:
            for name in ("%(n)s", "%(max)s", "%(tid)s", "%(done)s", "%(total)s", "%(number)s", "%(title)s"):
                assert (name in m.id) == (name in m.string), (m.id, m.string)


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
