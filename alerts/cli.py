"""``bhxh-monitor pipeline``, ``replay`` and ``tickets``: run detection once, replay a stream on a
simulated clock, and work tickets from the command line."""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from sqlalchemy import select

from monitor.cli_common import database_option, feeds_option, load_feeds_option, open_database, with_database
from monitor.logs import setup_logging
from monitor.timeutil import format_local, parse_duration

model_option = click.option("--model", "model", type=click.Path(path_type=Path), default=None,
                            help="Classifier artifact (default: BHXH_MODEL_PATH, else the newest trained, else shipped).")


@click.command("pipeline")
@feeds_option
@model_option
@with_database
def pipeline_command(feeds: Path | None, model: Path | None, ctx) -> None:
    """Classify, cluster and detect crises for stored items once, then escalate overdue tickets."""
    from alerts.pipeline import process_new_items
    from alerts.rumours import sync_rumours
    from alerts.tickets import escalate_overdue
    from classifiers.model import load_classifier

    setup_logging(ctx.settings.log_level, ctx.settings.log_format)
    config = load_feeds_option(feeds)
    now = datetime.now(timezone.utc)
    with ctx.sessions.begin() as session:
        sync_rumours(session, config.detection.rumours_file, now=now)
    summary = process_new_items(ctx.sessions, config, load_classifier(model), ctx.settings, now=now)
    with ctx.sessions.begin() as session:
        escalated = escalate_overdue(session, config, ctx.settings, now=now)
    click.echo(f"pipeline: {summary.classified} items classified ({summary.relevant} relevant, "
               f"{summary.rumour_matches} known rumours), {summary.stories_created} new stories, "
               f"{len(summary.opened)} tickets opened, {summary.raised} raised, {summary.reopened} reopened, "
               f"{len(escalated)} escalated")


@click.command("replay")
@click.argument("stream", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the tickets as JSON to this file ('-' for standard output).")
@click.option("--step", default="15m", show_default=True, help="Simulated interval between pipeline runs.")
@feeds_option
@model_option
def replay_command(stream: Path, database: str | None, json_out: Path | None, step: str, feeds: Path | None,
                   model: Path | None) -> None:
    """Replay STREAM (JSON Lines, .gz too) through store → classify → stories → detection → tickets →
    outbox on a simulated clock, sending nothing. Without --database a throwaway SQLite file is used."""
    from alerts.replay import read_stream, replay
    from classifiers.model import load_classifier

    config = load_feeds_option(feeds)
    with tempfile.TemporaryDirectory(prefix="bhxh-replay-") as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'replay.db'}"
        ctx = open_database(url)
        setup_logging("WARNING", ctx.settings.log_format)
        try:
            started = time.perf_counter()
            records = list(read_stream(stream))
            result = replay(records, ctx.sessions, config, load_classifier(model), ctx.settings,
                            step=parse_duration(step))
            elapsed = time.perf_counter() - started
        finally:
            ctx.engine.dispose()
    _write_json(result, json_out)
    click.echo(replay_report(records, result, elapsed), err=json_out is not None and str(json_out) == "-")


def _write_json(result: list[dict], json_out: Path | None) -> None:
    if json_out is None:
        return
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if str(json_out) == "-":
        click.echo(text)
    else:
        json_out.write_text(text + "\n", encoding="utf-8")


def replay_report(records: list[dict], tickets: list[dict], elapsed: float) -> str:
    times = [datetime.fromisoformat(r["published"]) for r in records if r.get("published")]
    weeks = max((max(times) - min(times)) / timedelta(weeks=1), 1 / 7) if times else 1.0
    severities = Counter(t["severity"] for t in tickets)
    categories = Counter(t["category"] for t in tickets)
    return (f"replay: {len(records)} items over {weeks:.1f} weeks in {elapsed:.1f}s; {len(tickets)} tickets "
            f"({len(tickets) / weeks:.2f} a week); by severity {dict(sorted(severities.items()))}; "
            f"by category {dict(categories.most_common())}")


@click.group("tickets")
def tickets_group() -> None:
    """List and work crisis tickets from the command line."""


def _get(session, ticket_id: int):
    from monitor.models import Ticket

    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise click.ClickException(f"tickets: no ticket {ticket_id}")
    return ticket


