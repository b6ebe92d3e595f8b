"""Read the State Council's annual holiday notice into dated days off and make-up working days.

The notice (国务院办公厅关于××年部分节假日安排的通知, e.g. 国办发明电〔2024〕12号 for 2025) lists
each holiday in one numbered paragraph:

    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。
    1月26日（周日）、2月8日（周六）上班。

Pure Python. ``parse_notice`` returns the days and checks every paragraph's "共N天" against the
range it read, so a typo in a pasted notice is reported instead of silently loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# A paragraph number starts a line or follows a full stop; "农历正月初七、周二" inside a paragraph does not.
PARAGRAPH_MARKER = re.compile(r"(?:^|(?<=[。\n]))\s*[一二三四五六七八九十]{1,3}、", re.M)
# A date, with the weekday the notice prints after it: "2月8日（周六）", "1月28日（农历除夕、周二）".
DATE_TOKEN = re.compile(
    r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*[（(][^）)]*?[周星期]+([一二三四五六日天])[）)])?"
)
WEEKDAYS = "一二三四五六日"
TITLE_YEAR = re.compile(r"关于\s*(\d{4})\s*年")
TOTAL_DAYS = re.compile(r"共\s*(\d+)\s*天")
SINGLE_DAY_OFF = re.compile(r"放假\s*1\s*天")


class NoticeFormatError(ValueError):
    """The text does not read as a holiday notice; ``message`` is the Chinese text for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NoticeDay:
    date: date
    is_working_day: bool
    name: str


def parse_notice(text: str, year: int) -> list[NoticeDay]:
    """Parse a notice for ``year`` into days, sorted by date.

    Returns days off (``is_working_day=False``) and 调休 working days (True), each with the holiday's
    name. Raises ``NoticeFormatError`` when the title names another year, no paragraph is found, a date
    is impossible or falls on another weekday than the one printed beside it, a range runs backwards,
    or a paragraph's "共N天" disagrees with its range.
    """
    title_year = TITLE_YEAR.search(text)
    if title_year and int(title_year.group(1)) != year:
        raise NoticeFormatError(f"通知标题是{title_year.group(1)}年的安排，与所选年份 {year} 不一致。")
    paragraphs = []
    for chunk in PARAGRAPH_MARKER.split(text)[1:]:
        match = re.match(r"\s*([^：:]+)[：:](.*)", chunk, re.S)
        if match:
            paragraphs.append((match.group(1), match.group(2)))
    if not paragraphs:
        raise NoticeFormatError("未识别到节假日条目：请粘贴通知正文，每项以“一、元旦：”这样的格式开头。")
    days: dict[date, NoticeDay] = {}
    for raw_name, body in paragraphs:
        name = raw_name.strip()
        off_part, _, rest = body.partition("放假")
        if not _:
            raise NoticeFormatError(f"“{name}”一项没有找到“放假”字样，无法识别放假日期。")
        off_dates = _dates(off_part, year, name)
        if len(off_dates) == 1:
            off_range = [off_dates[0]]
        elif len(off_dates) == 2:
            first, last = off_dates
            if last < first:
                raise NoticeFormatError(f"“{name}”的放假日期 {first} 至 {last} 起止颠倒。")
            off_range = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
        else:
            raise NoticeFormatError(f"“{name}”的放假日期应为一天或“某日至某日”，识别到 {len(off_dates)} 个日期。")
        total = TOTAL_DAYS.search(rest)
        expected = int(total.group(1)) if total else (1 if SINGLE_DAY_OFF.search(body) else None)
        if expected is not None and expected != len(off_range):
            raise NoticeFormatError(
                f"“{name}”写明共{expected}天，但放假日期 {off_range[0]} 至 {off_range[-1]} "
                f"共{len(off_range)}天，请核对。"
            )
        for day in off_range:
            days[day] = NoticeDay(day, False, name)
        for sentence in re.split(r"[。；;\n]", rest):
            if "上班" in sentence:
                for day in _dates(sentence, year, name):
                    days[day] = NoticeDay(day, True, name)
    return sorted(days.values(), key=lambda item: item.date)


def _dates(fragment: str, year: int, name: str) -> list[date]:
    """Read the dates of a fragment; a missing year or month is carried from the previous date."""
    result: list[date] = []
    current_year, current_month = year, None
    for year_text, month_text, day_text, weekday_text in DATE_TOKEN.findall(fragment):
        if year_text:
            current_year = int(year_text)
        if month_text:
            current_month = int(month_text)
        if current_month is None:
            raise NoticeFormatError(f"“{name}”中的日期“{day_text}日”缺少月份。")
        try:
            day = date(current_year, current_month, int(day_text))
        except ValueError as error:
            raise NoticeFormatError(
                f"“{name}”中的日期 {current_year}年{current_month}月{day_text}日 不存在。"
            ) from error
        printed = WEEKDAYS.index("日" if weekday_text == "天" else weekday_text) if weekday_text else None
        if printed is not None and printed != day.weekday():
            raise NoticeFormatError(
                f"“{name}”中的 {day:%Y年%-m月%-d日} 是周{WEEKDAYS[day.weekday()]}，通知写的是周{WEEKDAYS[printed]}："
                "请核对所选年份是否与通知一致。"
            )
        result.append(day)
    return result
