"""Reporting periods in Vietnam's time zone (pure): ISO weeks, months, years, campaign windows.

A period is a half-open UTC interval ``[start, end)`` whose ends fall on local midnights
(Asia/Ho_Chi_Minh), so "the week of 17/11" means what an officer in Hà Nội means by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from monitor.config import Campaign
from monitor.timeutil import LOCAL_TZ, to_local

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @property
    def first_day(self) -> date:
        return to_local(self.start).date()

    @property
    def last_day(self) -> date:
        return to_local(self.end).date() - timedelta(days=1)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def days(label: str, first: date, last: date) -> Period:
    """The local days ``first`` .. ``last`` inclusive."""
    return Period(label, local_midnight(first), local_midnight(last + timedelta(days=1)))


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(label: str) -> Period:
    match = _WEEK.match(label.strip())
    if not match:
        raise ValueError(f"periods: not an ISO week {label!r} (use e.g. 2026-W48)")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ValueError(f"periods: no such ISO week {label!r}: {exc}") from exc
    return days(week_label(monday), monday, monday + timedelta(days=6))


def previous_week(now: datetime) -> Period:
    """The last complete ISO week before ``now`` (local): what Monday's digest covers."""
    return parse_week(week_label(to_local(now).date() - timedelta(days=7)))


def shift_weeks(period: Period, weeks: int) -> Period:
    return parse_week(week_label(period.first_day + timedelta(weeks=weeks)))


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return days(f"{number:02d}/{year}", first, following - timedelta(days=1))


def year_period(year: int) -> Period:
    return days(str(year), date(year, 1, 1), date(year, 12, 31))


def campaign_window(campaign: Campaign, year: int) -> Period | None:
    """The campaign's dates in ``year`` (recurring campaigns repeat; others only in their own year)."""
    if campaign.recurring:
        try:
            first = campaign.start.replace(year=year)
            last = campaign.end.replace(year=year + (campaign.end.year - campaign.start.year))
        except ValueError:  # 29 February
            return None
    elif campaign.start.year <= year <= campaign.end.year:
        first, last = campaign.start, campaign.end
    else:
        return None
    return days(campaign.name, first, last)


def before(period: Period) -> Period:
    """The same-length period just before ``period`` (the baseline a campaign is compared with)."""
    return Period(f"trước {period.label}", period.start - period.length, period.start)
