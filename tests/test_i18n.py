"""UI language: the person's choice (?lang=), else their browser; every string is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlmodel import select

from assembly.models import Moderation, Participant, Statement, Vote, XidAllow
from assembly.voting.rules import AssemblyError, clean_statement_text, create_participant

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
    """Every string the participant pages mark for translation, refusals' explanations included."""
    return extracted_msgids([
        ("assembly/voting/pages.py", "python"),
        ("assembly/voting/rules.py", "python"),
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


def test_a_chinese_browser_gets_a_chinese_interface(client, db, assembly):
    html = client.get("/a/town", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).text
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


def test_the_browser_not_the_assembly_decides_the_interface(client, db, assembly):
    """An English browser on a Chinese assembly: English buttons; the statements keep their own language."""
    assembly.language = "zh-Hant-TW"
    db.add(assembly)
    db.commit()
    html = client.get("/a/town", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert '<html lang="en">' in html and ">Agree<" in html and "同意" not in html
    assert 'aria-labelledby="assembly-title" lang="zh-Hant-TW"' in html  # the assembly's own text keeps its language
    html = client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).text
    assert '<html lang="zh-Hant-TW">' in html and "說出您的想法" in html


HX = {"HX-Request": "true"}
LONG = "x" * 25


def _limit_20(client, db, a):
    a.statement_max_length = 20


def _close(client, db, a):
    a.is_open = False


def _no_writing(client, db, a):
    a.participants_can_write = False


def _invitation_only(client, db, a):
    a.xid_required = True
    db.add(XidAllow(assembly_id=a.id, xid="friend"))


def _stranger_link(client, db, a):
    _invitation_only(client, db, a)
    client.get("/a/town?xid=stranger")


def _over_long_link(client, db, a):
    client.get("/a/town?xid=" + "x" * 201)


def _someone_elses_link(client, db, a):
    create_participant(db, a, xid="abc")
    client.get("/a/town?xid=abc")


def _reject_1(client, db, a):
    st = db.exec(select(Statement).where(Statement.assembly_id == a.id, Statement.tid == 1)).one()
    st.moderation = Moderation.rejected
    db.add(st)


def _nothing(client, db, a):
    pass


VOTE_0 = ("/a/town/vote", {"tid": "0", "value": "1"}, "/api/assemblies/town/votes", {"tid": 0, "vote": 1})

# id: (arrange, page URL, page form (None: GET), API URL, API JSON (None: GET; no URL: no API twin),
#      status, the API's English message, the participant's sentence in en, and in zh_Hant_TW)
REFUSALS = {
    "over-long": (_limit_20, "/a/town/statements", {"text": LONG}, "/api/assemblies/town/statements",
                  {"text": LONG}, 400, "a statement can be at most 20 characters (this one has 25)",
                  "Your statement has 25 characters; the limit is 20. Please shorten it.",
                  "您的意見有 25 個字，超過上限 20 字，請再精簡一些。"),
    "duplicate": (_nothing, "/a/town/statements", {"text": "Build more bike lanes!"},
                  "/api/assemblies/town/statements", {"text": "Build more bike lanes!"}, 409,
                  "this statement is already in the assembly (#0)",
                  "This statement is already in the assembly (#0). Please write something new.",
                  "這則意見已經有人提出過了（#0），請寫一則不一樣的意見。"),
    "empty": (_nothing, "/a/town/statements", {"text": "   "}, "/api/assemblies/town/statements",
              {"text": "   "}, 400, "a statement cannot be empty", "Please write your statement first.",
              "請先輸入您的意見。"),
    "closed-vote": (_close, *VOTE_0, 409, "this assembly is closed to new votes",
                    "This assembly is closed. Votes and statements are no longer accepted.",
                    "本次大會已經結束，不再接受投票及新意見。"),
    "closed-statement": (_close, "/a/town/statements", {"text": "Too late?"}, "/api/assemblies/town/statements",
                         {"text": "Too late?"}, 409, "this assembly is closed",
                         "This assembly is closed. Votes and statements are no longer accepted.",
                         "本次大會已經結束，不再接受投票及新意見。"),
    "no-writing": (_no_writing, "/a/town/statements", {"text": "Mine"}, "/api/assemblies/town/statements",
                   {"text": "Mine"}, 403, "participants cannot add statements in this assembly",
                   "Participants cannot add statements in this assembly.", "本次大會不開放參與者新增意見。"),
    "invitation-only": (_invitation_only, *VOTE_0, 403, "this assembly is by invitation; your link has no valid id",
                        "This assembly is by invitation only. Please open the personal link you were sent.",
                        "本次大會僅限受邀者參加，請使用您收到的專屬連結進入。"),
    "not-invited": (_stranger_link, *VOTE_0, 403, "this assembly is by invitation; your link has no valid id",
                    "Your invitation link is not valid for this assembly. Please check the link you were sent.",
                    "您的邀請連結不適用於本次大會，請確認您收到的連結。"),
    "bad-xid": (_over_long_link, *VOTE_0, 400, "an external id (xid) must be 1 to 200 characters",
                "Your invitation link is not valid. Please open the personal link you were sent.",
                "您的邀請連結無效，請使用您收到的專屬連結進入。"),
    "xid-taken": (_someone_elses_link, *VOTE_0, 409,
                  "someone has already joined with this id; continue on the device you joined with",
                  "Someone has already taken part with this personal link. "
                  "Please continue on the device you first used.",
                  "已經有人用這個專屬連結參與了，請在您第一次參與時使用的裝置上繼續。"),
    "bad-vote": (_nothing, "/a/town/vote", {"tid": "0", "value": "2"}, None, None, 400,
                 "a vote is 1 (agree), -1 (disagree) or 0 (pass)", "Please choose Agree, Disagree or Pass.",
                 "請選擇「同意」、「不同意」或「略過」。"),
    "unknown-statement": (_nothing, "/a/town/vote", {"tid": "7", "value": "1"}, "/api/assemblies/town/votes",
                          {"tid": 7, "vote": 1}, 404, "no statement 7 in this assembly",
                          "That statement does not exist in this assembly.", "本次大會沒有這則意見。"),
    "not-open-for-voting": (_reject_1, "/a/town/vote", {"tid": "1", "value": "1"}, "/api/assemblies/town/votes",
                            {"tid": 1, "vote": 1}, 409, "this statement is not open for voting",
                            "That statement is no longer open for voting.", "這則意見已不開放投票。"),
    "unknown-assembly": (_nothing, "/a/nowhere", None, "/api/assemblies/nowhere/next", None, 404,
                         "no assembly 'nowhere'", "There is no assembly at this address. Please check the link.",
                         "找不到這個網址的大會，請確認連結是否正確。"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_are_translated(client, db, assembly, case):
    """Each refusal shows its own sentence in the page's language; the API keeps its English message."""
    arrange, page, form, api, body, status, message, english, chinese = case
    assembly.language = "zh-Hant-TW"
    arrange(client, db, assembly)
    db.add(assembly)
    db.commit()

    def show(url: str, **kwargs):
        r = client.post(url, data=form, **kwargs) if form is not None else client.get(url, **kwargs)
        assert r.status_code == status, r.text
        return r.text

    # Chinese from the browser's language, htmx and plain.
    zh_browser = {"Accept-Language": "zh-TW"}
    for headers in ({**HX, **zh_browser}, zh_browser):
        html = show(page, headers=headers)
        assert chinese in html and english not in html and message not in html
    if api is not None:
        r = client.post(api, json=body, headers=zh_browser) if body is not None else client.get(api, headers=zh_browser)
        assert (r.status_code, r.get_json()) == (status, {"error": message})
    html = show(page + "?lang=en", headers=HX)
    assert english in html and chinese not in html
    # Nothing was written by any of the refusals (the arranged participant of "xid-taken" aside).
    assert db.exec(select(Vote).join(Participant)).all() == []
    assert len(db.exec(select(Statement)).all()) == 3


def test_refusal_explanations_are_english_outside_a_request(app):
    """Shown by a CLI command or a job, an explanation is English; in a request, the request's language."""
    with pytest.raises(AssemblyError) as caught:
        clean_statement_text("x" * 30, 20)
    error = caught.value
    english = "Your statement has 30 characters; the limit is 20. Please shorten it."
    assert (str(error), error.message) == ("a statement can be at most 20 characters (this one has 30)",) * 2
    assert error.explanation == english
    with app.app_context():
        assert error.explanation == english
    with app.test_request_context("/?lang=zh_Hant_TW"):
        assert error.explanation == "您的意見有 30 個字，超過上限 20 字，請再精簡一些。"
    assert AssemblyError("only the facilitator may do this", 403).explanation == "only the facilitator may do this"


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
