"""Every date works: a year whose State Council notice is not loaded counts its statutory holidays
(《全国年节及纪念日放假办法》), every deadline that depends on it says 暂定, and importing the notice
recomputes the open deadlines in one audited job."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import PDF, at, food_licence_uploads
from tests.test_workdays import PackageSource
from yuexiu.cases import selectors, services
from yuexiu.cases.models import Case, CaseEvent
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import calendar, rules
from yuexiu.core.models import AuditEvent, HolidayYear
from yuexiu.core.statutory_holidays import read_rules, statutory_holidays
from yuexiu.core.tasks import recompute_deadlines
from yuexiu.core.workdays import WorkingDayCalendar, YearArrangement
from yuexiu.supervision import services as supervision
from yuexiu.supervision.models import Alert, SupervisedItem

RULES_2025 = read_rules(
    [
        {"name": "元旦", "calendar": "solar", "month": 1, "day": 1},
        {"name": "春节", "calendar": "lunar", "month": 1, "day": 1, "offset_days": -1, "length_days": 4},
        {"name": "清明节", "calendar": "solar_term", "term": "清明"},
        {"name": "劳动节", "calendar": "solar", "month": 5, "day": 1, "length_days": 2},
        {"name": "端午节", "calendar": "lunar", "month": 5, "day": 5},
        {"name": "中秋节", "calendar": "lunar", "month": 8, "day": 15},
        {"name": "国庆节", "calendar": "solar", "month": 10, "day": 1, "length_days": 3},
    ]
)

# Made up for the tests (the real 2027 notice is not in the repo); its weekdays are those of 2027.
NOTICE_2027_TEST = (
    "一、元旦：1月1日（周五）至3日（周日）放假，共3天。"
    "二、春节：2月6日（周六）至14日（周日）放假调休，共9天。2月20日（周六）上班。"
)


# ---- the statutory holidays, computed ---------------------------------------------------------


def test_the_2027_statutory_holidays_are_the_thirteen_days_of_the_2024_revision():
    days = statutory_holidays(2027, RULES_2025)
    assert days == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",  # 除夕
        date(2027, 2, 6): "春节",  # 正月初一
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }


@pytest.mark.parametrize("year", range(2004, 2027))
def test_every_computed_statutory_holiday_was_a_day_off_in_the_real_notices(reference_data, year):
    """The rows of ``calendar.statutory_holidays`` for 1999, 2008, 2014 and 2025 reproduce every
    holiday the State Council's notices of 2004–2026 gave (as chinesecalendar records them)."""
    rule = rules.get_rule("calendar.statutory_holidays", date(year, 1, 1))
    days = statutory_holidays(year, read_rules(rule.value))
    assert days and all(not chinese_calendar.is_workday(day) for day in days)
    assert len(days) == {2025: 13, 2026: 13}.get(year, len(days))


def test_the_rule_in_force_on_1_january_decides_the_year(reference_data):
    assert len(calendar.provisional_arrangement(2024).exceptions) == 11  # 国务院令第644号
    assert len(calendar.provisional_arrangement(2027).exceptions) == 13  # 国务院令第795号
    assert date(2027, 2, 5) in calendar.provisional_arrangement(2027).exceptions  # 除夕 since 2025


# ---- properties over 2020–2030: no deadline ends on a day off ----------------------------------


def _calendar_2020_2030() -> WorkingDayCalendar:
    class Source(PackageSource):
        def arrangement(self, year: int) -> YearArrangement | None:
            if year <= 2026:
                return super().arrangement(year)
            days = statutory_holidays(year, RULES_2025)
            return YearArrangement(year, dict.fromkeys(days, False), days, is_provisional=True)

    return WorkingDayCalendar(Source())


PROPERTY_CALENDAR = _calendar_2020_2030()
DAYS_2020_2030 = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 10, 31))


@settings(max_examples=400, deadline=None)
@given(start=DAYS_2020_2030, days=st.integers(min_value=0, max_value=60))
def test_no_working_day_limit_ends_on_a_day_off(start, days):
    last = PROPERTY_CALENDAR.last_day(start, days)
    assert PROPERTY_CALENDAR.is_working_day(last)
    assert last >= start
    if days:
        assert PROPERTY_CALENDAR.count_working_days(start, last) == days


