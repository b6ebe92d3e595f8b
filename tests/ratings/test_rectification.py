"""The 差评 loop: verify → classify → rectify → reply → callback → closed within step deadlines; an
overdue step opens one supervision order; an upheld appeal leaves the rates as if never given."""

from __future__ import annotations

import pytest
import time_machine

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.ratings import services
from yuexiu.ratings.models import Rectification
from yuexiu.supervision.models import SupervisionOrder


@pytest.fixture
def negative(catalogue, closed_case):  # noqa: F811
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        return services.rate_case(case=closed_case, channel="qr", level=1, comment="窗口让我跑了三趟")


def test_a_negative_rating_opens_a_rectification_for_the_deciding_officer(catalogue, negative):
    rectification = negative.rectification
    assert rectification.organisation.code == "440104-SJJ"
    assert rectification.officer == catalogue["approver_scj"]
    assert (rectification.step, rectification.step_due_at) == ("verify", at("2026-03-03T23:59:59.999999"))


def test_the_loop_runs_to_the_callback_and_the_rates_count_it(client, catalogue, negative):
    approver = catalogue["approver_scj"]
    rectification = negative.rectification
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        with pytest.raises(PermissionDeniedError):
            services.advance_rectification(rectification=rectification, actor=catalogue["window_hongqiao"], note="x")
        services.advance_rectification(rectification=rectification, actor=approver, note="已电话联系评价人核实")
        with pytest.raises(DomainError, match="请选择处置方式"):
            services.advance_rectification(rectification=rectification, actor=approver, note="分类")
        services.advance_rectification(
            rectification=rectification, actor=approver, note="属实", classification="immediate"
        )
        services.advance_rectification(rectification=rectification, actor=approver, note="已调整窗口引导")
        services.advance_rectification(rectification=rectification, actor=approver, note="已答复评价人")
        services.advance_rectification(
            rectification=rectification, actor=catalogue["hotline_demo"], note="回访满意", callback_level=4
        )
    rectification.refresh_from_db()
    assert (rectification.step, rectification.on_time, rectification.callback_level) == ("closed", True, 4)
    total, _ = services.rating_statistics(since=at("2026-03-01T00:00"), until=at("2026-03-31T00:00"))
    assert (total.ratings, total.negative, total.rectification_rate, total.callback_rate) == (1, 1, 100.0, 100.0)


def test_an_overdue_step_opens_one_supervision_order(catalogue, negative):
    assert services.escalate_overdue_rectifications(at("2026-03-03T23:00")) == 0
    assert services.escalate_overdue_rectifications(at("2026-03-04T09:00")) == 1
    assert services.escalate_overdue_rectifications(at("2026-03-05T09:00")) == 0
    order = SupervisionOrder.objects.get()
    assert order.number == f"ZG{negative.rectification.pk:08d}"
    assert order.subject.startswith("差评整改逾期")
    assert Rectification.objects.get().escalation == order


def test_an_upheld_appeal_leaves_the_rates_as_if_the_rating_were_never_given(catalogue, negative):
    window = (at("2026-03-01T00:00"), at("2026-03-31T00:00"))
    before = services.rating_statistics(since=window[0], until=window[1])[0]
    assert (before.ratings, before.negative) == (1, 1)
    appeal = services.file_appeal(
        rating=negative, actor=catalogue["approver_scj"], kind="malicious", reason="评价人未办理过该业务"
    )
    with pytest.raises(PermissionDeniedError):
        services.decide_appeal(appeal=appeal, actor=catalogue["approver_scj"], upheld=True, decision="x")
    services.decide_appeal(appeal=appeal, actor=catalogue["supervisor_demo"], upheld=True, decision="核实为恶意差评")
    after = services.rating_statistics(since=window[0], until=window[1])[0]
    assert (after.ratings, after.good, after.negative, after.active) == (0, 0, 0, 0)
    assert after.finished_cases == before.finished_cases
    negative.refresh_from_db()
    assert negative.excluded and negative.excluded_reason.startswith("申诉成立（恶意差评）")
    assert negative.rectification.step == "closed"


def test_the_workbench_hides_the_raters_identity(client, catalogue, negative):
    client.force_login(catalogue["approver_scj"])
    html = client.get("/workbench/ratings/").content.decode()
    assert "窗口让我跑了三趟" in html
    assert "李经办" not in html and "广州越秀示范科技有限公司" not in html and "139****9000" in html


def test_statistics_by_channel_month_and_item_and_the_excel_export(client, catalogue, negative):
    from io import BytesIO

    from openpyxl import load_workbook

    since, until = at("2026-03-01T00:00"), at("2026-04-01T00:00")
    _, by_channel = services.rating_statistics(since=since, until=until, dimension="channel")
    assert [(row.label, row.ratings, row.negative) for row in by_channel] == [("办结通知书二维码", 1, 1)]
    _, by_month = services.rating_statistics(since=since, until=until, dimension="month")
    assert [(row.label, row.finished_cases, row.ratings) for row in by_month] == [("2026-03", 1, 1)]
    _, by_item = services.rating_statistics(since=since, until=until, dimension="item")
    assert [row.label for row in by_item] == ["食品经营许可（新办）"]
    book = load_workbook(BytesIO(services.statistics_workbook(since=since, until=until)))
    assert book.sheetnames == ["按单位", "按事项", "按渠道", "按月份", "按受理窗口单位", "按责任人员"]
    assert [cell.value for cell in book["按责任人员"][2]][:3] == ["林审批", 0, 1]
    assert [cell.value for cell in book["按单位"][2]][:5] == ["广州市越秀区市场监督管理局", 1, 1, 0.0, 100.0]
    client.force_login(catalogue["supervisor_demo"])
    assert client.get("/workbench/ratings/export.xlsx").content[:2] == b"PK"


def test_step_deadlines_come_from_the_row_in_force_on_the_day_and_a_day_without_one_has_none(catalogue):
    # The platform's own default (confidence U) is dated 2020-02-19, when 粤办函〔2020〕21号 took effect.
    assert services._step_due("rectify", at("2026-03-02T15:00")) == at("2026-03-09T23:59:59.999999")
    assert services._step_due("verify", at("2020-02-18T15:00")) is None  # no row: no deadline, no crash
