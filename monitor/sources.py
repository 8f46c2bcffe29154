"""The ``sources`` table follows feeds.yaml: sources are upserted by name; one removed from the file is
disabled, never deleted, so its items and health history stay."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import FeedsConfig, SourceConfig
from monitor.health import poll_interval
from monitor.models import Source


def sync_sources(session: Session, config: FeedsConfig, *, only: list[str] | None = None) -> list[Source]:
    """Upsert feeds.yaml's sources by name and disable the ones no longer listed; returns the listed
    ones. With ``only``, just those sources are upserted (a scheduled poll of one source does not
    reload and re-check every other source)."""
    if only is not None:
        wanted = set(only)
        listed_configs = [cfg for cfg in config.sources if cfg.name in wanted]
        query = select(Source).where(Source.name.in_(wanted))
    else:
        listed_configs, query = config.sources, select(Source)
    existing = {s.name: s for s in session.scalars(query)}
    listed = []
    for cfg in listed_configs:
        source = existing.get(cfg.name)
        if source is None:
            source = Source(name=cfg.name, consecutive_failures=0)
            session.add(source)
        _apply(source, cfg, config)
        listed.append(source)
    names = {cfg.name for cfg in config.sources}
    for name, source in existing.items():
        if only is None and name not in names and source.enabled:
            source.enabled = False
    session.flush()
    return listed


def _apply(source: Source, cfg: SourceConfig, config: FeedsConfig) -> None:
    if source.url is not None and source.url != cfg.url:
        # A new address: the old validators mean nothing there.
        source.etag = source.last_modified = None
    source.url = cfg.url
    source.kind = cfg.kind or "rss"
    source.enabled = cfg.enabled
    source.poll_interval_s = int(poll_interval(cfg.interval, config.collect).total_seconds())
    source.reach_weight = cfg.reach_weight
    tags = list(cfg.tags)
    if cfg.official and "official" not in tags:
        tags.append("official")
    if source.tags != tags:
        source.tags = tags
