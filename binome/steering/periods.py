"""The period a dashboard shows, and the previous one of the same length it compares with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 5 * 366 + 1  # at most five years at once


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    @property
    def label(self) -> str:
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, 1)


def last_quarter(today: date) -> Period:
    """The last full calendar quarter before today's."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return Period(_months_before(quarter_start, 3), quarter_start - timedelta(days=1))


def last_three_months(today: date) -> Period:
    """The three months up to today: from the same day three months ago, the day after."""
    first = _months_before(today, 3)
    try:
        start = first.replace(day=today.day) + timedelta(days=1)
    except ValueError:  # 31 May → no 31 February: the month after starts it
        start = _months_before(today, 2)
    return Period(start, today)


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31))
