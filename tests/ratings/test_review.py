"""申诉复核: the rater of a 差评 asks, after the unit's reply, for a review of how it was handled, with a
reason, on the case page or through the rating link; a supervisor from outside the handling decides
(维持原处理 / 重新整改) within the dated deadline; every change is audited and the rater sees the outcome."""

from __future__ import annotations

import pytest
import time_machine

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent, OutboxMessage
from yuexiu.ratings import selectors, services
from yuexiu.ratings.models import HandlingReview, Rectification


def _reply(rectification, approver, when: str):
    with time_machine.travel(at(when), tick=False):
        for note in ("已联系评价人核实", "属实", "已调整窗口引导", "已答复评价人：增设引导员"):
            if rectification.step == "callback":
                break
            rectification = services.advance_rectification(
                rectification=rectification, actor=approver, note=note, classification="immediate"
            )
    return rectification


@pytest.fixture
def replied(catalogue, closed_case):  # noqa: F811
    """A real-name 差评 of 区市场监管局 given on 2026-03-02, replied to on Tuesday 2026-03-03."""
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        rating = services.rate_case(case=closed_case, channel="qr", level=1, comment="窗口让我跑了三趟")
    rectification = _reply(rating.rectification, catalogue["approver_scj"], "2026-03-03T10:00")
    assert rectification.step == "callback"
    rating.refresh_from_db()
    return rating


def test_the_rater_may_ask_only_after_the_reply_and_only_for_their_own_差评(catalogue, closed_case):  # noqa: F811
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        rating = services.rate_case(case=closed_case, channel="qr", level=2, comment="材料被退回两次")
        with pytest.raises(Conflict, match="办理单位答复后才能申请复核"):
            services.request_handling_review(
                rating=rating, reason="处理不当", channel="portal", requester=catalogue["enterprise_demo"]
            )
        with pytest.raises(PermissionDeniedError, match="只有评价人本人"):
            services.request_handling_review(
                rating=rating, reason="处理不当", channel="portal", requester=catalogue["citizen_demo"]
            )
    assert not HandlingReview.objects.exists()


