"""行政许可法 limits on the case clock (issue 12): a licence decides within the table's 20 working days
(第四十二条) unless its guide says less; 许窗口 (window_centre) asks to extend by 10 working days and
林审批 (approver_scj, 区市场监管局) approves once, the applicant is told why; a 一件事 that handles
licences jointly has 45 working days (+15 once); an approved licence is served within 10 working days
(第四十四条), which supervision watches.

李经办 (enterprise_demo) applies online for 食品经营许可（新办）, accepted Monday 2026-03-02: statutory
deadline 2026-03-30 (20 working days), 2026-04-14 with the 10-day extension (清明 4–6 April skipped)."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection

from tests.helpers import at, food_licence_uploads
from tests.test_calendar_service import NOTICE_2027_TEST
from yuexiu.cases import selectors, services
from yuexiu.cases.models import BundleCase, Case, CaseEvent, DeadlineExtension, ExtensionStatus
from yuexiu.catalog import selectors as catalog_selectors
from yuexiu.catalog.models import ServiceBundle, ServiceItem
from yuexiu.core import calendar
from yuexiu.core import services as core_services
from yuexiu.core.errors import Conflict, PermissionDeniedError
from yuexiu.core.models import AuditEvent, OutboxMessage, Role
from yuexiu.core.tasks import recompute_deadlines
from yuexiu.supervision import services as supervision
from yuexiu.supervision.models import Alert, SupervisedItem

REASON = "需现场核查经营场所，二十个工作日内不能作出决定。"


def apply(catalogue, item: ServiceItem, key: str = "lic-1") -> Case:
    return services.submit_application(
        item=item,
        applicant=catalogue["enterprise_demo"],
        idempotency_key=key,
        form_data={},
        uploads=food_licence_uploads(),
    )


@pytest.fixture
def accepted(catalogue, food) -> Case:
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        return services.accept_case(case=apply(catalogue, food), actor=catalogue["window_centre"])


def register(catalogue, seed_key: str) -> Case:
    """A window registration (no uploads needed) for the seeded item ``seed_key``, accepted at once."""
    item = ServiceItem.objects.get(seed_key=seed_key)
    fields = item.current_version.content.get("form_fields", [])
    case = services.submit_application(
        item=item,
        registered_by=catalogue["window_centre"],
        idempotency_key=f"w-{seed_key}",
        form_data={field["key"]: "示例" for field in fields},
        applicant_name="广州越秀示范餐饮有限公司",
        applicant_phone="13800138000",
    )
    return services.accept_case(case=case, actor=catalogue["window_centre"])


# ---- which items, and their statutory limit -----------------------------------------------------------


def test_the_catalogue_says_which_items_are_licences(catalogue):
    assert catalog_selectors.is_licensing_item(ServiceItem.objects.get(seed_key="food-business-licence-new"))
    assert not catalog_selectors.is_licensing_item(ServiceItem.objects.get(seed_key="residence-permit"))


@time_machine.travel(at("2026-03-02T10:00"), tick=False)
def test_a_licence_whose_guide_gives_no_limit_gets_the_20_working_days_of_the_law_and_a_shorter_guide_limit_stays(
    catalogue,
):
    training = register(catalogue, "off-campus-training-licence")
    assert training.statutory_limit_days == 20
    assert training.statutory_deadline == at("2026-03-30T23:59:59.999999")
    registration = register(catalogue, "individual-business-registration")
    assert registration.statutory_limit_days == 3  # 市场主体登记管理条例 第十九条, shorter than the law's 20
    pension = register(catalogue, "urban-rural-resident-pension-enrolment")  # 公共服务, no limit in its guide
    assert pension.statutory_limit_days is None and pension.statutory_deadline is None


# ---- 延长审批期限 ----------------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_statutory_deadline_by_10_working_days_and_tells_the_applicant_why(
    catalogue, accepted
):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=window, reason=REASON)
        accepted.refresh_from_db()
        assert accepted.statutory_deadline == at("2026-03-30T23:59:59.999999")  # nothing moves before approval
        assert OutboxMessage.objects.count() == 0
        case = services.approve_extension(extension=extension, actor=approver, note="同意延长")
    assert case.statutory_extension_days == 10
    assert case.statutory_deadline == at("2026-04-14T23:59:59.999999")
    assert case.due_at == case.statutory_deadline  # no promised limit: the overdue alert follows
    extension.refresh_from_db()
    assert (extension.status, extension.days, extension.decided_by) == (ExtensionStatus.APPROVED, 10, approver)
    assert extension.deadline_before == at("2026-03-30T23:59:59.999999")
    assert extension.deadline_after == at("2026-04-14T23:59:59.999999")
    event = case.events.get(action="deadline_extended")
    assert event.note == (f"经本机关负责人批准，法定办理期限延长 10 个工作日，至 2026-04-14。延长理由：{REASON}")
    message = OutboxMessage.objects.get()
    assert (message.recipient, message.topic, message.link) == (
        catalogue["enterprise_demo"],
        "case_extension",
        f"/cases/{case.number}/",
    )
    assert message.body == f"【越秀政务】您的办件{case.number}（食品经营许可（新办））{event.note}"
    assert list(AuditEvent.objects.filter(action__startswith="case.extension").values_list("action", flat=True)) == [
        "case.extension_requested"
    ]
    assert AuditEvent.objects.filter(action="case.deadline_extended").count() == 1
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        clock = selectors.case_clocks(case).statutory
    assert (clock.limit_days, clock.extension_days, clock.left_days) == (20, 10, 16)


def test_a_second_extension_is_refused_and_so_is_a_second_request_while_one_waits(catalogue, accepted):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=window, reason=REASON)
        with pytest.raises(Conflict) as waiting:
            services.request_extension(case=accepted, actor=approver, reason="再次申请")
        assert waiting.value.message == "该办件已有待负责人批准的延期申请，不能重复申请。"
        services.approve_extension(extension=extension, actor=approver)
    with time_machine.travel(at("2026-04-01T10:00"), tick=False):
        with pytest.raises(Conflict) as again:
            services.request_extension(case=accepted, actor=window, reason="仍需核查")
    assert again.value.message == "该办件已延长过一次审批期限（10 个工作日），依法只能延长一次。"
    accepted.refresh_from_db()
    assert accepted.statutory_deadline == at("2026-04-14T23:59:59.999999")
    assert DeadlineExtension.objects.count() == 1


def test_the_requester_cannot_approve_and_only_an_approver_of_the_department_can(catalogue, accepted):
    approver = catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=approver, reason=REASON)
        with pytest.raises(PermissionDeniedError, match="不能批准本人提出的申请"):
            services.approve_extension(extension=extension, actor=approver)
        with pytest.raises(PermissionDeniedError, match="只有办理部门的审批负责人"):
            services.approve_extension(extension=extension, actor=catalogue["window_centre"])
        with pytest.raises(PermissionDeniedError, match="只有办理部门的审批负责人"):
            services.approve_extension(extension=extension, actor=catalogue["approver_wjj"])  # another department
    accepted.refresh_from_db()
    assert accepted.statutory_extension_days == 0
    assert accepted.statutory_deadline == at("2026-03-30T23:59:59.999999")
    assert OutboxMessage.objects.count() == 0


def test_an_extension_after_the_deadline_has_passed_is_refused(catalogue, accepted):
    with time_machine.travel(at("2026-03-31T09:00"), tick=False):
        with pytest.raises(Conflict) as error:
            services.request_extension(case=accepted, actor=catalogue["window_centre"], reason=REASON)
    assert error.value.message == "法定办理期限已于 2026-03-30 届满，不能再延长审批期限。"
    # A request made in time cannot be approved once the deadline has passed (第四十二条: within the 20 days).
    with time_machine.travel(at("2026-03-30T16:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=catalogue["window_centre"], reason=REASON)
    with time_machine.travel(at("2026-03-31T09:00"), tick=False):
        with pytest.raises(Conflict, match="法定办理期限已于 2026-03-30 届满，不能再批准延长"):
            services.approve_extension(extension=extension, actor=catalogue["approver_scj"])
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.REQUESTED


def test_a_request_made_under_review_may_be_approved_while_a_correction_stops_the_clock(catalogue, accepted):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=window, reason=REASON)
        case = services.request_correction(case=accepted, actor=window, missing=["营业执照副本"])
        with pytest.raises(Conflict) as error:
            services.request_extension(case=case, actor=window, reason=REASON)
        assert error.value.message == "该办件当前状态为“待补正”，只有审查中的办件才能申请延长审批期限。"
    with time_machine.travel(at("2026-03-24T10:00"), tick=False):  # Monday 23rd fully paused
        case = services.approve_extension(extension=extension, actor=approver)
    assert case.statutory_deadline == at("2026-04-15T23:59:59.999999")


def test_a_rejected_request_leaves_the_deadline_and_may_be_asked_again(catalogue, accepted):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        first = services.request_extension(case=accepted, actor=window, reason=REASON)
        services.reject_extension(extension=first, actor=approver, note="材料已齐，应按期作出决定")
        second = services.request_extension(case=accepted, actor=window, reason="专家意见尚未返回")
    first.refresh_from_db()
    assert (first.status, first.decision_note) == (ExtensionStatus.REJECTED, "材料已齐，应按期作出决定")
    assert second.status == ExtensionStatus.REQUESTED
    accepted.refresh_from_db()
    assert accepted.statutory_deadline == at("2026-03-30T23:59:59.999999")


@time_machine.travel(at("2026-03-02T10:00"), tick=False)
def test_an_item_that_is_not_a_licence_has_no_extension(client, catalogue):
    case = register(catalogue, "residence-permit")
    assert services.extension_refusal(case) == (
        "“居住证申领”不是行政许可事项，不适用《行政许可法》第四十二条延长审批期限。"
    )
    with pytest.raises(Conflict, match="不是行政许可事项"):
        services.request_extension(case=case, actor=catalogue["window_centre"], reason=REASON)
    assert DeadlineExtension.objects.count() == 0
    client.force_login(catalogue["window_centre"])
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "申请延长审批期限" not in page
    assert 'id="extensions"' not in page


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_extend_the_deadline_once(catalogue, accepted):
    second_approver = catalogue["editor_scj"]  # 孙编辑 at 区市场监管局, given the approver role for the test
    core_services.grant_role(
        user=second_approver, role=Role.APPROVER, organisation=second_approver.organisation, granted_by=None
    )
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        extension = services.request_extension(case=accepted, actor=catalogue["window_centre"], reason=REASON)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(approver) -> None:
        barrier.wait()
        try:
            with time_machine.travel(at("2026-03-20T11:00"), tick=False):
                services.approve_extension(extension=extension, actor=approver)
            outcomes.append("approved")
        except Conflict as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(approver,)) for approver in (catalogue["approver_scj"], second_approver)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "该延期申请已审批（已批准），无需重复审批。"]
    accepted.refresh_from_db()
    assert accepted.statutory_extension_days == 10
    assert accepted.statutory_deadline == at("2026-04-14T23:59:59.999999")
    assert CaseEvent.objects.filter(case=accepted, action="deadline_extended").count() == 1
    assert OutboxMessage.objects.filter(topic="case_extension").count() == 1


def test_an_extension_into_a_year_without_its_holiday_notice_is_marked_provisional(client, catalogue, food):
    """Frozen at 2026-12-02: 20 working days end on 2026-12-30; 10 more reach into 2027, whose notice is
    not loaded, so the deadline is 暂定 on the clock, the API and the applicant's page."""
    case = services.accept_case(case=apply(catalogue, food), actor=catalogue["window_centre"])
    assert case.statutory_deadline == at("2026-12-30T23:59:59.999999")
    assert case.deadline_is_provisional is False
    extension = services.request_extension(case=case, actor=catalogue["window_centre"], reason=REASON)
    case = services.approve_extension(extension=extension, actor=catalogue["approver_scj"])
    assert case.deadline_is_provisional is True
    clock = selectors.case_clocks(case).statutory
    assert (clock.extension_days, clock.provisional_years) == (10, (2027,))
    client.force_login(catalogue["enterprise_demo"])
    body = client.get(f"/api/v1/cases/{case.number}").json()
    assert body["statutory_clock"]["limit_days"] == 20
    assert body["statutory_clock"]["extension_days"] == 10
    assert body["statutory_clock"]["is_provisional"] is True
    assert body["statutory_clock"]["deadline"].startswith("2027-01-14T15:59:59.999")  # 2027-01-14 24:00 Beijing
    assert body["statutory_extension"]["days"] == 10
    assert body["statutory_extension"]["reason"] == REASON
    page = client.get(f"/cases/{case.number}/").content.decode()
    assert "经本机关负责人批准，法定办理期限延长 10 个工作日" in page
    assert f"延长理由：{REASON}" in page
    assert "暂定" in page


