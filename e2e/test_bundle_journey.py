"""新生儿出生一件事 end to end in Chromium: 张晓越 applies once with one form and materials; the window
accepts and asks for one correction; she answers; each department approves its sub-case; the window
delivers; she sees one result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_case_journeys import log_out
from e2e.test_journeys import log_in

pytestmark = pytest.mark.e2e

PDF = {"name": "结婚证.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n1 0 obj\n"}
APPROVERS = ["approver_wjj", "approver_gaj", "approver_ybj", "approver_rsj", "approver_swj"]


def test_a_newborn_bundle_from_one_application_to_one_result(page: Page, site: str, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    log_in(page, site, "citizen_demo")
    page.goto(site + "/services/bundles/xin-sheng-er-chu-sheng-yi-jian-shi/")
    page.get_by_role("link", name="在线申请").click()
    expect(page.get_by_role("heading", name="申请：新生儿出生一件事")).to_be_visible()
    form = page.locator("#bundle-apply-form")
    for label, value in [
        ("母亲姓名", "王芳"),
        ("母亲公民身份号码", "440104199001010029"),
        ("父亲姓名", "李强"),
        ("父亲公民身份号码", "440104198805050013"),
        ("新生儿姓名", "李小越"),
        ("出生医院（助产机构）", "广东省妇幼保健院"),
        ("户籍登记地址", "广州市越秀区洪桥街道"),
        ("联系电话", "13800138000"),
        ("邮寄地址", "广州市越秀区洪桥街道某路 1 号"),
    ]:
        form.get_by_label(label).first.fill(value)
    form.get_by_label("新生儿性别").select_option("女")
    form.get_by_label("出生日期").fill(page.evaluate("new Date(Date.now() - 5 * 86400000).toISOString().slice(0, 10)"))
    form.get_by_label("结婚证（可用电子证照代替，免提交）").set_input_files(PDF)
    check_accessibility(page, "一件事申请")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#bundle-status")).to_have_text("已提交")
    expect(page.locator("#sub-cases tbody tr")).to_have_count(9)
    number = page.get_by_role("heading").first.inner_text().split()[-1]
    check_accessibility(page, "一件事办件页")
    log_out(page)

    log_in(page, site, "window_centre")
    page.goto(f"{site}/cases/bundles/{number}/")
    page.get_by_role("button", name="受理全部事项").click()
    expect(page.locator("#bundle-status")).to_have_text("办理中")
    expect(page.locator("#bundle-clock")).to_contain_text("剩余 5 个工作日")
    page.get_by_label("需补正的内容（每行一项，一次性列全）").fill("出生医学证明编号与助产机构记录不一致")
    page.get_by_role("button", name="发出补正通知").click()
    expect(page.locator("#bundle-status")).to_have_text("待补正")
    log_out(page)

    log_in(page, site, "citizen_demo")
    page.goto(f"{site}/cases/bundles/{number}/")
    expect(page.locator("#open-pause")).to_contain_text("出生医学证明编号与助产机构记录不一致")
    page.get_by_label("补正说明").fill("已核对编号")
    page.get_by_role("button", name="提交补正").click()
    expect(page.locator("#bundle-status")).to_have_text("办理中")
    log_out(page)

    for approver in APPROVERS:
        log_in(page, site, approver)
        page.goto(site + "/workbench/cases/?status=accepted")
        links = page.locator("#case-queue tbody a")
        for _ in range(links.count()):
            page.goto(site + "/workbench/cases/?status=accepted")
            page.locator("#case-queue tbody a").first.click()
            page.get_by_role("button", name="准予办理").click()
            expect(page.locator("#case-status")).to_have_text("准予办理")
        log_out(page)

    log_in(page, site, "window_centre")
    page.goto(f"{site}/cases/bundles/{number}/")
    expect(page.locator("#bundle-status")).to_have_text("待送达")
    page.get_by_label("送达方式").select_option("electronic")
    page.get_by_role("button", name="统一送达并办结").click()
    log_out(page)

    log_in(page, site, "citizen_demo")
    page.goto(site + "/cases/")
    expect(page.locator("#my-bundle-cases")).to_contain_text("已办结")
    page.get_by_role("link", name=number).click()
    expect(page.locator("#result-notice")).to_contain_text("新生儿出生一件事已全部办结")
    expect(page.locator("#result-notice li")).to_have_count(9)
    check_accessibility(page, "一件事办结结果")
