"""Scheduled collection: one APScheduler job per enabled source with the options that matter, and a
job run that hands new item ids to the callback (the job body runs directly: no waiting on clocks)."""

from __future__ import annotations

import random
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from feedserver import FeedServer
from monitor.config import FeedsConfig
from monitor.models import Item
from monitor.schedule import add_collection_jobs, run_source

FEEDS = Path(__file__).parent / "data" / "feeds"


def config_for(sources: list[dict]) -> FeedsConfig:
    return FeedsConfig.model_validate({"allow_private_addresses": True, "keywords": {"include": ["BHXH"]},
                                       "sources": sources})


def test_one_job_per_enabled_source_with_explicit_options(sessions):
    config = config_for([{"name": "A", "url": "https://a.example.vn/rss", "interval": "10m"},
                         {"name": "B", "url": "https://b.example.vn/rss", "interval": "1m"},
                         {"name": "C", "url": "https://c.example.vn/rss", "enabled": False}])
    scheduler = BackgroundScheduler(timezone="UTC")
    jobs = add_collection_jobs(scheduler, sessions, config, rng=random.Random(1))
    assert [j.id for j in jobs] == ["collect:A", "collect:B"]
    a, b = jobs
    assert a.trigger.interval.total_seconds() == 600 and a.trigger.jitter == 60
    assert b.trigger.interval.total_seconds() == 300  # clamped to min_interval
    for job in jobs:
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 60
    again = add_collection_jobs(scheduler, sessions, config)  # replace_existing: a reload does not duplicate
    assert len(again) == 2 and len(scheduler.get_jobs()) == 2


def test_job_run_reports_new_items_once(sessions):
    received: list[list[int]] = []
    with FeedServer() as server:
        url = server.add("/a.xml", (FEEDS / "outlet_a.xml").read_bytes(), etag='"1"')
        config = config_for([{"name": "A", "url": url}])
        ids = run_source(sessions, config, "A", received.append)
        not_due = run_source(sessions, config, "A", received.append)  # next check is 15 min away
        assert server.hits["/a.xml"] == 1
    with sessions() as session:
        stored = session.scalars(select(Item.id).order_by(Item.id)).all()
    assert received == [stored] and ids == stored and len(stored) == 2
    assert not_due == []


def test_callback_failure_does_not_lose_items(sessions):
    def broken(ids):
        raise RuntimeError("pipeline is down")

    with FeedServer() as server:
        config = config_for([{"name": "A", "url": server.add("/a.xml", (FEEDS / "outlet_b.xml").read_bytes())}])
        ids = run_source(sessions, config, "A", broken)
    with sessions() as session:
        assert session.scalars(select(Item.id)).all() == ids and len(ids) == 1
