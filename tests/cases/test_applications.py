"""Applying, after the second trial (issue 11 §4): every bad file reported at once with the typed values
kept; a second application for an item still being handled asks for confirmation (on the server, and
when two submissions race); items for 法人 refuse citizens and items for 自然人 refuse enterprises.

The cast: 李经办 (enterprise_demo) applies for 食品经营许可（新办）, an item for 法人; 张晓越
(citizen_demo) applies for 居住证申领, an item for 自然人; 许窗口 (window_centre) registers walk-ins."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from tests.cases.test_bundle_cases import FORM
from tests.helpers import PDF, food_licence_uploads
from yuexiu.cases import services
from yuexiu.cases.models import Attachment, BundleCase, Case
from yuexiu.cases.services import RepeatApplication, Upload
from yuexiu.catalog.models import ServiceBundle, ServiceItem
from yuexiu.core import services as core_services
from yuexiu.core.errors import DomainError
from yuexiu.core.models import AccountType

JUNE = datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(JUNE, tick=True):
        yield


@pytest.fixture
def residence(catalogue) -> ServiceItem:
    return ServiceItem.objects.get(seed_key="residence-permit")


def apply_for_food(catalogue, food, key: str, **options) -> Case:
    return services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key=key,
        form_data={},
        uploads=food_licence_uploads(),
        **options,
    )


def food_files(first: bytes = PDF, second: bytes = PDF, first_name: str = "布局图.pdf") -> dict[str, object]:
    """The two required materials of 食品经营许可（新办） as the page posts them (inputs 2 and 3)."""
    return {
        "material-2": SimpleUploadedFile(first_name, first, content_type="application/pdf"),
        "material-3": SimpleUploadedFile("规章制度.pdf", second, content_type="application/pdf"),
    }


# ---- several bad files: every one at once, the typed values kept ------------------------------------


def test_every_bad_file_is_reported_at_once_with_its_name_and_reason(catalogue, food):
    with pytest.raises(DomainError) as error:
        services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key="bad-files",
            form_data={},
            uploads=[
                Upload(services.required_uploads(food)[0], "病毒.exe", b"MZ\x90\x00binary"),
                Upload(services.required_uploads(food)[1], "空白.pdf", b""),
                Upload("其他材料", "照片.png", b"\x89PNG\r\n\x1a\n1"),
            ],
        )
    assert error.value.details["errors"] == [
        "文件“病毒.exe”的格式不支持：只接受 PDF、JPG、PNG 或 OFD 文件（按文件内容识别）。",
        "文件“空白.pdf”是空文件，请重新选择。",
    ]
    assert Case.objects.count() == Attachment.objects.count() == 0


def test_the_window_form_keeps_the_typed_values_and_lists_every_bad_file_and_missing_field(client, catalogue, food):
    client.force_login(catalogue["window_centre"])
    response = client.post(
        f"/workbench/cases/register/{food.slug}/",
        {
            "idempotency_key": "walk-in-bad",
            "applicant_name": "王小明",
            "applicant_id_number": "440104199001010029",
            "applicant_phone": "1380013800",  # one digit short
            **food_files(first=b"<html>not a pdf</html>", second=b"", first_name="布局图.html"),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = html.split('id="apply-errors"')[1].split("</div>")[0]
    assert "布局图.html" in errors and "格式不支持" in errors
    assert "规章制度.pdf" in errors and "是空文件" in errors
    assert "手机号" in errors
    assert 'value="王小明"' in html and 'value="440104199001010029"' in html and 'value="1380013800"' in html
    assert "已选择的文件不会保留：请重新选择全部文件后再提交" in html
    assert Case.objects.count() == 0


def test_a_bundle_application_lists_form_and_file_problems_together_and_keeps_the_form(client, catalogue):
    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    client.force_login(catalogue["citizen_demo"])
    response = client.post(
        f"/services/bundles/{newborn.slug}/apply/",
        {
            **FORM,
            "idempotency_key": "bundle-bad",
            "contact_phone": "12345",
            "material-0": SimpleUploadedFile("结婚证.doc", b"\xd0\xcf\x11\xe0 word", content_type="application/msword"),
            "material-1": SimpleUploadedFile("户口簿.pdf", b"", content_type="application/pdf"),
        },
    )
    assert response.status_code == 400
    errors = response.content.decode().split('id="apply-errors"')[1].split("</div>")[0]
    assert "联系电话" in errors
    assert "文件“结婚证.doc”的格式不支持" in errors and "文件“户口簿.pdf”是空文件" in errors
    assert 'value="王芳"' in response.content.decode()
    assert BundleCase.objects.count() == Case.objects.count() == 0


# ---- a second application while the first is open ------------------------------------------------


def test_a_second_application_for_an_open_item_asks_for_confirmation_on_the_page(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    first = client.post(f"/services/items/{food.slug}/apply/", {"idempotency_key": "first", **food_files()})
    number = Case.objects.get().number
    assert first.url == f"/cases/{number}/"

    page = client.get(f"/services/items/{food.slug}/apply/").content.decode()
    assert 'id="repeat-application"' in page and number in page and 'name="confirm_repeat"' in page

    refused = client.post(f"/services/items/{food.slug}/apply/", {"idempotency_key": "second", **food_files()})
    assert refused.status_code == 400
    assert f"同一申请人已有该事项的办件正在办理：{number}（已提交）" in refused.content.decode()
    assert Case.objects.count() == 1

    # Back and resubmit of the first page is still the first case (idempotent submission).
    again = client.post(f"/services/items/{food.slug}/apply/", {"idempotency_key": "first", **food_files()})
    assert again.url == f"/cases/{number}/" and Case.objects.count() == 1

    confirmed = client.post(
        f"/services/items/{food.slug}/apply/", {"idempotency_key": "second", "confirm_repeat": "1", **food_files()}
    )
    second = Case.objects.exclude(number=number).get()
    assert confirmed.url == f"/cases/{second.number}/"
    assert second.repeat_confirmed and second.applicant_identity == "uscc:91440104MA5CYX1KXU"


def test_a_finished_case_or_another_item_needs_no_confirmation(catalogue, food):
    first = apply_for_food(catalogue, food, "one")
    drainage = ServiceItem.objects.get(seed_key="drainage-permit")
    other = services.submit_application(
        item=drainage,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="drainage",
        form_data={},
        uploads=[Upload(name, "材料.pdf", PDF) for name in services.required_uploads(drainage)],
    )
    assert not other.repeat_confirmed
    services.decline_case(case=first, actor=catalogue["window_centre"], reason="材料不全")
    second = apply_for_food(catalogue, food, "two")
    assert not second.repeat_confirmed
    with pytest.raises(RepeatApplication) as error:
        apply_for_food(catalogue, food, "three")
    assert [entry["number"] for entry in error.value.details["open_cases"]] == [second.number]


def test_the_same_person_is_recognised_across_accounts_and_at_the_window(catalogue, food, residence):
    apply_for_food(catalogue, food, "enterprise")
    colleague = core_services.register_enterprise_user(
        username="colleague_demo",
        password="Yuexiu#2024demo",
        full_name="赵同事",
        enterprise_uscc="91440104MA5CYX1KXU",
        enterprise_name="广州越秀示范科技有限公司（演示）",
        phone="13700137000",
    )
    with pytest.raises(RepeatApplication):
        services.submit_application(
            item=food, applicant=colleague, idempotency_key="colleague", form_data={}, uploads=food_licence_uploads()
        )
    services.submit_application(
        item=residence,
        applicant=catalogue["citizen_demo"],
        idempotency_key="online",
        form_data={},
        uploads=[Upload(name, "材料.pdf", PDF) for name in services.required_uploads(residence)],
    )
    walk_in = {
        "item": residence,
        "registered_by": catalogue["window_centre"],
        "form_data": {},
        "applicant_name": "张晓越",
        "applicant_id_number": "440104199001010029",
    }
    with pytest.raises(RepeatApplication, match="同一申请人已有该事项的办件正在办理"):
        services.submit_application(idempotency_key="walk-in", **walk_in)
    assert services.submit_application(idempotency_key="walk-in", confirm_repeat=True, **walk_in).repeat_confirmed
    assert Case.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_different_submissions_racing_create_one_case_and_ask_the_other_to_confirm(catalogue, food):
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def submit(key: str) -> None:
        barrier.wait()
        try:
            apply_for_food(catalogue, food, key)
            outcomes.append("created")
        except RepeatApplication:
            outcomes.append("asked to confirm")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(key,)) for key in ("tab-1", "tab-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["asked to confirm", "created"]
    assert Case.objects.count() == 1


def test_the_database_refuses_a_second_unconfirmed_open_case_whatever_the_code_path(catalogue, food):
    first = apply_for_food(catalogue, food, "first")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            number="YX20250618999999",
            item=food,
            guide_version=first.guide_version,
            organisation=first.organisation,
            intake_organisation=first.intake_organisation,
            channel="online",
            applicant=first.applicant,
            applicant_name=first.applicant_name,
            applicant_identity=first.applicant_identity,
            idempotency_key="bypass",
            submitted_at=first.submitted_at,
        )


# ---- 服务对象: legal persons and natural persons ----------------------------------------------------


def test_a_citizen_is_told_on_the_apply_page_that_an_item_for_legal_persons_needs_an_enterprise_account(
    client, catalogue, food
):
    client.force_login(catalogue["citizen_demo"])
    page = client.get(f"/services/items/{food.slug}/apply/")
    assert page.status_code == 403
    html = page.content.decode()
    assert "“食品经营许可（新办）”的服务对象为法人，须由企业（法人）账号申请，自然人账号不能申请。" in html
    assert 'id="apply-form"' not in html
    posted = client.post(f"/services/items/{food.slug}/apply/", {"idempotency_key": "citizen", **food_files()})
    assert posted.status_code == 403
    assert Case.objects.count() == 0


def test_an_enterprise_is_told_that_an_item_for_natural_persons_needs_the_person_themselves(
    client, catalogue, residence
):
    client.force_login(catalogue["enterprise_demo"])
    page = client.get(f"/services/items/{residence.slug}/apply/")
    assert page.status_code == 403
    assert "“居住证申领”的服务对象为自然人，须由申请人本人以自然人账号申请，企业账号不能申请。" in page.content.decode()


def test_the_service_refuses_the_wrong_kind_of_account_and_an_item_for_both_takes_both(catalogue, food, residence):
    with pytest.raises(DomainError) as error:
        services.submit_application(
            item=food,
            applicant=catalogue["citizen_demo"],
            idempotency_key="c",
            form_data={},
            uploads=food_licence_uploads(),
        )
    assert error.value.code == "service_object_mismatch"
    with pytest.raises(DomainError, match="服务对象为自然人"):
        services.submit_application(
            item=residence, applicant=catalogue["enterprise_demo"], idempotency_key="e", form_data={}
        )
    signs = ServiceItem.objects.get(seed_key="tobacco-retail-licence")  # 服务对象：自然人、法人
    assert signs.current_version.content["service_object"] == "both"
    for username in ("citizen_demo", "enterprise_demo"):
        user = catalogue[username]
        assert user.account_type in (AccountType.CITIZEN, AccountType.ENTERPRISE)
        assert services.service_object_refusal(signs, user) == ""
        case = services.submit_application(
            item=signs,
            applicant=user,
            idempotency_key=username,
            form_data={},
            uploads=[Upload(name, "材料.pdf", PDF) for name in services.required_uploads(signs)],
        )
        assert case.applicant == user
    assert Case.objects.count() == 2


def test_both_kinds_of_account_see_the_form_of_an_item_for_both(client, catalogue):
    signs = ServiceItem.objects.get(seed_key="tobacco-retail-licence")  # 服务对象：自然人、法人
    for username in ("citizen_demo", "enterprise_demo"):
        client.force_login(catalogue[username])
        page = client.get(f"/services/items/{signs.slug}/apply/")
        assert page.status_code == 200 and 'id="apply-form"' in page.content.decode()
