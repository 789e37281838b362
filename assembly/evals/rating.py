"""Human rating rounds: open one, record blind choices, read win rates and preference pairs back.

The math is `finetune/evals/rating.py`; this module is the database side. A round's answers are
made by the "Try it" generation job (`assembly/adapters/tryit.py`), one `generation` row per
prompt, so nothing is generated on the request path. A participant's opinion group is read from
the newest clustering run when the results are computed, so the win rates follow the groups
the report's other suites use.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assembly.adapters import datasets, tryit
from assembly.adapters.models import Adapter, Dataset, Generation, TrainingRun
from assembly.domain_errors import AssemblyError
from assembly.evals.rating_models import RatingChoice, RatingPrompt, RatingRound
from assembly.models import Assembly, Participant, utcnow
from assembly.results.runs import groups_by_pid

MAX_PROMPTS = 50
MAX_NEW_TOKENS = 96
PICKS = ("A", "B", "tie")


def heldout_statements(app: Flask, db: Session, adapter: Adapter) -> list[dict[str, Any]]:
    """[{tid, text}] of the held-out statements of the adapter's dataset (never trained on)."""
    run = db.get(TrainingRun, adapter.run_id)
    ds = db.get(Dataset, run.dataset_id) if run else None
    if ds is None:
        return []
    path = datasets.folder(app, ds) / "heldout.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [{"tid": int(r["tid"]), "text": r["text"]} for r in rows]


def _prompts(app: Flask, db: Session, assembly: Assembly, adapter: Adapter, tids: Sequence[int],
             typed: str) -> list[tuple[str, int | None]]:
    """(prompt text, held-out tid or None) for a new round, validated; AssemblyError otherwise."""
    from finetune.prompts import stance_prompt, template_language

    held = {h["tid"]: h["text"] for h in heldout_statements(app, db, adapter)}
    unknown = [t for t in tids if t not in held]
    if unknown:
        raise AssemblyError(f"statement(s) {', '.join(map(str, unknown))} are not held out for this adapter", 422)
    lang = template_language(assembly.language or "en")
    out: list[tuple[str, int | None]] = [(stance_prompt(held[t], assembly.question, lang), t)
                                         for t in dict.fromkeys(tids)]
    for line in (typed or "").splitlines():
        if line.strip():
            out.append((line.strip(), None))
    if not out:
        raise AssemblyError("choose held-out statements or type at least one prompt", 422)
    if len(out) > MAX_PROMPTS:
        raise AssemblyError(f"a round has at most {MAX_PROMPTS} prompts, not {len(out)}", 422)
    long = [p for p, _ in out if len(p) > tryit.MAX_PROMPT]
    if long:
        raise AssemblyError(f"a prompt can be at most {tryit.MAX_PROMPT} characters", 422)
    return out


def open_round(app: Flask, db: Session, assembly: Assembly, adapter: Adapter, tids: Sequence[int] = (),
               typed: str = "", created_by: int | None = None, max_new_tokens: int = MAX_NEW_TOKENS
               ) -> RatingRound:
    """Validate, record the round and its prompts, and enqueue one generation job per prompt.

    Bad input (no prompts, a tid that is not held out, an answer length out of range, an adapter
    without its files) raises AssemblyError before anything is written.
    """
    from assembly.evals.runner import _check_base

    if adapter.assembly_id != assembly.id:
        raise AssemblyError("that adapter belongs to another assembly", 422)
    if not 1 <= max_new_tokens <= tryit.MAX_NEW_TOKENS:
        raise AssemblyError(f"max_new_tokens must be between 1 and {tryit.MAX_NEW_TOKENS}", 422)
    prompts = _prompts(app, db, assembly, adapter, tids, typed)
    _check_base(app, db.get(TrainingRun, adapter.run_id).base_model, adapter)
    rnd = RatingRound(assembly_id=assembly.id, adapter_id=adapter.id, seed=secrets.randbelow(2**31),
                      created_by=created_by)
    db.add(rnd)
    db.commit()
    for i, (text, tid) in enumerate(prompts):
        gen = Generation(adapter_id=adapter.id, prompt=text, max_new_tokens=max_new_tokens, created_by=created_by)
        db.add(gen)
        db.flush()
        db.add(RatingPrompt(round_id=rnd.id, generation_id=gen.id, heldout_tid=tid, position=i))
    db.commit()
    gens = db.exec(select(Generation).join(RatingPrompt, RatingPrompt.generation_id == Generation.id)
                   .where(RatingPrompt.round_id == rnd.id).order_by(RatingPrompt.position)).all()
    for gen in gens:
        tryit.enqueue_generation(db, gen, adapter.assembly_id)
    db.refresh(rnd)
    return rnd