@settings(max_examples=400, deadline=None)
@given(start=DAYS_2020_2030, days=st.integers(min_value=0, max_value=60))
def test_no_natural_day_limit_ends_on_a_day_off(start, days):
    last = PROPERTY_CALENDAR.natural_last_day(start, days)
    assert PROPERTY_CALENDAR.is_working_day(last)
    # It ends on start + days unless that day is off, and then on the first working day after it.
    plain = start + timedelta(days=days)
    assert last >= plain
    assert all(not PROPERTY_CALENDAR.is_working_day(plain + timedelta(days=n)) for n in range((last - plain).days))


def test_a_natural_day_period_ending_on_national_day_ends_on_the_first_working_day_after_it():
    # 2025-09-23 + 15 natural days = 2025-10-08, inside the 国庆中秋 break; the next working day is 10-09.
    assert PROPERTY_CALENDAR.natural_last_day(date(2025, 9, 23), 15) == date(2025, 10, 9)
    # 2025-10-01 + 10 = 10-11, a make-up Saturday (a working day): the period ends there.
    assert PROPERTY_CALENDAR.natural_last_day(date(2025, 10, 1), 10) == date(2025, 10, 11)


def test_an_on_the_spot_limit_started_on_a_day_off_ends_on_the_next_working_day():
    assert PROPERTY_CALENDAR.last_day(date(2025, 10, 4), 0) == date(2025, 10, 9)  # 国庆 Saturday
    assert PROPERTY_CALENDAR.last_day(date(2025, 10, 9), 0) == date(2025, 10, 9)


# ---- the platform: pages, API and CLI say 暂定 ----------------------------------------------------


def _accepted_food_case(catalogue, food, key: str = "k1") -> Case:
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key=key,
        form_data={},
        uploads=food_licence_uploads(),
    )
    return services.accept_case(case=case, actor=catalogue["window_centre"])


@time_machine.travel(at("2026-12-21T10:00"), tick=False)
def test_a_case_whose_limit_runs_into_a_year_without_its_notice_is_provisional_everywhere(client, catalogue, food):
    case = _accepted_food_case(catalogue, food)
    case.refresh_from_db()
    assert (case.statutory_limit_days, case.promised_limit_days) == (20, None)
    assert case.deadline_is_provisional is True
    clocks = selectors.case_clocks(case)
    assert clocks.statutory.provisional_years == (2027,)

    client.force_login(catalogue["enterprise_demo"])
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "暂定：本平台尚未导入国务院办公厅2027年节假日安排通知" in page
    body = client.get("/api/v1/cases").json()["items"][0]
    assert body["statutory_clock"]["is_provisional"] is True
    assert body["statutory_clock"]["provisional_note"].startswith("暂定：本平台尚未导入国务院办公厅2027年")

    client.force_login(catalogue["window_centre"])
    queue = client.get("/workbench/cases/").content.decode()
    assert "暂定" in queue


@time_machine.travel(at("2026-03-02T10:00"), tick=False)
def test_a_case_inside_a_year_with_its_notice_is_not_provisional(client, catalogue, food):
    case = _accepted_food_case(catalogue, food)
    case.refresh_from_db()
    assert case.deadline_is_provisional is False
    client.force_login(catalogue["enterprise_demo"])
    assert "暂定" not in client.get(f"/cases/{case.number}/").content.decode()


