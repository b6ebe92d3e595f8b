"""一次一评: an on-site service rated once at the window tablet or the kiosk, anonymously; a 差评 opens
the rectification loop for the window's unit and officer; anonymous ratings are counted apart from the
real-name figures; statistics by officer for the bureau."""

from __future__ import annotations

import pytest

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
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
    # Anonymous: counted apart, never in the real-name figures (Guangdong ratings are real-name).
    total, by_officer = services.rating_statistics(since=at("2026-01-01T00:00"), dimension="officer")
    assert [(row.label, row.ratings, row.anonymous.ratings, row.anonymous.negative) for row in by_officer] == [
        ("许窗口", 0, 1, 1)
    ]
    total, by_department = services.rating_statistics(since=at("2026-01-01T00:00"))
    assert [
        (row.label, row.finished_cases, row.ratings, row.anonymous.visits, row.anonymous.ratings)
        for row in by_department
    ] == [("广州市越秀区政务服务和数据管理局", 0, 0, 1, 1)]
    assert (total.ratings, total.negative, total.good_rate, total.callback_rate) == (0, 0, None, None)
    anonymous = total.anonymous
    assert (anonymous.rating_rate, anonymous.good_rate, anonymous.negative_rate) == (100.0, 0.0, 100.0)
    assert anonymous.rectification_rate == 0.0  # open, not yet rectified


def test_anonymous_ratings_count_apart_and_the_callback_rate_is_over_real_name_差评(client, catalogue, closed_case):  # noqa: F811
    from io import BytesIO

    import time_machine
    from openpyxl import load_workbook

    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        # A real-name 差评 of 区市场监管局, handled through its callback.
        rectification = services.rate_case(case=closed_case, channel="qr", level=1, comment="跑了三趟").rectification
        for note in ("核实", "属实", "已整改", "已答复"):
            rectification = services.advance_rectification(
                rectification=rectification, actor=catalogue["approver_scj"], note=note, classification="immediate"
            )
        services.advance_rectification(
            rectification=rectification, actor=catalogue["hotline_demo"], note="满意", callback_level=4
        )
        # Two anonymous on-site ratings at the bureau's window: a 差评 (rectified, then closed) and a 好评.
        bad = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
        anonymous = services.rate_visit(visit=bad, level=2, channel="kiosk", comment="态度生硬").rectification
        for note in ("核实", "属实", "已培训"):
            anonymous = services.advance_rectification(
                rectification=anonymous, actor=catalogue["window_centre"], note=note, classification="immediate"
            )
        good = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
        services.rate_visit(visit=good, level=5, channel="window")
    since, until = at("2026-03-01T00:00"), at("2026-04-01T00:00")
    total, _ = services.rating_statistics(since=since, until=until)
    # Real-name: one rating, one 差评, called back: 回访率 = 已回访实名差评 ÷ 实名差评 = 1 ÷ 1.
    assert (total.finished_cases, total.ratings, total.negative, total.callbacks) == (1, 1, 1, 1)
    assert (total.good_rate, total.negative_rate, total.rectification_rate, total.callback_rate) == (
        0.0,
        100.0,
        100.0,
        100.0,
    )
    # Anonymous, apart: two on-site services, both rated, one 差评 rectified on time.
    figures = total.anonymous
    assert (figures.visits, figures.ratings, figures.good, figures.negative) == (2, 2, 1, 1)
    assert (figures.rating_rate, figures.good_rate, figures.negative_rate, figures.rectification_rate) == (
        100.0,
        50.0,
        50.0,
        100.0,
    )
    _, by_channel = services.rating_statistics(since=since, until=until, dimension="channel")
    assert [(row.label, row.ratings, row.anonymous.ratings) for row in by_channel] == [
        ("办结通知书二维码", 1, 0),
        ("窗口评价器", 0, 1),
        ("自助终端", 0, 1),
    ]

    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        html = client.get("/ratings/", {"days": "30"}).content.decode()
    real_name = html.split('id="rating-table"')[1].split("</table>")[0]
    assert "区市场监督管理局</td><td>1</td><td>1</td>" in real_name
    assert "政务服务和数据管理局" not in real_name  # only anonymous ratings: not in the real-name table
    anonymous_table = "".join(html.split('id="anonymous-table"')[1].split("</table>")[0].split())
    assert "政务服务和数据管理局</td><td>2</td><td>2</td><td>100.0%</td><td>50.0%</td><td>50.0%</td><td>100.0%" in (
        anonymous_table
    )

    book = load_workbook(BytesIO(services.statistics_workbook(since=since, until=until)))
    sheet = book["按单位"]
    assert [cell.value for cell in sheet[1]][8:11] == ["现场服务", "现场匿名评价数", "现场评价率(%)"]
    totals = [cell.value for cell in sheet[sheet.max_row]]
    assert totals == ["全区", 1, 1, 0.0, 100.0, 100.0, 100.0, 100.0, 2, 2, 100.0, 50.0, 50.0, 100.0]
