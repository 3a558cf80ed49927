"""Opening hours of the OpenStreetMap format ("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00")
shown in French, with today's hours.

Parsing is done by ``opening-hours-py`` (the maintained Rust parser of the OSM
``opening_hours`` specification, with Python bindings): it evaluates the whole syntax
(weekday ranges, several intervals, "off", public holidays, months…) into open intervals,
which are then written in French here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import opening_hours

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class DayHours:
    day: str  # "lundi"
    hours: str  # "9 h - 12 h, 14 h - 17 h" or "fermé"
    is_today: bool


@dataclass(frozen=True)
class OpeningHours:
    raw: str
    valid: bool
    week: list[DayHours]
    today: str  # "9 h - 12 h, 14 h - 17 h", "fermé", or "" when unknown
    open_now: bool


def _clock(moment: time) -> str:
    if moment == time(0, 0):
        return "minuit"
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def _day(parsed: opening_hours.OpeningHours, day: date) -> str:
    start = datetime.combine(day, time(0, 0))
    end = start + timedelta(days=1)
    spans = []
    for begin, finish, state, _comment in parsed.intervals(start, end):
        if state == opening_hours.State.OPEN:
            if begin <= start and finish >= end:
                return "ouvert toute la journée"
            spans.append(
                f"{_clock(begin.time())}\u2009\u2013\u2009{_clock(min(finish, end).time())}"
            )
    return ", ".join(spans) or "fermé"


def describe(raw: str, now: datetime) -> OpeningHours | None:
    """The week of ``now`` (naive local time) in French; None when there are no hours."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not opening_hours.validate(raw):
        return OpeningHours(raw=raw, valid=False, week=[], today="", open_now=False)
    parsed = opening_hours.OpeningHours(raw)
    monday = now.date() - timedelta(days=now.weekday())
    week = [
        DayHours(DAYS[i], _day(parsed, monday + timedelta(days=i)), i == now.weekday())
        for i in range(7)
    ]
    return OpeningHours(
        raw=raw,
        valid=True,
        week=week,
        today=week[now.weekday()].hours,
        open_now=parsed.is_open(now),
    )