def test_importing_the_notice_recomputes_open_deadlines_with_an_event_and_supervision_follows(catalogue, food):
    SupervisedItem.objects.create(item=food)
    with time_machine.travel(at("2027-01-29T10:00"), tick=False):
        case = _accepted_food_case(catalogue, food)
    case.refresh_from_db()
    provisional_due = case.due_at
    assert case.deadline_is_provisional is True
    limit = case.statutory_limit_days
    # Provisional 2027: only 2/5–2/8 are off around 春节; the (test) notice gives 2/6–2/14 and a make-up 2/20.
    expected_provisional = PROPERTY_CALENDAR.add_working_days(date(2027, 1, 29), limit)
    assert provisional_due == at(f"{expected_provisional}T23:59:59.999999")

    calendar.import_holiday_notice(
        year=2027, text=NOTICE_2027_TEST, notice_number="国办发明电〔2026〕测试号", actor=None
    )
    with time_machine.travel(at("2027-01-30T10:00"), tick=False):
        lines = recompute_deadlines([2027])
    assert lines[0] == "办件期限重算：1 件"
    case.refresh_from_db()
    assert case.deadline_is_provisional is False
    assert case.due_at > provisional_due
    assert case.due_at == calendar.get_calendar().deadline(at("2027-01-29T10:00"), limit)
    event = CaseEvent.objects.get(case=case, action="deadlines_recomputed")
    assert f"期限由 {provisional_due.astimezone(at('2027-01-01T00:00').tzinfo):%Y-%m-%d}" in event.note
    audit = AuditEvent.objects.get(action="calendar.deadlines_recomputed")
    assert audit.changes["years"] == [2027] and "办件期限重算：1 件" in audit.changes["results"]

    # The sweep reads the new instants: nothing fires at the old deadline, the red alert fires after the new one.
    supervision.sweep(now=provisional_due + timedelta(hours=1))
    assert not Alert.objects.filter(case=case, rule="overdue").exists()
    supervision.sweep(now=case.due_at + timedelta(hours=1))
    assert Alert.objects.filter(case=case, rule="overdue").exists()

    with time_machine.travel(at("2027-01-30T11:00"), tick=False):
        assert recompute_deadlines([2027])[0] == "办件期限重算：0 件"  # idempotent


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so nothing in the job catches it."""


def test_a_recompute_job_killed_midway_changes_nothing_and_the_retry_recomputes_once(catalogue, food, monkeypatch):
    """django-q2 delivers a killed worker's task again: the first, killed, left no deadline half-moved."""
    from yuexiu.policies.apps import PoliciesConfig

    with time_machine.travel(at("2027-01-29T10:00"), tick=False):
        case = _accepted_food_case(catalogue, food)
    case.refresh_from_db()
    provisional_due = case.due_at
    calendar.import_holiday_notice(
        year=2027, text=NOTICE_2027_TEST, notice_number="国办发明电〔2026〕测试号", actor=None
    )

    def killed(self, *, years, now):  # the cases app has recomputed its deadlines; then the worker dies
        raise WorkerKilled

    monkeypatch.setattr(PoliciesConfig, "recompute_deadlines", killed)
    with time_machine.travel(at("2027-01-30T10:00"), tick=False), pytest.raises(WorkerKilled):
        recompute_deadlines([2027])
    case.refresh_from_db()
    assert (case.due_at, case.deadline_is_provisional) == (provisional_due, True)
    assert not CaseEvent.objects.filter(case=case, action="deadlines_recomputed").exists()
    assert not AuditEvent.objects.filter(action="calendar.deadlines_recomputed").exists()

    monkeypatch.undo()
    with time_machine.travel(at("2027-01-30T10:05"), tick=False):
        assert recompute_deadlines([2027]) == ["办件期限重算：1 件", "公示期重算：0 项"]
    case.refresh_from_db()
    assert case.deadline_is_provisional is False and case.due_at > provisional_due
    assert CaseEvent.objects.filter(case=case, action="deadlines_recomputed").count() == 1
    assert AuditEvent.objects.filter(action="calendar.deadlines_recomputed").count() == 1


def test_importing_a_notice_queues_the_recompute_job(reference_data, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True):
        calendar.import_holiday_notice(year=2027, text=NOTICE_2027_TEST, notice_number="测试", actor=None)
    assert OrmQ.objects.count() == 1
    assert OrmQ.objects.get().func() == "yuexiu.core.tasks.recompute_deadlines"


