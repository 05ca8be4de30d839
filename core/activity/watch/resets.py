"""The reset time an agent printed with its usage or rate limit, as seconds since the epoch.

The tools say it in their own words: Claude Code ``resets 7pm (Europe/Berlin)`` or ``resets Dec 8,
7pm``, Codex ``try again at 4:04 PM`` or ``try again at Dec 29th, 2025 10:15 PM``, Gemini CLI
``Access resets at 7:30 PM UTC``, an OpenAI error ``try again in 2.4s``. A clock time without a date
is its next occurrence after ``now``, in local time unless the text names a time zone.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["TIME", "parse_reset"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CLOCK = r"\d{1,2}(?::\d{2})?\s?(?:[ap]\.?m\.?|[AP]M)|\d{1,2}:\d{2}"
_DATE = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,?(?: \d{4},?)?(?: at)? "
_ZONE = r"(?: \((?:[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)*|UTC)\)| (?:UTC|GMT)(?:[+-]\d{1,2})?| [A-Z]{2,4}T\b)?"
_UNIT = r"(?:ms|h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)(?![a-z])"
_RELATIVE = rf"in (?:\d+(?:\.\d+)? ?{_UNIT} ?)+"
# what the pattern files write as {time}: a clock time with an optional date and zone, or "in 2h 5m"
TIME = rf"(?:{_RELATIVE}|(?:{_DATE})?(?:{_CLOCK}){_ZONE})"

_PARTS = re.compile(
    r"^(?:(?P<month>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2})(?:st|nd|rd|th)?,?(?: (?P<year>\d{4}),?)?(?: at)? )?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s?(?P<ampm>[ap]\.?m\.?|[AP]M)?"
    r"(?: \((?P<iana>[^)]+)\)| (?P<fixed>UTC|GMT)(?P<offset>[+-]\d{1,2})?)?")
_AMOUNT = re.compile(rf"(\d+(?:\.\d+)?) ?({_UNIT})")


def _zone(iana: str | None, fixed: str | None, offset: str | None) -> tzinfo | None:
    if fixed:
        return UTC if not offset else datetime.strptime(f"{int(offset):+03d}00", "%z").tzinfo
    if iana:
        try:
            return ZoneInfo(iana)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def _relative(text: str, now: float) -> float | None:
    seconds = 0.0
    for amount, unit in _AMOUNT.findall(text):
        seconds += float(amount) * (0.001 if unit == "ms" else {"h": 3600, "m": 60, "s": 1}[unit[0]])
    return now + seconds if seconds else None


def parse_reset(text: str, now: float) -> float | None:
    """``text`` (what a ``{time}`` in a pattern captured) as an epoch; None when it is not a time."""
    text = " ".join(text.split()).rstrip(".")
    if text.startswith("in "):
        return _relative(text, now)
    parts = _PARTS.match(text)
    if parts is None:
        return None
    hour, minute = int(parts["hour"]), int(parts["minute"] or 0)
    ampm = (parts["ampm"] or "").replace(".", "").lower()
    if not ampm and parts["minute"] is None:
        return None  # a bare number is no clock time
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    zone = _zone(parts["iana"], parts["fixed"], parts["offset"])
    base = datetime.fromtimestamp(now, zone) if zone else datetime.fromtimestamp(now).astimezone()
    if parts["month"]:
        month = _MONTHS.index(parts["month"].lower()) + 1 if parts["month"].lower() in _MONTHS else 0
        if not month:
            return None
        year = int(parts["year"] or base.year)
        try:
            moment = base.replace(year=year, month=month, day=int(parts["day"]), hour=hour, minute=minute,
                                  second=0, microsecond=0)
        except ValueError:
            return None
        if not parts["year"] and moment.timestamp() < now - 86400:
            moment = moment.replace(year=year + 1)  # "Jan 2" said on Dec 30
        return _fold(moment, zone)
    moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment.timestamp() <= now:
        moment += timedelta(days=1)
    return _fold(moment, zone)


def _fold(moment: datetime, zone: tzinfo | None) -> float:
    """The epoch of a wall-clock ``moment``; local wall time is re-read so a DST change is honoured."""
    if zone is None:
        moment = moment.replace(tzinfo=None).astimezone()
    return moment.timestamp()
