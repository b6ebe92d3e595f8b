"""The statutory holidays of a year, computed from 《全国年节及纪念日放假办法》 before its notice arrives.

Pure Python, no Django. The State Council's yearly notice (国务院办公厅关于××年部分节假日安排的通知)
only arranges the bridging days (调休); the holidays themselves are fixed by 《全国年节及纪念日放假办法》
and are known for any year: 元旦 on 1 January, 春节 by the lunar calendar, 清明节 on the 清明 solar
term, 劳动节 from 1 May, 端午节 on 农历五月初五, 中秋节 on 农历八月十五, 国庆节 from 1 October. Which
days and how many is a dated rule (rule parameter ``calendar.statutory_holidays``: 国务院令第795号 from
2025-01-01 gives 13 days, with 除夕 and a second 劳动节 day); this module only turns such a rule into
dates. Lunar dates come from ``lunardate`` (1900–2099) and the 清明 term from ``chinese_calendar``.

A rule is a list of holidays, each a mapping::

    {"name": "春节", "calendar": "lunar", "month": 1, "day": 1, "offset_days": -1, "length_days": 4}

``calendar`` is ``solar`` (a Gregorian month and day), ``lunar`` (a lunar month and day of the
non-leap month) or ``solar_term`` (``term``, e.g. 清明); ``offset_days`` moves the first day (春节
starts on 除夕, the day before 正月初一) and ``length_days`` counts consecutive natural days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from lunardate import LunarDate

CALENDAR_KINDS = ("solar", "lunar", "solar_term")


class HolidayRuleError(ValueError):
    """A holiday rule cannot be read or computed for a year; ``message`` is the Chinese text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class HolidayRule:
    """One statutory holiday of 《全国年节及纪念日放假办法》 (see the module docstring for the fields)."""

    name: str
    calendar: str
    month: int = 0
    day: int = 0
    term: str = ""
    offset_days: int = 0
    length_days: int = 1


def read_rules(rows: Iterable[Mapping[str, object]]) -> list[HolidayRule]:
    """Read the rule parameter's value (a list of mappings) into ``HolidayRule``s.

    Raises ``HolidayRuleError`` naming the holiday when a field is missing or impossible.
    """
    rules = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        kind = row.get("calendar")
        if not name or kind not in CALENDAR_KINDS:
            raise HolidayRuleError(f"节假日规则“{name or '（未命名）'}”缺少名称或历法（solar、lunar、solar_term）。")
        try:
            rule = HolidayRule(
                name=name,
                calendar=str(kind),
                month=int(row.get("month", 0)),  # type: ignore[call-overload]  # checked below
                day=int(row.get("day", 0)),  # type: ignore[call-overload]
                term=str(row.get("term") or ""),
                offset_days=int(row.get("offset_days", 0)),  # type: ignore[call-overload]
                length_days=int(row.get("length_days", 1)),  # type: ignore[call-overload]
            )
        except (TypeError, ValueError) as error:
            raise HolidayRuleError(f"节假日规则“{name}”的月、日或天数不是整数。") from error
        if not 1 <= rule.length_days <= 15 or abs(rule.offset_days) > 15:
            raise HolidayRuleError(f"节假日规则“{name}”的天数应为 1 至 15 天。")
        if rule.calendar != "solar_term" and not (1 <= rule.month <= 12 and 1 <= rule.day <= 31):
            raise HolidayRuleError(f"节假日规则“{name}”的月或日不存在。")
        if rule.calendar == "solar_term" and not rule.term:
            raise HolidayRuleError(f"节假日规则“{name}”缺少节气名称。")
        rules.append(rule)
    return rules


def first_day(rule: HolidayRule, year: int) -> date:
    """The first day off of ``rule`` in ``year``. Raises ``HolidayRuleError`` outside 1900–2099."""
    try:
        if rule.calendar == "solar":
            anchor = date(year, rule.month, rule.day)
        elif rule.calendar == "lunar":
            anchor = LunarDate(year, rule.month, rule.day).to_solar_date()
        else:
            terms = chinese_calendar.get_solar_terms(date(year, 1, 1), date(year, 12, 31))
            anchor = next(day for day, name in terms if name == rule.term)
    except (ValueError, NotImplementedError, StopIteration) as error:
        raise HolidayRuleError(f"无法推算{year}年的{rule.name}日期（历法库支持 1900—2099 年）。") from error
    return anchor + timedelta(days=rule.offset_days)


def statutory_holidays(year: int, rules: Iterable[HolidayRule]) -> dict[date, str]:
    """The statutory days off of ``year`` under ``rules``: ``{date: holiday name}``, days of the year only.

    Example (国务院令第795号): 2027 gives 元旦 01-01, 春节 02-05 (除夕) to 02-08, 清明节 04-05, 劳动节
    05-01 and 05-02, 端午节 06-09, 中秋节 09-15, 国庆节 10-01 to 10-03: 13 days. Raises
    ``HolidayRuleError`` when a date cannot be computed for ``year``.
    """
    days: dict[date, str] = {}
    for rule in rules:
        start = first_day(rule, year)
        for offset in range(rule.length_days):
            day = start + timedelta(days=offset)
            if day.year == year:
                days.setdefault(day, rule.name)
    return dict(sorted(days.items()))