@time_machine.travel(at("2026-12-21T10:00"), tick=False)
def test_a_natural_day_limit_ends_after_the_holiday_and_the_api_gives_the_clock_the_page_shows(client, catalogue):
    permit = ServiceItem.objects.get(seed_key="residence-permit")
    assert permit.current_version.content["statutory_limit"]["unit"] == "natural_days"
    materials = [m["name"] for m in permit.current_version.content["materials"] if m.get("online_required", True)]
    case = services.submit_application(
        item=permit,
        applicant=catalogue["citizen_demo"],
        idempotency_key="permit",
        form_data={},
        uploads=[Upload(name, "a.pdf", PDF) for name in materials],
    )
    case = services.accept_case(case=case, actor=catalogue["window_centre"])
    case.refresh_from_db()
    # 2026-12-21 + 15 natural days = 2027-01-05, a working day even provisionally.
    assert case.statutory_deadline == at("2027-01-05T23:59:59.999999")
    client.force_login(catalogue["citizen_demo"])
    clock = client.get("/api/v1/cases").json()["items"][0]["statutory_clock"]
    assert clock["unit"] == "natural_days"
    assert clock["deadline"].startswith("2027-01-05T15:59:59")
    assert (clock["used_days"], clock["left_days"], clock["is_provisional"]) == (0, 15, True)
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "已用 0 个自然日，剩余 15 个自然日" in page


# ---- the reminder --------------------------------------------------------------------------------


def test_from_1_november_system_administrators_are_reminded_of_next_years_notice(client, cast):
    with time_machine.travel(at("2026-10-31T10:00"), tick=False):
        client.force_login(cast["sysadmin"])
        assert "calendar-reminder" not in client.get("/workbench/").content.decode()
    with time_machine.travel(at("2026-11-01T10:00"), tick=False):
        client.force_login(cast["sysadmin"])
        page = client.get("/workbench/").content.decode()
        assert "2027年的国务院节假日安排通知尚未导入" in page
        client.force_login(cast["window_hongqiao"])
        assert "calendar-reminder" not in client.get("/workbench/").content.decode()
    calendar.import_holiday_notice(year=2027, text=NOTICE_2027_TEST, notice_number="测试", actor=None)
    with time_machine.travel(at("2026-11-02T10:00"), tick=False):
        client.force_login(cast["sysadmin"])
        assert "calendar-reminder" not in client.get("/workbench/").content.decode()


def test_in_a_year_with_no_data_at_all_the_reminder_names_both_years(cast):
    with time_machine.travel(at("2031-12-28T10:00"), tick=False):
        assert calendar.notice_reminder(date(2031, 12, 28)).startswith("2031年、2032年的国务院节假日安排通知尚未导入")


def test_the_calendar_page_lists_a_provisional_year_with_its_holidays(client, cast):
    client.force_login(cast["window_hongqiao"])
    page = client.get("/workbench/calendar/").content.decode()
    assert "暂定（通知未导入）" in page
    assert "2月5日春节" in page
    assert not HolidayYear.objects.filter(year=2027).exists()


def test_the_cli_check_names_a_provisional_holiday(reference_data):
    out = StringIO()
    call_command("workdays", "check", "2027-02-05", stdout=out)
    assert out.getvalue().startswith("2027-02-05 休息日（春节）（暂定：")


def test_other_deadlines_shown_in_lists_are_marked_when_their_year_is_provisional(reference_data):
    from django.template import Context, Template

    template = Template(
        "{% load deadlines %}{% provisional_mark a %}|{% provisional_mark b %}|{% provisional_mark c %}"
    )
    html = template.render(Context({"a": at("2026-12-31T23:00"), "b": at("2027-01-06T23:59"), "c": None}))
    first, second, third = html.split("|")
    assert (first, third) == ("", "")
    assert second.startswith('<span class="provisional" title="暂定：本平台尚未导入国务院办公厅2027年节假日安排通知')
    assert second.endswith(">（暂定）</span>")


def test_a_decided_case_shows_the_time_it_took_and_no_countdown(client, catalogue, food):
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        case = _accepted_food_case(catalogue, food)
    with time_machine.travel(at("2026-03-05T15:00"), tick=False):
        services.approve_case(case=case, actor=catalogue["approver_scj"])
    with time_machine.travel(at("2026-06-01T10:00"), tick=False):  # long after the deadline
        client.force_login(catalogue["enterprise_demo"])
        page = client.get(f"/cases/{case.number}/").content.decode()
        clock = client.get("/api/v1/cases").json()["items"][0]["statutory_clock"]
    assert "已办结，用时 3 个工作日，按期办结（期限 2026-03-30）" in page
    statutory = page.split('id="statutory-clock">')[1].split("</dd>")[0]
    assert "剩余" not in statutory and "已超期" not in statutory
    # The licence itself was never served: its 送达 clock (行政许可法 第四十四条) is overdue.
    service = page.split('id="service-clock">')[1].split("</dd>")[0]
    assert "已超期 49 个工作日" in service
    assert (clock["is_finished"], clock["is_overdue"], clock["used_days"], clock["unit"]) == (
        True,
        False,
        3,
        "working_days",
    )