def close_round(db: Session, rnd: RatingRound) -> RatingRound:
    if not rnd.is_open:
        raise AssemblyError(f"rating round {rnd.id} is already closed", 409)
    rnd.is_open, rnd.closed_at = False, utcnow()
    db.add(rnd)
    db.commit()
    return rnd


def prompts_of(db: Session, rnd: RatingRound) -> list[tuple[RatingPrompt, Generation]]:
    return list(db.exec(select(RatingPrompt, Generation).join(Generation, RatingPrompt.generation_id == Generation.id)
                        .where(RatingPrompt.round_id == rnd.id).order_by(RatingPrompt.position)))


def status(db: Session, rnd: RatingRound) -> dict[str, Any]:
    """{"status": generating | open | closed | failed, "prompts", "ready", "failed"} from the generation jobs."""
    states = [tryit.state(db, gen)[0] for _, gen in prompts_of(db, rnd)]
    ready, failed = states.count("done"), states.count("failed")
    if not rnd.is_open:
        word = "closed"
    elif ready + failed < len(states):
        word = "generating"
    elif ready == 0:
        word = "failed"
    else:
        word = "open"
    return {"status": word, "prompts": len(states), "ready": ready, "failed": failed}


def current_round(db: Session, assembly: Assembly) -> RatingRound | None:
    """The newest open round of the assembly: what /a/SLUG/rate shows."""
    return db.exec(select(RatingRound).where(RatingRound.assembly_id == assembly.id, RatingRound.is_open == True)  # noqa: E712
                   .order_by(RatingRound.id.desc())).first()


def round_of_prompt(db: Session, assembly: Assembly, prompt_id: int) -> RatingRound:
    """The round a prompt belongs to, in this assembly; 404 otherwise."""
    prompt = db.get(RatingPrompt, prompt_id)
    rnd = db.get(RatingRound, prompt.round_id) if prompt is not None else None
    if rnd is None or rnd.assembly_id != assembly.id:
        raise AssemblyError(f"no prompt {prompt_id} to rate in {assembly.slug}", 404,
                            explain=lazy_gettext("This prompt cannot be rated."))
    return rnd


def ready_prompts(db: Session, rnd: RatingRound) -> list[tuple[RatingPrompt, Generation]]:
    return [(p, g) for p, g in prompts_of(db, rnd) if tryit.state(db, g)[0] == "done"]


def my_choices(db: Session, rnd: RatingRound, participant: Participant | None) -> dict[int, RatingChoice]:
    """{prompt id: this participant's choice} in the round."""
    if participant is None:
        return {}
    rows = db.exec(select(RatingChoice).join(RatingPrompt, RatingChoice.prompt_id == RatingPrompt.id)
                   .where(RatingPrompt.round_id == rnd.id, RatingChoice.participant_id == participant.id))
    return {c.prompt_id: c for c in rows}


def adapter_first(rnd: RatingRound, prompt: RatingPrompt, participant: Participant) -> bool:
    """Is the adapter's answer "A" for this participant on this prompt (the seeded blind order)?"""
    from finetune.evals.rating import blind_order

    return blind_order(rnd.seed, participant.id, prompt.id)


