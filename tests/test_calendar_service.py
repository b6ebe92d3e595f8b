"""The working-day calendar as the platform runs it: tables, notice import, provisional years, CLI and API."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.test_holiday_notice import NOTICE_2026
from yuexiu.core import calendar
from yuexiu.core.errors import DomainError
from yuexiu.core.models import AuditEvent, HolidayDay, HolidayYear

pytestmark = pytest.mark.django_db

# Made up for the tests (the real 2027 notice is not in the repo); its weekdays are those of 2027.
NOTICE_2027_TEST = (
    "一、元旦：1月1日（周五）至3日（周日）放假，共3天。"
    "二、春节：2月6日（周六）至14日（周日）放假调休，共9天。2月20日（周六）上班。"
)


def test_the_package_years_load_once(reference_data):
    assert HolidayYear.objects.count() == 23
    assert HolidayDay.objects.get(date=date(2025, 1, 26)).is_working_day is True
    assert calendar.load_package_calendar() == []


def test_the_cli_prints_the_tenth_working_day(reference_data):
    out = StringIO()
    call_command("workdays", "add", "2025-01-20", "10", stdout=out)
    assert out.getvalue().strip() == "2025-02-08"


def test_the_cli_marks_a_deadline_in_a_year_without_its_notice_as_provisional(reference_data):
    out = StringIO()
    call_command("workdays", "add", "2026-12-20", "10", stdout=out)
    # 12-21…12-25, 12-28…12-31 are nine working days; 2027-01-01 is 元旦 (a statutory holiday), so the
    # tenth is Monday 4 January, provisional until the 2027 notice is imported.
    assert out.getvalue().strip() == (
        "2027-01-04（暂定：本平台尚未导入国务院办公厅2027年节假日安排通知，按法定节假日和周末推算，"
        "未计调休；导入后将重新计算。）"
    )


def test_the_cli_explains_a_year_outside_the_calendar_in_chinese(reference_data):
    with pytest.raises(CommandError, match="2100年超出工作日历可计算的范围"):
        call_command("workdays", "add", "2099-12-20", "10")


def test_the_cli_refuses_a_malformed_date(reference_data):
    with pytest.raises(CommandError, match="格式有误"):
        call_command("workdays", "add", "2025/01/20", "10")


def test_the_api_adds_working_days(client, reference_data):
    response = client.get("/api/v1/workdays/add", {"start": "2025-01-20", "days": 10})
    assert response.status_code == 200
    assert response.json() == {
        "start": "2025-01-20",
        "days": 10,
        "date": "2025-02-08",
        "deadline": "2025-02-08T15:59:59.999Z",  # JSON keeps milliseconds
        "is_provisional": False,
        "provisional_note": "",
    }


def test_the_api_counts_and_checks_days(client, reference_data):
    assert (
        client.get("/api/v1/workdays/count", {"start": "2025-01-20", "end": "2025-02-08"}).json()["working_days"] == 10
    )
    body = client.get("/api/v1/workdays/check", {"date": "2025-01-26"}).json()
    assert body == {
        "date": "2025-01-26",
        "is_working_day": True,
        "name": "春节",
        "is_provisional": False,
        "provisional_note": "",
    }


def test_the_api_marks_a_deadline_in_a_provisional_year(client, reference_data):
    body = client.get("/api/v1/workdays/add", {"start": "2026-12-20", "days": 10}).json()
    assert body["date"] == "2027-01-04"
    assert body["is_provisional"] is True
    assert body["provisional_note"].startswith("暂定：本平台尚未导入国务院办公厅2027年节假日安排通知")
    day = client.get("/api/v1/workdays/check", {"date": "2027-02-05"}).json()
    assert (day["is_working_day"], day["name"], day["is_provisional"]) == (False, "春节", True)


def test_the_api_reports_a_year_outside_the_calendar_as_a_409_in_chinese(client, reference_data):
    response = client.get("/api/v1/workdays/add", {"start": "2099-12-20", "days": 10})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "calendar_year_missing"
    assert body["details"] == {"year": 2100}
    assert "2100年" in body["message"]


def test_the_api_refuses_a_number_for_a_date(client, reference_data):
    response = client.get("/api/v1/workdays/check", {"date": "0"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_importing_a_notice_makes_the_year_computable_and_is_audited(client, reference_data, cast):
    record = calendar.import_holiday_notice(
        year=2027,
        text=NOTICE_2027_TEST,
        notice_number="国办发明电〔2026〕测试号",
        actor=cast["sysadmin"],
    )
    assert record.status == "published"
    assert calendar.get_calendar().is_working_day(date(2027, 1, 1)) is False
    event = AuditEvent.objects.get(action="calendar.notice_imported")
    assert event.actor == cast["sysadmin"]
    assert event.changes["after"]["status"] == "published"


def test_an_unreadable_notice_changes_nothing(reference_data, cast):
    before = list(HolidayDay.objects.filter(date__year=2026).values_list("date", "is_working_day"))
    broken = NOTICE_2026.replace("共9天", "共8天")
    with pytest.raises(DomainError, match="写明共8天"):
        calendar.import_holiday_notice(year=2026, text=broken, notice_number="国办发明电〔2025〕7号", actor=None)
    assert list(HolidayDay.objects.filter(date__year=2026).values_list("date", "is_working_day")) == before
    assert not AuditEvent.objects.filter(action="calendar.notice_imported").exists()


def test_reimporting_the_2026_notice_keeps_the_same_days(reference_data):
    before = set(HolidayDay.objects.filter(date__year=2026).values_list("date", "is_working_day"))
    calendar.import_holiday_notice(year=2026, text=NOTICE_2026, notice_number="国办发明电〔2025〕7号", actor=None)
    assert set(HolidayDay.objects.filter(date__year=2026).values_list("date", "is_working_day")) == before
    assert HolidayYear.objects.get(year=2026).notice_number == "国办发明电〔2025〕7号"


def test_the_system_administrator_imports_a_notice_through_the_page(client, cast):
    client.force_login(cast["sysadmin"])
    response = client.post(
        "/workbench/calendar/",
        {
            "notice-year": 2027,
            "notice-notice_number": "国办发明电〔2026〕测试号",
            "notice-notice_url": "",
            "notice-text": NOTICE_2027_TEST,
        },
    )
    assert response.status_code == 302
    assert HolidayYear.objects.get(year=2027).status == "published"


def test_other_staff_cannot_change_the_calendar(client, cast):
    client.force_login(cast["window_hongqiao"])
    response = client.post(
        "/workbench/calendar/",
        {"notice-year": 2027, "notice-notice_number": "测试", "notice-text": NOTICE_2027_TEST},
    )
    assert response.status_code == 403
    assert not HolidayYear.objects.filter(year=2027).exists()


def test_the_calendar_page_calculates_a_deadline(client, cast):
    client.force_login(cast["window_hongqiao"])
    page = client.get("/workbench/calendar/", {"start": "2025-01-20", "days": 10}).content.decode()
    assert "期限届满日为 <strong>2025-02-08</strong>" in page


def test_a_notice_pasted_under_the_wrong_year_is_refused(reference_data):
    with pytest.raises(DomainError, match="请核对所选年份"):
        calendar.import_holiday_notice(year=2028, text=NOTICE_2027_TEST, notice_number="测试", actor=None)
    assert not HolidayYear.objects.filter(year=2028).exists()


def test_a_notice_titled_for_another_year_is_refused(reference_data):
    with pytest.raises(DomainError, match="与所选年份 2028 不一致"):
        calendar.import_holiday_notice(
            year=2028,
            text="国务院办公厅关于2027年部分节假日安排的通知\n" + NOTICE_2027_TEST,
            notice_number="测试",
            actor=None,
        )


@pytest.mark.parametrize("year", ["-1", "0", "1999", "99999999999999999999"])
def test_a_notice_for_an_implausible_year_is_refused(client, cast, year):
    client.force_login(cast["sysadmin"])
    response = client.post(
        "/workbench/calendar/",
        {"notice-year": year, "notice-notice_number": "测试", "notice-text": NOTICE_2027_TEST},
    )
    assert response.status_code == 200
    assert HolidayYear.objects.filter(year__lt=2004).count() == 0
    assert not AuditEvent.objects.filter(action="calendar.notice_imported").exists()


def test_the_calendar_forms_answer_in_our_own_words(client, cast):
    client.force_login(cast["sysadmin"])
    page = client.post(
        "/workbench/calendar/",
        {"notice-year": "2100", "notice-notice_number": "", "notice-notice_url": "ftp:/x", "notice-text": ""},
    ).content.decode()
    for message in ("年份应在 2000 至 2099 之间。", "请填写通知文号", "通知链接格式有误", "请粘贴通知正文。"):
        assert message in page
    calculator = client.get("/workbench/calendar/", {"start": "2027-02-29", "days": "-1"}).content.decode()
    assert "起算日期有误，应为存在的日期" in calculator and "工作日数不能为负数。" in calculator
    assert not HolidayYear.objects.filter(year=2100).exists()
