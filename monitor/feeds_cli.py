"""``bhxh-monitor feeds``: validate feeds.yaml and show each source's health."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli_common import feeds_option, load_feeds_option


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
