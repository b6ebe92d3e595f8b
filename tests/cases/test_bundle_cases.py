"""新生儿出生一件事 as one application: nine sub-cases for five departments, one correction notice,
one clock (5 working days) and one result."""

from __future__ import annotations

import pytest
import time_machine

from tests.helpers import at
from yuexiu.cases import selectors, services
from yuexiu.cases.models import Attachment, BundleCase, Case
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceBundle
from yuexiu.core.errors import Conflict, DomainError

FORM = {
    "mother_name": "王芳",
    "mother_id_number": "440104199001010029",
    "father_name": "李强",
    "father_id_number": "440104198805050013",
    "child_name": "李小越",
    "child_sex": "女",
    "child_birth_date": "2026-02-20",
    "birth_hospital": "广东省妇幼保健院",
    "household_address": "广州市越秀区洪桥街道",
    "contact_phone": "13800138000",
    "mailing_address": "广州市越秀区洪桥街道某路 1 号",
}
APPROVERS = {
    "440104-WJJ": "approver_wjj",
    "440104-GAJ": "approver_gaj",
    "440104-YBJ": "approver_ybj",
    "440104-RSJ": "approver_rsj",
    "440104-SWJ": "approver_swj",
}


@pytest.fixture
def newborn(catalogue) -> ServiceBundle:
    return ServiceBundle.objects.get(seed_key="newborn-birth")


def apply(catalogue, newborn, key="b-1") -> BundleCase:
    return services.submit_bundle_application(
        bundle=newborn,
        applicant=catalogue["citizen_demo"],
        idempotency_key=key,
        form_data=FORM,
        uploads=[Upload("结婚证", "结婚证.pdf", b"%PDF-1.4 marriage")],
    )


@time_machine.travel(at("2026-03-02T10:00"), tick=False)
def test_one_application_fans_out_into_a_sub_case_per_item_with_its_own_fields(catalogue, newborn):
    bundle_case = apply(catalogue, newborn)
    assert bundle_case.number == "YJ20260302000001"
    cases = list(bundle_case.sub_cases.order_by("id"))
    assert len(cases) == 9
    assert [case.organisation.code for case in cases].count("440104-WJJ") == 4
    registration = next(case for case in cases if case.item.name == "国（境）内出生登记")
    assert registration.form_data["child_name"] == "李小越"
    assert "bank_account" not in registration.form_data
    # the 结婚证 file is written once and attached to the two matters that need it
    marriage = Attachment.objects.filter(case__bundle_case=bundle_case, material_name="结婚证")
    assert sorted(attachment.case.item.name for attachment in marriage) == ["国（境）内出生登记", "生育登记凭证签发"]
    assert len({attachment.file.name for attachment in marriage}) == 1
    assert apply(catalogue, newborn).pk == bundle_case.pk  # a retried submission
    assert BundleCase.objects.count() == 1 and Case.objects.count() == 9


def test_the_merged_form_is_checked_like_the_precheck(catalogue, newborn):
    with pytest.raises(DomainError) as error:
        services.submit_bundle_application(
            bundle=newborn,
            applicant=catalogue["citizen_demo"],
            idempotency_key="bad",
            form_data={**FORM, "mother_id_number": "440104198805050013"},
        )
    assert error.value.details["errors"] == ["母亲公民身份号码与性别不符（应为女性的身份证号）。"]
    assert BundleCase.objects.count() == 0


def test_status_clock_and_result_derive_from_the_sub_cases(catalogue, newborn):
    window = catalogue["window_centre"]
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        bundle_case = apply(catalogue, newborn)
        assert selectors.bundle_progress(bundle_case).status_label == "已提交"
        services.accept_bundle_case(bundle_case=bundle_case, actor=window)
        progress = selectors.bundle_progress(bundle_case)
    assert progress.status_label == "办理中"
    assert progress.clock.deadline == at("2026-03-09T23:59:59.999999")  # 5 working days
    with time_machine.travel(at("2026-03-03T16:00"), tick=False):
        services.request_bundle_correction(bundle_case=bundle_case, actor=window, missing=["出生医学证明编号有误"])
        progress = selectors.bundle_progress(bundle_case)
    assert progress.status_label == "待补正"
    assert progress.open_pause.details == ["出生医学证明编号有误"]
    with time_machine.travel(at("2026-03-05T09:00"), tick=False):  # Wednesday 4th fully paused
        services.answer_bundle_correction(bundle_case=bundle_case, actor=catalogue["citizen_demo"], note="已更正")
        progress = selectors.bundle_progress(bundle_case)
    assert progress.clock.deadline == at("2026-03-10T23:59:59.999999")
    with pytest.raises(Conflict, match="尚有 9 个事项未办理完毕"):
        services.deliver_bundle_case(bundle_case=bundle_case, actor=window, method="electronic")
    with time_machine.travel(at("2026-03-06T10:00"), tick=False):
        for case in bundle_case.sub_cases.order_by("id"):
            services.approve_case(case=case, actor=catalogue[APPROVERS[case.organisation.code]])
        assert selectors.bundle_progress(bundle_case).status_label == "待送达"
        services.deliver_bundle_case(bundle_case=bundle_case, actor=window, method="electronic")
    progress = selectors.bundle_progress(bundle_case)
    assert progress.status_label == "已办结"
    assert progress.decided == 9
    assert progress.clock.used_days == 3 and not progress.clock.is_overdue  # 3rd, 5th, 6th; the 4th was paused


def test_a_department_approver_cannot_decide_another_departments_sub_case(catalogue, newborn):
    bundle_case = apply(catalogue, newborn)
    services.accept_bundle_case(bundle_case=bundle_case, actor=catalogue["window_centre"])
    tax = bundle_case.sub_cases.get(organisation__code="440104-SWJ")
    from yuexiu.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.approve_case(case=tax, actor=catalogue["approver_wjj"])


def test_an_item_using_an_earlier_items_result_waits_for_it(catalogue, newborn):
    bundle_case = apply(catalogue, newborn)
    services.accept_bundle_case(bundle_case=bundle_case, actor=catalogue["window_centre"])
    registration = bundle_case.sub_cases.get(item__name="国（境）内出生登记")
    with pytest.raises(Conflict, match="须待“出生医学证明（首次签发）”办结后才能办理本事项"):
        services.approve_case(case=registration, actor=catalogue["approver_gaj"])
    certificate = bundle_case.sub_cases.get(item__name="出生医学证明（首次签发）")
    services.approve_case(case=certificate, actor=catalogue["approver_wjj"])
    assert services.approve_case(case=registration, actor=catalogue["approver_gaj"]).status == "approved"
