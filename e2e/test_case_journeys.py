"""A case from application to result, in a real Chromium: 李经办 applies online for 食品经营许可（新办）
(an item for 法人) with the demo enterprise's account and a PDF; 许窗口 accepts and asks for a
correction; 李经办 answers it; 林审批 approves; the window posts the result; 李经办 sees it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in

pytestmark = pytest.mark.e2e

PDF = {"name": "食品经营许可申请书.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n1 0 obj\n"}


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()


def test_an_enterprise_applies_and_follows_the_case_to_its_result(page: Page, site: str, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    log_in(page, site, "enterprise_demo")
    page.goto(site + "/services/items/shi-pin-jing-ying-xu-ke-xin-ban/")
    page.get_by_role("link", name="在线申请").click()
    expect(page.get_by_role("heading", name="在线申请：食品经营许可（新办）")).to_be_visible()
    check_accessibility(page, "在线申请")
    page.get_by_label("与食品经营相适应的主要设备设施布局、操作流程等文件").set_input_files(
        {**PDF, "name": "设备设施布局图.pdf"}
    )
    page.get_by_label(
        "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度"
    ).set_input_files({**PDF, "name": "食品安全规章制度.pdf"})
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#case-status")).to_have_text("已提交")
    number = page.get_by_role("heading").first.inner_text().split()[-1]
    expect(page.locator("#attachments")).to_contain_text("设备设施布局图.pdf")
    check_accessibility(page, "办件页")
    log_out(page)

    log_in(page, site, "window_centre")
    page.goto(site + "/workbench/cases/")
    check_accessibility(page, "办件队列")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator("#case-status")).to_have_text("已受理（审查中）")
    expect(page.locator("#statutory-clock")).to_contain_text("剩余 20 个工作日")
    page.get_by_label("需补正的内容（每行一项，一次性列全）").fill("营业执照副本\n设备设施布局图")
    page.get_by_role("button", name="发出补正通知").click()
    expect(page.locator("#case-status")).to_have_text("待补正")
    check_accessibility(page, "补正通知")
    log_out(page)

    log_in(page, site, "enterprise_demo")
    page.goto(f"{site}/cases/{number}/")
    expect(page.locator("#open-pause")).to_contain_text("设备设施布局图")
    page.get_by_label("补正材料").set_input_files({**PDF, "name": "设备设施布局图.pdf"})
    page.get_by_label("补正说明").fill("已补充营业执照副本和布局图")
    page.get_by_role("button", name="提交补正").click()
    expect(page.locator("#case-status")).to_have_text("已受理（审查中）")
    log_out(page)

    log_in(page, site, "approver_scj")
    page.goto(f"{site}/cases/{number}/")
    page.get_by_label("审批意见").fill("符合食品经营许可条件")
    page.get_by_role("button", name="准予办理").click()
    expect(page.locator("#case-status")).to_have_text("准予办理")
    log_out(page)

    log_in(page, site, "window_centre")
    page.goto(f"{site}/cases/{number}/")
    page.get_by_label("送达方式").select_option("post")
    page.get_by_label("邮件单号（邮寄时必填）").fill("SF1234567890")
    page.get_by_role("button", name="送达", exact=True).click()
    page.get_by_role("button", name="办结", exact=True).click()
    expect(page.locator("#case-status")).to_have_text("已办结")
    log_out(page)

    log_in(page, site, "enterprise_demo")
    page.goto(site + "/cases/")
    expect(page.locator("#my-cases")).to_contain_text("已办结")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#case-facts")).to_contain_text("邮寄送达，单号 SF1234567890")
    expect(page.locator("#case-events li")).to_have_count(7)
    check_accessibility(page, "办结后的办件页")


def test_a_supervisor_reads_the_dashboard_chart(page: Page, site: str, settings, tmp_path):
    from tests.helpers import food_licence_uploads

    from yuexiu.cases import services
    from yuexiu.catalog.models import ServiceItem
    from yuexiu.core.models import User

    settings.MEDIA_ROOT = tmp_path
    users = {user.username: user for user in User.objects.all()}
    case = services.submit_application(
        item=ServiceItem.objects.get(seed_key="food-business-licence-new"),
        applicant=users["enterprise_demo"],
        idempotency_key="dashboard",
        form_data={},
        uploads=food_licence_uploads(),
    )
    case = services.accept_case(case=case, actor=users["window_centre"])
    services.approve_case(case=case, actor=users["approver_scj"])
    log_in(page, site, "supervisor_demo")
    page.goto(site + "/workbench/")
    page.get_by_role("link", name="办件统计").click()
    expect(page.get_by_role("heading", name="办件统计")).to_be_visible()
    expect(page.locator("#totals")).to_contain_text("100.0%")
    expect(page.locator("#on-time-chart svg")).to_have_count(1)
    check_accessibility(page, "办件统计")