def test_the_staff_page_shows_the_request_to_the_approver_and_the_applicant_sees_only_the_approved_extension(
    client, catalogue, accepted
):
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        client.force_login(catalogue["window_centre"])
        page = client.get(f"/cases/{accepted.number}/").content.decode()
        assert 'id="request-extension-form"' in page
        response = client.post(f"/cases/{accepted.number}/request_extension/", {"reason": REASON})
        assert response.status_code == 302
        extension = DeadlineExtension.objects.get()
        page = client.get(f"/cases/{accepted.number}/").content.decode()
        assert 'id="request-extension-form"' not in page and 'id="decide-extension-form"' not in page
        assert "待负责人批准" in page
        client.force_login(catalogue["enterprise_demo"])
        page = client.get(f"/cases/{accepted.number}/").content.decode()
        assert REASON not in page  # a request is the agency's; the applicant is told once it is approved
        client.force_login(catalogue["approver_scj"])
        page = client.get(f"/cases/{accepted.number}/").content.decode()
        assert 'id="decide-extension-form"' in page and "批准延长 10 个工作日" in page
        client.post(f"/cases/{accepted.number}/approve_extension/", {"extension": extension.pk, "note": "同意"})
        client.force_login(catalogue["enterprise_demo"])
        page = client.get(f"/cases/{accepted.number}/").content.decode()
    assert "由 2026-03-30 延至 2026-04-14" in page
    assert f"延长理由：{REASON}" in page
    assert "含经批准延长的 10 个工作日" in page


