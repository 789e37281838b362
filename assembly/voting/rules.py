"""What participants do: join, vote, write statements. Shared by the HTML views and the JSON API.

Every function validates its input and raises `AssemblyError` (assembly/domain_errors.py:
a message a person can act on, and the status pages and the API answer with) before
writing anything, so bad input changes nothing. A vote is committed before the
function returns, and `votes_changed` (assembly/signals.py) sent after the commit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assembly.domain_errors import AssemblyError
from assembly.invitations import BAD_INVITATION, INVITATION_ONLY, require_admitted, valid_invitation
from assembly.models import (
    BIGINT_MAX,
    VOTE_VALUES,
    Assembly,
    Moderation,
    Participant,
    Statement,
    Vote,
    XidAllow,
    now_ms,
)
from assembly.signals import votes_changed
from assembly.texts import text_key
from assembly.tokens import TokenKind, new_token

# Participant-facing sentences used by more than one refusal. Lazy: translated when shown.
_CLOSED = lazy_gettext("This assembly is closed. Votes and statements are no longer accepted.")
_CHOOSE_VOTE = lazy_gettext("Please choose Agree, Disagree or Pass.")
_NO_STATEMENT = lazy_gettext("That statement does not exist in this assembly.")
_WRITE_FIRST = lazy_gettext("Please write your statement first.")
_BUSY = lazy_gettext("Many people are taking part right now. Please try again in a moment.")


# What a participant may see and vote on: the one rule, as a Python predicate (for rows already
# loaded) and as one SQL clause (for queries), tested against each other in tests/test_one_place.py.


def visible(statement, assembly: Assembly) -> bool:
    """Polis rule: strict moderation shows accepted only; otherwise all but rejected."""
    if statement.moderation == Moderation.accepted:
        return True
    return statement.moderation == Moderation.pending and not assembly.strict_moderation


def may_vote(statement, assembly: Assembly, participant_id: int | None) -> bool:
    """A visible statement, or the participant's own (their statement is theirs to vote on whatever its state)."""
    return visible(statement, assembly) or (participant_id is not None and statement.author_id == participant_id)


def visible_clause(strict: bool | ColumnElement[bool]) -> ColumnElement[bool]:
    """`visible` in SQL; `strict` is the assembly's strict_moderation, a value or the joined column."""
    strict_sql = literal(strict) if isinstance(strict, bool) else strict
    return or_(Statement.moderation == Moderation.accepted,
               and_(Statement.moderation == Moderation.pending, ~strict_sql))


def may_vote_clause(strict: bool | ColumnElement[bool], participant_id) -> ColumnElement[bool]:
    """`may_vote` in SQL; `participant_id` a value or a column (the fast vote path joins Participant)."""
    return or_(visible_clause(strict), Statement.author_id == participant_id)


def participant_by_token(session: Session, assembly: Assembly, token: str | None) -> Participant | None:
    if not token:
        return None
    p = session.exec(select(Participant).where(Participant.token == token)).first()
    if p is None or p.assembly_id != assembly.id:
        return None
    return p


def _next_number(session: Session, column, assembly_id: int) -> int:
    current = session.exec(select(func.max(column)).where(column.class_.assembly_id == assembly_id)).one()
    return 0 if current is None else current + 1


