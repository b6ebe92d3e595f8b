"""Reading the State Council's holiday notice, checked against the chinesecalendar package."""

from __future__ import annotations

import chinese_calendar
import pytest

from yuexiu.core.holiday_notice import NoticeFormatError, parse_notice

NOTICE_2025 = """国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
"""

NOTICE_2026 = """一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。三、清明节：4月4日（周六）至6日（周一）放假，共3天。四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。五、端午节：6月19日（周五）至21日（周日）放假，共3天。六、中秋节：9月25日（周五）至27日（周日）放假，共3天。七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。"""


def package_days(year):
    off = {day for day in chinese_calendar.holidays if day.year == year}
    on = {day for day in chinese_calendar.workdays if day.year == year}
    return off, on


@pytest.mark.parametrize(("year", "text"), [(2025, NOTICE_2025), (2026, NOTICE_2026)])
def test_a_pasted_notice_gives_the_same_days_as_the_package(year, text):
    days = parse_notice(text, year)
    off = {day.date for day in days if not day.is_working_day}
    on = {day.date for day in days if day.is_working_day}
    assert (off, on) == package_days(year)


def test_each_day_keeps_its_holiday_name():
    names = {day.date.isoformat(): day.name for day in parse_notice(NOTICE_2025, 2025)}
    assert names["2025-01-26"] == "春节"
    assert names["2025-10-08"] == "国庆节、中秋节"


def test_a_count_that_disagrees_with_the_range_is_reported():
    broken = NOTICE_2025.replace("共8天。1月26日", "共7天。1月26日")
    with pytest.raises(NoticeFormatError, match="春节”写明共7天"):
        parse_notice(broken, 2025)


def test_text_that_is_not_a_notice_is_refused():
    with pytest.raises(NoticeFormatError, match="未识别到节假日条目"):
        parse_notice("今天天气很好", 2025)


def test_an_impossible_date_is_refused():
    with pytest.raises(NoticeFormatError, match="2月30日 不存在"):
        parse_notice("一、春节：2月30日（周日）放假1天。", 2025)