@tickets_group.command("list")
@click.option("--state", "states", multiple=True, help="Only these states (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_database
def list_command(states: tuple[str, ...], as_json: bool, ctx) -> None:
    """Tickets, newest first."""
    from alerts.labels import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS
    from alerts.tickets import steps_done
    from monitor.models import Ticket

    with ctx.sessions() as session:
        query = select(Ticket).order_by(Ticket.opened_at.desc())
        if states:
            query = query.where(Ticket.state.in_(states))
        rows = session.scalars(query).all()
        if as_json:
            click.echo(json.dumps([{"id": t.id, "opened_at": t.opened_at.isoformat(), "severity": t.severity,
                                    "category": t.category, "stage": t.state, "title": t.title,
                                    "deadline_at": t.deadline_at.isoformat()} for t in rows], ensure_ascii=False, indent=2))
            return
        for t in rows:
            done, total = steps_done(t)
            click.echo(f"#{t.id} [{STATE_LABELS.get(t.state, t.state)}] mức {t.severity} ({SEVERITY_LABELS.get(t.severity)}) "
                       f"{CATEGORY_LABELS.get(t.category, t.category)} — {t.title} (mở {format_local(t.opened_at)}, "
                       f"hạn {format_local(t.deadline_at)}, {done}/{total} bước)")


@tickets_group.command("show")
@click.argument("ticket_id", type=int)
@with_database
def show_command(ticket_id: int, ctx) -> None:
    """One ticket: reason, checklist and timeline."""
    from alerts.labels import STATE_LABELS

    with ctx.sessions() as session:
        t = _get(session, ticket_id)
        click.echo(f"#{t.id} {t.title}\nTrạng thái: {STATE_LABELS.get(t.state, t.state)}; mức {t.severity}; "
                   f"mở {format_local(t.opened_at)}; hạn {format_local(t.deadline_at)}\n\n{t.reason}\n")
        for n, step in enumerate(t.steps or []):
            click.echo(f"  [{'x' if step.get('done') else ' '}] {n}. {step['text']}")
        click.echo("")
        for e in t.events:
            click.echo(f"  {format_local(e.at)} {e.actor} {e.kind} {e.to_state or ''} {e.detail.get('note', '')}")


@tickets_group.command("state")
@click.argument("ticket_id", type=int)
@click.argument("to_state")
@click.option("--actor", required=True, help="Who is making the change (username).")
@click.option("--note", default=None)
@with_database
def state_command(ticket_id: int, to_state: str, actor: str, note: str | None, ctx) -> None:
    """Move a ticket to TO_STATE (acknowledged, responding, monitoring, closed, new = reopen)."""
    from alerts.tickets import change_state

    with ctx.sessions.begin() as session:
        change_state(session, _get(session, ticket_id), to_state, actor=actor, now=datetime.now(timezone.utc), note=note)
    click.echo(f"tickets: #{ticket_id} → {to_state}")


@tickets_group.command("note")
@click.argument("ticket_id", type=int)
@click.argument("text")
@click.option("--actor", required=True)
@with_database
def note_command(ticket_id: int, text: str, actor: str, ctx) -> None:
    """Add a note to a ticket's timeline."""
    from alerts.tickets import add_note

    with ctx.sessions.begin() as session:
        add_note(session, _get(session, ticket_id), text, actor=actor, now=datetime.now(timezone.utc))


@tickets_group.command("step")
@click.argument("ticket_id", type=int)
@click.argument("index", type=int)
@click.option("--undo", is_flag=True, help="Untick the step.")
@click.option("--actor", required=True)
@with_database
def step_command(ticket_id: int, index: int, undo: bool, actor: str, ctx) -> None:
    """Tick checklist step INDEX (as numbered by `tickets show`)."""
    from alerts.tickets import set_step

    with ctx.sessions.begin() as session:
        set_step(session, _get(session, ticket_id), index, not undo, actor=actor, now=datetime.now(timezone.utc))


@tickets_group.command("playbook")
@click.argument("category")
@feeds_option
def playbook_command(category: str, feeds: Path | None) -> None:
    """Show the response steps for CATEGORY, phase by phase."""
    from alerts.playbooks import PHASES, load_playbooks, steps_for

    books = load_playbooks(load_feeds_option(feeds).detection.playbooks_file)
    for phase in PHASES:
        click.echo(f"{phase}:")
        for step in steps_for(category, phase, books):
            click.echo(f"  - {step}")
