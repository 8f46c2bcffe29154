"""feeds.yaml: what to monitor (sources, prefilter keywords, detection, routing, digest, campaigns),
validated by one typed schema. Errors name the file, the line and the field.

Deployment settings and secrets are not here: see ``monitor.settings``.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.errors import ConfigError
from monitor.yamlfile import read_yaml
from monitor.timeutil import parse_duration

SourceKind = Literal["rss", "google_news", "youtube", "bridge", "file"]

CATEGORIES = (
    "payment_delay",
    "contribution_debt_evasion",
    "fraud_scam_impersonation",
    "misinformation",
    "policy_change_controversy",
    "service_it_outage",
    "official_misconduct",
    "benefit_info",
    "policy_info",
    "positive_result",
    "other_bhxh",
    "not_relevant",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


def infer_kind(url: str) -> SourceKind:
    """Guess a source's kind from its URL: ``file://`` or a path is a local file or directory."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme in ("", "file"):
        return "file"
    if host == "news.google.com":
        return "google_news"
    if host.endswith("youtube.com") and "/feeds/" in parts.path:
        return "youtube"
    if "rsshub" in host or host.startswith("rss.") and "bridge" in parts.path:
        return "bridge"
    return "rss"


class SourceConfig(_Strict):
    """One feed. Only ``name`` and ``url`` are required."""

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1)
    kind: SourceKind | None = None
    interval: timedelta | None = Field(None, description="Poll interval; default collect.default_interval.")
    reach_weight: float = Field(1.0, ge=0, le=100, description="How far this outlet reaches (1 = a national outlet's section).")
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    official: bool = Field(False, description="The agency's own channel (raises severity when it is involved).")
    verified: bool = Field(True, description="False where the URL shape was not checked against the publisher.")

    _interval = field_validator("interval", mode="before")(lambda v: None if v is None else _duration(v))

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        scheme = urlsplit(value).scheme
        if scheme not in ("http", "https", "file", ""):
            raise ValueError(f"unsupported URL scheme {scheme!r} (use http, https, file or a path)")
        return value

    @model_validator(mode="after")
    def _fill_kind(self) -> SourceConfig:
        if self.kind is None:
            self.kind = infer_kind(self.url)
        return self


class CollectConfig(_Strict):
    user_agent: str = "bhxh-monitor/0.1 (+https://github.com/bhxh-monitor; media monitoring for BHXH communications)"
    timeout: timedelta = timedelta(seconds=20)
    max_body_bytes: int = Field(15 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    concurrency: int = Field(16, ge=1, le=256)
    per_host_concurrency: int = Field(2, ge=1, le=32)
    default_interval: timedelta = timedelta(minutes=15)
    min_interval: timedelta = timedelta(minutes=5)
    max_interval: timedelta = timedelta(hours=24)
    max_backoff: timedelta = timedelta(hours=6)
    silence_factor: float = Field(6.0, gt=1, description="Flag a source silent after this many usual gaps without new items.")
    fetch_article_text: bool = Field(False, description="Fetch and extract article text for items passing the prefilter.")

    _durations = field_validator(
        "timeout", "default_interval", "min_interval", "max_interval", "max_backoff", mode="before"
    )(_duration)


class KeywordsConfig(_Strict):
    """The BHXH prefilter: an item mentioning any of these (case- and diacritics-insensitive)
    passes. Keep both accented and unaccented forms readable here; matching folds them anyway."""

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list, description="Phrases that never count as a match (e.g. 'mũ bảo hiểm').")


class DetectionConfig(_Strict):
    window: timedelta = Field(timedelta(hours=6), description="Recent window the burst test looks at.")
    baseline: timedelta = Field(timedelta(days=14), description="History the baseline rate is learnt from.")
    min_items: int = Field(3, ge=1, description="Fewest negative/misleading items in the window to open a ticket.")
    min_outlets: int = Field(2, ge=1, description="Fewest distinct outlets among them.")
    story_window: timedelta = Field(timedelta(days=3), description="How long a story stays open to new items.")
    sustained_items: int = Field(2, ge=2, description="A story with this many negative/misleading items from min_outlets outlets within story_window opens a ticket (slow-burning national coverage).")
    single_item_categories: list[str] = Field(
        default_factory=lambda: ["fraud_scam_impersonation", "misinformation", "official_misconduct"],
        description="Categories where one negative/misleading item from an outlet of reach >= single_item_min_reach opens a ticket.",
    )
    single_item_min_reach: float = Field(1.0, ge=0, description="Least reach_weight for the single-item rule (a forum post weighs less than a national outlet).")
    story_similarity: float = Field(0.35, gt=0, le=1, description="Cosine similarity that joins an item to a story.")
    rumour_similarity: float = Field(0.55, gt=0, le=1, description="Similarity that matches an item to a known rumour.")
    deadlines: dict[int, timedelta] = Field(
        default_factory=lambda: {4: timedelta(hours=1), 3: timedelta(hours=4), 2: timedelta(hours=24), 1: timedelta(days=3)},
        description="Response deadline per severity level.",
    )
    rumours_file: Path | None = Field(None, description="Known-rumour registry; default alerts/rumours.yaml.")
    playbooks_file: Path | None = Field(None, description="Playbooks; default alerts/playbooks.yaml.")

    _durations = field_validator("window", "baseline", "story_window", mode="before")(_duration)

    @field_validator("single_item_categories")
    @classmethod
    def _known_single_categories(cls, value: list[str]) -> list[str]:
        for category in value:
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
        return value

    @field_validator("deadlines", mode="before")
    @classmethod
    def _parse_deadlines(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        parsed = {int(k): _duration(v) for k, v in value.items()}
        if set(parsed) != {1, 2, 3, 4}:
            raise ValueError("deadlines needs exactly the levels 1, 2, 3 and 4")
        return parsed


class RouteMatch(_Strict):
    severity_gte: int | None = Field(None, ge=1, le=4)
    categories: list[str] | None = None
    events: list[str] | None = Field(None, description="ticket_opened, severity_raised, escalated, reopened.")

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str] | None) -> list[str] | None:
        for category in value or []:
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
        return value


