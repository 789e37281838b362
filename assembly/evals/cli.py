"""`flask evals run SLUG --model BASE [--adapter NAME] [--suite S ...]`: an eval run from the shell;
`flask evals redteam` files a regression, `flask evals rating SLUG [--json]` shows the human rating rounds.

The CLI is the operator's own process, so it scores here, with a tqdm bar, rather than waiting on
a worker; the run is recorded exactly as a queued one is (row, report file, model card).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import select

from assembly.adapters import registry
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.evals import runner
from assembly.evals.models import EvalRun
from assembly.models import Assembly, Facilitator
from assembly.tasks import run_here


def _adapter(db, assembly: Assembly, ref: str):
    owner = db.get(Facilitator, assembly.owner_id) if assembly.owner_id else None
    if ref.isdigit():
        from assembly.adapters.models import Adapter

        found = db.get(Adapter, int(ref))
        if found is None or found.assembly_id != assembly.id:
            raise click.ClickException(f"no adapter with id {ref} in {assembly.slug}")
        return found
    hit = registry.find(db, f"{assembly.slug}/{ref.split('/')[-1]}", owner)
    if hit is None:
        raise click.ClickException(f"no adapter {assembly.slug}/{ref} (see `flask finetune list {assembly.slug}`)")
    return hit.adapter


@click.command("run")
@click.argument("slug")
@click.option("--model", "base_model", default=None,
              help="Base model: a registered name, a folder or a hub id (default: the adapter's own base, "
                   "else FINETUNE_BASE_MODEL).")
@click.option("--adapter", "adapter_ref", default=None,
              help="Adapter NAME (or id) of this assembly to compare with its base.")
@click.option("--suite", "suites", multiple=True,
              help="Suite to run (repeatable): consensus, plurality, steerable, community, redteam, safety, "
                   "language. Default: every suite that has items.")
@with_appcontext
def run_cmd(slug: str, base_model: str | None, adapter_ref: str | None, suites: tuple[str, ...]) -> None:
    """Score the base model and the adapter side by side; record the report and the decision."""
    from tqdm import tqdm

    db = get_session()
    a = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if a is None:
        raise click.ClickException(f"no assembly {slug!r}")
    adapter = _adapter(db, a, adapter_ref) if adapter_ref else None
    app = current_app._get_current_object()
    try:
        ev = runner.create(app, db, a, base_model, adapter, suites)
    except AssemblyError as exc:
        raise click.ClickException(exc.message) from exc
    with tqdm(total=1, unit="req", desc=f"eval {ev.id}", dynamic_ncols=True) as bar:
        def progress(done: int, total: int, what: str) -> None:
            bar.total = total
            bar.n = done
            bar.set_postfix_str(what)
            bar.refresh()

        def work(job) -> EvalRun:
            ev.job_id = job.id  # a kill of this process then shows as failed, not as running forever
            db.add(ev)
            db.commit()
            return runner.execute(app, ev.id, progress)

        try:
            ev = run_here(db, runner.KIND, a.id, work)
        except Exception as exc:
            raise click.ClickException(f"eval {ev.id} failed: {exc}") from exc
    click.echo(f"eval run {ev.id}: {ev.summary}")
    click.echo(f"report: {registry.finetune_dir(app) / ev.report_path}")
    click.echo(f"lm-eval tasks: {runner.report_dir(app, ev) / 'lm-eval'}")


@click.command("redteam")
@click.argument("slug")
@click.option("--prompt", required=True, help="The prompt that produced the bad output.")
@click.option("--bad", required=True, help="The bad output found in use.")
@click.option("--good", default="", help="A better answer (default: a polite decline in the item's language).")
@click.option("--language", default="", help="BCP 47 tag of the item (default: the assembly's language).")
@with_appcontext
def redteam_cmd(slug: str, prompt: str, bad: str, good: str, language: str) -> None:
    """File a red-team regression: every later eval of this assembly is scored on it."""
    db = get_session()
    a = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if a is None:
        raise click.ClickException(f"no assembly {slug!r}")
    try:
        item = runner.file_redteam(db, a, prompt, bad, good, language)
    except AssemblyError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"red-team item {item.id} filed for {slug}")


@click.command("rating")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True,
              help="Print the rounds as JSON (as GET /api/assemblies/SLUG/rating-rounds).")
@with_appcontext
def rating_cmd(slug: str, as_json: bool) -> None:
    """Human rating rounds of an assembly: status and the adapter's win rate against its base per group."""
    import json

    from assembly.evals import rating

    db = get_session()
    a = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if a is None:
        raise click.ClickException(f"no assembly {slug!r}")
    rounds = [rating.results(db, r) for r in rating.rounds_of(db, a)]
    if as_json:
        click.echo(json.dumps({"assembly": slug, "rounds": rounds}, ensure_ascii=False, indent=2))
        return
    if not rounds:
        click.echo(f"{slug} has no rating rounds (open one at /facilitate/{slug}/rating)")
    for r in rounds:
        click.echo(f"round {r['id']} {slug}/{r['adapter']}: {r['status']}, {r['ready']}/{r['prompts']} prompts ready, "
                   f"{r['choices']} choices")
        w = r["win_rates"]
        for who, x in [("everyone", w["all"]), *((f"group {g}", x) for g, x in w["groups"].items())]:
            click.echo(f"  {who:<10} {_rate(x)}")


def _rate(x: dict) -> str:
    v = x["win_rate"]
    if v["value"] is None:
        return "no choices yet"
    interval = f" (95% {v['low']:.0%}-{v['high']:.0%})" if v["low"] is not None else ""
    return f"win rate {v['value']:.0%}{interval} over {x['n']} choices: adapter {x['adapter']}, base {x['base']}, " \
           f"tie {x['tie']}"


@click.command("items")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the items, votes and decisions as JSON.")
@with_appcontext
def items_cmd(slug: str, as_json: bool) -> None:
    """List the community-written eval items: votes overall and per group, and which pass."""
    import json

    from assembly.evals.community import assessment

    db = get_session()
    a = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if a is None:
        raise click.ClickException(f"no assembly {slug!r}")
    found = assessment(db, a)
    if as_json:
        click.echo(json.dumps({"assembly": slug, "clustering": found.clustering, "thresholds": found.thresholds,
                               "items": found.items}, ensure_ascii=False, indent=2))
        return
    if not found.items:
        click.echo(f"{slug}: no community items yet")
        return
    if found.clustering is None:
        click.echo("no clustering run yet: no item can pass until there are opinion groups")
    for it in found.items:
        v = it["votes"]
        groups = "; ".join(f"{g['group']} {g['agree']}/{g['disagree']}/{g['pass']}" for g in it["groups"])
        verdict = "PASSES" if it["passes"] else f"{it['decision']}: {it['detail']}"
        click.echo(f"#{it['id']} [{it['moderation']}] {it['prompt'][:60]!r}  agree {v['agree']} / disagree "
                   f"{v['disagree']} / pass {v['pass']}" + (f"  ({groups})" if groups else "") + f"  -> {verdict}")
    n = sum(it["passes"] for it in found.items)
    click.echo(f"{n} of {len(found.items)} item(s) pass and join the community suite")


def init_app(app) -> None:
    group = app.cli.commands.get("evals")
    if not isinstance(group, click.Group):
        group = AppGroup("evals", help="Evaluate models and adapters; detect languages.")
        app.cli.add_command(group)
    group.add_command(run_cmd)
    group.add_command(redteam_cmd)
    group.add_command(rating_cmd)
    group.add_command(items_cmd)
