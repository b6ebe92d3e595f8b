"""一次一评: an on-site service rated once at the window tablet or the kiosk, anonymously, only on a
device bound by the window's staff, with codes valid on their day and wrong codes limited; a 差评 opens
the rectification loop for the window's unit and officer; anonymous ratings are counted apart from the
real-name figures; statistics by officer for the bureau."""

from __future__ import annotations

import hashlib

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import Conflict, PermissionDeniedError
from yuexiu.core.models import AuditEvent
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating, RatingDevice


@pytest.fixture
def visit(catalogue):
    services.load_question_sets()
    return services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")


def test_only_window_officers_record_visits(catalogue, visit):
    assert len(visit.code) == 6 and visit.officer == catalogue["window_centre"]
    with pytest.raises(PermissionDeniedError):
        services.record_visit(actor=catalogue["approver_scj"], window_name="x")


def bind(client, officer, kind: str = "tablet", window_name: str = "综合窗口3号"):
    """Bind the test client's browser as a device of ``officer``'s organisation (its cookie set)."""
    device, token = services.bind_device(actor=officer, kind=kind, window_name=window_name)
    client.cookies[django_settings.RATING_DEVICE_COOKIE_NAME] = token
    return device


def test_the_tablet_offers_the_visit_that_just_ended_and_rates_it_once(client, catalogue, visit):
    bind(client, catalogue["window_centre"])
    response = client.get("/ratings/tablet/")
    page = response.content.decode()
    assert f'name="visit" value="{visit.code}"' in page
    assert "no-store" in response["Cache-Control"]  # the page holds the visit's code
    client.post("/ratings/tablet/", {"visit": visit.code, "level": "5"})
    rating = Rating.objects.get()
    assert (rating.channel, rating.is_real_name, rating.rater) == ("window", False, None)
    assert "暂无待评价的服务" in client.get("/ratings/tablet/").content.decode()
    with pytest.raises(Conflict, match="本次服务已评价"):
        services.rate_visit(visit=visit, level=1, channel="kiosk", comment="重复")


