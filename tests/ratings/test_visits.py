"""一次一评: an on-site service rated once at the window tablet or the kiosk, anonymously; a 差评 opens
the rectification loop for the window's unit and officer; statistics by officer for the bureau."""

from __future__ import annotations

import pytest

from tests.helpers import at
from yuexiu.core.errors import Conflict, PermissionDeniedError
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating


@pytest.fixture
def visit(catalogue):
    services.load_question_sets()
    return services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")


def test_only_window_officers_record_visits(catalogue, visit):
    assert len(visit.code) == 6 and visit.officer == catalogue["window_centre"]
    with pytest.raises(PermissionDeniedError):
        services.record_visit(actor=catalogue["approver_scj"], window_name="x")


def test_the_tablet_offers_the_visit_that_just_ended_and_rates_it_once(client, visit):
    page = client.get("/ratings/tablet/440104-ZSJ/综合窗口3号/").content.decode()
    assert f'name="visit" value="{visit.code}"' in page
    client.post("/ratings/tablet/440104-ZSJ/综合窗口3号/", {"visit": visit.code, "level": "5"})
    rating = Rating.objects.get()
    assert (rating.channel, rating.is_real_name, rating.rater) == ("window", False, None)
    assert "暂无待评价的服务" in client.get("/ratings/tablet/440104-ZSJ/综合窗口3号/").content.decode()
    with pytest.raises(Conflict, match="本次服务已评价"):
        services.rate_visit(visit=visit, level=1, channel="kiosk", comment="重复")


def test_a_kiosk_rating_by_code_and_a_visit_差评_opens_the_loop_for_the_officer(client, catalogue, visit):
    client.post("/ratings/kiosk/", {"code": visit.code, "level": "1", "comment": "态度生硬"})
    rating = Rating.objects.get()
    assert rating.channel == "kiosk"
    assert rating.rectification.officer == catalogue["window_centre"]
    assert rating.rectification.organisation.code == "440104-ZSJ"
    total, by_officer = services.rating_statistics(since=at("2026-01-01T00:00"), dimension="officer")
    assert [(row.label, row.ratings, row.negative) for row in by_officer] == [("许窗口", 1, 1)]
    _, by_department = services.rating_statistics(since=at("2026-01-01T00:00"))
    assert [(row.label, row.finished_cases, row.ratings) for row in by_department] == [
        ("广州市越秀区政务服务和数据管理局", 1, 1)
    ]
