"""Case handling: 李经办 applies online for 食品经营许可（新办） with the demo enterprise's account (an item
for 法人); 许窗口 at the 区政务服务中心 accepts and asks
for a correction; 林审批 (区市场监管局) decides; the result is posted; the clock stops while paused."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection

from tests.helpers import at, food_licence_uploads
from yuexiu.cases import selectors, services
from yuexiu.cases.models import Attachment, Case, CaseStatus
from yuexiu.cases.services import Upload
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import AuditEvent

PDF = b"%PDF-1.7\n" + b"0" * 100


def apply(catalogue, item, key="k1", uploads=None) -> Case:
    return services.submit_application(
        item=item,
        applicant=catalogue["enterprise_demo"],
        idempotency_key=key,
        form_data={},
        uploads=uploads if uploads is not None else food_licence_uploads(PDF),
    )


@time_machine.travel(at("2026-03-02T10:00"), tick=False)
def test_an_online_application_gets_a_number_and_keeps_the_chinese_file_name(catalogue, food):
    case = apply(catalogue, food)
    assert case.number == "YX20260302000001"
    assert case.status == "submitted"
    assert case.guide_version == food.current_version
    assert case.intake_organisation.code == "440104-ZSJ"
    attachment = case.attachments.order_by("id").first()
    assert attachment.original_name == "与食品经营相.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.file.read() == PDF


def test_a_retried_submission_creates_one_case(catalogue, food):
    first = apply(catalogue, food, key="same")
    second = apply(catalogue, food, key="same")
    assert first.pk == second.pk
    assert Case.objects.count() == 1
    assert Attachment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_the_same_moment_create_one_case(catalogue, food):
    results = []
    barrier = threading.Barrier(2)

    def submit():
        barrier.wait()
        try:
            results.append(apply(catalogue, food, key="double-click").pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and len(set(results)) == 1
    assert Case.objects.count() == 1


def test_an_unsupported_or_oversized_file_is_refused_before_anything_is_stored(catalogue, food, settings):
    with pytest.raises(DomainError, match="格式不支持：只接受 PDF、JPG、PNG 或 OFD 文件"):
        apply(catalogue, food, uploads=food_licence_uploads(b"MZ\x90\x00binary"))
    settings.CASE_UPLOAD_MAX_BYTES = 50
    with pytest.raises(DomainError, match="超过 0 MB 上限|超过"):
        apply(catalogue, food, uploads=food_licence_uploads(PDF))
    assert Case.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_the_case_runs_from_acceptance_to_closing_with_the_clock_stopped_for_the_correction(catalogue, food):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        case = apply(catalogue, food)
        case = services.accept_case(case=case, actor=window, expected_version=case.version)
    assert case.promised_limit_days is None and case.statutory_limit_days == 20
    assert case.statutory_deadline == at("2026-03-30T23:59:59.999999")
    with time_machine.travel(at("2026-03-03T16:00"), tick=False):
        case = services.request_correction(
            case=case, actor=window, missing=["营业执照副本", "设备布局图"], expected_version=case.version
        )
    assert case.status == CaseStatus.CORRECTION_REQUESTED
    with time_machine.travel(at("2026-03-06T09:00"), tick=False):  # Wednesday 4th and Thursday 5th fully paused
        case = services.submit_correction(
            case=case,
            actor=catalogue["enterprise_demo"],
            uploads=[Upload("设备布局图", "布局图.png", b"\x89PNG\r\n\x1a\n1")],
        )
        assert selectors.case_clocks(case).statutory.paused_days == 2
    assert case.statutory_deadline == at("2026-04-01T23:59:59.999999")
    with time_machine.travel(at("2026-03-10T10:00"), tick=False):
        case = services.approve_case(case=case, actor=approver, note="符合条件")
        case = services.deliver_result(case=case, actor=window, method="post", tracking_number="SF1234567890")
        case = services.close_case(case=case, actor=window)
    assert case.status == CaseStatus.CLOSED
    assert list(case.events.values_list("action", flat=True)) == [
        "submitted",
        "accepted",
        "correction_requested",
        "corrected",
        "approved",
        "delivered",
        "closed",
    ]
    assert AuditEvent.objects.filter(action__startswith="case.").count() == 7


def test_two_officers_acting_at_once_one_wins_and_the_other_is_told(catalogue, food):
    from yuexiu.core import services as core_services
    from yuexiu.core.models import Role

    colleague = catalogue["data_officer"]  # also at the 政务服务中心; given a window role for the test
    core_services.grant_role(
        user=colleague, role=Role.WINDOW_OFFICER, organisation=colleague.organisation, granted_by=None
    )
    case = apply(catalogue, food)
    seen = case.version
    services.accept_case(case=case, actor=catalogue["window_centre"], expected_version=seen)
    with pytest.raises(Conflict) as error:
        services.decline_case(case=case, actor=colleague, reason="材料不全", expected_version=seen)
    assert error.value.message == "该办件已被他人处理（当前状态：已受理（审查中）），请刷新页面后再操作。"
    case.refresh_from_db()
    assert case.status == "accepted"


def test_refusals_need_reasons_and_the_legal_basis(catalogue, food):
    case = apply(catalogue, food)
    with pytest.raises(DomainError, match="不予受理必须说明理由"):
        services.decline_case(case=case, actor=catalogue["window_centre"], reason=" ")
    services.accept_case(case=case, actor=catalogue["window_centre"])
    with pytest.raises(DomainError, match="理由和法律依据"):
        services.refuse_case(case=case, actor=catalogue["approver_scj"], reason="不符合条件", legal_basis="")
    with pytest.raises(PermissionDeniedError):
        services.approve_case(case=case, actor=catalogue["window_centre"])


def test_a_special_procedure_stops_the_clock_and_records_its_basis(catalogue, food):
    case = apply(catalogue, food)
    case = services.accept_case(case=case, actor=catalogue["window_centre"])
    case = services.start_special_procedure(
        case=case, actor=catalogue["approver_scj"], name="现场核查", legal_basis="《食品经营许可和备案管理办法》"
    )
    assert case.status == "special_procedure"
    assert case.pauses.get().legal_basis == "《食品经营许可和备案管理办法》"
    case = services.end_special_procedure(case=case, actor=catalogue["approver_scj"])
    assert case.status == "accepted"


def test_an_applicant_cannot_read_another_applicants_case_by_its_number(catalogue, food):
    case = apply(catalogue, food)
    assert selectors.access_case(catalogue["enterprise_demo"], case.number) == case
    with pytest.raises(NotFound):
        selectors.access_case(catalogue["citizen_demo"], case.number)
    with pytest.raises(NotFound):
        selectors.access_case(catalogue["window_hongqiao"], case.number)
    assert selectors.access_case(catalogue["approver_scj"], case.number) == case


def test_a_window_officer_registers_a_walk_in_application(catalogue, food):
    case = services.submit_application(
        item=food,
        registered_by=catalogue["window_centre"],
        idempotency_key="walk-in-1",
        form_data={},
        applicant_name="王小明",
        applicant_id_number="440104199001010029",
        applicant_phone="13800138000",
    )
    assert (case.channel, case.applicant_id, case.applicant_name) == ("window", None, "王小明")
    with pytest.raises(PermissionDeniedError):
        services.submit_application(
            item=food, registered_by=catalogue["editor_scj"], idempotency_key="x", form_data={}, applicant_name="王"
        )