# ---- 送达: 10 working days after an approved licence ----------------------------------------------------


def test_an_approved_licence_must_be_served_within_10_working_days_and_supervision_alerts_when_it_is_not(
    client, catalogue, accepted, food
):
    SupervisedItem.objects.create(item=food)
    with time_machine.travel(at("2026-03-10T15:00"), tick=False):
        case = services.approve_case(case=accepted, actor=catalogue["approver_scj"], note="符合条件")
    assert case.service_limit_days == 10
    assert case.service_deadline == at("2026-03-24T23:59:59.999999")
    with time_machine.travel(at("2026-03-12T10:00"), tick=False):
        service = selectors.case_clocks(case).service
        assert (service.used_days, service.left_days, service.is_finished) == (2, 8, False)
        client.force_login(catalogue["enterprise_demo"])
        body = client.get(f"/api/v1/cases/{case.number}").json()
    assert body["service_clock"]["limit_days"] == 10
    assert body["service_clock"]["left_days"] == 8
    assert supervision.sweep(at("2026-03-24T23:59:59"))["service_overdue"] == 0
    result = supervision.sweep(at("2026-03-25T00:00:01"))
    assert (result["service_overdue"], result["orders"]) == (1, 1)
    alert = Alert.objects.get(rule="service_overdue")
    assert (alert.level, alert.organisation.code) == ("red", "440104-SJJ")
    assert alert.message == f"办件 {case.number}：准予许可后超期未送达"
    with time_machine.travel(at("2026-03-26T10:00"), tick=False):
        case = services.deliver_result(
            case=case, actor=catalogue["window_centre"], method="post", tracking_number="SF1234567890"
        )
        service = selectors.case_clocks(case).service
        client.force_login(catalogue["enterprise_demo"])
        page = client.get(f"/cases/{case.number}/").content.decode()
    assert (service.is_finished, service.overdue_days) == (True, 2)
    assert "已送达，用时 12 个工作日，" in page and "超期 2 个工作日" in page


