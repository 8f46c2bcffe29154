"""``bhxh-monitor outbox list|send``, ``digest`` and ``report``: the email side of the command line."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from monitor import db
from monitor.cli_common import feeds_option, load_feeds_option, with_database
from monitor.logs import setup_logging
from monitor.timeutil import format_local, utcnow


def _now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-11-30T08:00+07:00", param_hint="--now")
    return parsed


now_option = click.option("--now", "now", default=None, metavar="ISO-TIME",
                          help="Pretend it is this time (for replays and tests).")


@click.group("outbox")
def outbox_group() -> None:
    """Show and deliver queued email (ticket alerts, digests)."""


@outbox_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include sent mail.")
@click.option("--limit", default=50, show_default=True)
@with_database
def list_command(show_all: bool, limit: int, ctx) -> None:
    """Queued (and with --all, sent) mail, oldest first."""
    from sqlalchemy import select

    from monitor.models import Notification

    with ctx.sessions() as session:
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if not show_all:
            query = query.where(Notification.sent_at.is_(None))
        rows = list(reversed(session.scalars(query).all()))
    table = Table("id", "kind", "ticket", "to", "not before", "attempts", "sent", "last error", "subject")
    for row in rows:
        table.add_row(str(row.id), row.kind, str(row.ticket_id or ""), str(len(row.recipients)),
                      format_local(row.not_before), str(row.attempts), format_local(row.sent_at),
                      (row.last_error or "")[:60], row.subject[:60])
    Console().print(table)
    click.echo(f"{len(rows)} message(s)")


@outbox_group.command("send")
@click.option("--limit", default=50, show_default=True, help="Most messages to send in this run.")
@now_option
@with_database
def send_command(limit: int, now: str | None, ctx) -> None:
    """Deliver due mail once over SMTP (the service does this every minute)."""
    from alerts.outbox import deliver_due

    setup_logging(ctx.settings.log_level, ctx.settings.log_format)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    result = deliver_due(ctx.sessions, ctx.settings, now=_now(now), worker_id=worker, limit=limit,
                         clock=None if now else utcnow)
    click.echo(f"sent {result.sent}, failed {result.failed}, resent in doubt {result.in_doubt}")
    if result.failed:
        raise SystemExit(1)


@click.command("digest")
@click.option("--week", default=None, metavar="YYYY-Www", help="ISO week, e.g. 2026-W48 (default: last week).")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write the HTML here.")
@click.option("--send", is_flag=True, help="Queue it for the digest recipients and deliver now.")
@feeds_option
@now_option
@with_database
def digest_command(week: str | None, output: Path | None, send: bool, feeds: Path | None, now: str | None, ctx) -> None:
    """Render (or send) the weekly sentiment digest of any week."""
    from alerts.digest import build_digest, enqueue_digest, render_digest
    from alerts.outbox import deliver_due

    config = load_feeds_option(feeds)
    moment = _now(now)
    _check_week(week)
    with ctx.sessions() as session:
        subject, text, html, images = render_digest(build_digest(session, config, week=week, now=moment))
    if output:
        output.write_text(_inline_images(html, images), encoding="utf-8")
        click.echo(f"wrote {output}")
    elif not send:
        click.echo(text)
    if send:
        setup_logging(ctx.settings.log_level, ctx.settings.log_format)
        with db.transaction(ctx.sessions) as session:
            row = enqueue_digest(session, config, ctx.settings, week=week, now=moment)
            row_id = row.id
        result = deliver_due(ctx.sessions, ctx.settings, now=moment, worker_id=f"digest:{os.getpid()}")
        click.echo(f"digest queued as outbox #{row_id}; sent {result.sent}, failed {result.failed}")


@click.command("report")
@click.option("--year", type=int, required=True, help="Calendar year, e.g. 2026.")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="HTML file (default: bao-cao-YEAR.html).")
@click.option("--pdf", is_flag=True, help="Also write a PDF next to the HTML (needs the 'pdf' extra).")
@feeds_option
@now_option
@with_database
def report_command(year: int, output: Path | None, pdf: bool, feeds: Path | None, now: str | None, ctx) -> None:
    """Render the yearly report: the digest's figures by month, and campaign comparisons."""
    from alerts.report import build_report, render_pdf, render_report

    config = load_feeds_option(feeds)
    with ctx.sessions() as session:
        html = render_report(build_report(session, config, year=year, now=_now(now)))
    output = output or Path(f"bao-cao-{year}.html")
    output.write_text(html, encoding="utf-8")
    click.echo(f"wrote {output}")
    if pdf:
        pdf_path = output.with_suffix(".pdf")
        pdf_path.write_bytes(render_pdf(html))
        click.echo(f"wrote {pdf_path}")


def _check_week(week: str | None) -> None:
    if week:
        from alerts.periods import parse_week

        try:
            parse_week(week)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from exc


def _inline_images(html: str, images: list[dict]) -> str:
    """For a file on disk: cid: references become data: URIs so the page shows its chart."""
    for image in images:
        html = html.replace(f"cid:{image['cid']}", f"data:{image['mime']};base64,{image['data_b64']}")
    return html
