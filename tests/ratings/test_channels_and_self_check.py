"""More ways to rate (SMS link, 12345 entries) and the bureau's self-check of good ratings."""

from __future__ import annotations

import pytest

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import PermissionDeniedError
from yuexiu.core.models import OutboxMessage
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating


def test_an_sms_with_the_rating_link_is_queued_once_and_rates_through_the_sms_channel(client, closed_case):  # noqa: F811
    assert services.queue_rating_links() == 1
    assert services.queue_rating_links() == 0
    message = OutboxMessage.objects.get()
    assert (message.topic, message.dedupe_key) == ("rating_sms", f"rating_sms:{closed_case.pk}")
    assert message.phone == "13900139000"  # the applicant's (the demo enterprise's) registered phone
    assert closed_case.number in message.body
    path = message.body.split("http://127.0.0.1:8000")[1]
    assert "via=sms" not in path  # the channel is inside the signed token
    client.post(path, {"level": "5"})
    assert Rating.objects.get().channel == "sms"


def test_a_hotline_operator_enters_a_callers_rating_but_not_for_a_case_they_handled(catalogue, closed_case):  # noqa: F811
    from yuexiu.core import services as core_services
    from yuexiu.core.models import Role

    window = catalogue["window_centre"]
    with pytest.raises(PermissionDeniedError):  # not an operator
        services.enter_hotline_rating(case=closed_case, actor=catalogue["window_hongqiao"], level=4)
    core_services.grant_role(user=window, role=Role.HOTLINE_OPERATOR, organisation=window.organisation, granted_by=None)
    with pytest.raises(PermissionDeniedError):  # an operator who handled the case
        services.enter_hotline_rating(case=closed_case, actor=window, level=4)
    rating = services.enter_hotline_rating(case=closed_case, actor=catalogue["hotline_demo"], level=4)
    assert (rating.channel, rating.rater, rating.entered_by) == (
        "hotline",
        catalogue["enterprise_demo"],
        catalogue["hotline_demo"],
    )


def test_a_self_check_that_finds_a_forged_rating_takes_it_out_of_the_rates(catalogue, closed_case):  # noqa: F811
    services.rate_case(case=closed_case, channel="qr", level=5)
    with pytest.raises(PermissionDeniedError):
        services.sample_for_self_check(actor=catalogue["approver_scj"], since=at("2026-01-01T00:00"), count=5)
    checks = services.sample_for_self_check(
        actor=catalogue["supervisor_demo"], since=at("2026-01-01T00:00"), count=5, seed=1
    )
    assert len(checks) == 1
    assert (
        services.sample_for_self_check(actor=catalogue["supervisor_demo"], since=at("2026-01-01T00:00"), count=5) == []
    )
    services.record_self_check(
        check=checks[0], actor=catalogue["supervisor_demo"], outcome="forged", note="评价人称未评价"
    )
    rating = Rating.objects.get()
    assert rating.excluded and rating.excluded_reason == "自查认定代评、伪造：评价人称未评价"