class Route(_Strict):
    """Like an Alertmanager route: when ``match`` holds, mail ``to``; every matching route adds."""

    name: str = ""
    match: RouteMatch = Field(default_factory=RouteMatch)
    to: list[str] = Field(min_length=1)


class AlertsConfig(_Strict):
    recipients: list[str] = Field(default_factory=list, description="Every ticket alert goes here.")
    routes: list[Route] = Field(default_factory=list)
    escalation_recipients: list[str] = Field(default_factory=list, description="Added when a ticket passes its deadline unacknowledged.")
    min_interval_per_ticket: timedelta = Field(timedelta(minutes=30), description="At most one mail per ticket per interval; changes fold into the next.")
    group_wait: timedelta = Field(timedelta(seconds=30), description="Wait before the first mail of a new ticket.")

    _durations = field_validator("min_interval_per_ticket", "group_wait", mode="before")(_duration)


class DigestConfig(_Strict):
    cron: str = Field("0 8 * * mon", description="When the weekly digest is sent (Asia/Ho_Chi_Minh).")
    recipients: list[str] = Field(default_factory=list)
    weeks_in_chart: int = Field(12, ge=2, le=52)

    @field_validator("cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        fields = value.split()
        # APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (its issue 286):
        # a number would silently move the digest by a day, so only names are accepted.
        if len(fields) == 5 and re.search(r"\d", fields[4]):
            raise ValueError(f"day of week in {value!r} must be a name (mon, tue, ... sun), not a number")
        try:
            CronTrigger.from_crontab(value, timezone="Asia/Ho_Chi_Minh")
        except ValueError as exc:
            raise ValueError(f"not a crontab expression {value!r}: {exc}") from exc
        return value


class Campaign(_Strict):
    name: str
    start: date
    end: date
    recurring: bool = Field(False, description="Repeat every year on the same dates.")

    @model_validator(mode="after")
    def _ordered(self) -> Campaign:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class FeedsConfig(_Strict):
    """The whole of feeds.yaml."""

    allow_private_addresses: bool = False
    collect: CollectConfig = Field(default_factory=CollectConfig)
    keywords: KeywordsConfig = Field(default_factory=KeywordsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    campaigns: list[Campaign] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names_and_emails(self) -> FeedsConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}")
            seen.add(source.name)
        addresses = list(self.alerts.recipients) + list(self.alerts.escalation_recipients) + list(self.digest.recipients)
        for route in self.alerts.routes:
            addresses += route.to
        for address in addresses:
            if not _EMAIL.match(address.split("<")[-1].rstrip(">").strip()):
                raise ValueError(f"not an email address: {address!r}")
        return self

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources if s.enabled]


def load_feeds(path: str | os.PathLike[str], *, allow_private_env: bool | None = None) -> FeedsConfig:
    """Read and validate feeds.yaml. Raises ConfigError naming the file, line and field."""
    path = Path(path)
    data, text = read_yaml(path, "config")
    root = yaml.compose(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config: {path}:1: the top level must be a mapping with a 'sources:' list")
    try:
        config = FeedsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_errors(path, root, exc)) from exc
    if allow_private_env is None:
        allow_private_env = os.environ.get("BHXH_ALLOW_PRIVATE_ADDRESSES", "").lower() in ("1", "true", "yes")
    if allow_private_env:
        config.allow_private_addresses = True
    return config


def _describe_errors(path: Path, root: yaml.Node | None, exc: ValidationError) -> str:
    lines = [f"config: {path}: {exc.error_count()} error(s)"]
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line_of(root, loc)
        field = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {path}:{line}: {field}: {message}")
    return "\n".join(lines)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
