"""``bhxh-monitor demo``: the whole service offline, on bundled demo feeds.

Writes RSS files from ``monitor/demo/items.yaml`` (our own fictional Vietnamese items) with times
relative to now, points file sources at them, runs one collection and one pipeline pass so items,
flags and a crisis ticket exist at once, renders this week's digest, then serves as ``serve`` does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import click
import yaml
from sqlalchemy import select

from monitor.cli_common import feeds_option, load_feeds_option, open_database
from monitor.config import FeedsConfig, SourceConfig
from monitor.logs import setup_logging
from monitor.models import User
from monitor.settings import load_settings
from monitor.timeutil import LOCAL_TZ, utcnow

log = logging.getLogger("monitor.demo")
ITEMS_FILE = Path(__file__).resolve().parent / "demo" / "items.yaml"
DEMO_USER, DEMO_PASSWORD = "demo", "demo-bhxh"


def write_demo_feeds(directory: Path, now: datetime) -> list[SourceConfig]:
    """One RSS 2.0 file per demo outlet; returns the file sources that read them."""
    data = yaml.safe_load(ITEMS_FILE.read_text(encoding="utf-8"))
    directory.mkdir(parents=True, exist_ok=True)
    sources = []
    for outlet in data["outlets"]:
        entries = [item for item in data["items"] if item["outlet"] == outlet["key"]]
        xml = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
               f"<title>{escape(outlet['name'])}</title><link>https://{outlet['key']}.demo.invalid/</link>"
               "<description>Demo feed of bhxh-monitor</description>"]
        for number, item in enumerate(entries):
            published = (now - timedelta(minutes=item["minutes_ago"])).astimezone(LOCAL_TZ)
            link = f"https://{outlet['key']}.demo.invalid/bai-{number + 1}.html"
            xml.append(f"<item><title>{escape(item['title'])}</title><link>{link}</link>"
                       f"<guid>{link}</guid><pubDate>{format_datetime(published)}</pubDate>"
                       f"<description>{escape(item['summary'])}</description></item>")
        xml.append("</channel></rss>\n")
        path = directory / f"{outlet['key']}.xml"
        path.write_text("".join(xml), encoding="utf-8")
        sources.append(SourceConfig(name=outlet["name"], url=path.resolve().as_uri(), tags=outlet["tags"],
                                    reach_weight=outlet["reach_weight"], official="official" in outlet["tags"],
                                    interval=timedelta(minutes=5)))
    return sources


def demo_config(base: FeedsConfig, sources: list[SourceConfig]) -> FeedsConfig:
    config = base.model_copy(deep=True)
    config.sources = sources
    config.alerts.group_wait = timedelta(0)
    return config


@click.command("demo")
@feeds_option
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data/demo"), show_default=True,
              help="Where the demo database, feeds and digest go.")
@click.option("--host", default=None, help="Listen address (default BHXH_WEB_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Listen port (default BHXH_WEB_PORT, 8080).")
@click.option("--no-serve", is_flag=True, help="Prepare the demo data and exit.")
def demo_command(feeds, data_dir: Path, host, port, no_serve) -> None:
    """Run the service offline on bundled demo feeds (no internet needed)."""
    from alerts.digest import build_digest, render_digest
    from alerts.pipeline import process_new_items
    from monitor import service
    from monitor.collect import collect_once
    from monitor.jobs import ClassifierHolder
    from monitor.users import create_user

    settings = load_settings(data_dir=data_dir)
    settings.database_url = f"sqlite:///{(data_dir / 'demo.db').resolve()}"
    setup_logging(settings.log_level, settings.log_format)
    now = utcnow()
    config = demo_config(load_feeds_option(feeds), write_demo_feeds(data_dir / "feeds", now))
    ctx = open_database(None, settings=settings)
    with ctx.sessions.begin() as session:  # before prepare(), which would otherwise create 'admin'
        if not session.scalar(select(User).where(User.username == DEMO_USER)):
            create_user(session, DEMO_USER, DEMO_PASSWORD, role="admin", display_name="Cán bộ demo", actor="demo")
    service.prepare(ctx, config)
    summary = collect_once(ctx.sessions, config, now=now)
    result = process_new_items(ctx.sessions, config, ClassifierHolder(settings).get(), settings, now=now)
    with ctx.sessions() as session:
        subject, _text, html, _images = render_digest(build_digest(session, config, week=None, now=now + timedelta(days=7)))
    digest_path = data_dir / "digest.html"
    digest_path.write_text(html, encoding="utf-8")
    click.echo(f"demo: collected {summary.new_items} items; pipeline: {result}")
    click.echo(f"demo: this week's digest ({subject}) written to {digest_path}")
    url = f"http://{host or settings.web_host}:{port or settings.web_port}/"
    click.echo(f"demo: open {url} and log in as '{DEMO_USER}' with password '{DEMO_PASSWORD}'")
    if not no_serve:
        service.run(ctx, config, host or settings.web_host, port or settings.web_port)
