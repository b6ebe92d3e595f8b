"""好差评: one rating per case however many submissions arrive, the default rating at the end of the
7th natural day (moved past a holiday) and not before, the QR page, and statistics that move by exactly
one rating."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection

from tests.helpers import at, food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating


@pytest.fixture
def closed_case(catalogue):
    services.load_question_sets()
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        case = case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key="r",
            form_data={},
            uploads=food_licence_uploads(),
        )
        case = case_services.accept_case(case=case, actor=catalogue["window_centre"])
        case = case_services.approve_case(case=case, actor=catalogue["approver_scj"])
        case = case_services.deliver_result(case=case, actor=catalogue["window_centre"], method="electronic")
        return case_services.close_case(case=case, actor=catalogue["window_centre"])


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_leave_one_rating(catalogue, closed_case):
    barrier = threading.Barrier(20)
    outcomes = []

    def submit():
        barrier.wait()
        try:
            services.rate_case(case=closed_case, channel="qr", level=5)
            outcomes.append("rated")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 19 + ["rated"]
    assert Rating.objects.count() == 1


def _case_closed_at(catalogue, instant: str, key: str):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    with time_machine.travel(at(instant), tick=False):
        case = case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key=key,
            form_data={},
            uploads=food_licence_uploads(),
        )
        case = case_services.accept_case(case=case, actor=catalogue["window_centre"])
        case = case_services.approve_case(case=case, actor=catalogue["approver_scj"])
        case = case_services.deliver_result(case=case, actor=catalogue["window_centre"], method="electronic")
        return case_services.close_case(case=case, actor=catalogue["window_centre"])


def test_the_default_rating_comes_at_the_end_of_the_seventh_natural_day_not_seven_times_24_hours_later(
    closed_case,
):
    # Closed on Monday 2026-03-02 at 10:00: day 7 is Monday 2026-03-09, which ends at 24:00.
    assert services.default_rating_due(closed_case.closed_at) == at("2026-03-10T00:00")
    assert services.give_default_ratings(at("2026-03-09T10:00")) == 0  # 7 × 24 hours: too early
    assert services.give_default_ratings(at("2026-03-09T23:59:59")) == 0
    assert services.give_default_ratings(at("2026-03-10T00:00")) == 1
    assert services.give_default_ratings(at("2026-03-10T01:00")) == 0
    rating = Rating.objects.get()
    assert (rating.level, rating.get_level_display(), rating.is_default) == (3, "基本满意", True)
    assert rating.channel == "default"
    assert rating.given_at == at("2026-03-10T00:00")


def test_a_default_rating_period_ending_in_a_holiday_ends_on_the_first_working_day_after_it(catalogue):
    services.load_question_sets()
    # Closed on Monday 2026-09-28: day 7 is 2026-10-05, inside the 国庆 holiday (10-01 … 10-07), so the
    # period ends at 24:00 on Thursday 2026-10-08 (《民法典》第二百零三条).
    case = _case_closed_at(catalogue, "2026-09-28T10:00", "before-national-day")
    assert services.default_rating_due(case.closed_at) == at("2026-10-09T00:00")
    assert services.give_default_ratings(at("2026-10-06T00:00")) == 0
    assert services.give_default_ratings(at("2026-10-08T23:00")) == 0
    assert services.give_default_ratings(at("2026-10-09T00:00")) == 1
    assert Rating.objects.get(case=case).given_at == at("2026-10-09T00:00")


def test_the_default_rating_follows_the_rule_in_force_on_the_finishing_day(closed_case):
    from yuexiu.core.models import RuleParameter

    # Before the 2019 trial (粤办函〔2019〕274号, 2019-08-09) there was no default rating.
    assert services.default_rating_due(at("2019-08-08T10:00")) is None
    # From 2020-02-19 the window is the platform's own default under 粤办函〔2020〕21号: an officer who
    # finds the 2020 rule changes that row, and cases finished under it follow it.
    RuleParameter.objects.filter(key="ratings.default_after_days", effective_from="2020-02-19").update(value=3)
    RuleParameter.objects.filter(key="ratings.default_level", effective_from="2020-02-19").update(value=4)
    assert services.default_rating_due(closed_case.closed_at) == at("2026-03-06T00:00")  # day 3: Thursday 03-05
    assert services.default_rating_due(at("2020-02-18T10:00")) == at("2020-02-26T00:00")  # the 2019 row: 7 days
    assert services.give_default_ratings(at("2026-03-06T00:00")) == 1
    assert Rating.objects.get().get_level_display() == "满意"


def test_the_applicant_rates_on_the_portal_and_staff_cannot_rate_their_own_case(catalogue, closed_case):
    with pytest.raises(PermissionDeniedError):
        services.rate_case(case=closed_case, channel="portal", level=5, rater=catalogue["citizen_demo"])
    with pytest.raises(PermissionDeniedError, match="不能评价本人经办"):
        services.rate_case(case=closed_case, channel="qr", level=5, rater=catalogue["approver_scj"])
    with pytest.raises(DomainError, match="差评请填写意见"):
        services.rate_case(case=closed_case, channel="portal", level=1, rater=catalogue["enterprise_demo"])
    rating = services.rate_case(
        case=closed_case,
        channel="portal",
        level=2,
        rater=catalogue["enterprise_demo"],
        answers={"办事效率": 2},
        comment="等待时间长",
    )
    assert rating.is_negative and rating.question_set.version == 1
    rating.comment = "改过"
    with pytest.raises(ValueError, match="never edited"):
        rating.save()


def test_the_qr_page_rates_once_and_the_statistics_move_by_exactly_that_rating(client, closed_case):
    since = {"days": "365"}
    before = client.get("/ratings/", since).content.decode().split('id="rating-table"')[1]
    assert "区市场监督管理局</td><td>1</td><td>0</td>" in before  # one finished case, no rating yet
    token = services.rating_token(closed_case)
    page = client.get(f"/ratings/r/{token}/").content.decode()
    assert closed_case.number in page
    response = client.post(f"/ratings/r/{token}/", {"level": "1", "comment": "窗口态度差"})
    assert "评价已提交" in response.content.decode()
    html = client.get("/ratings/", since).content.decode()
    row = html.split('id="rating-table"')[1]
    assert "区市场监督管理局</td><td>1</td><td>1</td>" in row
    assert "<td>0.0%</td>" in row and "<td>100.0%</td>" in row
    assert "已评价" in client.get(f"/ratings/r/{token}/").content.decode()
    assert client.get("/ratings/r/forged-token/").status_code == 404


def test_a_case_is_rated_only_when_finished(catalogue):
    services.load_question_sets()
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    case = case_services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="o",
        form_data={},
        uploads=food_licence_uploads(),
    )
    with pytest.raises(Conflict, match="办结后才能评价"):
        services.rate_case(case=case, channel="portal", level=5, rater=catalogue["enterprise_demo"])
