"""政策兑现 in the browser: an officer records the validity of a document whose source printed none
(until then it is not matched), matches 100,000 synthetic enterprises with progress shown (the
illustrations shown apart as a demonstration), reviews a candidate's explanation and publishes the
list; the enterprise sees the match and why, confirms its account; after the 5-working-day publicity
the officer pays it against the fund pool.

The seed library has no real item that can pay today (the real documents still current have no
recorded validity, and illustrations never pay), so the journey adds the tests' fixture policy — a
real-shaped 免申即享 item of 区科工商信局 with a fund pool — as a source without dates."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import time_machine
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in
from yuexiu.policies import demo, services
from yuexiu.policies.models import Candidate, Enterprise, FundPool, Publicity

REGISTRY_SIZE = 100_000
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "policies" / "rules" / "loop-policy.yaml"


def _worker(run_id: int) -> None:
    """Stands in for the django-q2 worker: the same task, in a thread of the test process."""
    try:
        services.execute_run(run_id)
    finally:
        connection.close()


def test_an_officer_matches_reviews_publishes_and_pays_an_enterprise_confirms(
    page: Page, site: str, monkeypatch, tmp_path
):
    services.load_policy_library()
    undated = FIXTURE.read_text(encoding="utf-8")
    undated = undated.replace("effective: 2025-01-01", "effective: null").replace(
        "expires: 2026-12-31", "expires: null"
    )
    (tmp_path / "loop-policy.yaml").write_text(undated, encoding="utf-8")
    services.load_policy_library(tmp_path)
    today = timezone.localdate()  # the machine's clock, whatever year CI moves it to
    assert services.generate_registry(REGISTRY_SIZE - 1, seed=2024) == REGISTRY_SIZE - 1
    demo.ensure_demo_enterprise()
    assert Enterprise.objects.count() == REGISTRY_SIZE
    monkeypatch.setattr(
        services, "enqueue_run", lambda run_id: threading.Thread(target=_worker, args=(run_id,)).start()
    )

    log_in(page, site, "policy_kgsxj")
    page.goto(f"{site}/workbench/policies/")
    check_accessibility(page, "政策兑现工作台")
    pending = page.locator("#validity-pending li", has_text="测试用政策（流程测试）")
    pending.get_by_role("link", name="记录有效期").click()
    check_accessibility(page, "记录有效期")
    page.get_by_label("生效日期（施行日期）").fill(f"{today.year}-01-01")
    page.get_by_label("失效日期（有效期最后一日）").fill(f"{today.year}-12-31")
    page.get_by_label("依据").fill(f"测试〔2025〕1号 第十条：本办法自{today.year}年1月1日起施行，至同年12月31日止")
    page.get_by_role("button", name="记录有效期").click()
    expect(page.locator(".messages")).to_contain_text(f"{today.year}-01-01 至 {today.year}-12-31")
    expect(page.locator("#validity-pending")).not_to_contain_text("测试用政策（流程测试）")
    page.get_by_role("button", name="对全部企业进行匹配").click()
    expect(page.locator("#run-bar")).to_be_visible()
    expect(page.locator("#run-stage")).to_contain_text("已完成", timeout=180_000)
    expect(page.locator("#run-summary")).to_contain_text("100000 家企业")
    if today.year <= 2027:  # the illustrations' demonstration period (2025–2027)
        expect(page.locator("#demonstration-summary")).to_contain_text("不计入上方的符合条件数")
    check_accessibility(page, "匹配批次")

    candidate = (
        Candidate.objects.filter(
            enterprise__uscc=demo.DEMO_ENTERPRISE_USCC, item__organisation__code="440104-KGSXJ", engine_amount_fen__gt=0
        )
        .select_related("item")
        .order_by("item__position")
        .first()
    )
    assert candidate is not None, "the demo enterprise should match a 免申即享 item of 区科工商信局"
    page.goto(f"{site}/workbench/policies/candidates/{candidate.pk}/")
    expect(page.locator("#explanation")).to_contain_text("满足")
    expect(page.locator("#explanation")).to_contain_text(candidate.snapshot["district"])
    check_accessibility(page, "候选审核")
    if page.locator("#approve-amount").count():
        page.locator("#approve-amount").fill(str(candidate.engine_amount_fen // 100))
    page.get_by_label("审核意见").fill("经核对部门共享数据，符合条件")
    page.get_by_role("button", name="审核通过（核定资金）").click()
    expect(page.locator("#candidate-status")).to_contain_text("审核通过")
    candidate.refresh_from_db()
    pool = FundPool.objects.get(item=candidate.item)
    assert pool.committed_fen >= candidate.approved_fen > 0

    page.goto(f"{site}/workbench/policies/items/{candidate.item.code}/?status=approved")
    page.get_by_role("button", name="发布公示（全部审核通过的企业）").click()
    expect(page.locator("#publicity-list")).to_contain_text(candidate.enterprise.name)
    check_accessibility(page, "公示名单")
    page.context.clear_cookies()

    log_in(page, site, "enterprise_demo")
    page.goto(f"{site}/policies/mine/")
    expect(page.locator("#my-candidates")).to_contain_text(candidate.item.name)
    expect(page.locator("#my-candidates")).to_contain_text("请确认收款账户")
    expect(page.locator("#my-leads")).to_contain_text("测试：首店落户奖励")  # the department decides the 首店
    assert not Candidate.objects.filter(item__illustration=True).exists()
    check_accessibility(page, "我的政策")
    page.get_by_role("link", name=candidate.item.name).click()
    expect(page.locator("#explanation")).to_contain_text("所用数据")
    page.get_by_label("开户银行").fill("中国工商银行广州越秀支行")
    page.get_by_label("对公银行账号").fill("3602000109200123456")
    page.get_by_role("button", name="确认领取").click()
    expect(page.locator("#confirmed")).to_contain_text("****3456")
    check_accessibility(page, "确认领取")
    page.context.clear_cookies()

    # The morning after the 5-working-day publicity ends (its end depends on the year's holidays: from
    # 28 December it spans 元旦, and in a year without a notice the provisional calendar decides).
    publicity = Publicity.objects.filter(item=candidate.item).latest("pk")
    with time_machine.travel(publicity.ends_at + timedelta(hours=10), tick=True):
        log_in(page, site, "policy_kgsxj")
        page.goto(f"{site}/workbench/policies/candidates/{candidate.pk}/")
        page.get_by_role("button", name="结束公示").click()
        expect(page.locator("#candidate-status")).to_contain_text("公示无异议")
        page.get_by_role("button", name="下达拨付").click()
        expect(page.locator("#candidate-status")).to_contain_text("已下达拨付")
        page.get_by_label("国库支付流水号").fill("GK2026120800001")
        paid = (Decimal(candidate.approved_fen) / 1_000_000).normalize()
        page.get_by_label("实付金额").fill(f"{paid:f}万元")  # as people type it: "12万元"
        page.get_by_role("button", name="登记已拨付").click()
        expect(page.locator("#paid")).to_contain_text("GK2026120800001")
        check_accessibility(page, "已拨付")
    pool.refresh_from_db()
    assert pool.paid_fen == candidate.approved_fen and pool.committed_fen + pool.paid_fen <= pool.budget_fen
