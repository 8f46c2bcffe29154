"""feeds.yaml validation: the shipped file is valid; broken files name file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import infer_kind, load_feeds
from monitor.errors import ConfigError
from monitor.timeutil import parse_duration

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def test_shipped_feeds_yaml_is_valid():
    config = load_feeds(ROOT / "feeds.yaml")
    assert config.sources
    assert "BHXH" in config.keywords.include


def test_good_file_fills_defaults():
    config = load_feeds(DATA / "feeds.good.yaml", allow_private_env=False)
    local, backfill = config.sources
    assert local.kind == "rss" and local.interval == timedelta(minutes=10) and local.enabled
    assert backfill.kind == "file" and backfill.interval is None
    assert config.allow_private_addresses is True
    assert config.detection.deadlines[4] == timedelta(hours=1)


@pytest.mark.parametrize(
    "name, line, field, words",
    [
        ("feeds.bad-interval.yaml", 6, "sources.1.interval", "not a duration"),
        ("feeds.bad-missing-url.yaml", 5, "sources.1.url", "Field required"),
        ("feeds.bad-unknown-key.yaml", 4, "alerts.routes.0.match.categories", "unknown category 'scams'"),
        ("feeds.bad-yaml.yaml", 6, None, "invalid YAML"),
    ],
)
def test_bad_files_name_file_line_and_field(name, line, field, words):
    with pytest.raises(ConfigError) as info:
        load_feeds(DATA / name)
    message = str(info.value)
    assert f"{DATA / name}:{line}:" in message
    if field:
        assert field in message
    assert words in message


def test_env_allows_private_addresses(monkeypatch):
    monkeypatch.setenv("BHXH_ALLOW_PRIVATE_ADDRESSES", "1")
    assert load_feeds(ROOT / "feeds.yaml").allow_private_addresses is True


@pytest.mark.parametrize(
    "url, kind",
    [
        ("https://vnexpress.net/rss/thoi-su.rss", "rss"),
        ("https://news.google.com/rss/search?q=bhxh&hl=vi", "google_news"),
        ("https://www.youtube.com/feeds/videos.xml?channel_id=UC1", "youtube"),
        ("https://rsshub.app/facebook/page/bhxhvn", "bridge"),
        ("file:///srv/backfill", "file"),
        ("demo/feeds", "file"),
    ],
)
def test_kind_is_inferred_from_url(url, kind):
    assert infer_kind(url) == kind


@pytest.mark.parametrize("text, seconds", [(90, 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("3d", 259200)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


def test_feeds_check_command_exit_codes():
    runner = CliRunner()
    ok = runner.invoke(cli, ["feeds", "check", "--feeds", str(ROOT / "feeds.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "feeds: OK" in ok.output
    bad = runner.invoke(cli, ["feeds", "check", "--feeds", str(DATA / "feeds.bad-interval.yaml")])
    assert bad.exit_code != 0
    assert "feeds.bad-interval.yaml:6" in str(bad.exception) + bad.output


def test_help_lists_subcommands_with_descriptions():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "db", "feeds", "users", "collect", "classify", "train", "replay", "digest", "report"):
        assert any(line.strip().startswith(name + " ") for line in result.output.splitlines()), name