def test_a_provisional_service_deadline_is_recomputed_when_the_years_notice_arrives(catalogue, food):
    """Approved on Monday 2027-02-01: on the provisional 2027 calendar (春节 2/5–2/8 off) the licence is
    due by 2/17; the (test) notice gives 2/6–2/14 off and 2/20 as a working day, so 2/20."""
    with time_machine.travel(at("2027-01-04T10:00"), tick=False):
        case = services.accept_case(case=apply(catalogue, food), actor=catalogue["window_centre"])
    with time_machine.travel(at("2027-02-01T10:00"), tick=False):
        case = services.approve_case(case=case, actor=catalogue["approver_scj"])
    assert case.service_deadline == at("2027-02-17T23:59:59.999999")
    assert case.deadline_is_provisional is True
    calendar.import_holiday_notice(year=2027, text=NOTICE_2027_TEST, notice_number="测试", actor=None)
    with time_machine.travel(at("2027-02-03T10:00"), tick=False):
        assert recompute_deadlines([2027])[0] == "办件期限重算：1 件"
    case.refresh_from_db()
    assert case.service_deadline == at("2027-02-20T23:59:59.999999")
    assert case.deadline_is_provisional is False
    event = case.events.get(action="deadlines_recomputed")
    assert (
        event.note
        == "国务院节假日安排通知已导入，办理期限按正式安排重新计算：送达期限由 2027-02-17 调整为 2027-02-20。"
    )


