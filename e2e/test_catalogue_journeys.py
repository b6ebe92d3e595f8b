"""The service catalogue in a real Chromium: a citizen finds 新生儿出生一件事 and its one form and one
list of materials; a department editor sets a promised limit above the statutory one and the guide
check flags it; the bureau's reviewer publishes and the old version stays readable."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in

pytestmark = pytest.mark.e2e


def test_a_citizen_searches_chu_sheng_and_opens_the_newborn_bundle(page: Page, site: str):
    page.goto(site + "/services/")
    expect(page.locator("#life-bundles li")).to_have_count(6)
    check_accessibility(page, "办事服务首页")
    page.get_by_label("搜索事项").fill("出生")
    results = page.locator("#search-results")
    expect(results.locator("#bundle-results")).to_contain_text("新生儿出生一件事")
    expect(results.locator("#item-results li").first).to_contain_text("出生医学证明（首次签发）")
    check_accessibility(page, "搜索结果")
    results.get_by_role("link", name="新生儿出生一件事").click()

    expect(page.get_by_role("heading", name="新生儿出生一件事", exact=True)).to_be_visible()
    expect(page.locator("#bundle-items li")).to_have_count(9)
    expect(page.locator("#bundle-limit")).to_contain_text("5 个工作日")
    expect(page.locator("#merged-form .form-row")).to_have_count(12)
    expect(page.locator("#merged-form").get_by_label("母亲姓名")).to_have_count(1)
    expect(page.locator("#merged-materials tbody tr")).to_have_count(9)
    expect(page.locator("#materials-summary")).to_contain_text("原需 16 项材料，合并后 9 项，其中需要提交 0 项")
    check_accessibility(page, "一件事页面")

    page.get_by_label("母亲姓名").fill("王芳")
    page.get_by_label("母亲公民身份号码").fill("440104199001010029")
    page.get_by_role("button", name="材料预审").click()
    expect(page.locator("#precheck-result")).to_contain_text("还有 9 处需要补充")
    expect(page.get_by_label("母亲姓名")).to_have_value("王芳")
    check_accessibility(page, "材料预审结果")


def test_an_editor_sets_a_promised_limit_above_the_statutory_one_and_the_check_flags_it(page: Page, site: str):
    log_in(page, site, "editor_scj")
    page.goto(site + "/workbench/guides/")
    check_accessibility(page, "办事指南工作台")
    page.get_by_role("button", name="起草修改 食品经营许可（新办）").click()
    expect(page.get_by_role("heading", name="食品经营许可（新办） · 第 2 版")).to_be_visible()
    expect(page.locator("#conflicts")).to_contain_text("statutory decision limit")
    page.get_by_label("承诺办结时限（天数）").fill("30")
    page.get_by_label("修改说明").fill("按窗口实际调整承诺时限")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存。")).to_be_visible()
    finding = page.locator('#draft-findings [data-rule="promised_limit_exceeds_statutory"]')
    expect(finding).to_contain_text("承诺办结时限 30个工作日超过法定办结时限 20个工作日。")
    check_accessibility(page, "指南草稿")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("承诺办结时限 30个工作日超过法定办结时限 20个工作日。请先修改后再提交。")).to_be_visible()
    expect(page.locator("#version-status")).to_have_text("草稿")

    page.get_by_label("承诺办结时限（天数）").fill("15")
    page.get_by_role("button", name="保存").click()
    expect(page.locator('#draft-findings [data-rule="promised_limit_exceeds_statutory"]')).to_have_count(0)
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#version-status")).to_have_text("待审核")
    page.get_by_role("button", name="退出登录").click()

    log_in(page, site, "reviewer_zsj")
    page.goto(site + "/workbench/guides/")
    page.locator("#open-versions").get_by_role("link", name="食品经营许可（新办）").click()
    page.get_by_label("退回理由").fill("承诺时限不得超过法定时限")
    page.get_by_role("button", name="退回修改").click()
    expect(page.locator("#version-status")).to_have_text("已退回")
    check_accessibility(page, "审核退回")


def test_a_citizen_finds_words_in_another_order_and_a_bundle_whose_items_are_being_compiled(page: Page, site: str):
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        page.goto(site + "/services/")
        page.get_by_label("搜索事项").fill("公积金 退休")
        results = page.locator("#search-results")
        expect(results.locator("#search-summary")).to_have_text("“公积金 退休”：找到 0 个一件事、2 个事项。")
        expect(results.locator("#item-results li").first).to_contain_text("退休提取住房公积金")
        page.get_by_label("搜索事项").fill("社保卡")
        expect(results.locator("#bundle-results")).to_contain_text("社会保障卡居民服务“一卡通”一件事")
        check_accessibility(page, "搜索结果（词序不同）")

        card = page.locator("#business-bundles li", has_text="开办运输企业一件事")
        expect(card).to_contain_text("所含事项整理中")
        card.get_by_role("link", name="开办运输企业一件事").click()
        expect(page.get_by_role("heading", name="开办运输企业一件事", exact=True)).to_be_visible()
        expect(page.locator("#bundle-items-compiling")).to_contain_text("所含事项整理中")
        expect(page.get_by_role("link", name="在线申请")).to_have_count(0)
        check_accessibility(page, "一件事页面（事项整理中）")
