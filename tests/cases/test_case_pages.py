"""The case pages: applying online with files, the case page and its actions, the queue, downloads."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from yuexiu.cases.models import Case
from yuexiu.core.models import AuditEvent

PDF = b"%PDF-1.7\n" + b"1" * 50


def _apply(client, food, key="k-1", data=b"") -> object:
    return client.post(
        f"/services/items/{food.slug}/apply/",
        {
            "idempotency_key": key,
            "material-2": SimpleUploadedFile("设备设施布局图.pdf", data or PDF, content_type="application/pdf"),
            "material-3": SimpleUploadedFile("食品安全规章制度.pdf", data or PDF, content_type="application/pdf"),
        },
    )


def test_an_enterprise_applies_online_and_a_double_click_makes_one_case(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    page = client.get(f"/services/items/{food.slug}/apply/").content.decode()
    assert "食品经营许可申请书" in page and 'name="idempotency_key"' in page
    first = _apply(client, food)
    second = _apply(client, food)
    case = Case.objects.get()
    assert first.url == second.url == f"/cases/{case.number}/"
    html = client.get(first.url).content.decode()
    assert "设备设施布局图.pdf" in html
    assert "已提交" in html
    assert "139****9000" in html and "13900139000" not in html


def test_a_bad_file_is_refused_on_the_page_and_nothing_is_created(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    response = _apply(client, food, data=b"<html>not a pdf</html>")
    assert "格式不支持" in response.content.decode()
    assert Case.objects.count() == 0


def test_the_window_accepts_and_requests_a_correction_the_applicant_answers(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    number = _apply(client, food).url.split("/")[2]
    case = Case.objects.get(number=number)
    client.force_login(catalogue["window_centre"])
    queue = client.get("/workbench/cases/").content.decode()
    assert number in queue
    client.post(f"/cases/{number}/accept/", {"version": case.version})
    client.post(f"/cases/{number}/correct/", {"version": case.version + 1, "missing": "营业执照副本\n设备布局图"})
    client.force_login(catalogue["enterprise_demo"])
    page = client.get(f"/cases/{number}/").content.decode()
    assert "补正通知（一次性告知）" in page and "设备布局图" in page
    client.post(
        f"/cases/{number}/answer/",
        {"version": case.version + 2, "note": "已补", "files": SimpleUploadedFile("布局图.pdf", PDF)},
    )
    case.refresh_from_db()
    assert case.status == "accepted"
    assert case.attachments.count() == 3


def test_a_stale_page_is_told_the_case_has_changed(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    number = _apply(client, food).url.split("/")[2]
    client.force_login(catalogue["window_centre"])
    client.post(f"/cases/{number}/accept/", {"version": 1})
    response = client.post(f"/cases/{number}/decline/", {"version": 1, "reason": "重复申请"}, follow=True)
    assert "该办件已被他人处理（当前状态：已受理（审查中）），请刷新页面后再操作。" in response.content.decode()


def test_another_applicant_and_another_subdistrict_cannot_see_the_case(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    number = _apply(client, food).url.split("/")[2]
    for username in ("citizen_demo", "window_hongqiao"):
        client.force_login(catalogue[username])
        assert client.get(f"/cases/{number}/").status_code == 404
        assert client.post(f"/cases/{number}/accept/", {"version": 1}).status_code == 404
    assert Case.objects.get(number=number).status == "submitted"


def test_staff_downloads_of_materials_are_audited(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    number = _apply(client, food).url.split("/")[2]
    attachment = Case.objects.get(number=number).attachments.order_by("id").first()
    client.force_login(catalogue["approver_scj"])
    response = client.get(f"/cases/{number}/files/{attachment.pk}/")
    assert b"".join(response.streaming_content) == PDF
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="case.attachment_viewed", actor=catalogue["approver_scj"]).count() == 1


def test_the_queue_takes_a_bounded_number_of_queries_however_many_cases(client, catalogue, food):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.helpers import food_licence_uploads
    from yuexiu.cases import services

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/workbench/cases/").status_code == 200
        return len(captured)

    def accepted(key: str) -> None:
        case = services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key=key,
            form_data={},
            uploads=food_licence_uploads(),
            confirm_repeat=True,
        )
        services.accept_case(case=case, actor=catalogue["window_centre"])

    client.force_login(catalogue["window_centre"])
    accepted("q-1")
    one = queries()
    for number in range(2, 7):
        accepted(f"q-{number}")
    assert queries() == one
