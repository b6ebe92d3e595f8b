"""What new users broke in 好差评, and must stay fixed."""

from __future__ import annotations

import pytest

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating


def test_staff_cannot_rate_through_the_link_and_do_not_see_it(client, catalogue, closed_case):  # noqa: F811
    token = services.rating_token(closed_case)
    client.force_login(catalogue["approver_scj"])
    assert 'id="rating-link"' not in client.get(f"/cases/{closed_case.number}/").content.decode()
    assert client.post(f"/ratings/r/{token}/", {"level": "5"}).status_code == 403
    assert not Rating.objects.exists()


def test_only_the_rated_unit_appeals_only_a_negative_rating_and_never_decides_its_own(catalogue, closed_case):  # noqa: F811
    good = services.rate_case(case=closed_case, channel="qr", level=5)
    with pytest.raises(DomainError, match="只能对差评提出申诉"):
        services.file_appeal(rating=good, actor=catalogue["approver_scj"], kind="mistaken", reason="x")
    Rating.objects.filter(pk=good.pk).delete()
    bad = services.rate_case(case=closed_case, channel="qr", level=1, comment="差")
    for outsider in ("sysadmin", "supervisor_demo", "approver_wjj"):
        with pytest.raises(PermissionDeniedError):
            services.file_appeal(rating=bad, actor=catalogue[outsider], kind="mistaken", reason="x")
    appeal = services.file_appeal(rating=bad, actor=catalogue["approver_scj"], kind="mistaken", reason="评错了事项")
    from yuexiu.core import services as core_services
    from yuexiu.core.models import Role

    core_services.grant_role(
        user=catalogue["approver_scj"],
        role=Role.SUPERVISOR,
        organisation=catalogue["approver_scj"].organisation,
        granted_by=None,
    )
    with pytest.raises(PermissionDeniedError, match="不能复核自己的申诉"):
        services.decide_appeal(appeal=appeal, actor=catalogue["approver_scj"], upheld=True, decision="x")


def test_a_dissatisfied_callback_sends_the_rectification_back(catalogue, closed_case):  # noqa: F811
    rectification = services.rate_case(case=closed_case, channel="qr", level=1, comment="差").rectification
    for note in ("核实", "分类", "整改", "答复"):
        rectification = services.advance_rectification(
            rectification=rectification, actor=catalogue["approver_scj"], note=note, classification="immediate"
        )
    rectification = services.advance_rectification(
        rectification=rectification, actor=catalogue["hotline_demo"], note="仍不满意", callback_level=1
    )
    assert (rectification.step, rectification.on_time) == ("rectify", False)


def test_the_active_rating_rate_never_exceeds_one_hundred_percent(catalogue, closed_case):  # noqa: F811
    services.rate_case(case=closed_case, channel="qr", level=5)
    total, _ = services.rating_statistics(since=at("2026-01-01T00:00"))
    assert total.active_rate is not None and total.active_rate <= 100.0
    assert total.active == 1 and total.finished_cases == 1


def test_a_stale_or_versionless_page_cannot_advance_a_rectification(client, catalogue, closed_case):  # noqa: F811
    rectification = services.rate_case(case=closed_case, channel="qr", level=1, comment="差").rectification
    client.force_login(catalogue["approver_scj"])
    response = client.post(f"/workbench/ratings/{rectification.pk}/advance/", {"note": "核实"}, follow=True)
    assert "页面已过期，请刷新后再操作。" in response.content.decode()
    response = client.post(
        f"/workbench/ratings/{rectification.pk}/advance/", {"note": "核实", "version": "²"}, follow=True
    )
    assert response.status_code == 200
    rectification.refresh_from_db()
    assert rectification.step == "verify"