def create_participant(
    session: Session, assembly: Assembly, xid: str | None = None, invite: str | None = None
) -> Participant:
    """Join `assembly`: a new participant with the next free `pid` (retried when a concurrent join took it).

    `invite` is the key of a personal invite link (assembly/invitations.py). An invitation-only
    assembly needs a valid one; with it, the id's existing participant is handed back (the same
    person on a second device). Without a valid key an id is only an identifier, so an id someone
    already joined with is refused rather than handed over.
    """
    if xid is not None:
        xid = xid.strip()
        if not xid or len(xid) > 200:
            raise AssemblyError("an external id (xid) must be 1 to 200 characters", explain=lazy_gettext(
                "Your invitation link is not valid. Please open the personal link you were sent."))
    invitation = valid_invitation(session, assembly, xid, invite)
    if assembly.xid_required and invitation is None:
        explain = INVITATION_ONLY if xid is None else BAD_INVITATION
        raise AssemblyError("this assembly is by invitation; your link has no valid id", 403,
                            explain=explain)
    nonce = invitation.nonce if invitation is not None else None
    if xid is not None:
        existing = session.exec(
            select(Participant).where(Participant.assembly_id == assembly.id, Participant.xid == xid)
        ).first()
        if existing is not None:
            if invitation is not None:
                existing.invite_nonce = nonce
                session.add(existing)
                session.commit()
                return existing
            raise AssemblyError(
                "someone has already joined with this id; continue on the device you joined with", 409,
                explain=lazy_gettext("Someone has already taken part with this personal link. "
                                     "Please continue on the device you first used."))
    for _attempt in range(20):
        p = Participant(
            assembly_id=assembly.id,
            pid=_next_number(session, Participant.pid, assembly.id),
            xid=xid,
            invite_nonce=nonce,
            token=new_token(TokenKind.participant),
        )
        session.add(p)
        try:
            session.commit()
            return p
        except IntegrityError:
            session.rollback()
    raise AssemblyError("too many people joined at once; please try again", 503, explain=_BUSY)


# Built once: the vote path is the hottest in the app, and building a query costs more than running it.
_VOTE_STATEMENT = select(Statement.id, Statement.moderation, Statement.author_id).where(
    Statement.assembly_id == bindparam("assembly_id"), Statement.tid == bindparam("tid")
)
_INSERT_VOTE = insert(Vote)


@dataclass(frozen=True)
class CastVote:
    """The vote event as committed; plain data, since building an ORM object costs more than the insert."""

    id: int
    assembly_id: int
    participant_id: int
    statement_id: int
    value: int
    created_ms: int


def _check_vote_value(value: object) -> None:
    # bool is an int in Python: JSON true must not become an agree vote.
    if isinstance(value, bool) or value not in VOTE_VALUES:
        raise AssemblyError("a vote is 1 (agree), -1 (disagree) or 0 (pass)", explain=_CHOOSE_VOTE)


def _could_be_tid(value: object) -> bool:
    """An int a statement number can be; anything else names no statement (and would overflow the driver)."""
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= BIGINT_MAX


def _votable(session: Session, assembly: Assembly, statement_tid: int, value: int, participant_id: int | None):
    """The statement row a vote may go to, or AssemblyError; `participant_id` None for someone not yet joined."""
    if not assembly.is_open:
        raise AssemblyError("this assembly is closed to new votes", 409, explain=_CLOSED)
    _check_vote_value(value)
    if not _could_be_tid(statement_tid):
        raise AssemblyError(f"no statement {statement_tid} in this assembly", 404, explain=_NO_STATEMENT)
    conn = session.connection()  # Core on the session's connection: same transaction, no ORM overhead
    statement = conn.execute(_VOTE_STATEMENT, {"assembly_id": assembly.id, "tid": statement_tid}).first()
    if statement is None:
        raise AssemblyError(f"no statement {statement_tid} in this assembly", 404, explain=_NO_STATEMENT)
    if not may_vote(statement, assembly, participant_id):
        raise AssemblyError("this statement is not open for voting", 409, explain=lazy_gettext(
            "That statement is no longer open for voting."))
    return statement


def check_vote(session: Session, assembly: Assembly, statement_tid: int, value: int) -> None:
    """Raise AssemblyError if someone new could not cast this vote: run before joining them."""
    _votable(session, assembly, statement_tid, value, None)