def test_a_refusal_and_an_approval_of_another_kind_of_item_have_no_service_deadline(catalogue, accepted):
    with time_machine.travel(at("2026-03-10T15:00"), tick=False):
        refused = services.refuse_case(
            case=accepted, actor=catalogue["approver_scj"], reason="不符合条件", legal_basis="食品安全法第三十五条"
        )
        pension = register(catalogue, "urban-rural-resident-pension-enrolment")
        approved = services.approve_case(case=pension, actor=catalogue["approver_rsj"])
    assert (refused.service_limit_days, refused.service_deadline) == (None, None)
    assert (approved.service_limit_days, approved.service_deadline) == (None, None)
    assert selectors.case_clocks(approved).service is None


# ---- 一件事 handled jointly: 45 working days (+15) ----------------------------------------------------


@pytest.fixture
def catering(catalogue) -> BundleCase:
    """开办餐饮店一件事 (食品经营许可, 消防安全检查 and 烟草专卖零售许可 are licences), accepted at the
    centre on Monday 2026-03-02."""
    bundle = ServiceBundle.objects.get(seed_key="catering-shop-opening")
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        bundle_case = services.submit_bundle_application(
            bundle=bundle, applicant=catalogue["enterprise_demo"], idempotency_key="cat-1", form_data={}
        )
        return services.accept_bundle_case(bundle_case=bundle_case, actor=catalogue["window_centre"])


def test_a_bundle_that_handles_licences_jointly_has_45_working_days(catering):
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        progress = selectors.bundle_progress(catering)
    clock = progress.statutory_clock
    assert (clock.limit_days, clock.extension_days, clock.used_days, clock.left_days) == (45, 0, 14, 31)
    assert clock.deadline == at("2026-05-08T23:59:59.999999")
    # Each licence keeps its own 20 working days inside the joint handling.
    food_case = catering.sub_cases.get(item__seed_key="food-business-licence-new")
    assert food_case.statutory_deadline == at("2026-03-30T23:59:59.999999")
    tobacco = catering.sub_cases.get(item__seed_key="tobacco-retail-licence")
    assert tobacco.statutory_limit_days == 20


def test_a_bundle_without_licences_has_no_joint_handling_limit(catalogue):
    bundle_case = BundleCase(bundle=ServiceBundle.objects.get(seed_key="newborn-birth"))
    cases = [Case(item=ServiceItem.objects.get(seed_key="birth-medical-certificate"))]
    assert selectors.is_joint_licensing(cases) is False
    assert selectors.joint_handling_clock(bundle_case, cases, "in_progress", at("2026-03-02T10:00")) is None


def test_the_joint_handling_limit_is_extended_once_by_15_working_days_with_the_lead_departments_approval(
    client, catalogue, catering
):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]  # 区市场监管局 leads the bundle
    with time_machine.travel(at("2026-04-20T10:00"), tick=False):
        extension = services.request_joint_extension(bundle_case=catering, actor=window, reason="消防检查需复查")
        services.approve_joint_extension(extension=extension, actor=approver)
        with pytest.raises(Conflict, match="依法只能延长一次"):
            services.request_joint_extension(bundle_case=catering, actor=window, reason="再次延长")
        clock = selectors.bundle_progress(catering).statutory_clock
        client.force_login(catalogue["enterprise_demo"])
        page = client.get(f"/cases/bundles/{catering.number}/").content.decode()
    assert (clock.limit_days, clock.extension_days) == (45, 15)
    assert clock.deadline == at("2026-05-28T23:59:59.999999")
    extension.refresh_from_db()
    assert extension.deadline_before == at("2026-05-08T23:59:59.999999")
    assert extension.deadline_after == at("2026-05-28T23:59:59.999999")
    assert "经批准延长 15 个工作日，由 2026-05-08 延至 2026-05-28" in page
    assert "延长理由：消防检查需复查" in page
    message = OutboxMessage.objects.get(topic="case_extension")
    assert message.recipient == catalogue["enterprise_demo"]
    assert message.link == f"/cases/bundles/{catering.number}/"
