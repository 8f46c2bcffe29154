"""``bhxh-monitor collect``: one pass (``--once``) with a summary, or collect on schedule until stopped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from monitor.cli_common import feeds_option, load_feeds_option, with_database
from monitor.collect import CollectSummary, collect_once


@click.command("collect")
@click.option("--once", is_flag=True, help="Run one pass over every enabled source, print a summary and exit.")
@click.option("--source", "only", multiple=True, metavar="NAME", help="Only this source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@feeds_option
@with_database
def collect_command(once: bool, only: tuple[str, ...], as_json: bool, feeds: Path | None, ctx) -> None:
    """Collect feeds into the database: once, or on each source's schedule until interrupted."""
    config = load_feeds_option(feeds)
    if once:
        summary = collect_once(ctx.sessions, config, only=list(only) or None, parse_workers=min(2, os.cpu_count() or 1))
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) if as_json else format_summary(summary))
        return
    from apscheduler.schedulers.blocking import BlockingScheduler

    from monitor.schedule import add_collection_jobs

    scheduler = BlockingScheduler(timezone="UTC")
    jobs = add_collection_jobs(scheduler, ctx.sessions, config)
    click.echo(f"collect: {len(jobs)} source(s) scheduled; Ctrl-C stops", err=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


def format_summary(summary: CollectSummary) -> str:
    seconds = summary.seconds
    lines = [
        f"collect: {len(summary.outcomes)} sources: {summary.count('ok')} ok, {summary.count('not_modified')} not modified, "
        f"{summary.count('error')} failed; {summary.new_items} new items, {summary.duplicates} duplicates "
        f"(fetch {seconds['fetch']:.1f}s, parse {seconds['parse']:.1f}s, store {seconds['store']:.1f}s)"
    ]
    for outcome in summary.outcomes:
        if outcome.outcome == "error":
            lines.append(f"  failed: {outcome.source}: {outcome.error}")
        for warning in outcome.warnings[:3]:
            lines.append(f"  warning: {outcome.source}: {warning}")
    return "\n".join(lines)