def record_vote(
    session: Session, assembly: Assembly, participant: Participant, statement_tid: int, value: int
) -> CastVote:
    """Append a vote event and commit it; the latest event per statement is the one that counts.

    One indexed lookup and one Core insert: the ORM unit of work would cost more than the write.
    """
    if participant.assembly_id != assembly.id:
        raise AssemblyError("participant does not belong to this assembly", 403)
    if assembly.xid_required:
        require_admitted(session, assembly, participant)
    statement = _votable(session, assembly, statement_tid, value, participant.id)
    row = {"assembly_id": assembly.id, "participant_id": participant.id, "statement_id": statement.id,
           "value": value, "created_ms": now_ms()}
    result = session.connection().execute(_INSERT_VOTE, row)
    session.commit()
    votes_changed.send(assembly.id)
    return CastVote(id=result.inserted_primary_key[0], **row)


# The rules of `_votable` as one INSERT ... SELECT: a row is inserted only when the token's
# participant belongs to the open assembly `slug` and statement `tid` there is visible (or the
# voter's own). RETURNING gives the new id without a second round trip (SQLite >= 3.35, PostgreSQL).
_VOTE_BY_TOKEN = (
    insert(Vote)
    .from_select(
        ["assembly_id", "participant_id", "statement_id", "value", "created_ms"],
        select(Assembly.id, Participant.id, Statement.id, bindparam("value", type_=Integer),
               bindparam("created_ms", type_=BigInteger))  # PostgreSQL casts to the type: INTEGER is 32-bit
        .select_from(Participant)
        .join(Assembly, Assembly.id == Participant.assembly_id)
        .join(Statement, Statement.assembly_id == Assembly.id)
        .where(
            Participant.token == bindparam("token"),
            Assembly.slug == bindparam("slug"),
            Assembly.is_open,
            Statement.tid == bindparam("tid"),
            may_vote_clause(Assembly.strict_moderation, Participant.id),
            # invitations.admitted in SQL: an invitation-only assembly takes the votes of current invitees only
            or_(not_(Assembly.xid_required), exists().where(
                XidAllow.assembly_id == Assembly.id, XidAllow.xid == Participant.xid,
                XidAllow.nonce == Participant.invite_nonce)),
        )
    )
    .returning(Vote.id, Vote.assembly_id, Vote.participant_id, Vote.statement_id)
)


def vote_by_token(conn: Connection, slug: str, token: str, statement_tid: int, value: int) -> CastVote | None:
    """Append a token holder's vote in one statement, or None when it may not be cast.

    Why a second path beside `record_vote`: a vote over the API is the hottest request in
    the app, and one INSERT ... SELECT costs a fraction of loading the participant, the
    assembly and the statement first. The caller commits (the vote counts from then on)
    and, on None, calls `record_vote`'s path, which names the reason (or, if the state
    changed in between, records the vote under the new state; either way once).
    """
    _check_vote_value(value)
    if not _could_be_tid(statement_tid):
        return None
    created = now_ms()
    row = conn.execute(
        _VOTE_BY_TOKEN,
        {"token": token, "slug": slug, "tid": statement_tid, "value": value, "created_ms": created},
    ).first()
    if row is None:
        return None
    vote_id, assembly_id, participant_id, statement_id = row
    return CastVote(id=vote_id, assembly_id=assembly_id, participant_id=participant_id,
                    statement_id=statement_id, value=value, created_ms=created)


_SPACE = re.compile(r"\s+")


def clean_statement_text(text: str, max_length: int) -> str:
    """Strip and collapse whitespace; reject empty and over-long text."""
    if not isinstance(text, str):
        raise AssemblyError("statement text must be a string", explain=_WRITE_FIRST)
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if not text:
        raise AssemblyError("a statement cannot be empty", explain=_WRITE_FIRST)
    if len(text) > max_length:
        raise AssemblyError(
            f"a statement can be at most {max_length} characters (this one has {len(text)})",
            explain=lazy_gettext("Your statement has %(n)s characters; the limit is %(max)s. Please shorten it.",
                                 n=len(text), max=max_length))
    return text


def find_duplicate(session: Session, assembly: Assembly, text: str) -> Statement | None:
    """The statement of `assembly` that says the same as `text` (by `texts.text_key`): one indexed lookup."""
    query = select(Statement).where(Statement.assembly_id == assembly.id, Statement.text_key == text_key(text))
    return session.exec(query).first()


