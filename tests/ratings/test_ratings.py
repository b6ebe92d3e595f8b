"""好差评: one rating per case however many submissions arrive, the default rating after 7 natural
days and not before, the QR page, and statistics that move by exactly one rating."""

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


def test_the_default_rating_comes_after_seven_natural_days_and_not_before(closed_case):
    assert services.give_default_ratings(at("2026-03-09T09:59")) == 0
    assert services.give_default_ratings(at("2026-03-09T10:00")) == 1
    assert services.give_default_ratings(at("2026-03-10T10:00")) == 0
    rating = Rating.objects.get()
    assert (rating.level, rating.get_level_display(), rating.is_default) == (3, "基本满意", True)


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
