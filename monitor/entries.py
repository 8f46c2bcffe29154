"""The plain record every collector produces and the store consumes (no I/O, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Entry:
    """One feed entry after parsing and normalisation.

    ``guid`` is the feed's id, else the link, else a hash of title+summary; ``published_at`` is
    aware, or None when the feed gave no usable date (the store then uses the fetch time and sets
    ``published_estimated``).
    """

    guid: str
    title: str
    summary: str = ""
    url: str | None = None
    canonical_url: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    body: str | None = None
    extra: dict = field(default_factory=dict)