def find_duplicates(session: Session, assembly: Assembly, texts: list[str]) -> dict[str, Statement]:
    """The statements of `assembly` that say the same as any of `texts`, by text key: one query for a batch.

    Why: seeding checked each line with its own query, so one 1,000-line seed made 1,000 round trips.
    """
    keys = sorted({text_key(t) for t in texts})
    found: dict[str, Statement] = {}
    for start in range(0, len(keys), 900):  # under SQLite's old 999-parameter limit
        chunk = keys[start:start + 900]
        query = select(Statement).where(Statement.assembly_id == assembly.id, Statement.text_key.in_(chunk))
        for st in session.exec(query):
            found.setdefault(st.text_key, st)
    return found


def duplicate_error(statement: Statement, what: str = "this statement") -> AssemblyError:
    return AssemblyError(f"{what} is already in the assembly (#{statement.tid})", 409, explain=lazy_gettext(
        "This statement is already in the assembly (#%(tid)s). Please write something new.", tid=statement.tid))


def check_statement(session: Session, assembly: Assembly, text: str, *, by_participant: bool = True) -> str:
    """The cleaned text, or AssemblyError if it cannot be added: run before joining someone new."""
    if by_participant:
        if not assembly.is_open:
            raise AssemblyError("this assembly is closed", 409, explain=_CLOSED)
        if not assembly.participants_can_write:
            raise AssemblyError("participants cannot add statements in this assembly", 403, explain=lazy_gettext(
                "Participants cannot add statements in this assembly."))
    text = clean_statement_text(text, assembly.statement_max_length)
    dup = find_duplicate(session, assembly, text)
    if dup is not None:
        raise duplicate_error(dup)
    return text


def insert_statement(
    session: Session,
    assembly: Assembly,
    text: str,
    *,
    tid: int,
    author: Participant | None = None,
    is_seed: bool = False,
    is_meta: bool = False,
    moderation: Moderation | None = None,
) -> Statement:
    """Stage one checked statement (and its author's agree vote) in the open transaction; the caller commits."""
    if moderation is None:
        moderation = Moderation.pending if (assembly.strict_moderation and author is not None) else Moderation.accepted
    st = Statement(
        assembly_id=assembly.id, tid=tid, text=text, text_key=text_key(text), author_id=author.id if author else None,
        is_seed=is_seed, is_meta=is_meta, moderation=moderation, language=assembly.language,
    )
    session.add(st)
    session.flush()
    if author is not None:
        session.add(Vote(assembly_id=assembly.id, participant_id=author.id, statement_id=st.id, value=1))
    return st


def next_tid(session: Session, assembly: Assembly) -> int:
    return _next_number(session, Statement.tid, assembly.id)


def add_statement(
    session: Session,
    assembly: Assembly,
    text: str,
    *,
    author: Participant | None = None,
    is_seed: bool = False,
    moderation: Moderation | None = None,
) -> Statement:
    """Add a statement and commit it; a participant's own statement gets their agree vote, as in Polis.

    A concurrent identical statement loses at the unique index on the text key: 409, as if
    it had been seen by the check. A concurrent statement taking the same `tid` is retried.
    """
    text = check_statement(session, assembly, text, by_participant=author is not None)
    if author is not None and assembly.xid_required:
        require_admitted(session, assembly, author)
    for _attempt in range(20):
        try:
            st = insert_statement(session, assembly, text, tid=next_tid(session, assembly), author=author,
                                  is_seed=is_seed, moderation=moderation)
            session.commit()
        except IntegrityError:
            session.rollback()
            dup = find_duplicate(session, assembly, text)
            if dup is not None:
                raise duplicate_error(dup) from None
            continue
        votes_changed.send(assembly.id)
        return st
    raise AssemblyError("too many statements were added at once; please try again", 503, explain=_BUSY)
