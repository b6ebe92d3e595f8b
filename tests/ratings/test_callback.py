"""The 差评 callback (回访) is made by someone other than the rated unit: the bureau's 12345 hotline
operators or a supervisor record it, never the rated unit's staff; the workbench offers it to them and
an overdue callback is the bureau's to answer."""

from __future__ import annotations

import pytest
import time_machine

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core.errors import PermissionDeniedError
from yuexiu.ratings import selectors, services
from yuexiu.ratings.models import Rectification
from yuexiu.supervision.models import SupervisionOrder

REFUSED = (
    "回访须由被评价单位以外的人员进行：被评价单位的工作人员不能回访本单位的差评，"
    "请由区政务服务数据管理局的 12345 热线话务员或监督人员回访。"
)


@pytest.fixture
def awaiting_callback(catalogue, closed_case):  # noqa: F811
    """A 差评 of 区市场监管局 (林审批 decided the case) whose unit has replied: the callback is next."""
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        rectification = services.rate_case(
            case=closed_case, channel="qr", level=1, comment="窗口让我跑了三趟"
        ).rectification
        for note in ("已联系评价人核实", "属实", "已调整窗口引导", "已答复评价人"):
            rectification = services.advance_rectification(
                rectification=rectification, actor=catalogue["approver_scj"], note=note, classification="immediate"
            )
    assert rectification.step == "callback"
    return rectification


def test_the_rated_units_own_staff_cannot_make_the_callback(catalogue, awaiting_callback):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        for colleague in ("approver_scj", "editor_scj"):  # the deciding officer, and another of the unit
            with pytest.raises(PermissionDeniedError) as refused:
                services.advance_rectification(
                    rectification=awaiting_callback, actor=catalogue[colleague], note="回访满意", callback_level=5
                )
            assert refused.value.message == REFUSED
        with pytest.raises(PermissionDeniedError, match="由区政务服务数据管理局的 12345 热线话务员或监督人员进行"):
            services.advance_rectification(
                rectification=awaiting_callback, actor=catalogue["approver_wjj"], note="回访满意", callback_level=5
            )
    awaiting_callback.refresh_from_db()
    assert (awaiting_callback.step, awaiting_callback.callback_level) == ("callback", None)
    assert "callback" not in awaiting_callback.notes


@pytest.mark.parametrize("caller", ["hotline_demo", "supervisor_demo"])
def test_the_hotline_or_a_supervisor_makes_the_callback_and_it_is_recorded_as_theirs(
    catalogue, awaiting_callback, caller
):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        rectification = services.advance_rectification(
            rectification=awaiting_callback, actor=catalogue[caller], note="评价人表示满意", callback_level=4
        )
    assert (rectification.step, rectification.callback_level, rectification.on_time) == ("closed", 4, True)
    assert rectification.notes["callback"]["by"] == catalogue[caller].pk


def test_the_bureaus_own_hotline_does_not_call_back_on_the_bureaus_own_差评(catalogue, closed_case):  # noqa: F811
    from yuexiu.cases.models import Case
    from yuexiu.core.models import Organisation

    # No seeded item is the bureau's own: the test hands the closed case to the bureau.
    Case.objects.filter(pk=closed_case.pk).update(organisation=Organisation.objects.get(code="440104-ZSJ"))
    closed_case.refresh_from_db()
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        rectification = services.rate_case(case=closed_case, channel="qr", level=2, comment="态度生硬").rectification
        for note in ("核实", "属实", "已培训", "已答复"):
            rectification = services.advance_rectification(
                rectification=rectification, actor=catalogue["window_centre"], note=note, classification="immediate"
            )
        with pytest.raises(PermissionDeniedError) as refused:
            services.advance_rectification(
                rectification=rectification, actor=catalogue["hotline_demo"], note="回访", callback_level=4
            )
        assert refused.value.message == REFUSED
        assert not selectors.list_callbacks_due(catalogue["hotline_demo"]).exists()
        assert list(selectors.list_callbacks_due(catalogue["supervisor_demo"])) == [rectification]
        rectification = services.advance_rectification(
            rectification=rectification, actor=catalogue["supervisor_demo"], note="回访满意", callback_level=4
        )
    assert rectification.step == "closed"


def test_an_anonymous_on_site_差评_is_rectified_and_closed_without_a_reply_or_a_callback(catalogue):
    services.load_question_sets()
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        visit = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
        rectification = services.rate_visit(visit=visit, level=2, channel="kiosk", comment="态度生硬").rectification
        assert rectification.rating.is_anonymous
        for note in ("核实", "属实", "已培训"):
            rectification = services.advance_rectification(
                rectification=rectification, actor=catalogue["window_centre"], note=note, classification="immediate"
            )
    assert (rectification.step, rectification.step_due_at, rectification.on_time) == ("closed", None, True)
    assert set(rectification.notes) == {"verify", "classify", "rectify"}
    assert not selectors.list_callbacks_due(catalogue["supervisor_demo"]).exists()


def test_the_workbench_offers_the_callback_to_the_hotline_and_not_to_the_rated_unit(
    client, catalogue, awaiting_callback
):
    client.force_login(catalogue["approver_scj"])
    html = client.get("/workbench/ratings/").content.decode()
    assert "待 12345 热线或监督人员回访" in html and 'name="callback_level"' not in html
    response = client.post(
        f"/workbench/ratings/{awaiting_callback.pk}/advance/",
        {"note": "回访满意", "callback_level": "5", "version": str(awaiting_callback.version)},
    )
    assert response.status_code == 403
    assert REFUSED in response.content.decode()
    assert Rectification.objects.get().step == "callback"

    client.force_login(catalogue["hotline_demo"])
    html = client.get("/workbench/").content.decode()
    assert "待您办理 1 件（其中待回访 1 件）" in html
    html = client.get("/workbench/ratings/").content.decode()
    assert "窗口让我跑了三趟" in html and 'name="callback_level"' in html
    assert "提出申诉" not in html  # appeals are the rated unit's, not the caller's
    response = client.post(
        f"/workbench/ratings/{awaiting_callback.pk}/advance/",
        {"note": "评价人表示满意", "callback_level": "4", "version": str(awaiting_callback.version)},
        follow=True,
    )
    assert "已更新。" in response.content.decode()
    rectification = Rectification.objects.get()
    assert (rectification.step, rectification.callback_level) == ("closed", 4)


def test_an_overdue_callback_is_escalated_to_the_bureau_not_the_rated_unit(catalogue, awaiting_callback):
    due = awaiting_callback.step_due_at  # 5 working days after the reply: 2026-03-09 24:00
    assert due == at("2026-03-09T23:59:59.999999")
    assert services.escalate_overdue_rectifications(at("2026-03-10T09:00")) == 1
    order = SupervisionOrder.objects.get()
    assert order.organisation.code == "440104-ZSJ"
    assert order.subject.endswith("（回访环节）")
