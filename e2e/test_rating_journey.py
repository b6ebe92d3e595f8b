"""好差评 in Chromium: the closed case's page shows the QR code and link of the result notice; the
applicant (the demo enterprise) opens it and rates 非常不满意; the unit verifies, classifies, rectifies
and replies; the 12345 hotline records the callback; the rater reads the reply and asks for a review of
the handling, which a supervisor maintains; the public statistics move by exactly that rating (real-name;
no anonymous on-site rating)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in
from yuexiu.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def test_an_applicant_rates_a_closed_case_through_its_qr_link(page: Page, site: str, settings, tmp_path):
    from tests.helpers import food_licence_uploads

    from yuexiu.cases import services
    from yuexiu.catalog.models import ServiceItem
    from yuexiu.core.models import User
    from yuexiu.ratings.services import load_question_sets

    settings.MEDIA_ROOT = tmp_path
    load_question_sets()
    users = {user.username: user for user in User.objects.all()}
    case = services.submit_application(
        item=ServiceItem.objects.get(seed_key="food-business-licence-new"),
        applicant=users["enterprise_demo"],
        idempotency_key="rating-journey",
        form_data={},
        uploads=food_licence_uploads(),
    )
    case = services.accept_case(case=case, actor=users["window_centre"])
    case = services.approve_case(case=case, actor=users["approver_scj"])
    case = services.deliver_result(case=case, actor=users["window_centre"], method="electronic")
    case = services.close_case(case=case, actor=users["window_centre"])

    page.goto(site + "/ratings/?days=30")
    expect(page.locator("#rating-totals")).to_contain_text("评价数")
    expect(page.locator("#rating-totals li").first).to_contain_text("0")

    log_in(page, site, "enterprise_demo")
    page.goto(f"{site}/cases/{case.number}/")
    expect(page.locator(".qr svg")).to_have_count(1)
    check_accessibility(page, "办结办件的评价区")
    page.get_by_role("link", name="评价链接").click()
    check_accessibility(page, "扫码评价页")
    page.get_by_label("非常不满意").check()
    page.get_by_label("意见（差评必填）").fill("窗口排队时间过长")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rating-thanks")).to_contain_text(case.number)

    page.get_by_role("button", name="退出登录").click()

    log_in(page, site, "approver_scj")
    page.goto(site + "/workbench/ratings/")
    expect(page.locator("#rectifications")).to_contain_text("窗口排队时间过长")
    expect(page.locator("#rectifications")).not_to_contain_text("广州越秀示范科技有限公司")
    check_accessibility(page, "差评整改")
    steps = [
        ("核实情况", "已电话联系评价人，情况属实"),
        ("分类情况", "立行立改"),
        ("整改情况", "增设取号引导员"),
        ("答复情况", "已向评价人答复整改措施"),
    ]
    for label, note in steps:
        form = page.locator("#rectifications form").first
        if label == "分类情况":
            form.get_by_label("处置方式").select_option("immediate")
        form.get_by_label(label).fill(note)
        form.get_by_role("button", name="完成" + label[:2]).click()
        expect(page.get_by_text("已更新。")).to_be_visible()
    expect(page.locator(".rectification-step")).to_have_text("回访")
    expect(page.locator("#rectifications")).to_contain_text("待 12345 热线或监督人员回访")
    page.get_by_role("button", name="退出登录").click()

    # The callback is made by the bureau's 12345 hotline, not by the rated unit.
    log_in(page, site, "hotline_demo")
    page.goto(site + "/workbench/ratings/")
    form = page.locator("#rectifications form").first
    form.get_by_label("回访满意度").select_option("4")
    form.get_by_label("回访情况").fill("评价人表示满意")
    form.get_by_role("button", name="完成回访").click()
    expect(page.get_by_text("已更新。")).to_be_visible()
    expect(page.locator("#rectifications")).to_contain_text("没有差评")  # the hotline's callback list is done
    page.get_by_role("button", name="退出登录").click()

    # The rater reads the reply on the case page and asks for a review of the handling (申诉复核).
    log_in(page, site, "enterprise_demo")
    page.goto(f"{site}/cases/{case.number}/")
    expect(page.locator("#handling-reply")).to_contain_text("已向评价人答复整改措施")
    page.get_by_label("申请复核的理由").fill("引导员只在上午在岗")
    page.get_by_role("button", name="申请复核").click()
    expect(page.get_by_text("复核申请已提交")).to_be_visible()
    expect(page.locator("#handling-reviews")).to_contain_text("待复核")
    check_accessibility(page, "差评处理情况与复核申请")
    page.get_by_role("button", name="退出登录").click()

    # A supervisor of the bureau, who took no part in the handling, maintains it.
    log_in(page, site, "supervisor_demo")
    page.goto(site + "/workbench/ratings/")
    review = page.locator("#reviews li").first
    expect(review).to_contain_text("引导员只在上午在岗")
    review.get_by_label("复核意见").fill("经核实，引导员已全天在岗，维持原处理")
    review.get_by_role("button", name="维持原处理").click()
    expect(page.get_by_text("已更新。")).to_be_visible()
    expect(page.locator("#reviews")).to_contain_text("没有待复核的申请")
    page.get_by_role("button", name="退出登录").click()

    log_in(page, site, "enterprise_demo")
    page.goto(f"{site}/cases/{case.number}/")
    expect(page.locator("#handling-reviews")).to_contain_text("维持原处理。经核实，引导员已全天在岗")
    expect(page.locator("#review-form")).to_have_count(0)
    page.get_by_role("button", name="退出登录").click()

    page.goto(site + "/ratings/?days=30")
    totals = page.locator("#rating-totals")
    expect(totals.locator("li").nth(0)).to_contain_text("1")
    expect(totals.locator("li").nth(2)).to_contain_text("100.0%")
    expect(totals.locator("li").nth(4)).to_contain_text("100.0%")
    expect(totals.locator("li").nth(5)).to_contain_text("100.0%")
    expect(page.locator("#anonymous-totals li").nth(1)).to_contain_text("0")  # no anonymous on-site rating
    check_accessibility(page, "好差评统计")


def test_a_window_officer_binds_the_tablet_and_a_visitor_rates_the_visit_on_it(page: Page, site: str):
    """一次一评 on a bound tablet: the unbound tablet says staff must bind it; the window officer signs
    in on it, binds it to 综合窗口3号, records the visit that just ended and signs out; the tablet then
    offers that visit, which the visitor rates anonymously once."""
    page.goto(site + "/ratings/tablet/")
    expect(page.locator("#device-unbound")).to_contain_text("窗口工作人员绑定")
    check_accessibility(page, "未绑定的窗口评价器")
    page.get_by_role("link", name="工作人员登录并绑定本设备").click()
    page.get_by_label("用户名").fill("window_centre")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="评价设备（窗口评价器、自助终端）")).to_be_visible()
    check_accessibility(page, "评价设备")
    page.get_by_role("radio", name="窗口评价器").check()
    page.get_by_label("窗口（窗口评价器必填").fill("综合窗口3号")
    page.get_by_role("button", name="绑定本设备").click()
    expect(page.locator("#no-visit")).to_contain_text("暂无待评价的服务")

    page.goto(site + "/workbench/ratings/")
    page.get_by_label("窗口", exact=True).fill("综合窗口3号")
    page.get_by_role("button", name="服务结束，请群众评价").click()
    expect(page.get_by_text("当日有效")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()

    page.goto(site + "/ratings/tablet/")  # signed out: the device's cookie still binds it
    expect(page.get_by_role("heading", name="综合窗口3号 · 服务评价")).to_be_visible()
    check_accessibility(page, "窗口评价器")
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#visit-thanks")).to_contain_text("感谢您的评价")
    page.get_by_role("link", name="返回评价页").click()
    expect(page.locator("#no-visit")).to_contain_text("暂无待评价的服务")
