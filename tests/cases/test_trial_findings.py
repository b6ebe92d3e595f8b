"""What new users broke in case handling, and must stay fixed."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.cases.test_bundle_cases import FORM
from tests.helpers import PDF, food_licence_uploads
from yuexiu.cases import selectors, services
from yuexiu.cases.models import Case
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceBundle, ServiceItem
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.supervision import services as supervision
from yuexiu.supervision.models import Alert, SupervisedItem


def apply_for_food(catalogue, food, key: str) -> Case:
    return services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key=key,
        form_data={},
        uploads=food_licence_uploads(PDF),
    )


def test_an_online_application_without_its_required_materials_is_refused(catalogue, food):
    with pytest.raises(DomainError) as error:
        services.submit_application(
            item=food, applicant=catalogue["enterprise_demo"], idempotency_key="m", form_data={}
        )
    assert error.value.details["errors"] == [
        "请上传“与食品经营相适应的主要设备设施布局、操作流程等文件”。",
        "请上传“食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度”。",
    ]


def test_a_submission_key_reused_for_another_item_is_refused(catalogue, food):
    services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="k",
        form_data={},
        uploads=food_licence_uploads(),
    )
    other = ServiceItem.objects.get(seed_key="drainage-permit")
    with pytest.raises(DomainError, match="该提交标识已用于其他申请"):
        services.submit_application(
            item=other, applicant=catalogue["enterprise_demo"], idempotency_key="k", form_data={}
        )


def test_an_ofd_must_be_an_ofd_package_and_files_are_served_under_their_real_type(catalogue, food):
    with pytest.raises(DomainError, match="格式不支持"):
        services.check_upload(Upload("材料", "材料.ofd", b"PK\x03\x04junk"))
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD/>")
    assert services.check_upload(Upload("材料", "材料.ofd", package.getvalue())) == "application/ofd"
    assert services.stored_file_name("virus.exe", "application/pdf") == "virus.pdf"


def test_intake_is_the_windows_work_not_the_approvers(catalogue, food):
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="w",
        form_data={},
        uploads=food_licence_uploads(),
    )
    with pytest.raises(PermissionDeniedError):
        services.accept_case(case=case, actor=catalogue["approver_scj"])


def test_a_page_without_its_version_is_told_to_refresh(client, catalogue, food):
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="v",
        form_data={},
        uploads=food_licence_uploads(),
    )
    client.force_login(catalogue["window_centre"])
    response = client.post(f"/cases/{case.number}/accept/", follow=True)
    assert "页面已过期，请刷新后再操作。" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "submitted"


def test_the_administrators_see_no_applicants_cases(catalogue, food):
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="a",
        form_data={},
        uploads=food_licence_uploads(),
    )
    for username in ("sysadmin", "auditadmin"):
        with pytest.raises(NotFound):
            selectors.access_case(catalogue[username], case.number)
        assert selectors.list_staff_cases(catalogue[username]).count() == 0


@pytest.fixture
def newborn_case(catalogue):
    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    SupervisedItem.objects.bulk_create(SupervisedItem(item=link.item) for link in newborn.bundleitem_set.all())
    bundle_case = services.submit_bundle_application(
        bundle=newborn, applicant=catalogue["citizen_demo"], idempotency_key="nb", form_data=FORM, uploads=[]
    )
    services.accept_bundle_case(bundle_case=bundle_case, actor=catalogue["window_centre"])
    return bundle_case


def test_bundle_sub_cases_take_the_bundle_promise_and_are_handled_through_the_bundle(catalogue, newborn_case):
    assert set(newborn_case.sub_cases.values_list("promised_limit_days", flat=True)) == {5}
    assert newborn_case.sub_cases.filter(due_at__isnull=True).count() == 0
    sub_case = newborn_case.sub_cases.first()
    with pytest.raises(Conflict, match="请在一件事办件页统一受理、补正"):
        services.request_correction(case=sub_case, actor=catalogue["window_centre"], missing=["x"])


def test_a_bundle_correction_asking_for_an_exempt_material_is_one_red_alert_on_the_window(catalogue, newborn_case):
    services.request_bundle_correction(
        bundle_case=newborn_case, actor=catalogue["window_centre"], missing=["结婚证", "单亲书面声明签名不清晰"]
    )
    assert sorted(Case.objects.values_list("corrections_beyond_guide", flat=True)) == [0] * 8 + [1]
    supervision.sweep()
    alert = Alert.objects.get(rule="correction_beyond_guide")
    assert alert.organisation.code == "440104-ZSJ"


def test_an_enterprise_account_cannot_apply_for_a_newborn_and_a_bundle_is_delivered_once(catalogue, newborn_case):
    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    with pytest.raises(DomainError, match="须由本人以自然人账号申请"):
        services.submit_bundle_application(
            bundle=newborn, applicant=catalogue["enterprise_demo"], idempotency_key="e", form_data=FORM
        )
    approvers = {
        "440104-WJJ": "approver_wjj",
        "440104-GAJ": "approver_gaj",
        "440104-YBJ": "approver_ybj",
        "440104-RSJ": "approver_rsj",
        "440104-SWJ": "approver_swj",
    }
    for case in newborn_case.sub_cases.order_by("id"):
        services.approve_case(case=case, actor=catalogue[approvers[case.organisation.code]])
    services.deliver_bundle_case(bundle_case=newborn_case, actor=catalogue["window_centre"], method="electronic")
    with pytest.raises(Conflict, match="已送达办结"):
        services.deliver_bundle_case(bundle_case=newborn_case, actor=catalogue["window_centre"], method="electronic")


def test_a_tracking_number_must_look_like_one(catalogue, food):
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="t",
        form_data={},
        uploads=food_licence_uploads(PDF),
    )
    case = services.accept_case(case=case, actor=catalogue["window_centre"])
    case = services.approve_case(case=case, actor=catalogue["approver_scj"])
    with pytest.raises(DomainError, match="6 到 40 位"):
        services.deliver_result(case=case, actor=catalogue["window_centre"], method="post", tracking_number="<script>")
