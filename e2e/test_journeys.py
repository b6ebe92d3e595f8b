"""What people do on the platform, in a real Chromium, with axe-core on every page visited."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from yuexiu.core.demo import DEMO_PASSWORD
from yuexiu.core.models import User

pytestmark = pytest.mark.e2e


def log_in(page: Page, site: str, username: str) -> None:
    page.goto(f"{site}/accounts/login/")
    check_accessibility(page, "登录页")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_a_resident_browses_the_subdistricts_in_elder_mode(page: Page, site: str):
    page.goto(site + "/")
    expect(page.locator("#subdistrict-list li")).to_have_count(18)
    expect(page.get_by_role("heading", name="街道（18 个）")).to_be_visible()
    check_accessibility(page, "首页")

    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("html")).to_have_class("elder-mode")
    page.wait_for_load_state("load")
    font_size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert font_size == "20px"
    page.reload()
    expect(page.locator("html")).to_have_class("elder-mode")
    check_accessibility(page, "首页（长者模式）")

    page.get_by_role("link", name="组织机构", exact=True).click()
    page.get_by_label("层级").select_option("subdistrict")
    expect(page.get_by_text("共 18 个机构")).to_be_visible()
    page.get_by_label("名称").fill("洪桥")
    expect(page.get_by_text("共 1 个机构")).to_be_visible()
    check_accessibility(page, "组织机构列表")
    page.get_by_role("link", name="洪桥街道").click()
    expect(page.get_by_role("heading", name="洪桥街道")).to_be_visible()
    expect(page.get_by_text("440104001000")).to_be_visible()
    check_accessibility(page, "街道详情")

    page.get_by_role("button", name="退出长者模式").click()
    expect(page.locator("html")).not_to_have_class("elder-mode")


def test_a_window_officer_logs_in_keeps_elder_mode_and_sees_only_their_subdistrict(page: Page, site: str, browser):
    log_in(page, site, "window_hongqiao")
    page.goto(site + "/workbench/")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    rows = page.locator("#staff-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("洪桥街道")
    check_accessibility(page, "工作台")

    page.get_by_role("button", name="长者模式").click()
    expect(page.locator("html")).to_have_class("elder-mode")
    assert User.objects.get(username="window_hongqiao").prefers_elder_mode is True
    page.get_by_role("button", name="退出登录").click()

    other_device = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    log_in(other_device, site, "window_hongqiao")
    expect(other_device.locator("html")).to_have_class("elder-mode")
    other_device.goto(site + "/workbench/calendar/?start=2025-01-20&days=10")
    expect(other_device.locator("#calc-result")).to_contain_text("2025-02-08")
    check_accessibility(other_device, "工作日计算（长者模式）")
    other_device.context.close()


def test_the_audit_administrator_finds_the_login_events(page: Page, site: str):
    log_in(page, site, "auditadmin")
    page.goto(site + "/workbench/audit/")
    page.get_by_label("事件", exact=True).fill("登录")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#audit-table tbody")).to_contain_text("登录成功")
    expect(page.locator("#audit-table tbody")).to_contain_text("审计管理员")
    check_accessibility(page, "审计日志")


def test_a_citizen_sees_a_masked_id_number_on_a_phone(browser, site: str):
    context = browser.new_context(locale="zh-CN", bypass_csp=True, viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto(site + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    log_in(page, site, "citizen_demo")
    page.goto(site + "/accounts/profile/")
    expect(page.locator("#id-number")).to_have_text("440104********0029")
    check_accessibility(page, "个人中心（手机宽度）")
    page.get_by_role("button", name="查看完整号码").first.click()
    expect(page.locator("#id-number")).to_have_text("440104199001010029")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
