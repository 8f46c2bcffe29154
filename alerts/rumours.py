"""Known rumours: the registry of false claims about BHXH/BHYT (alerts/rumours.yaml and the web
page), loading it into the ``rumours`` table, and claim matching.

How YAML edits and web edits coexist (``sync_rumours``): rows are keyed by ``key``. A row last written
by the file has ``updated_by == "yaml"``; the file updates such rows and deactivates them when their
key disappears from it. A row an officer created or edited on the web page (``updated_by`` is their
username) is never overwritten or deactivated by the file: the web edit wins. To hand a rumour back to
the file, set its ``updated_by`` to ``yaml`` in the database (the web page has no such button yet).

Matching (``match_rumour``) is diacritics-insensitive: the share of a claim's (or variant's) content
terms present in the item's folded text (``alerts.features.containment``), best phrasing wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.features import containment
from monitor.config import CATEGORIES
from monitor.errors import ConfigError
from monitor.yamlfile import read_yaml
from monitor.models import Rumour

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent / "rumours.yaml"
FILE_OWNER = "yaml"
_FIELDS = {"key", "claim", "variants", "fact", "correction_url", "correction_date", "category"}


@dataclass(frozen=True)
class RumourView:
    """A rumour as matching and tickets need it (plain data, no session)."""

    id: int | None
    key: str
    claim: str
    variants: tuple[str, ...]
    fact: str
    correction_url: str | None = None
    correction_date: str | None = None
    category: str = "misinformation"

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.claim, *self.variants)


@dataclass(frozen=True)
class RumourMatch:
    rumour: RumourView
    similarity: float


def load_rumours(path: str | Path | None = None) -> list[RumourView]:
    """Read and check the registry; errors name the file, the entry and the field."""
    path = Path(path) if path else DEFAULT_PATH
    data = read_yaml(path, "rumours")[0] or []
    if not isinstance(data, list):
        raise ConfigError(f"rumours: {path}: the top level must be a list of rumours")
    views, seen = [], set()
    for n, entry in enumerate(data, 1):
        where = f"{path}: rumour {n}"
        if not isinstance(entry, dict):
            raise ConfigError(f"rumours: {where}: must be a mapping")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ConfigError(f"rumours: {where}: unknown field(s) {', '.join(sorted(unknown))}")
        for field in ("key", "claim", "fact"):
            if not str(entry.get(field) or "").strip():
                raise ConfigError(f"rumours: {where}: {field} is required")
        key = str(entry["key"]).strip()
        if key in seen:
            raise ConfigError(f"rumours: {where}: duplicate key {key!r}")
        seen.add(key)
        category = entry.get("category") or "misinformation"
        if category not in CATEGORIES:
            raise ConfigError(f"rumours: {where}: category: unknown {category!r}")
        views.append(RumourView(
            id=None, key=key, claim=str(entry["claim"]).strip(),
            variants=tuple(str(v).strip() for v in entry.get("variants") or []),
            fact=" ".join(str(entry["fact"]).split()),
            correction_url=entry.get("correction_url"),
            correction_date=str(entry["correction_date"]) if entry.get("correction_date") else None,
            category=category,
        ))
    return views


def sync_rumours(session: Session, path: str | Path | None = None, *, now: datetime | None = None) -> int:
    """Upsert the file's rumours by key (see the module docstring for web edits); returns how many
    rows were inserted, updated or deactivated."""
    now = now or datetime.now(timezone.utc)
    wanted = {r.key: r for r in load_rumours(path)}
    rows = {row.key: row for row in session.scalars(select(Rumour))}
    changed = 0
    for key, spec in wanted.items():
        row = rows.get(key)
        if row is None:
            row = Rumour(key=key, created_at=now)
            session.add(row)
        elif row.updated_by not in (None, FILE_OWNER):
            continue  # edited on the web page: the officer's version wins
        values = {"claim": spec.claim, "variants": list(spec.variants), "fact": spec.fact,
                  "correction_url": spec.correction_url, "correction_date": spec.correction_date,
                  "category": spec.category, "active": True}
        if row.id is None or any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.updated_at, row.updated_by = now, FILE_OWNER
            changed += 1
    for key, row in rows.items():
        if key not in wanted and row.updated_by == FILE_OWNER and row.active:
            row.active, row.updated_at = False, now
            changed += 1
    session.flush()
    log.info("rumours synced", extra={"path": str(path or DEFAULT_PATH), "changed": changed})
    return changed


def active_rumours(session: Session) -> list[RumourView]:
    return [
        RumourView(r.id, r.key, r.claim, tuple(r.variants or ()), r.fact, r.correction_url,
                   r.correction_date, r.category or "misinformation")
        for r in session.scalars(select(Rumour).where(Rumour.active.is_(True)).order_by(Rumour.id))
    ]


def match_rumour(text: str, rumours: list[RumourView], threshold: float) -> RumourMatch | None:
    """The known rumour ``text`` repeats or answers best, if its similarity reaches ``threshold``."""
    best: RumourMatch | None = None
    for rumour in rumours:
        score = max(containment(phrase, text) for phrase in rumour.phrasings)
        if score >= threshold and (best is None or score > best.similarity):
            best = RumourMatch(rumour, round(score, 3))
    return best


def correction_steps(rumour: RumourView) -> dict[str, list[str]]:
    """Ticket steps grounded in the agency's own fact, first in their phases."""
    source = rumour.correction_url or "kênh thông tin chính thức"
    dated = f" (ngày {_vn_date(rumour.correction_date)})" if rumour.correction_date else ""
    return {
        "prevent": [f"Đối chiếu với thông tin chính thức về tin đồn “{rumour.claim}”: {rumour.fact}"],
        "handle": [f"Đăng lại và gửi cơ quan báo chí nội dung đính chính chính thức: {source}{dated}."],
    }


def _vn_date(value: str) -> str:
    """``2025-10-01`` → ``01/10/2025``; anything else unchanged."""
    parts = value.split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 and all(p.isdigit() for p in parts) else value