def choose(db: Session, rnd: RatingRound, prompt_id: int, participant: Participant, pick: str) -> RatingChoice:
    """Record (or replace) the participant's choice: 'A', 'B' or 'tie' as shown to them."""
    if pick not in PICKS:
        raise AssemblyError("a choice is A, B or tie", 422, explain=lazy_gettext("Please choose A, B or a tie."))
    if not rnd.is_open:
        raise AssemblyError("this rating round is closed", 409, explain=lazy_gettext("This rating round has ended."))
    ready = {p.id: p for p, _ in ready_prompts(db, rnd)}
    prompt = ready.get(prompt_id)
    if prompt is None:
        raise AssemblyError(f"no prompt {prompt_id} ready to rate in this round", 404,
                            explain=lazy_gettext("This prompt cannot be rated."))
    first = adapter_first(rnd, prompt, participant)
    outcome = "tie" if pick == "tie" else ("adapter" if (pick == "A") == first else "base")
    shown = "A" if first else "B"
    row = db.exec(select(RatingChoice).where(RatingChoice.prompt_id == prompt.id,
                                             RatingChoice.participant_id == participant.id)).first()
    if row is None:
        row = RatingChoice(prompt_id=prompt.id, participant_id=participant.id, outcome=outcome,
                           adapter_shown_as=shown)
    else:
        row.outcome, row.adapter_shown_as, row.updated_at = outcome, shown, utcnow()
    db.add(row)
    try:
        db.commit()
    except IntegrityError:  # the unique (prompt, participant) key: a concurrent first choice won; replace it
        db.rollback()
        row = db.exec(select(RatingChoice).where(RatingChoice.prompt_id == prompt.id,
                                                 RatingChoice.participant_id == participant.id)).one()
        row.outcome, row.adapter_shown_as, row.updated_at = outcome, shown, utcnow()
        db.add(row)
        db.commit()
    return row


def _group_label(gid: int) -> str:
    return chr(ord("A") + gid) if 0 <= gid < 26 else str(gid)


def _choices(db: Session, assembly_id: int, round_ids: Sequence[int]):
    """[(prompt id, Choice)] of the rounds, each participant in their newest-run group."""
    from finetune.evals.rating import Choice

    if not round_ids:
        return []
    groups = groups_by_pid(db, assembly_id) or {}
    rows = db.exec(select(RatingChoice, Participant.pid).join(RatingPrompt, RatingChoice.prompt_id == RatingPrompt.id)
                   .join(Participant, RatingChoice.participant_id == Participant.id)
                   .where(RatingPrompt.round_id.in_(list(round_ids))).order_by(RatingChoice.id))
    out = []
    for c, pid in rows:
        gid = groups.get(int(pid))
        out.append(Choice(participant=c.participant_id, prompt=c.prompt_id, outcome=c.outcome,
                          group=None if gid is None else _group_label(int(gid))))
    return out


def results(db: Session, rnd: RatingRound) -> dict[str, Any]:
    """The round as the report, the API and the CLI show it: status, win rates per group, per prompt."""
    from finetune.evals.rating import preferred, win_rates

    adapter = db.get(Adapter, rnd.adapter_id)
    choices = _choices(db, rnd.assembly_id, [rnd.id])
    per_prompt = []
    for p, gen in prompts_of(db, rnd):
        mine = [c for c in choices if c.prompt == p.id]
        side, counts = preferred(mine)
        per_prompt.append({"id": p.id, "prompt": gen.prompt, "heldout_tid": p.heldout_tid, "n": len(mine),
                           "preferred": side, "counts": counts, "state": tryit.state(db, gen)[0]})
    return {"id": rnd.id, "adapter": adapter.name if adapter else None, "adapter_id": rnd.adapter_id,
            "created_at": rnd.created_at.isoformat(), "closed_at": rnd.closed_at.isoformat() if rnd.closed_at else None,
            **status(db, rnd), "choices": len(choices), "win_rates": win_rates(choices), "per_prompt": per_prompt}


def rounds_of(db: Session, assembly: Assembly, adapter_id: int | None = None) -> list[RatingRound]:
    q = select(RatingRound).where(RatingRound.assembly_id == assembly.id)
    if adapter_id is not None:
        q = q.where(RatingRound.adapter_id == adapter_id)
    return list(db.exec(q.order_by(RatingRound.id.desc())))


def rated_prompts(db: Session, assembly: Assembly) -> list:
    """Every rated-or-not prompt of the assembly's rounds with answers and choices (for the dataset builder)."""
    from finetune.evals.rating import RatedPrompt

    rounds = rounds_of(db, assembly)
    choices = _choices(db, assembly.id, [r.id for r in rounds])
    out = []
    for rnd in sorted(rounds, key=lambda r: r.id):
        for p, gen in ready_prompts(db, rnd):
            out.append(RatedPrompt(round_id=rnd.id, prompt_id=p.id, prompt=gen.prompt, base_answer=gen.base_answer,
                                   adapter_answer=gen.adapter_answer, choices=[c for c in choices if c.prompt == p.id],
                                   heldout_tid=p.heldout_tid, adapter_id=rnd.adapter_id))
    return out