def test_an_unbound_device_is_told_to_have_staff_bind_it_and_rates_nothing(client, catalogue, visit):
    for url in ("/ratings/tablet/", "/ratings/kiosk/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "尚未绑定" in response.content.decode() and "请窗口工作人员" in response.content.decode()
    response = client.post("/ratings/kiosk/", {"code": visit.code, "level": "1", "comment": "伪造差评"})
    assert response.status_code == 403
    client.cookies[django_settings.RATING_DEVICE_COOKIE_NAME] = "guessed-token"
    assert client.post("/ratings/kiosk/", {"code": visit.code, "level": "1", "comment": "x"}).status_code == 403
    # A tablet's token does not open the kiosk (nor the other way round).
    bind(client, catalogue["window_centre"], "tablet")
    assert client.post("/ratings/kiosk/", {"code": visit.code, "level": "1", "comment": "x"}).status_code == 403
    assert Rating.objects.count() == 0


def test_a_window_officer_binds_this_browser_and_revokes_it_audited(client, catalogue, visit):
    client.force_login(catalogue["approver_scj"])
    assert client.post("/workbench/ratings/devices/", {"kind": "tablet", "window_name": "x"}).status_code == 403
    client.force_login(catalogue["window_centre"])
    response = client.post("/workbench/ratings/devices/", {"kind": "tablet", "window_name": "综合窗口3号"})
    assert response.status_code == 302 and response.url == "/ratings/tablet/"
    cookie = response.cookies[django_settings.RATING_DEVICE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["max-age"] == 400 * 24 * 3600 and len(cookie.value) >= 40
    device = RatingDevice.objects.get()
    # Only the token's digest is stored.
    assert device.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest() != cookie.value
    assert (device.kind, device.window_name, device.organisation.code) == ("tablet", "综合窗口3号", "440104-ZSJ")
    assert AuditEvent.objects.filter(action="rating.device_bound", object_id=str(device.pk)).count() == 1
    client.post("/accounts/logout/")  # the tablet is handed over: no staff session, the device cookie stays
    assert "_auth_user_id" not in client.session
    assert f'value="{visit.code}"' in client.get("/ratings/tablet/").content.decode()
    # Revoked from the officer's workbench (another browser): the tablet is refused from then on.
    other = Client()
    other.force_login(catalogue["window_centre"])
    assert "综合窗口3号" in other.get("/workbench/ratings/devices/").content.decode()
    other.post("/workbench/ratings/devices/", {"revoke": str(device.pk)})
    device.refresh_from_db()
    assert device.revoked_by == catalogue["window_centre"] and device.revoked_at is not None
    assert AuditEvent.objects.filter(action="rating.device_revoked", object_id=str(device.pk)).count() == 1
    assert client.get("/ratings/tablet/").status_code == 403
    # Another unit's officer cannot revoke it.
    with pytest.raises(PermissionDeniedError):
        services.revoke_device(actor=catalogue["window_hongqiao"], device=bind(Client(), catalogue["window_centre"]))


def test_the_tablet_offers_only_the_visits_of_its_own_window(client, catalogue, visit):
    bind(client, catalogue["window_centre"], "tablet", "综合窗口1号")
    assert "暂无待评价的服务" in client.get("/ratings/tablet/").content.decode()
    client.post("/ratings/tablet/", {"visit": visit.code, "level": "1", "comment": "不是本窗口"})
    assert Rating.objects.count() == 0


def test_a_visit_code_expires_at_the_end_of_the_day_it_was_issued(client, catalogue):
    services.load_question_sets()
    with time_machine.travel(at("2026-12-02T16:30"), tick=False):
        late = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
        kept = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
    assert services.visit_code_expires_at(late) == at("2026-12-02T23:59:59.999999")
    bind(client, catalogue["window_centre"], "kiosk")
    with time_machine.travel(at("2026-12-02T23:59"), tick=False):
        assert f'value="{kept.code}"' in client.get("/ratings/kiosk/", {"code": kept.code}).content.decode()
        client.post("/ratings/kiosk/", {"code": kept.code, "level": "5"})
    assert Rating.objects.filter(visit=kept).exists()
    with time_machine.travel(at("2026-12-03T00:00:01"), tick=False):
        page = client.get("/ratings/kiosk/", {"code": late.code}).content.decode()
        assert "评价码无效或已过期（当日有效）" in page and 'name="level"' not in page
        client.post("/ratings/kiosk/", {"code": late.code, "level": "1", "comment": "过期"})
        with pytest.raises(Conflict, match="现场服务当日可评价"):
            services.rate_visit(visit=late, level=1, channel="window", comment="过期")
    assert not Rating.objects.filter(visit=late).exists()


def test_wrong_codes_are_limited_per_device_and_per_address(client, catalogue, visit):
    kiosk = bind(client, catalogue["window_centre"], "kiosk")
    wrong = "000000" if visit.code != "000000" else "000001"
    for _ in range(services.CODE_FAILURES_PER_DEVICE):
        assert "评价码无效" in client.get("/ratings/kiosk/", {"code": wrong}).content.decode()
    # The device is stopped, even for the right code, with a Chinese message.
    response = client.post("/ratings/kiosk/", {"code": visit.code, "level": "5"})
    assert response.status_code == 429 and "评价码输入错误次数过多，请 10 分钟后再试" in response.content.decode()
    assert not Rating.objects.exists()
    refused = AuditEvent.objects.filter(action="rating.code_refused", object_id=str(kiosk.pk))
    assert refused.count() == services.CODE_FAILURES_PER_DEVICE
    assert refused.first().ip_address == "127.0.0.1"
    assert AuditEvent.objects.filter(action="rating.code_throttled").count() == 1
    # Ten minutes later the device may try again.
    with time_machine.travel(at("2026-12-02T10:11"), tick=False):
        assert f'value="{visit.code}"' in client.get("/ratings/kiosk/", {"code": visit.code}).content.decode()

    # Per address: new devices behind one address share its 30 wrong codes an hour.
    address = {"REMOTE_ADDR": "203.0.113.7"}
    with time_machine.travel(at("2026-12-02T10:20"), tick=False):
        for _ in range(services.CODE_FAILURES_PER_ADDRESS // services.CODE_FAILURES_PER_DEVICE):
            fresh = Client()
            bind(fresh, catalogue["window_centre"], "kiosk")
            for _ in range(services.CODE_FAILURES_PER_DEVICE):
                fresh.get("/ratings/kiosk/", {"code": wrong}, **address)
        fresh = Client()
        bind(fresh, catalogue["window_centre"], "kiosk")
        response = fresh.get("/ratings/kiosk/", {"code": visit.code}, **address)
        assert response.status_code == 429 and "评价码输入错误次数过多，请 1 小时后再试" in response.content.decode()
        # Another address, another device: unaffected.
        other = Client()
        bind(other, catalogue["window_centre"], "kiosk")
        assert other.get("/ratings/kiosk/", {"code": visit.code}, REMOTE_ADDR="198.51.100.2").status_code == 200


def test_a_kiosk_rating_by_code_and_a_visit_差评_opens_the_loop_for_the_officer(client, catalogue, visit):
    bind(client, catalogue["window_centre"], "kiosk")
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
