"""``bhxh-monitor feeds``: validate feeds.yaml and show each source's health."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from monitor.cli_common import feeds_option, load_feeds_option, with_database
from monitor.timeutil import format_local


@click.group("feeds")
def feeds_group() -> None:
    """Check feeds.yaml and show each source's health."""


@feeds_group.command("check")
@feeds_option
def check_command(feeds: Path | None) -> None:
    """Validate feeds.yaml without starting anything (exit 0 when valid)."""
    config = load_feeds_option(feeds)
    enabled = len(config.enabled_sources())
    kinds: dict[str, int] = {}
    for source in config.sources:
        kinds[source.kind] = kinds.get(source.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    unverified = [s.name for s in config.sources if not s.verified]
    click.echo(f"feeds: OK: {len(config.sources)} sources ({enabled} enabled; {summary}), "
               f"{len(config.keywords.include)} prefilter keywords")
    if unverified:
        click.echo(f"feeds: {len(unverified)} source URL(s) marked unverified: {', '.join(unverified)}")


@feeds_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the health records as JSON.")
@feeds_option
@with_database
def status_command(as_json: bool, feeds: Path | None, ctx) -> None:
    """Show each source's health: last success, last error, consecutive failures, next check, silence."""
    config = load_feeds_option(feeds)
    with ctx.sessions() as session:
        rows = source_health(session, config, datetime.now(timezone.utc))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Tình trạng nguồn tin")
    for header in ("Nguồn", "Trạng thái", "Thành công gần nhất", "Lỗi liên tiếp", "Lỗi gần nhất", "Kiểm tra tiếp"):
        table.add_column(header)
    for row in rows:
        table.add_row(row["name"], STATUS_LABELS[row["status"]], format_local(row["last_success_at"]),
                      str(row["consecutive_failures"]), row["last_error"] or "", format_local(row["next_check_at"]))
    Console().print(table)


STATUS_LABELS = {
    "ok": "bình thường", "failing": "đang lỗi", "silent": "im lặng bất thường",
    "never": "chưa thu thập", "disabled": "đã tắt",
}


def source_health(session, config, now: datetime) -> list[dict]:
    """One row per source in the database or in feeds.yaml, with its status word."""
    from sqlalchemy import select

    from monitor import health
    from monitor.models import Source

    configured = {s.name: s for s in config.sources}
    rows = []
    stored = {s.name: s for s in session.scalars(select(Source).order_by(Source.name))}
    for name in sorted(set(stored) | set(configured)):
        source = stored.get(name)
        if source is None:
            rows.append({"name": name, "status": "never", "last_success_at": None, "last_error_at": None,
                         "last_error": None, "consecutive_failures": 0, "next_check_at": None, "last_new_item_at": None})
            continue
        view = health.HealthView(
            enabled=source.enabled and name in configured and configured[name].enabled,
            consecutive_failures=source.consecutive_failures or 0, last_success_at=source.last_success_at,
            last_attempt_at=source.last_attempt_at, last_new_item_at=source.last_new_item_at,
            mean_item_gap_s=source.mean_item_gap_s, interval=timedelta(seconds=source.poll_interval_s or 900))
        rows.append({"name": name, "status": health.status(view, now, config.collect.silence_factor),
                     "last_success_at": source.last_success_at, "last_error_at": source.last_error_at,
                     "last_error": source.last_error, "consecutive_failures": view.consecutive_failures,
                     "next_check_at": source.next_check_at, "last_new_item_at": source.last_new_item_at})
    return rows
