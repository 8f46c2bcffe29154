"""Time helpers: store UTC, show Asia/Ho_Chi_Minh, and an injectable clock for tests and replays."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_local(value: datetime | None) -> datetime | None:
    """The same instant in Vietnam's time zone (UTC+7, no DST)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL_TZ)


def format_local(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """Vietnamese display format, e.g. ``14:05 29/11/2026``; empty for None."""
    local = to_local(value)
    return local.strftime(fmt) if local else ""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: int | float | str) -> timedelta:
    """Parse ``90``, ``"90s"``, ``"15m"``, ``"2h"``, ``"3d"``, ``"1w"`` (a bare number is seconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90, '15m', '2h', '3d')")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    if seconds < 0:
        raise ValueError(f"duration must not be negative: {value!r}")
    return timedelta(seconds=seconds)