@settings(max_examples=300, deadline=None)
@given(start=DAYS_2020_2030, days=st.integers(min_value=0, max_value=60))
def test_subtracting_working_days_is_the_inverse_of_adding_them(start, days):
    end = PROPERTY_CALENDAR.add_working_days(start, days)
    back = PROPERTY_CALENDAR.subtract_working_days(end, days)
    assert PROPERTY_CALENDAR.count_working_days(back, end) == days
    assert back <= start


def test_the_note_writes_runs_of_years_as_ranges():
    from yuexiu.core.workdays import provisional_note

    assert provisional_note([2031, 2032, 1900, 1901, 1902, 2040]).startswith(
        "暂定：本平台尚未导入国务院办公厅1900—1902年、2031—2032年、2040年节假日安排通知"
    )
    assert provisional_note([]) == ""


def test_a_paused_case_whose_clock_runs_into_the_year_is_recomputed_with_an_event(catalogue, food):
    """A paused case keeps the instants of its last transition (here December 2026, not provisional) while
    its clock moves them; importing the 2027 notice still reaches it."""
    with time_machine.travel(at("2026-12-01T10:00"), tick=False):
        case = _accepted_food_case(catalogue, food)
    with time_machine.travel(at("2026-12-02T10:00"), tick=False):
        services.start_special_procedure(
            case=case, actor=catalogue["approver_scj"], name="现场核查", legal_basis="《食品经营许可和备案管理办法》"
        )
    case.refresh_from_db()
    assert case.deadline_is_provisional is False and case.due_at.year == 2026
    calendar.import_holiday_notice(year=2027, text=NOTICE_2027_TEST, notice_number="测试", actor=None)
    with time_machine.travel(at("2027-01-20T10:00"), tick=False):
        assert recompute_deadlines([2027])[0] == "办件期限重算：1 件"
    event = CaseEvent.objects.get(case=case, action="deadlines_recomputed")
    assert event.note.endswith("（暂停计时中，期限随暂停天数顺延）。")


def test_a_zero_day_limit_from_a_saturday_ends_on_monday_in_the_calculator_api_and_cli(client, cast):
    body = client.get("/api/v1/workdays/add", {"start": "2026-12-26", "days": 0}).json()
    assert (body["date"], body["deadline"]) == ("2026-12-28", "2026-12-28T15:59:59.999Z")
    out = StringIO()
    call_command("workdays", "add", "2026-12-26", "0", stdout=out)
    assert out.getvalue().strip() == "2026-12-28"
    client.force_login(cast["window_hongqiao"])
    page = client.get("/workbench/calendar/", {"start": "2026-12-26", "days": 0}).content.decode()
    assert "期限届满日为 <strong>2026-12-28</strong>" in page


def test_the_cli_tells_an_impossible_date_from_a_malformed_one_and_reads_full_width_digits(reference_data):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="“2027-02-29”不存在"):
        call_command("workdays", "add", "2027-02-29", "1")
    out = StringIO()
    call_command("workdays", "add", "２０２５-０１-２０", "１０", stdout=out)
    assert out.getvalue().strip() == "2025-02-08"


@time_machine.travel(at("2026-12-21T10:00"), tick=False)
def test_the_queue_explains_its_provisional_deadlines_once(client, catalogue, food):
    _accepted_food_case(catalogue, food)
    client.force_login(catalogue["window_centre"])
    page = client.get("/workbench/cases/").content.decode()
    assert page.count("本平台尚未导入国务院办公厅2027年节假日安排通知") == 1
    assert 'id="provisional-footnote"' in page