def test_the_rater_asks_and_a_supervisor_sends_the_差评_back_to_rectification(catalogue, replied):
    rater = catalogue["enterprise_demo"]
    with time_machine.travel(at("2026-03-04T10:00"), tick=False):
        with pytest.raises(DomainError, match="请写明申请复核的理由"):
            services.request_handling_review(rating=replied, reason="  ", channel="portal", requester=rater)
        review = services.request_handling_review(
            rating=replied, reason="引导员只在上午在岗，问题没有解决", channel="portal", requester=rater
        )
        # Due within 5 working days (the platform's default, confidence U): Wednesday 03-11, 24:00.
        assert review.due_at == at("2026-03-11T23:59:59.999999")
        with pytest.raises(Conflict, match="正在办理中"):
            services.request_handling_review(rating=replied, reason="再次申请", channel="portal", requester=rater)
    assert list(selectors.list_reviews_to_decide(catalogue["supervisor_demo"])) == [review]
    assert not selectors.list_reviews_to_decide(catalogue["approver_scj"]).exists()

    with time_machine.travel(at("2026-03-05T10:00"), tick=False):
        for outsider in ("approver_scj", "hotline_demo"):  # the rated unit's officer; not a supervisor
            with pytest.raises(PermissionDeniedError):
                services.decide_handling_review(
                    review=review, actor=catalogue[outsider], outcome="maintained", decision="处理得当"
                )
        with pytest.raises(DomainError, match="请写明复核意见"):
            services.decide_handling_review(
                review=review, actor=catalogue["supervisor_demo"], outcome="redo", decision=""
            )
        review = services.decide_handling_review(
            review=review, actor=catalogue["supervisor_demo"], outcome="redo", decision="引导员须全天在岗"
        )
        with pytest.raises(Conflict, match="已作出结论"):
            services.decide_handling_review(
                review=review, actor=catalogue["supervisor_demo"], outcome="maintained", decision="x"
            )
    rectification = Rectification.objects.get()
    assert (rectification.step, rectification.on_time, rectification.callback_level) == ("rectify", False, None)
    assert rectification.step_due_at == at("2026-03-12T23:59:59.999999")  # 整改: 5 working days again
    assert (review.outcome, review.decided_by) == ("redo", catalogue["supervisor_demo"])
    actions = list(
        AuditEvent.objects.filter(action__startswith="rating.review").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["rating.review_requested", "rating.review_redone"]
    message = OutboxMessage.objects.get(topic="rating_review")
    assert message.recipient == rater and "要求办理单位重新整改" in message.body and "引导员须全天在岗" in message.body
    total, _ = services.rating_statistics(since=at("2026-03-01T00:00"), until=at("2026-04-01T00:00"))
    assert (total.rectification_rate, total.callback_rate) == (0.0, 0.0)

    # The unit rectifies and replies again, the hotline calls back: the rater may ask once more, and a
    # review that maintains the handling is the last.
    with time_machine.travel(at("2026-03-06T10:00"), tick=False):
        rectification = services.advance_rectification(
            rectification=rectification, actor=catalogue["approver_scj"], note="引导员全天在岗"
        )
        rectification = services.advance_rectification(
            rectification=rectification, actor=catalogue["approver_scj"], note="已再次答复评价人"
        )
        services.advance_rectification(
            rectification=rectification, actor=catalogue["hotline_demo"], note="基本满意", callback_level=3
        )
        second = services.request_handling_review(rating=replied, reason="仍需核实", channel="link")
        assert second.requested_by == rater
        services.decide_handling_review(
            review=second, actor=catalogue["supervisor_demo"], outcome="maintained", decision="整改到位"
        )
        with pytest.raises(Conflict, match="复核已维持原处理"):
            services.request_handling_review(rating=replied, reason="还想申请", channel="portal", requester=rater)
    assert Rectification.objects.get().step == "closed"


def test_the_request_period_ends_at_24_00_of_the_fifteenth_natural_day_after_the_reply(catalogue, replied):
    # Replied on 2026-03-03: day 15 is Wednesday 2026-03-18.
    assert services.review_request_deadline(replied.rectification) == at("2026-03-18T23:59:59.999999")
    with time_machine.travel(at("2026-03-19T00:00"), tick=False):
        with pytest.raises(Conflict, match="申请复核的期限已过"):
            services.request_handling_review(
                rating=replied, reason="晚了", channel="portal", requester=catalogue["enterprise_demo"]
            )
    assert not HandlingReview.objects.exists()


def test_a_supervisor_who_made_the_callback_does_not_review_it(catalogue, replied):
    with time_machine.travel(at("2026-03-04T10:00"), tick=False):
        services.advance_rectification(
            rectification=replied.rectification, actor=catalogue["supervisor_demo"], note="回访", callback_level=4
        )
        review = services.request_handling_review(rating=replied, reason="回访时没有说清楚", channel="link")
        with pytest.raises(PermissionDeniedError, match="不能复核其处理情况"):
            services.decide_handling_review(
                review=review, actor=catalogue["supervisor_demo"], outcome="maintained", decision="处理得当"
            )
    review.refresh_from_db()
    assert review.outcome == ""


def test_the_rater_asks_on_the_case_page_and_sees_the_decision(client, catalogue, replied):
    number = replied.case.number
    client.force_login(catalogue["enterprise_demo"])
    with time_machine.travel(at("2026-03-04T10:00"), tick=True):
        html = client.get(f"/cases/{number}/").content.decode()
        assert "已答复评价人：增设引导员" in html and 'id="review-form"' in html
        assert "2026-03-18 24:00 前" in html
        response = client.post(f"/cases/{number}/rating/review/", {"reason": ""}, follow=True)
        html = response.content.decode()
        assert "请写明申请复核的理由" in html and 'aria-invalid="true"' in html
        assert not HandlingReview.objects.exists()
        response = client.post(f"/cases/{number}/rating/review/", {"reason": "问题没有解决"}, follow=True)
        html = response.content.decode()
        assert "复核申请已提交" in html and "待复核，监督人员将于 2026-03-11 前作出结论" in html
        assert 'id="review-form"' not in html
    review = HandlingReview.objects.get()
    assert (review.channel, review.requested_by) == ("portal", catalogue["enterprise_demo"])

    client.force_login(catalogue["supervisor_demo"])
    with time_machine.travel(at("2026-03-05T10:00"), tick=True):
        html = client.get("/workbench/ratings/").content.decode()
        assert "问题没有解决" in html.split('id="reviews"')[1]
        assert "评价人申请复核待处理 1 件" in client.get("/workbench/").content.decode()
        response = client.post(f"/workbench/ratings/{review.pk}/redo/", {"decision": "引导员须全天在岗"}, follow=True)
        assert "已更新。" in response.content.decode()
    client.force_login(catalogue["enterprise_demo"])
    html = client.get(f"/cases/{number}/").content.decode()
    assert "复核结论（2026-03-05）：重新整改。引导员须全天在岗" in html
    assert "办理中：当前环节为“整改”" in html


def test_the_rater_asks_through_the_rating_link_and_staff_cannot(client, catalogue, replied):
    token = services.rating_token(replied.case)
    with time_machine.travel(at("2026-03-04T10:00"), tick=True):
        html = client.get(f"/ratings/r/{token}/").content.decode()
        assert "已答复评价人：增设引导员" in html and 'id="review-form"' in html
        client.force_login(catalogue["approver_scj"])
        assert client.post(f"/ratings/r/{token}/review/", {"reason": "x"}).status_code == 403
        client.logout()
        response = client.post(f"/ratings/r/{token}/review/", {"reason": "问题没有解决"}, follow=True)
        assert "复核申请已提交" in response.content.decode()
    review = HandlingReview.objects.get()
    assert (review.channel, review.requested_by, review.reason) == (
        "link",
        catalogue["enterprise_demo"],
        "问题没有解决",
    )


def test_the_supervisors_workbench_reads_reviews_and_callbacks_in_a_constant_number_of_queries(
    client, catalogue, replied
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.ratings.test_ratings import _case_closed_at

    def workbench_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/workbench/ratings/").status_code == 200
        return len(queries)

    client.force_login(catalogue["supervisor_demo"])
    with time_machine.travel(at("2026-03-04T10:00"), tick=False):
        services.request_handling_review(rating=replied, reason="问题没有解决", channel="link")
    one = workbench_queries()
    second = _case_closed_at(catalogue, "2026-03-02T11:00", "second")
    with time_machine.travel(at("2026-03-02T16:00"), tick=False):
        rating = services.rate_case(case=second, channel="qr", level=2, comment="材料清单不清楚")
    _reply(rating.rectification, catalogue["approver_scj"], "2026-03-03T11:00")
    with time_machine.travel(at("2026-03-04T11:00"), tick=False):
        services.request_handling_review(rating=rating, reason="清单仍未更新", channel="link")
    assert HandlingReview.objects.filter(outcome="").count() == 2
    assert workbench_queries() == one
